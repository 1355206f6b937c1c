import CallerID
import CompactText
import Config
import CallControl
import ControlProtocol
import CountryPresets
import DialPlan
import DSP
import EventLoop
import HardwareLinux
import HardwareSim
import Line
import LineHardware
import Platform
import SIPUserAgent
import Timebase

/// The telephone side of the daemon: a LinePort per line on the board's
/// hardware (simulated or real), each line state machine's actions applied
/// to it; what concerns a call goes to call control (`onCallEvent`), and
/// call control's commands come back (`command`).
final class Telephony {
    static let sampleRate = 8000
    static let frameSamples = sampleRate / 100

    let loop: EventLoop
    let log: Logger
    private(set) var ports: [LinePort] = []
    /// The simulated board, whose handsets the control commands drive; nil
    /// on a real board.
    let simulatedBoard: SimulatedBoard?
    /// A real board's GPIO chip, open as long as its lines.
    private var chip: GPIOChip?

    /// Call control's hook, set by the daemon: a line's action that
    /// concerns calls (answer, hang-up, dial, flash, a new state).
    var onCallEvent: (Int, LineAction) -> Void = { _, _ in }

    init(site: SiteConfig, loop: EventLoop, log: Logger) throws(StartupError) {
        self.loop = loop
        self.log = log
        switch site.board.driver {
        case .gpio:
            simulatedBoard = nil
            let chip: GPIOChip
            do throws(GPIOError) {
                chip = try GPIOChip(opening: site.board.gpioChip ?? "gpiochip0")
            } catch {
                throw StartupError(message: error.message)
            }
            self.chip = chip
            for line in site.board.lines {
                let hardware: GPIOLineHardware
                do throws(LineHardwareError) {
                    hardware = try GPIOLineHardware(line: line, chip: chip, frameSamples: Telephony.frameSamples,
                                                    loop: loop, log: log)
                } catch {
                    throw StartupError(message: error.message)
                }
                try addPort(line.number, hardware: hardware, site: site)
            }
        case .sim:
            let board = SimulatedBoard(frameSamples: Telephony.frameSamples, loop: loop)
            simulatedBoard = board
            chip = nil
            for line in site.board.lines { try addPort(line.number, hardware: board.addLine(line.number), site: site) }
        }
    }

    private func addPort(_ number: Int, hardware: any LineHardware, site: SiteConfig) throws(StartupError) {
        let port = LinePort(number: number, machine: try Telephony.machine(for: number, site: site),
                            hardware: hardware, frameSamples: Telephony.frameSamples)
        port.callerIDSignalling = site.lineSettings(number).callerID.signalling(inCountry: site.country)
        if site.lineSettings(number).echoCanceller {
            // The bulk delay (sound card buffers) is found by correlation, up to 200 ms.
            port.echoCanceller = EchoCanceller(frameSamples: Telephony.frameSamples, tailMilliseconds: 32,
                                               bulkDelay: .estimated(maximumMilliseconds: 200))
        }
        ports.append(port)
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
        var machine = LineMachine(lineNumber: number, preset: preset, timings: timings, digitMap: map,
                                  pulseMapping: mapping, hotline: settings.hotline)
        let callerID = settings.callerID.signalling(inCountry: site.country)
        machine.callerIDAlerting = callerID?.alerting
        if settings.callWaitingCallerID, let callerID, callerID.modulation != .dtmf { machine.sendsCallerIDDuringCall = true }
        machine.reversesPolarityOnAnswer = settings.polarityReversal != .no
        machine.reversesPolarityWhenAnswering = settings.polarityReversal == .both
        if settings.disconnectPulseMs > 0 { machine.disconnectPulse = .milliseconds(Int64(settings.disconnectPulseMs)) }
        machine.featureCodes = site.featureCodes
        return machine
    }

    func start() {
        for port in ports {
            port.hardware.onHook = { offHook, at in self.feed(port, .hook(offHook: offHook), at: at) }
            port.hardware.onEarpieceFrame = { earpiece, now in self.produceOutput(port, earpiece, at: now) }
            port.hardware.onMouthpieceFrame = { mouthpiece, now in self.consumeInput(port, mouthpiece, at: now) }
            port.hardware.start()
        }
        // A real line's clock is its capture stream; the simulated board's
        // loop timer drives all of its lines.
        simulatedBoard?.start()
    }

    func stop() {
        for port in ports {
            if let timer = port.deadlineTimer { loop.cancel(timer) }
            if let timer = port.ringTimer { loop.cancel(timer) }
            port.hardware.close()
        }
        simulatedBoard?.close()
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
            if port.machine.state == .idle && !port.machine.isSignalling {
                // The new machine keeps knowing that messages wait (the
                // phone's indicator already says so: nothing is sent).
                var machine = machine
                if port.machine.messageWaiting { _ = machine.handle(.messageWaiting(true), at: loop.now) }
                if port.machine.featuresActive { _ = machine.handle(.featuresActive(true), at: loop.now) }
                port.machine = machine
                port.callerIDSignalling = site.lineSettings(port.number).callerID.signalling(inCountry: site.country)
                port.ringSignal = RingSignal(frequencyHz: Int(machine.preset.ring.frequencyHz))
            } else {
                notes.append("line \(port.number) is busy: it keeps its settings until it is idle and the config is reloaded again")
            }
        }
        return notes
    }

    func port(_ number: Int) -> LinePort? { ports.first { $0.number == number } }

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
                if on, port.callerIDTransmitter != nil, !port.burstIsIndicator {
                    // Data under ring voltage is lost on the phone anyway
                    // (sound frames stalled, or a cadence without room).
                    log.warn("line \(port.number): caller ID cut short by the ring")
                }
                if on { port.callerIDTransmitter = nil }
                setRingPhase(port, on ? .burst : .pause, at: now)
            case .polarity(let reversed):
                if let outputs = port.ringSignal.setIdlePolarity(reversed ? .reverse : .forward, at: now) {
                    port.hardware.driveRinger(outputs, at: now)
                }
            case .loopCurrent(let on):
                if !on { log.info("line \(port.number): disconnect pulse (the call ended from the far side)") }
                port.hardware.setLoopCurrent(on, at: now)
            case .sendCallerID:
                sendCallerID(port)
            case .alertForCallerID:
                alertForCallerID(port)
            case .sendCallerIDDuringCall:
                sendCallerIDDuringCall(port)
            case .callerIDDuringCallOver(let acknowledged):
                callerIDDuringCallOver(port, acknowledged: acknowledged)
            case .sendMessageWaitingIndicator(let on):
                sendMessageWaitingIndicator(port, on: on)
            case .dial(let number):
                log.info("line \(port.number): dialed \(number)")
                onCallEvent(port.number, action)
            case .answer:
                log.info("line \(port.number): answered")
                onCallEvent(port.number, action)
            case .hangUp:
                log.info("line \(port.number): hung up")
                onCallEvent(port.number, action)
            case .flash, .feature:
                onCallEvent(port.number, action)
            case .digitInCall(let digit):
                log.debug("line \(port.number): digit \(digit) in call")
            case .numberRejected(let digits):
                log.info("line \(port.number): \(digits) matches no dial plan entry")
            case .stateChanged(let state):
                log.debug("line \(port.number): \(state.rawValue)")
                if state != .ringing && port.ringSignal.phase != .idle { setRingPhase(port, .idle, at: now) }
                if state != .ringing {
                    port.callerIDTransmitter = nil
                    port.caller = nil
                }
                onCallEvent(port.number, action)
            }
        }
    }

    // MARK: Ringing

    private func setRingPhase(_ port: LinePort, _ phase: RingPhase, at now: Instant) {
        if let outputs = port.ringSignal.set(phase, at: now) { port.hardware.driveRinger(outputs, at: now) }
        port.hardware.ringPhaseChanged(phase, at: now)
        scheduleRingToggle(port)
    }

    private func scheduleRingToggle(_ port: LinePort) {
        if let timer = port.ringTimer { loop.cancel(timer) }
        port.ringTimer = nil
        guard let deadline = port.ringSignal.nextDeadline else { return }
        port.ringTimer = loop.schedule(at: deadline) {
            port.ringTimer = nil
            let now = self.loop.now
            if let outputs = port.ringSignal.advance(to: now) { port.hardware.driveRinger(outputs, at: now) }
            self.scheduleRingToggle(port)
        }
    }

    // MARK: Calls

    /// What call control asks of a line.
    func command(_ line: Int, _ command: LineCommand) {
        guard let port = port(line) else { return }
        switch command {
        case .input(let input): feed(port, input, at: loop.now)
        case .hearEarlyMedia: port.earlyMedia = true
        case .ring(let caller):
            guard port.machine.canAcceptIncomingCall else { return }
            port.caller = caller
            feed(port, .incomingCall(callerID: port.callerIDSignalling != nil), at: loop.now)
        case .waitingCall(let caller):
            port.waitingCaller = caller
            feed(port, .callWaiting(true), at: loop.now)
        }
    }

    func ring(_ port: LinePort, start: Bool) -> Bool {
        let now = loop.now
        if start {
            guard port.machine.canAcceptIncomingCall else { return false }
            feed(port, .incomingCall(callerID: false), at: now)
        } else {
            feed(port, .incomingCallEnded, at: now)
        }
        return true
    }
}
