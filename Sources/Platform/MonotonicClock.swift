import CAtadSystem
import Timebase

/// Where the event loop and the daemon read the time. Class-bound so it can
/// be held as an existential in Embedded Swift.
public protocol MonotonicClock: AnyObject {
    var now: Instant { get }
}

/// CLOCK_MONOTONIC.
public final class SystemClock: MonotonicClock {
    public init() {}
    public var now: Instant { Instant(nanoseconds: atad_monotonic_ns()) }
}

/// A clock that moves only when a test tells it to.
public final class ManualClock: MonotonicClock {
    public private(set) var now: Instant

    public init(start: Instant = .zero) { now = start }

    public func advance(by interval: Interval) { now = now + interval }
    public func advance(to instant: Instant) { if instant > now { now = instant } }
}
