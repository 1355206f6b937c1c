import Config
import ControlProtocol
import CountryPresets
import DialPlan
import DSP
import EventLoop
import HardwareLinux
import Line
import Platform
import SIPUserAgent
import Timebase

/// The telephone side of the daemon: a LinePort per line, the audio frame
/// clock, and the actions of each line's state machine applied to the
/// (simulated) hardware. Until the SIP user agent lands, a dialed number is
/// logged and answered with the country's congestion tone.
final class Telephony {
    static let sampleRate = 8000
    static let frameInterval = Interval.milliseconds(10)
    static let frameSamples = sampleRate / 100

    private let loop: EventLoop
    private let log: Logger
    private(set) var ports: [LinePort] = []
    private var nextFrame: Instant
    private var frameTimer: TimerID?
    private(set) var lateFrames = 0

    private var chip: GPIOChip?
    /// Call control hooks, set by the daemon: the handset answered, or hung
    /// up during a call (line number).
    var onAnswer: (Int) -> Void = { _ in }
    var onHangUp: (Int) -> Void = { _ in }
    /// Places a call; false when no account can (the line plays congestion).
    var onDial: (Int, String) -> Bool = { _, _ in false }

    init(site: SiteConfig, loop: EventLoop, log: Logger) throws(StartupError) {
        self.loop = loop
        self.log = log
        nextFrame = loop.now
        if site.board.driver == .gpio {
            do throws(GPIOError) {
                chip = try GPIOChip(opening: site.board.gpioChip ?? "gpiochip0")
            } catch {
                throw StartupError(message: error.message)
            }
        }
        for line in site.board.lines {
            let port = LinePort(number: line.number, machine: try Telephony.machine(for: line.number, site: site),
                                frameSamples: Telephony.frameSamples)
            if site.lineSettings(line.number).echoCanceller {
                // The bulk delay (sound card buffers) is found by correlation, up to 200 ms.
                port.echoCanceller = EchoCanceller(frameSamples: Telephony.frameSamples, tailMilliseconds: 32,
                                                   bulkDelay: .estimated(maximumMilliseconds: 200))
            }
            if let chip {
                port.hardware = try GPIOLineHardware(line: line, chip: chip, frameSamples: Telephony.frameSamples,
                                                     loop: loop, log: log)
            }
            ports.append(port)
        }
    }

    /// Builds a line's state machine from the site's settings.
    static func machine(for number: Int, site: SiteConfig) throws(StartupError) -> LineMachine {
        guard let preset = site.tonePlan ?? CountryPresets.preset(code: site.country) else {
            throw StartupError(message: "no preset for country '\(site.country)'")
        }
        let settings = site.lineSettings(number)
        let windows = HookWindows(preset: preset, line: settings)
        var timings = LineTimings()
        timings.flashMinimum = .milliseconds(Int64(windows.flashMinimumMs))
        timings.flashMaximum = .milliseconds(Int64(windows.flashMaximumMs))
        timings.hangUp = .milliseconds(Int64(windows.hangUpMs))
        var map = DigitMap.anything
        if let text = settings.dialPlan {
            do throws(DigitMapError) { map = try DigitMap.parse(text) } catch {
                throw StartupError(message: "line \(number): invalid dial_plan: \(error.message)")
            }
        }
        if let seconds = settings.warmlineSeconds { timings.warmlineDelay = .seconds(Int64(seconds)) }
        let mapping = settings.pulseMapping ?? PulseMapping.usual(inCountry: site.country)
        return LineMachine(lineNumber: number, preset: preset, timings: timings, digitMap: map,
                           pulseMapping: mapping, hotline: settings.hotline)
    }

    func start() {
        for port in ports {
            guard let hardware = port.hardware else { continue }
            hardware.onHook = { offHook, at in
                port.offHook = offHook
                self.feed(port, .hook(offHook: offHook), at: at)
            }
            hardware.onFrame = { mouthpiece, earpiece in
                let now = self.loop.now
                self.produceOutput(port, earpiece, at: now)
                // The echo canceller's reference: what the earpiece was given.
                port.lineOutput.withUnsafeMutableBufferPointer { copy in
                    _ = copy.update(fromContentsOf: UnsafeBufferPointer(earpiece))
                }
                self.consumeInput(port, mouthpiece, at: now)
            }
            hardware.start()
            // A handset already off hook when the daemon starts.
            if hardware.isOffHook { hardware.onHook(true, loop.now) }
        }
        guard ports.contains(where: { $0.hardware == nil }) else { return }
        nextFrame = loop.now + Telephony.frameInterval
        frameTimer = loop.schedule(at: nextFrame) { self.frameTick() }
    }

    func stop() {
        if let frameTimer { loop.cancel(frameTimer) }
        frameTimer = nil
        for port in ports {
            cancelScripts(port)
            if let timer = port.deadlineTimer { loop.cancel(timer) }
            if let timer = port.ringTimer { loop.cancel(timer) }
            port.hardware?.close()
            port.hardware = nil
        }
        chip?.close()
        chip = nil
    }

    /// Applies a new site config (country, dial plans) to the idle lines. A
    /// line in use keeps its settings, so nothing in progress is disturbed;
    /// the reply says so, and a later reload applies them.
    func reconfigure(_ site: SiteConfig) -> [String] {
        var notes: [String] = []
        for port in ports {
            guard let machine = try? Telephony.machine(for: port.number, site: site) else { continue }
            if port.machine.state == .idle {
                port.machine = machine
                port.ringSignal = RingSignal(frequencyHz: Int(machine.preset.ring.frequencyHz))
            } else {
                notes.append("line \(port.number) is busy: it keeps its settings until it is idle and the config is reloaded again")
            }
        }
        return notes
    }

    func port(_ number: Int) -> LinePort? { ports.first { $0.number == number } }

    // MARK: The frame clock

    /// Every 10 ms: the adapter's output into the handset's ear, and the
    /// handset's mouth into the DTMF detector.
    private func frameTick() {
        let now = loop.now
        for port in ports where port.hardware == nil { processFrame(port, at: now) }
        nextFrame += Telephony.frameInterval
        if nextFrame < now - .milliseconds(200) {
            // The loop stalled: start the clock again rather than catch up.
            lateFrames += 1
            nextFrame = now + Telephony.frameInterval
        }
        frameTimer = loop.schedule(at: nextFrame) { self.frameTick() }
    }

    /// A simulated line's frame: the adapter's output into the handset's
    /// ear, the handset's mouth into the adapter.
    private func processFrame(_ port: LinePort, at now: Instant) {
        port.lineOutput.withUnsafeMutableBufferPointer { buffer in
            produceOutput(port, buffer, at: now)
            port.ear.feed(UnsafeBufferPointer(buffer))
            port.earOnset.observe(UnsafeBufferPointer(buffer), at: now)
            // The first frame with sound after off-hook ends the wait; the
            // frame's own 10 ms count, as the handset hears its start then.
            if port.offHook, port.soundAfterOffHook == nil, let since = port.offHookAt,
               buffer.contains(where: { $0 > 64 || $0 < -64 }) {
                port.soundAfterOffHook = now - since
            }
        }
        if port.offHook {
            port.lineInput.withUnsafeMutableBufferPointer { buffer in
                port.mouth.fill(buffer)
                port.mouthOnset.observe(UnsafeBufferPointer(buffer), at: now)
                if port.hybrid != nil {
                    port.lineOutput.withUnsafeBufferPointer { port.hybrid!.addEcho(of: $0, into: buffer) }
                }
            }
        } else {
            port.lineInput.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        port.lineInput.withUnsafeBufferPointer { consumeInput(port, $0, at: now) }
    }

    /// What the adapter sends to the earpiece: the far end's audio during a
    /// call (or its early media), else the current tone or silence.
    private func produceOutput(_ port: LinePort, _ buffer: UnsafeMutableBufferPointer<Int16>, at now: Instant) {
        if let media = port.media, hearsFarEnd(port) {
            media.frame(earpiece: buffer, now: now)
        } else if port.toneGenerator != nil {
            port.toneGenerator!.generate(into: buffer)
        } else {
            buffer.update(repeating: 0)
        }
    }

    private func hearsFarEnd(_ port: LinePort) -> Bool {
        switch port.machine.state {
        case .talking: return true
        case .ringback: return port.earlyMedia
        default: return false
        }
    }

    /// What comes from the mouthpiece: DTMF digits are detected here, and
    /// during a call it goes to the far end (digits muted when they travel
    /// out of band).
    private func consumeInput(_ port: LinePort, _ buffer: UnsafeBufferPointer<Int16>, at now: Instant) {
        port.mouthpiece.feed(buffer)
        if let canceller = port.echoCanceller, port.media != nil, hearsFarEnd(port), farEndRecentlyActive(port) {
            port.echoFree.withUnsafeMutableBufferPointer { output in
                port.lineOutput.withUnsafeBufferPointer { farEnd in
                    canceller.process(farEnd: farEnd, nearEnd: buffer, output: output)
                    port.echoSuppressor.process(farEnd: farEnd, nearEnd: buffer, output: output,
                                                nearEndTalking: canceller.doubleTalk,
                                                echoEstimateMeanSquare: canceller.echoEstimateMeanSquare)
                }
            }
            if canceller.bulkDelaySamples != port.loggedBulkDelaySamples {
                port.loggedBulkDelaySamples = canceller.bulkDelaySamples
                log.debug("line \(port.number): echo canceller: bulk delay \(canceller.bulkDelaySamples * 1000 / canceller.sampleRate) ms")
            }
            port.echoFree.withUnsafeBufferPointer { detectAndSend(port, $0, at: now) }
        } else {
            detectAndSend(port, buffer, at: now)
        }
    }

    /// The canceller costs most of a call's CPU; with nothing from the far
    /// end for longer than the echo path can hold it (250 ms), there is no
    /// echo to cancel and the filter stays as it was adapted.
    private func farEndRecentlyActive(_ port: LinePort) -> Bool {
        let loud = port.lineOutput.contains { $0 > 32 || $0 < -32 }
        port.farEndQuietFrames = loud ? 0 : min(port.farEndQuietFrames + 1, 1000)
        return port.farEndQuietFrames < ResidualEchoSuppressor.reachFrames
    }

    private func detectAndSend(_ port: LinePort, _ buffer: UnsafeBufferPointer<Int16>, at now: Instant) {
        if port.offHook {
            for digit in port.detector.process(buffer) { feed(port, .dtmf(digit.character), at: now) }
        }
        if let media = port.media {
            media.frame(mouth: buffer, dtmf: port.offHook ? port.detector.status : .none, now: now,
                        send: port.machine.state == .talking)
        }
    }

    /// A call's media started, changed or ended on `line`.
    func setMedia(line: Int, _ media: CallMedia?) {
        guard let port = port(line) else { return }
        if media != nil && port.media == nil {
            port.echoCanceller?.reset()
            port.loggedBulkDelaySamples = 0
            port.echoSuppressor.reset()
        }
        port.media = media
        if media == nil { port.earlyMedia = false }
    }

    // MARK: Line inputs and actions

    func feed(_ port: LinePort, _ input: LineInput, at now: Instant) {
        apply(port.machine.handle(input, at: now), to: port, at: now)
        rearm(port)
    }

    private func rearm(_ port: LinePort) {
        if let timer = port.deadlineTimer { loop.cancel(timer) }
        port.deadlineTimer = nil
        guard let deadline = port.machine.nextDeadline else { return }
        port.deadlineTimer = loop.schedule(at: deadline) {
            port.deadlineTimer = nil
            let now = self.loop.now
            self.apply(port.machine.advance(to: now), to: port, at: now)
            self.rearm(port)
        }
    }

    private func apply(_ actions: [LineAction], to port: LinePort, at now: Instant) {
        for action in actions {
            switch action {
            case .playTone(let kind):
                port.toneGenerator = ToneGenerator(spec: kind.spec(in: port.machine.preset))
            case .stopTone:
                port.toneGenerator = nil
            case .ringer(let on):
                setRingPhase(port, on ? .burst : .pause, at: now)
            case .dial(let number):
                log.info("line \(port.number): dialed \(number)")
                if !onDial(port.number, number) {
                    apply(port.machine.handle(.callFailed(busy: false), at: now), to: port, at: now)
                }
            case .answer:
                log.info("line \(port.number): answered")
                onAnswer(port.number)
            case .hangUp:
                log.info("line \(port.number): hung up")
                onHangUp(port.number)
            case .flash:
                log.info("line \(port.number): flash")
            case .digitInCall(let digit):
                log.debug("line \(port.number): digit \(digit) in call")
            case .numberRejected(let digits):
                log.info("line \(port.number): \(digits) matches no dial plan entry")
            case .stateChanged(let state):
                log.debug("line \(port.number): \(state.rawValue)")
                if state != .ringing && port.ringSignal.phase != .idle { setRingPhase(port, .idle, at: now) }
            }
        }
    }

    // MARK: The bell

    private func setRingPhase(_ port: LinePort, _ phase: RingPhase, at now: Instant) {
        let before = port.ringSignal.outputs
        if let outputs = port.ringSignal.set(phase, at: now) {
            port.bell.observe(outputs, previous: before, at: now)
            port.hardware?.apply(outputs)
        }
        if phase == .idle { port.bell.stopped() } else { port.bell.phaseChanged(burst: phase == .burst, at: now) }
        scheduleRingToggle(port)
    }

    private func scheduleRingToggle(_ port: LinePort) {
        if let timer = port.ringTimer { loop.cancel(timer) }
        port.ringTimer = nil
        guard let deadline = port.ringSignal.nextDeadline else { return }
        port.ringTimer = loop.schedule(at: deadline) {
            port.ringTimer = nil
            let before = port.ringSignal.outputs
            if let outputs = port.ringSignal.advance(to: self.loop.now) {
                port.bell.observe(outputs, previous: before, at: self.loop.now)
                port.hardware?.apply(outputs)
            }
            self.scheduleRingToggle(port)
        }
    }

    // MARK: The simulated handset

    func setHook(_ port: LinePort, offHook: Bool, at now: Instant) {
        if offHook && !port.offHook {
            port.offHookAt = now
            port.soundAfterOffHook = nil
        }
        port.offHook = offHook
        if !offHook { port.mouth.say(.silence) }
        feed(port, .hook(offHook: offHook), at: now)
    }

    /// Hook edges at given offsets from now (pulse dialing, flash).
    func script(_ port: LinePort, edges: [(Interval, Bool)]) {
        cancelScripts(port)
        let start = loop.now
        for (offset, offHook) in edges {
            let id = loop.schedule(at: start + offset) {
                self.setHook(port, offHook: offHook, at: self.loop.now)
            }
            port.scriptTimers.append(id)
        }
    }

    func cancelScripts(_ port: LinePort) {
        for id in port.scriptTimers { loop.cancel(id) }
        port.scriptTimers.removeAll()
    }

    /// An incoming call: rings the first idle line; nil when all are busy.
    func offerCall() -> Int? {
        guard let port = ports.first(where: { $0.machine.canAcceptIncomingCall }) else { return nil }
        feed(port, .incomingCall, at: loop.now)
        return port.number
    }

    /// The call on `line` ended: stop ringing, or play the far end's hang-up.
    func callEnded(line: Int, remote: Bool) {
        guard let port = port(line) else { return }
        let now = loop.now
        if port.machine.state == .ringing {
            feed(port, .incomingCallEnded, at: now)
        } else if remote {
            feed(port, .remoteHangUp, at: now)
        }
    }

    /// What became of the call `line` placed.
    func outgoingEvent(line: Int, _ event: OutgoingCallEvent) {
        guard let port = port(line) else { return }
        let input: LineInput
        switch event {
        case .ringing: input = .remoteRinging
        case .earlyMedia:
            port.earlyMedia = true
            guard port.machine.state != .ringback else { return }
            input = .remoteRinging
        case .answered: input = .remoteAnswered
        case .failed(let busy, _): input = .callFailed(busy: busy)
        case .ended(let remote):
            guard remote else { return }
            input = .remoteHangUp
        }
        feed(port, input, at: loop.now)
    }

    func ring(_ port: LinePort, start: Bool) -> Bool {
        let now = loop.now
        if start {
            guard port.machine.canAcceptIncomingCall else { return false }
            feed(port, .incomingCall, at: now)
        } else {
            feed(port, .incomingCallEnded, at: now)
        }
        return true
    }
}
