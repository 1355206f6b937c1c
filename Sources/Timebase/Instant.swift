/// A point on the monotonic clock, in nanoseconds since an arbitrary origin.
///
/// State machines take an `Instant` as input instead of reading a clock, so
/// tests can drive them with a manual clock.
public struct Instant: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public static func + (lhs: Instant, rhs: Interval) -> Instant {
        Instant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    public static func - (lhs: Instant, rhs: Interval) -> Instant {
        Instant(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
    }

    public static func - (lhs: Instant, rhs: Instant) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
    }

    public static func += (lhs: inout Instant, rhs: Interval) { lhs = lhs + rhs }
}
