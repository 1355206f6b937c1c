import CompactText
import SIPMessage

/// What we answer to the session-timer fields of an INVITE, re-INVITE or
/// UPDATE that comes in (RFC 4028 §9), and what the 2xx then carries. We
/// run a timer only when the request asks for one (as Asterisk's
/// `session-timers=accept`): the RTP timeout already ends calls whose far
/// end is gone, and a timer forced on a peer without `timer` could end
/// good calls.
public enum SessionTimerTerms: Equatable, Sendable {
    /// Below our Min-SE from a peer that knows session timers: 422.
    case tooSmall
    /// No session timer in this call (a re-INVITE without one turns it off).
    case none
    /// The 2xx carries `Session-Expires: terms` and, when the peer supports
    /// timers, `Require: timer`.
    case agreed(SessionExpires, requireTimer: Bool)

    /// The smallest interval we take, our Min-SE (§4: 90 s at least).
    public static var minimumSeconds: UInt32 { SessionTimer.minimumSeconds }

    /// Our answer to `request`. A peer without `timer` (a proxy put the
    /// field in) cannot take a 422: its interval is raised instead. The
    /// refresher is the one the request names, else the caller when it
    /// supports timers, else us (§9); we refresh with UPDATE only, so when
    /// the peer does not list UPDATE in Allow we leave the refreshing to
    /// it or run no timer.
    public static func answering(_ request: SIPMessage) -> SessionTimerTerms {
        guard var asked = request.sessionExpires else { return .none }
        let supportsTimer = request.optionTags(.supported).contains { $0.equalsIgnoringCase("timer") }
        if asked.seconds < minimumSeconds {
            if supportsTimer { return .tooSmall }
            asked.seconds = max(minimumSeconds, request.minimumSessionExpires ?? 0)
        }
        let takesUpdate = request.allowedMethods.contains(.update)
        switch asked.refresher {
        case .uac?: break
        case .uas?: if !takesUpdate { return .none }
        case nil: asked.refresher = supportsTimer || !takesUpdate ? .uac : .uas
        }
        if asked.refresher == .uac && !supportsTimer { return .none }
        return .agreed(asked, requireTimer: supportsTimer)
    }

    /// Adds our answer's fields to the 2xx.
    public func add(to response: inout SIPMessageBuilder) {
        guard case .agreed(let terms, let requireTimer) = self else { return }
        response.add(.sessionExpires, terms.text)
        if requireTimer { response.add(.require, "timer") }
    }

    /// The 422 for a request whose interval is below our Min-SE.
    public static func refusal(to request: SIPMessage, toTag: String?) -> SIPMessageBuilder {
        var response = SIPMessageBuilder.response(to: request, status: 422, reason: "Session Interval Too Small", toTag: toTag)
        response.add(.minSE, "\(minimumSeconds)")
        return response
    }
}
