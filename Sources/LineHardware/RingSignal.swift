import Timebase

/// The line's DC polarity, driven by the SLIC's forward/reverse (F/R) input.
public enum LinePolarity: Equatable, Sendable {
    case forward
    case reverse
}

/// Where the ringing is: not ringing, in a burst (cadence on), or in the
/// silence between bursts (cadence off).
public enum RingPhase: Equatable, Sendable {
    case idle
    case burst
    case pause
}

/// What the SLIC's control inputs must be: ring mode (RM) and F/R.
public struct RingOutputs: Equatable, Sendable {
    public var ringMode: Bool
    public var polarity: LinePolarity

    public init(ringMode: Bool, polarity: LinePolarity) {
        self.ringMode = ringMode
        self.polarity = polarity
    }
}

/// Drives an AG1171-class SLIC's RM and F/R inputs to ring the phone.
///
/// RM is high only during a burst: the AG1171 raises its converter to the
/// ringing voltage while RM is high and wants it low at all other times,
/// so the pauses between bursts are not spent in ring mode (and a crash in
/// a pause leaves the SLIC safe). RM rises with F/R still at its idle
/// polarity, and F/R first moves half a period later, so the two never
/// change at the same instant. During a burst F/R toggles every half
/// period of the ring frequency, counted from the burst's start, so the
/// SLIC makes a square ring voltage. In a pause, and when idle, RM is low
/// and F/R holds the idle polarity (reversed on request, e.g. for caller ID
/// alerting or disconnect signalling).
///
/// A state machine without I/O: every method returns the new outputs when
/// they change (nil when nothing changes); call `advance` at `nextDeadline`.
/// Toggle times are computed from the burst's start, so a late wake-up
/// never shifts the waveform's phase.
public struct RingSignal: Sendable {
    public let frequencyHz: Int
    public private(set) var phase: RingPhase = .idle
    public private(set) var idlePolarity: LinePolarity
    /// The outputs as last returned.
    public private(set) var outputs: RingOutputs

    private var burstStart: Instant = .zero
    /// F/R during the burst's first half period: the idle polarity when the
    /// burst began, so RM rises while F/R stays where it was.
    private var burstPolarity: LinePolarity = .forward
    /// Half periods elapsed in the current burst at the last update.
    private var halfPeriods: Int64 = 0

    public init(frequencyHz: Int, idlePolarity: LinePolarity = .forward) {
        precondition(frequencyHz > 0 && frequencyHz <= 1000, "ring frequency out of range")
        self.frequencyHz = frequencyHz
        self.idlePolarity = idlePolarity
        self.outputs = RingOutputs(ringMode: false, polarity: idlePolarity)
    }

    /// Half a period of the ring frequency (25 ms at 20 Hz, 20 ms at 25 Hz),
    /// rounded down to whole nanoseconds.
    public var halfPeriod: Interval { Interval(nanoseconds: 500_000_000 / Int64(frequencyHz)) }

    /// When the next F/R toggle is due (nil outside bursts).
    public var nextDeadline: Instant? {
        guard phase == .burst else { return nil }
        return burstStart + Interval(nanoseconds: RingSignal.ceilingDivide((halfPeriods + 1) * 1_000_000_000,
                                                                           2 * Int64(frequencyHz)))
    }

    /// Starts or stops ringing, or moves between the cadence's bursts and
    /// pauses. Entering `.burst` again while in a burst changes nothing.
    public mutating func set(_ newPhase: RingPhase, at now: Instant) -> RingOutputs? {
        if newPhase == phase { return advance(to: now) }
        phase = newPhase
        if newPhase == .burst {
            burstStart = now
            burstPolarity = idlePolarity
            halfPeriods = 0
        }
        return publish(desiredOutputs())
    }

    /// Sets the polarity the line rests at when not ringing; applied at once
    /// when idle or in a pause, else when the burst ends.
    public mutating func setIdlePolarity(_ polarity: LinePolarity, at now: Instant) -> RingOutputs? {
        idlePolarity = polarity
        if phase == .burst { return advance(to: now) }
        return publish(desiredOutputs())
    }

    /// Moves time on; returns the outputs when F/R must toggle.
    public mutating func advance(to now: Instant) -> RingOutputs? {
        guard phase == .burst else { return nil }
        let elapsed = (now - burstStart).nanoseconds
        if elapsed > 0 {
            let count = (elapsed * 2 * Int64(frequencyHz)) / 1_000_000_000
            if count > halfPeriods { halfPeriods = count }
        }
        return publish(desiredOutputs())
    }

    private func desiredOutputs() -> RingOutputs {
        switch phase {
        case .idle, .pause:
            return RingOutputs(ringMode: false, polarity: idlePolarity)
        case .burst:
            let other: LinePolarity = burstPolarity == .forward ? .reverse : .forward
            return RingOutputs(ringMode: true, polarity: halfPeriods % 2 == 0 ? burstPolarity : other)
        }
    }

    private mutating func publish(_ desired: RingOutputs) -> RingOutputs? {
        if desired == outputs { return nil }
        outputs = desired
        return desired
    }

    private static func ceilingDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        (value + divisor - 1) / divisor
    }
}
