import CompactText
import Config
import EventLoop
import LineHardware
import Platform
import Timebase

/// One line of a real board: the SLIC's hook output on a GPIO input, its
/// ring-mode and forward/reverse inputs on GPIO outputs, and the audio pair
/// on an ALSA card. The capture stream is the line's frame clock. Owns the
/// I/O only; what it means is the line state machine's business.
public final class GPIOLineHardware: LineHardware {
    public let number: Int
    private let loop: EventLoop
    private let log: Logger
    private let hook: GPIOInputLine
    private var interpreter: HookEdgeInterpreter
    private var debounceTimer: TimerID?
    private let ringMode: GPIOOutputLine
    private let forwardReverse: GPIOOutputLine
    /// Cuts the loop current while on (`loop_disconnect_gpio`), if wired.
    private let loopDisconnect: GPIOOutputLine?
    /// Disconnect pulses given, and when the loop last opened and how long
    /// the last pulse lasted, for `status`.
    private var disconnectPulses = 0
    private var loopOpenedAt: Instant?
    private var lastPulse: Interval?
    private let playbackDevice: String
    private let captureDevice: String
    private let configuration: PCMConfiguration
    /// Mixer controls set each time the audio opens (a card plugged back in
    /// comes up with its own defaults again).
    private let mixer: [MixerSetting]
    private var mixerApplied = false
    /// Mixer failures already logged, so a replugged card does not repeat them.
    private var mixerFailures: [String] = []
    private var playback: PCMStream?
    private var capture: PCMStream?
    private var retryTimer: TimerID?
    /// Why the audio is not open, as last logged; nil while it is open.
    private var audioFailure: String?
    /// Xruns and suspends of streams already closed (a card that came back
    /// gets new streams, whose counts start at zero).
    private var closedPlaybackXruns = 0
    private var closedCaptureXruns = 0
    private var closedSuspends = 0
    /// Times the audio was opened again after the card went away.
    private var reopenings = 0
    /// Earpiece frames dropped after stalls to keep playback's latency.
    private var droppedLateFrames = 0
    /// The last failure of the hook input and of the ringer outputs, as
    /// logged: a failure is logged when it starts, not at every retry.
    private var hookFailure: String?
    private var ringerFailure: String?
    private var events = [GPIOEdgeEvent]()
    private var frame: [Int16]
    private var output: [Int16]

    /// The handset went off hook (true) or on hook (false), debounced.
    public var onHook: (Bool, Instant) -> Void = { _, _ in }
    public var onEarpieceFrame: (UnsafeMutableBufferPointer<Int16>, Instant) -> Void = { _, _ in }
    public var onMouthpieceFrame: (UnsafeBufferPointer<Int16>, Instant) -> Void = { _, _ in }

    public init(line: BoardConfig.Line, chip: GPIOChip, frameSamples: Int, loop: EventLoop,
                log: Logger) throws(LineHardwareError) {
        number = line.number
        self.loop = loop
        self.log = log
        guard let hookOffset = line.hookGPIO, let ringOffset = line.ringModeGPIO,
              let polarityOffset = line.forwardReverseGPIO, let playbackDevice = line.playbackDevice else {
            throw LineHardwareError(message: "line \(line.number): the board file lacks GPIO or audio settings")
        }
        let bias: GPIOBias
        switch line.hookBias {
        case .asIs: bias = .asIs
        case .disabled: bias = .disabled
        case .pullUp: bias = .pullUp
        case .pullDown: bias = .pullDown
        }
        do throws(GPIOError) {
            hook = try GPIOInputLine(chip: chip, offset: hookOffset, activeLow: line.hookActiveLow, bias: bias)
            ringMode = try GPIOOutputLine(chip: chip, offset: ringOffset, initiallyOn: false,
                                          activeLow: line.ringModeActiveLow)
            forwardReverse = try GPIOOutputLine(chip: chip, offset: polarityOffset, initiallyOn: true)
            if let offset = line.loopDisconnectGPIO {
                loopDisconnect = try GPIOOutputLine(chip: chip, offset: offset, initiallyOn: false,
                                                    activeLow: line.loopDisconnectActiveLow)
            } else {
                loopDisconnect = nil
            }
            interpreter = HookEdgeInterpreter(initialLevel: try hook.value(), at: loop.now,
                                              debounce: .milliseconds(Int64(line.hookDebounceMs)))
        } catch {
            throw LineHardwareError(message: "line \(line.number): \(error.message)")
        }
        self.playbackDevice = playbackDevice
        captureDevice = line.captureDevice ?? playbackDevice
        configuration = PCMConfiguration(periodMilliseconds: line.periodMs)
        mixer = line.mixer
        frame = [Int16](repeating: 0, count: frameSamples)
        output = [Int16](repeating: 0, count: frameSamples)
        events.reserveCapacity(GPIOInputLine.batchSize)
    }

    /// Whether the handset is off hook now (after debounce).
    public var isOffHook: Bool { interpreter.state == .offHook }

    public func start() {
        loop.register(hook.eventDescriptor, for: .readable) { _ in self.readHookEvents() }
        // Opened from the running loop: primed playback holds only 20 ms,
        // less than the rest of the daemon's start-up may take (an xrun at
        // every start, seen on the rig).
        retryTimer = loop.schedule(after: .zero) {
            self.retryTimer = nil
            self.openAudio()
        }
        // A handset already off hook when the daemon starts.
        if isOffHook { onHook(true, loop.now) }
    }

    public func close() {
        loop.unregister(hook.eventDescriptor)
        if let debounceTimer { loop.cancel(debounceTimer) }
        if let retryTimer { loop.cancel(retryTimer) }
        closeAudio()
        try? ringMode.set(false)
        try? forwardReverse.set(true)
        try? loopDisconnect?.set(false)
        hook.close()
        ringMode.close()
        forwardReverse.close()
        loopDisconnect?.close()
    }

    // MARK: Hook

    /// Reads every queued edge, then the line's value: the kernel queues
    /// only 16 edges per line and drops later ones while the loop is
    /// stalled, so the value read last is what the hook state must match.
    private func readHookEvents() {
        var batches = 0
        repeat {
            do throws(GPIOError) {
                try hook.readEvents(into: &events)
            } catch {
                hookReadFailed(error)
                return
            }
            let now = loop.now
            for event in events {
                let at = HookEdgeInterpreter.plausibleInstant(ofEventAt: event.timestampNanoseconds, now: now)
                if let change = interpreter.edge(event.edge, at: at) { report(change) }
            }
            batches += 1
            // A full batch may have more behind it; the loop calls again if
            // edges keep coming faster than this drains them.
        } while events.count == GPIOInputLine.batchSize && batches < 4
        let level: Bool
        do throws(GPIOError) {
            level = try hook.value()
        } catch {
            hookReadFailed(error)
            return
        }
        hookFailure = nil
        let (change, lostEdge) = interpreter.levelRead(level, at: loop.now)
        if lostEdge {
            log.info("line \(number): the hook switch reads \(interpreter.latestState == .offHook ? "off" : "on") hook, which its last edge did not say (an edge was lost or is still queued); following the level")
        }
        if let change { report(change) }
        armDebounce()
    }

    private func hookReadFailed(_ error: GPIOError) {
        if error.isDeviceGone {
            // Its descriptor stays readable and every read fails: stop
            // watching it rather than spin the loop.
            loop.unregister(hook.eventDescriptor)
            log.error("line \(number): the hook switch is gone: \(error.message); hook changes are ignored until atad restarts")
        } else if hookFailure != error.message {
            log.error("line \(number): reading the hook switch: \(error.message)")
        }
        hookFailure = error.message
    }

    private func armDebounce() {
        if let debounceTimer { loop.cancel(debounceTimer) }
        debounceTimer = nil
        guard let deadline = interpreter.nextDeadline else { return }
        debounceTimer = loop.schedule(at: deadline) {
            self.debounceTimer = nil
            if let change = self.interpreter.advance(to: self.loop.now) { self.report(change) }
            self.armDebounce()
        }
    }

    private func report(_ change: HookEvent) {
        onHook(change.state == .offHook, change.at)
    }

    // MARK: Ringing

    public func driveRinger(_ outputs: RingOutputs, at now: Instant) {
        do throws(GPIOError) {
            try ringMode.set(outputs.ringMode)
            try forwardReverse.set(outputs.polarity == .forward)
            ringerFailure = nil
        } catch {
            // F/R toggles every 25 ms while ringing: log a failure once.
            if ringerFailure != error.message { log.error("line \(number): driving the ringer: \(error.message)") }
            ringerFailure = error.message
        }
    }

    /// The SLIC needs only its inputs driven; the cadence is in them.
    public func ringPhaseChanged(_ phase: RingPhase, at now: Instant) {}

    // MARK: Audio

    /// Opens both streams; on failure (card missing or unplugged) tries
    /// again every 5 s, while hook and ringer keep working. Logs a failure
    /// once, not at every retry, and the recovery.
    private func openAudio() {
        do throws(ALSAError) {
            let playback = try PCMStream(device: playbackDevice, direction: .playback, configuration: configuration)
            let capture: PCMStream
            do throws(ALSAError) {
                capture = try PCMStream(device: captureDevice, direction: .capture, configuration: configuration)
            } catch {
                playback.close()
                throw error
            }
            // Prime playback so it starts with a little slack.
            _ = try playback.write([Int16](repeating: 0, count: playback.startThresholdFrames))
            try capture.start()
            self.playback = playback
            self.capture = capture
            for entry in capture.pollDescriptors {
                let descriptor = FileDescriptor(rawValue: entry.fd)
                loop.register(descriptor, for: PollEvents(rawValue: entry.events)) { returned in
                    self.captureReady(returned, descriptor)
                }
            }
            audioFailure = nil
            applyMixer()
            log.info("line \(number): audio on \(playbackDevice) / \(captureDevice)")
        } catch {
            if audioFailure != error.message { log.error("line \(number): audio: \(error.message); retrying every 5 s") }
            audioFailure = error.message
            retryTimer = loop.schedule(after: .seconds(5)) {
                self.retryTimer = nil
                self.openAudio()
            }
        }
    }

    /// The loop-disconnect output, where the board wires one (without
    /// it, the config refuses `disconnect_pulse_ms`).
    public func setLoopCurrent(_ on: Bool, at now: Instant) {
        guard let loopDisconnect else { return }
        do throws(GPIOError) {
            try loopDisconnect.set(!on)
        } catch {
            log.error("line \(number): \(on ? "closing" : "opening") the loop: \(error.message)")
        }
        if !on {
            disconnectPulses += 1
            loopOpenedAt = now
        } else if let opened = loopOpenedAt {
            lastPulse = now - opened
            loopOpenedAt = nil
        }
    }

    /// Once a disconnect pulse was given: how many, and the last one's
    /// length on the loop's clock.
    public var signalStatus: String? {
        guard disconnectPulses > 0 else { return nil }
        return "loop " + (loopOpenedAt == nil ? "closed" : "open") + ", disconnect pulses \(disconnectPulses)"
            + (lastPulse.map { ", last \($0.milliseconds) ms" } ?? "")
    }

    /// The underruns of playback and overruns of capture recovered since
    /// start, and the suspends: an xrun is an audible gap, so a user
    /// chasing clicks can see whether the loop kept up.
    public var audioStatus: String? {
        let playbackXruns = closedPlaybackXruns + (playback?.xrunCount ?? 0)
        let captureXruns = closedCaptureXruns + (capture?.xrunCount ?? 0)
        let suspends = closedSuspends + (playback?.suspendCount ?? 0) + (capture?.suspendCount ?? 0)
        var text = "xruns playback \(playbackXruns) capture \(captureXruns), suspends \(suspends), "
            + "late frames dropped \(droppedLateFrames)"
        if playback == nil { text = "not open (\(audioFailure ?? "closed")), " + text }
        return text
    }

    public var audioRestarts: Int {
        closedPlaybackXruns + closedCaptureXruns + closedSuspends + reopenings
            + (playback.map { $0.xrunCount + $0.suspendCount } ?? 0)
            + (capture.map { $0.xrunCount + $0.suspendCount } ?? 0)
    }

    /// Sets the board's mixer controls on the card of the capture device.
    /// What was set is logged at info the first time, a failure once; the
    /// audio runs either way, at whatever levels the card has.
    private func applyMixer() {
        guard !mixer.isEmpty else { return }
        var failures: [String] = []
        var done: [String] = []
        do throws(ALSAMixer.Failure) {
            guard let card = ALSAMixer.card(ofDevice: captureDevice) else {
                throw ALSAMixer.Failure(message: "cannot tell the card of \"" + captureDevice
                                        + "\"; name the device hw:CARD,... or plughw:CARD,...")
            }
            let cardMixer = try ALSAMixer(card: card)
            defer { cardMixer.close() }
            for setting in mixer {
                let side: ALSAMixer.Side = setting.direction == .capture ? .capture : setting.direction == .playback ? .playback : .any
                do throws(ALSAMixer.Failure) {
                    switch setting.value {
                    case .percent(let percent): try cardMixer.setVolume(setting.control, side: side, percent: percent)
                    case .hundredthsOfDB(let gain): try cardMixer.setVolume(setting.control, side: side, hundredthsOfDB: gain)
                    case .raw(let value): try cardMixer.setVolume(setting.control, side: side, raw: value)
                    case .on(let on): try cardMixer.setSwitch(setting.control, side: side, on: on)
                    }
                    done.append(setting.summary)
                } catch {
                    failures.append("board key '" + setting.key + "': " + error.message)
                }
            }
        } catch {
            failures.append(error.message)
        }
        for failure in failures where !mixerFailures.contains(failure) {
            mixerFailures.append(failure)
            log.error("line \(number): " + failure)
        }
        guard !done.isEmpty else { return }
        let text = "line \(number): mixer set " + done.joined(separator: ", ")
        if mixerApplied { log.debug(text) } else { log.info(text) }
        mixerApplied = true
    }

    private func closeAudio() {
        closedPlaybackXruns += playback?.xrunCount ?? 0
        closedCaptureXruns += capture?.xrunCount ?? 0
        closedSuspends += (playback?.suspendCount ?? 0) + (capture?.suspendCount ?? 0)
        if let capture {
            for entry in capture.pollDescriptors { loop.unregister(FileDescriptor(rawValue: entry.fd)) }
            capture.close()
        }
        playback?.close()
        capture = nil
        playback = nil
    }

    private func captureReady(_ returned: PollEvents, _ descriptor: FileDescriptor) {
        guard let capture, let playback else { return }
        do throws(ALSAError) {
            guard try capture.events(returned, on: descriptor).contains(.readable) else { return }
            // Whole frames only, so no sample is ever dropped between reads.
            // After a stall longer than playback's margin the backlog read
            // here would all be queued, and the earpiece would lag by the
            // stall for the rest of the call, with the echo path moved by as
            // much under the canceller. A frame that finds playback more
            // than a period over its margin is dropped instead: that audio
            // came too late to be heard in time anyway.
            let ceiling = playback.startThresholdFrames + playback.periodFrames
            while try capture.availableFrames() >= frame.count {
                let count = try capture.read(into: &frame)
                if count < frame.count { break }
                let now = loop.now
                output.withUnsafeMutableBufferPointer { earpiece in onEarpieceFrame(earpiece, now) }
                frame.withUnsafeBufferPointer { mouthpiece in onMouthpieceFrame(mouthpiece, now) }
                if let queued = playback.queuedFrames(), queued >= ceiling {
                    droppedLateFrames += 1
                    continue
                }
                _ = try playback.write(output)
            }
        } catch {
            log.error("line \(number): audio: \(error.message)")
            if error.isDeviceGone {
                reopenings += 1
                closeAudio()
                openAudio()
            }
        }
    }
}
