import Timebase

/// The time limits that turn hook edges into pulses, flashes and hang-ups,
/// and that pace dial tone, digit collection and the howler.
public struct LineTimings: Sendable {
    /// Shortest on-hook that counts at all; shorter is a glitch.
    public var glitchMax = Interval.milliseconds(15)
    /// A break (on-hook) up to this long is a dial pulse while dialing.
    /// Rotary dials send 7-13 pulses/s with 55-70 % break: 42-100 ms.
    public var pulseBreakMax = Interval.milliseconds(110)
    /// Off-hook between pulses longer than this ends a pulse digit. Within
    /// a digit the make lasts 23-64 ms; between digits a dial pauses for
    /// hundreds of ms.
    public var interdigitPulseGap = Interval.milliseconds(180)
    /// A break in [flashMinimum, flashMaximum] is a hook flash. From the
    /// country preset or the line's settings.
    public var flashMinimum = Interval.milliseconds(100)
    public var flashMaximum = Interval.milliseconds(900)
    /// A break that lasts this long is a hang-up; one between `flashMaximum`
    /// and this changes nothing, so a phone whose R key sends a long break
    /// keeps its call. Longer than `flashMaximum`.
    public var hangUp = Interval.milliseconds(1100)
    /// How long dial tone plays with no digit before the howler.
    public var dialToneTimeout = Interval.seconds(20)
    /// Long and short interdigit timers of the dial plan.
    public var interdigitLong = Interval.seconds(10)
    public var interdigitShort = Interval.seconds(3)
    /// How long busy or congestion tone plays before the howler.
    public var failureToneDuration = Interval.seconds(30)
    /// How long the howler plays before the line goes silent.
    public var howlerDuration = Interval.seconds(60)
    /// Warmline: dial the hotline number after this long with no digit.
    public var warmlineDelay: Interval?

    public init() {}
}
