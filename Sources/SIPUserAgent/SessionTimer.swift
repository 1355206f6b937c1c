import Timebase

/// One call's session timer (RFC 4028) once the interval and the refresher
/// are agreed: when we refresh, at half the interval (§7.4, §9); when the
/// far end does, a session it has not refreshed by the interval less
/// min(32 s, interval/3) is over (§10) and we send BYE. Every refresh in
/// either direction (a 2xx to a re-INVITE or UPDATE) starts it again. No
/// I/O: time in, what is due out.
public struct SessionTimer: Equatable, Sendable {
    public enum Due: Equatable, Sendable {
        /// Send a refresh (UPDATE, or re-INVITE when the far end lacks it).
        case refresh
        /// No refresh came: end the call.
        case expired
    }

    public private(set) var seconds: UInt32
    public private(set) var weRefresh: Bool
    public private(set) var nextDeadline: Instant

    /// The smallest interval we take (RFC 4028 §4: 90 s at least).
    public static let minimumSeconds: UInt32 = 90
    /// What we ask for in our INVITEs by default: 30 minutes, the RFC's
    /// recommendation.
    public static let preferredSeconds: UInt32 = 1800
    /// The longest interval a 422 may make us ask for: a day.
    public static let maximumSeconds: UInt32 = 86_400

    public init(seconds: UInt32, weRefresh: Bool, at now: Instant) {
        self.seconds = max(seconds, Self.minimumSeconds)
        self.weRefresh = weRefresh
        nextDeadline = now
        nextDeadline = deadline(from: now)
    }

    /// A refresh succeeded (ours or the far end's), perhaps with a new
    /// interval or refresher.
    public mutating func refreshed(seconds: UInt32? = nil, weRefresh: Bool? = nil, at now: Instant) {
        if let seconds { self.seconds = max(seconds, Self.minimumSeconds) }
        if let weRefresh { self.weRefresh = weRefresh }
        nextDeadline = deadline(from: now)
    }

    /// What is due at `now`. A refresh due is asked for once: the next
    /// deadline becomes the expiry, so a refresh that fails ends the call.
    public mutating func advance(to now: Instant) -> Due? {
        guard now >= nextDeadline else { return nil }
        if weRefresh {
            weRefresh = false
            nextDeadline = expiry(from: now - .seconds(Int64(seconds / 2)))
            return .refresh
        }
        return .expired
    }

    private func deadline(from start: Instant) -> Instant {
        weRefresh ? start + .seconds(Int64(seconds / 2)) : expiry(from: start)
    }

    private func expiry(from start: Instant) -> Instant {
        start + .seconds(Int64(seconds) - Int64(min(32, seconds / 3)))
    }
}
