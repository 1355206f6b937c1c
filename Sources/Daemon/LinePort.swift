import CallerID
import CompactText
import CountryPresets
import DSP
import EventLoop
import Line
import LineHardware

/// One telephone port: its line state machine, the line path's audio state
/// (tone output, DTMF detection, echo cancelling, the call's media) and the
/// hardware behind it, simulated or real. The same on every board.
final class LinePort {
    let number: Int
    var machine: LineMachine
    var deadlineTimer: TimerID?
    let hardware: any LineHardware

    var toneGenerator: ToneGenerator?
    /// What caller ID the line sends (nil: none), who the ringing call is
    /// from, and the burst on the line while it is sent.
    var callerIDSignalling: CallerIDSignalling?
    var caller: CallerIdentity?
    /// Who the waiting call is from, for its caller ID during the call.
    var waitingCaller: CallerIdentity?
    /// The call is cut off both ways while the phone is signalled during
    /// it (type II caller ID); the alerting signal's frames still to play.
    var callMuted = false
    var alertFramesLeft = 0
    var alertTone: ToneGenerator?
    var callerIDTransmitter: CallerIDTransmitter?
    /// What the burst carries: caller ID, or the message-waiting indicator.
    var burstIsIndicator = false
    let detector = DTMFDetector()
    var ringSignal: RingSignal
    var ringTimer: TimerID?

    /// The call's media while the line has one, and whether the far end's
    /// early media (183) replaces local ringback.
    var media: RTPConnection?
    var earlyMedia = false
    /// The second far end of a three-way call, and the mix's buffers.
    var threeWay: ThreeWayMix?
    /// Cancels the line's echo of the far end (nil when the line's
    /// `echo_canceller = no`); runs only while the far end is heard.
    var echoCanceller: EchoCanceller?
    var echoSuppressor = ResidualEchoSuppressor()
    var farEndQuietFrames = 0
    /// The canceller's bulk delay last logged, to log each change once.
    var loggedBulkDelaySamples = 0
    /// The hardware's `audioRestarts` the canceller was last told of.
    var audioRestartsSeen = 0
    var echoFree: [Int16]
    /// Silence for the far end while the call is cut off.
    let quiet: [Int16]
    /// What the phone sends, as the sound card delivers it (before the echo
    /// canceller), for `level`: calibrating the capture gain.
    let mouthpiece = ToneAnalyzer()
    /// The earpiece's last frame: the echo canceller's reference. Allocated once.
    var lineOutput: [Int16]

    init(number: Int, machine: LineMachine, hardware: any LineHardware, frameSamples: Int) {
        self.number = number
        self.machine = machine
        self.hardware = hardware
        ringSignal = RingSignal(frequencyHz: Int(machine.preset.ring.frequencyHz))
        lineOutput = [Int16](repeating: 0, count: frameSamples)
        echoFree = [Int16](repeating: 0, count: frameSamples)
        quiet = [Int16](repeating: 0, count: frameSamples)
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
        hardware.audioStatus.map { "line \(number) audio: \($0)" }
    }

    var signalStatusLine: String? {
        hardware.signalStatus.map { "line \(number) signals: \($0)" }
    }
}
