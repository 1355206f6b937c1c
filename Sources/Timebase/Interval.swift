/// A span of monotonic time in nanoseconds. (Not `Duration`: that one needs
/// 128-bit arithmetic we do not want on small boards.)
public struct Interval: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Interval(nanoseconds: 0)

    public static func seconds(_ value: Int64) -> Interval {
        Interval(nanoseconds: value * 1_000_000_000)
    }
    public static func milliseconds(_ value: Int64) -> Interval {
        Interval(nanoseconds: value * 1_000_000)
    }
    public static func microseconds(_ value: Int64) -> Interval {
        Interval(nanoseconds: value * 1_000)
    }

    /// Whole milliseconds, rounded toward zero.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// Whole milliseconds, rounded up: what a poll() timeout must use so a
    /// timer never fires early.
    public var millisecondsRoundedUp: Int64 {
        nanoseconds <= 0 ? 0 : (nanoseconds + 999_999) / 1_000_000
    }

    public static func < (lhs: Interval, rhs: Interval) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
    public static func + (lhs: Interval, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }
    public static func - (lhs: Interval, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
    }
    public static func * (lhs: Interval, rhs: Int64) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds &* rhs)
    }
}
