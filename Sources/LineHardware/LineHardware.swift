import Timebase

/// One telephone line's hardware as the line path sees it: hook changes
/// coming in, 10 ms audio frames both ways, and the ringer's outputs going
/// out. The simulated board (HardwareSim) and a real SLIC on GPIO and ALSA
/// (HardwareLinux) both implement it, so the line path runs the same code
/// on either and holds no state of the other.
///
/// The hardware owns the frame clock: a sound card's capture stream, or the
/// simulated board's loop timer. For each frame it first asks for the
/// earpiece's samples, then hands over the mouthpiece's, in that order, so
/// the echo canceller sees what was played before what came back.
public protocol LineHardware: AnyObject {
    /// The handset went off hook (true) or on hook (false), at the time the
    /// edge happened (the kernel's timestamp on real hardware).
    var onHook: (Bool, Instant) -> Void { get set }
    /// Fill this 10 ms frame for the earpiece.
    var onEarpieceFrame: (UnsafeMutableBufferPointer<Int16>, Instant) -> Void { get set }
    /// This 10 ms frame came from the mouthpiece.
    var onMouthpieceFrame: (UnsafeBufferPointer<Int16>, Instant) -> Void { get set }

    /// Begins reporting hook changes and frames (a handset already off hook
    /// is reported at once). The callbacks are set before.
    func start()
    /// Stops everything and leaves the outputs at rest.
    func close()

    /// Drives the SLIC's ring-mode and forward/reverse inputs.
    func driveRinger(_ outputs: RingOutputs, at now: Instant)
    /// The ring cadence moved to `phase` (a burst, a pause, or not ringing).
    func ringPhaseChanged(_ phase: RingPhase, at now: Instant)

    /// Cuts (false) or restores the loop current: a disconnect pulse. Only
    /// asked of a board that can (the config refuses `disconnect_pulse_ms`
    /// elsewhere).
    func setLoopCurrent(_ on: Bool, at now: Instant)

    /// The audio's health for `status`, nil where there is none to report.
    var audioStatus: String? { get }
    /// Times the audio streams stopped and started again (xruns, resumes
    /// after a suspend, a card reopened): each may move the echo path by
    /// any amount, which the echo canceller is told. 0 on a board whose
    /// audio never stalls.
    var audioRestarts: Int { get }
    /// The line signals the board saw (polarity, disconnect pulses), for
    /// `status`; nil where the board does not measure them.
    var signalStatus: String? { get }
}

/// Why a line's hardware could not be set up, in words for the log.
public struct LineHardwareError: Error {
    public var message: String

    public init(message: String) { self.message = message }
}
