import CompactText
import DSP
import EventLoop
import LineHardware
import Timebase

/// One line of the simulated board: a handset whose hook switch and
/// mouthpiece are driven over the control socket, an ear that measures what
/// the adapter plays, and a bell that measures the ringer outputs. All of
/// the simulator's state lives here, so a real line carries none of it.
public final class SimulatedLine: LineHardware {
    public let number: Int
    private let loop: EventLoop

    public var onHook: (Bool, Instant) -> Void = { _, _ in }
    public var onEarpieceFrame: (UnsafeMutableBufferPointer<Int16>, Instant) -> Void = { _, _ in }
    public var onMouthpieceFrame: (UnsafeBufferPointer<Int16>, Instant) -> Void = { _, _ in }

    private(set) var offHook = false
    var mouth = SimulatedMouth()
    let ear = ToneAnalyzer()
    /// The DTMF keys heard in the earpiece (DTMF caller ID, keys the far
    /// end sent), by the project's own detector, for `hear`; the latest
    /// `heardDigitsLimit` of them.
    private let earDetector = DTMFDetector()
    private(set) var heardDigits: [UInt8] = []
    static let heardDigitsLimit = 64
    /// When the handset last went off hook, and how long after that its
    /// earpiece first carried sound (dial tone), for `hear`.
    private var offHookAt: Instant?
    private(set) var soundAfterOffHook: Interval?
    /// When sound last began in the earpiece and at the mouthpiece after a
    /// quiet spell (CLOCK_MONOTONIC), so tests can measure the delay through
    /// the call against their own clock.
    private(set) var earOnset = OnsetTracker()
    private(set) var mouthOnset = OnsetTracker()
    /// The line's echo path (`hybrid` command), if any.
    var hybrid: SimulatedHybrid?
    /// The key the handset answers the CPE alerting signal with (`ack`):
    /// a phone that shows a waiting call's caller ID; nil: it does not.
    var acknowledgement: DTMFDigit?
    private let alertDetector = AlertSignalDetector()
    /// What the handset receives, while `record` runs.
    var recorder: SimulatedRecorder?
    private(set) var bell = SimulatedRinger()
    private var ringOutputs = RingOutputs(ringMode: false, polarity: .forward)
    /// The line's resting polarity changes (not the ring's toggles), and
    /// the disconnect pulses with the last one's length by the board's clock.
    private(set) var polarityChanges = 0
    private(set) var loopCurrentOn = true
    private var loopOpenedAt: Instant?
    private(set) var disconnectPulses = 0
    private(set) var lastPulse: Interval?
    /// Hook edges still to come from a `pulse` or `flash` command.
    private var scriptTimers: [TimerID] = []

    // Frame buffers, allocated once.
    private var earpiece: [Int16]
    private var mouthpiece: [Int16]

    init(number: Int, frameSamples: Int, loop: EventLoop) {
        self.number = number
        self.loop = loop
        earpiece = [Int16](repeating: 0, count: frameSamples)
        mouthpiece = [Int16](repeating: 0, count: frameSamples)
        heardDigits.reserveCapacity(SimulatedLine.heardDigitsLimit)
    }

    /// The board's frame clock drives the audio; the handset starts on hook.
    public func start() {}

    public func close() { cancelScripts() }

    /// One 10 ms frame: the adapter's output into the ear, then the mouth
    /// (and the hybrid's echo of that output) into the adapter.
    func frame(at now: Instant) {
        earpiece.withUnsafeMutableBufferPointer { buffer in
            onEarpieceFrame(buffer, now)
            recorder?.append(UnsafeBufferPointer(buffer))
            ear.feed(UnsafeBufferPointer(buffer))
            earDetector.process(UnsafeBufferPointer(buffer)) { digit in
                if heardDigits.count == SimulatedLine.heardDigitsLimit { heardDigits.removeFirst() }
                heardDigits.append(digit.rawValue)
            }
            earOnset.observe(UnsafeBufferPointer(buffer), at: now)
            if alertDetector.process(UnsafeBufferPointer(buffer)), offHook, let key = acknowledgement {
                // Answered at once, for 60 ms (GR-30: 55-65 ms, within 100 ms).
                var generator = DTMFGenerator(onMs: 60, offMs: 0)
                generator.enqueue(key)
                mouth.say(.dtmf(generator))
            }
            // The first frame with sound after off-hook ends the wait; the
            // frame's own 10 ms count, as the handset hears its start then.
            if offHook, soundAfterOffHook == nil, let since = offHookAt,
               buffer.contains(where: { $0 > 64 || $0 < -64 }) {
                soundAfterOffHook = now - since
            }
        }
        if offHook {
            mouthpiece.withUnsafeMutableBufferPointer { buffer in
                mouth.fill(buffer)
                mouthOnset.observe(UnsafeBufferPointer(buffer), at: now)
                if hybrid != nil {
                    earpiece.withUnsafeBufferPointer { hybrid!.addEcho(of: $0, into: buffer) }
                }
            }
        } else {
            mouthpiece.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        mouthpiece.withUnsafeBufferPointer { onMouthpieceFrame($0, now) }
    }

    // MARK: Ringing

    public func driveRinger(_ outputs: RingOutputs, at now: Instant) {
        if !outputs.ringMode && !ringOutputs.ringMode && outputs.polarity != ringOutputs.polarity { polarityChanges += 1 }
        bell.observe(outputs, previous: ringOutputs, at: now)
        recorder?.observe(outputs, previous: ringOutputs)
        ringOutputs = outputs
    }

    public func ringPhaseChanged(_ phase: RingPhase, at now: Instant) {
        if phase == .idle { bell.stopped() } else { bell.phaseChanged(burst: phase == .burst, at: now) }
    }

    public func setLoopCurrent(_ on: Bool, at now: Instant) {
        guard on != loopCurrentOn else { return }
        loopCurrentOn = on
        recorder?.note(on ? "loop closed" : "loop open")
        if on, let opened = loopOpenedAt {
            disconnectPulses += 1
            lastPulse = now - opened
        }
        loopOpenedAt = on ? nil : now
    }

    /// The simulated board has no sound card to report on.
    public var audioStatus: String? { nil }
    public var audioRestarts: Int { 0 }

    /// "polarity reverse, changes 2; loop closed, disconnect pulses 1, last
    /// 600 ms", once the line's polarity or loop current has moved (nil
    /// before: most lines never do).
    public var signalStatus: String? {
        guard polarityChanges > 0 || disconnectPulses > 0 || !loopCurrentOn else { return nil }
        var text = "polarity \(ringOutputs.polarity == .reverse ? "reverse" : "forward"), changes \(polarityChanges); "
        text += "loop \(loopCurrentOn ? "closed" : "open"), disconnect pulses \(disconnectPulses)"
        if let lastPulse { text += ", last \(lastPulse.milliseconds) ms" }
        return text
    }

    // MARK: The hook switch

    func setHook(offHook: Bool, at now: Instant) {
        if offHook && !self.offHook {
            offHookAt = now
            soundAfterOffHook = nil
        }
        self.offHook = offHook
        if !offHook { mouth.say(.silence) }
        onHook(offHook, now)
    }

    /// Hook edges at given offsets from now (pulse dialing, flash).
    func script(edges: [(Interval, Bool)]) {
        cancelScripts()
        let start = loop.now
        for (offset, offHook) in edges {
            let id = loop.schedule(at: start + offset) {
                self.setHook(offHook: offHook, at: self.loop.now)
            }
            scriptTimers.append(id)
        }
    }

    func cancelScripts() {
        for id in scriptTimers { loop.cancel(id) }
        scriptTimers.removeAll()
    }
}
