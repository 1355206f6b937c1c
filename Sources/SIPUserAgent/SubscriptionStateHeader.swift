import CompactText
import SIPMessage

/// A NOTIFY's `Subscription-State` (RFC 6665 §8.2.3): whether the
/// subscription is active, pending or over, how long it still runs, and,
/// when it is over, why and when to ask again.
public struct SubscriptionStateHeader: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        case active, pending, terminated
    }

    public var phase: Phase
    /// `expires=`: seconds the notifier still keeps the subscription.
    public var expires: Int?
    /// `reason=` of a terminated subscription, lower case.
    public var reason: String?
    /// `retry-after=`: seconds before a new subscription is welcome.
    public var retryAfter: Int?

    /// nil for an empty or malformed value (the caller answers 400); a
    /// state RFC 6665 does not define is taken as `active`, as it says.
    @inline(never)
    public static func parse(_ value: ArraySlice<UInt8>) -> SubscriptionStateHeader? {
        guard let (state, parameters) = SIPParameters.tokenAndParameters(value), !state.isEmpty else { return nil }
        var header = SubscriptionStateHeader(phase: .active)
        if state.equalsIgnoringCase("terminated") {
            header.phase = .terminated
        } else if state.equalsIgnoringCase("pending") {
            header.phase = .pending
        }
        // At most a day: no larger number reaches the timers (nor traps a
        // 32-bit Int).
        header.expires = parameters.value("expires").flatMap { SIPScalar.deltaSeconds($0) }.map { Int(min($0, 86_400)) }
        header.retryAfter = parameters.value("retry-after").flatMap { SIPScalar.deltaSeconds($0) }.map { Int(min($0, 86_400)) }
        header.reason = parameters.value("reason").map { String(decoding: $0.map { $0 | 0x20 }, as: UTF8.self) }
        return header
    }

    /// RFC 6665 §4.1.3: after `deactivated` or `timeout` a new
    /// subscription may go at once; after `probation` or `giveup`, or
    /// without a reason, after `retry-after` (else a back-off); after
    /// `rejected`, `noresource` or `invariant` the notifier does not want
    /// another.
    public var invitesResubscription: Bool {
        reason == "deactivated" || reason == "timeout"
    }

    public var forbidsResubscription: Bool {
        reason == "rejected" || reason == "noresource" || reason == "invariant"
    }
}
