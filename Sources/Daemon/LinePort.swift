import CountryPresets
import DSP
import EventLoop
import HardwareLinux
import Line
import Timebase

/// One telephone port: its line state machine and everything the simulated
/// board attaches to it (tone output, DTMF detection, the handset's mouth
/// and ear, the bell).
final class LinePort {
    let number: Int
    var machine: LineMachine
    var deadlineTimer: TimerID?

    // The adapter's side.
    var toneGenerator: ToneGenerator?
    let detector = DTMFDetector()
    var ringSignal: RingSignal
    var ringTimer: TimerID?

    /// The call's media while the line has one, and whether the far end's
    /// early media (183) replaces local ringback.
    var media: CallMedia?
    var earlyMedia = false
    /// Cancels the line's echo of the far end (nil when the line's
    /// `echo_canceller = no`); runs only while the far end is heard.
    var echoCanceller: EchoCanceller?
    var echoSuppressor = ResidualEchoSuppressor()
    var farEndQuietFrames = 0
    /// The canceller's bulk delay last logged, to log each change once.
    var loggedBulkDelaySamples = 0
    var echoFree: [Int16]
    /// What the phone sends, as the sound card delivers it (before the echo
    /// canceller), for `level`: calibrating the capture gain.
    let mouthpiece = ToneAnalyzer()
    /// The simulated hybrid's echo path (`hybrid` command), if any.
    var hybrid: SimulatedHybrid?

    /// The real line's GPIO and audio, on a gpio board; nil on the
    /// simulated board.
    var hardware: GPIOLineHardware?

    // The simulated handset's side.
    var offHook = false
    var mouth = SimulatedMouth()
    var ear = ToneAnalyzer()
    /// When the simulated handset last went off hook, and how long after
    /// that its earpiece first carried sound (dial tone), for `hear`.
    var offHookAt: Instant?
    var soundAfterOffHook: Interval?
    var bell = SimulatedRinger()
    /// When sound last began in the earpiece and at the mouthpiece after a
    /// quiet spell (CLOCK_MONOTONIC), so tests can measure the delay through
    /// the call against their own clock.
    var earOnset = OnsetTracker()
    var mouthOnset = OnsetTracker()
    /// Hook edges still to come from a `pulse` or `flash` command.
    var scriptTimers: [TimerID] = []

    // Frame buffers, allocated once.
    var lineOutput: [Int16]
    var lineInput: [Int16]

    init(number: Int, machine: LineMachine, frameSamples: Int) {
        self.number = number
        self.machine = machine
        ringSignal = RingSignal(frequencyHz: Int(machine.preset.ring.frequencyHz))
        lineOutput = [Int16](repeating: 0, count: frameSamples)
        lineInput = [Int16](repeating: 0, count: frameSamples)
        echoFree = [Int16](repeating: 0, count: frameSamples)
    }

    /// `line N: STATE ...` for `status`.
    var statusLine: String {
        var text = "line \(number): \(machine.state.rawValue)"
        if machine.state == .dialing, !machine.digits.isEmpty { text += " digits \(machine.digits)" }
        if let number = machine.lastNumber { text += " number \(number)" }
        return text
    }

    /// `line N audio: ...` for `status`, on a real board only.
    var audioStatusLine: String? {
        hardware.map { "line \(number) audio: \($0.audioStatus)" }
    }
}

/// Notes the frame where sound starts after at least `quietFrames` frames
/// of silence.
struct OnsetTracker {
    static let quietFrames = 5
    static let threshold: Int16 = 64
    private(set) var onset: Instant?
    private var quiet = OnsetTracker.quietFrames

    mutating func observe(_ frame: UnsafeBufferPointer<Int16>, at now: Instant) {
        if frame.contains(where: { $0 > OnsetTracker.threshold || $0 < -OnsetTracker.threshold }) {
            if quiet >= OnsetTracker.quietFrames { onset = now }
            quiet = 0
        } else if quiet < OnsetTracker.quietFrames {
            quiet += 1
        }
    }
}
