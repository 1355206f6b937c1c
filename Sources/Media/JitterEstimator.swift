import Timebase

/// Measures network jitter as the spread of packets' playout margins.
///
/// A packet's margin is how long before its first sample is due it arrived
/// (negative: it came too late). On a clean network every packet has the
/// same margin; jitter shows up as margins that vary. RFC 3550's jitter is a
/// smoothed mean of the transit-time change, which says little about the
/// worst packets a buffer must wait for. So this keeps two envelopes
/// instead: the largest margin seen (the least-delayed packets) and the
/// smallest (the most-delayed). Each follows a new extreme at once, holds
/// it for `hold`, then relaxes toward later margins at `decayPerSecond`:
/// a burst of jitter widens the buffer immediately, and a calm network
/// narrows it again over some seconds. Slow clock drift between the far
/// end and our frame clock moves all margins together and is followed the
/// same way.
///
/// All values are nanoseconds; the type only compares and adds.
public struct JitterEstimator: Sendable {
    /// How long an extreme is kept before it starts to relax.
    public var hold = Interval.seconds(2)
    /// How fast a held extreme relaxes, milliseconds per second.
    public var decayMillisecondsPerSecond: Int64 = 5

    /// Margin of the least-delayed recent packets (upper envelope).
    public private(set) var earliestMargin: Int64 = 0
    /// Margin of the most-delayed recent packets (lower envelope).
    public private(set) var latestMargin: Int64 = 0
    private var earliestHeldSince = Instant.zero
    private var latestHeldSince = Instant.zero
    private var lastUpdate = Instant.zero

    public init() {}

    /// Arrival-time spread: how much later the most-delayed packets come
    /// than the least-delayed ones.
    public var jitter: Interval {
        Interval(nanoseconds: max(0, earliestMargin - latestMargin))
    }

    /// Starts the envelopes from one packet's margin, keeping a jitter
    /// learned earlier (the buffer re-anchors at every talk spurt but the
    /// network stays the same).
    public mutating func prime(margin: Interval, jitter: Interval, at now: Instant) {
        earliestMargin = margin.nanoseconds
        latestMargin = margin.nanoseconds - jitter.nanoseconds
        earliestHeldSince = now
        latestHeldSince = now
        lastUpdate = now
    }

    /// Adds one packet's margin, measured at its arrival.
    public mutating func add(margin: Interval, at arrival: Instant) {
        let value = margin.nanoseconds
        let elapsed = max(0, (arrival - lastUpdate).nanoseconds)
        lastUpdate = arrival
        let relax = elapsed * decayMillisecondsPerSecond / 1000

        if value >= earliestMargin {
            earliestMargin = value
            earliestHeldSince = arrival
        } else if arrival - earliestHeldSince > hold {
            earliestMargin = max(value, earliestMargin - relax)
        }

        if value <= latestMargin {
            latestMargin = value
            latestHeldSince = arrival
        } else if arrival - latestHeldSince > hold {
            latestMargin = min(value, latestMargin + relax)
        }
    }

    /// The playout point moved by `delta` (positive: later), which changes
    /// every future margin by the same amount.
    public mutating func shift(by delta: Interval) {
        earliestMargin += delta.nanoseconds
        latestMargin += delta.nanoseconds
    }

    /// Forgets everything learned.
    public mutating func reset() {
        let (hold, decay) = (self.hold, decayMillisecondsPerSecond)
        self = JitterEstimator()
        self.hold = hold
        decayMillisecondsPerSecond = decay
    }
}
