import CompactText
import Config
import Line
import SDP
import SIPMessage
import SIPUserAgent
import Timebase

/// A transfer the far end asks of us (RFC 3515, RFC 5589, atad as the
/// transferee): its REFER names someone to call in its place, with a
/// Replaces (RFC 3891) when that someone is already talking to it. The
/// line follows the new call at once (quiet, ringback, then the new
/// party), the old call carries on without the line until its far end
/// ends it, and each step of the new call goes back to it by NOTIFY. A
/// new call that fails takes the line back to the old call, if it is
/// still up, for its far end to take back.
extension CallControl {
    /// A REFER in a call's dialog: 202 and "100 Trying" when the call is
    /// the line's, up, and alone on it; 491 while an earlier one is still
    /// carried out; 603 otherwise (a call on hold, waiting or placed from
    /// a flash keeps the line busy with its own business).
    @inline(never)
    func referReceived(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>, at now: Instant) {
        let refer: ReferRequest
        switch ReferRequest.parse(request) {
        case .failure(let refusal): return answer(request, refusal.status, refusal.reason, origin)
        case .success(let parsed): refer = parsed
        }
        if call.incoming?.isReferred ?? call.outgoing?.isReferred ?? false {
            return answer(request, 491, "Request Pending", origin)
        }
        guard call.incoming?.state == .confirmed || call.outgoing?.state == .confirmed, call.transfer == nil,
              let line = lines[call.line], line.active == call.callID, line.state == .talking,
              line.held == nil, line.waiting == nil, !pendingReferrals.contains(where: { $0.line == call.line }) else {
            return answer(request, 603, "Decline", origin)
        }
        var response = SIPMessageBuilder.response(to: request, status: 202, reason: "Accepted")
        response.add(.contact, "<\(call.contact)>")
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), origin.route))
        let cseq = request.cseq?.number ?? 0
        if call.incoming != nil {
            apply(call.incoming?.referAccepted(cseq: cseq, at: now) ?? [], to: call)
        } else {
            apply(call.outgoing?.referAccepted(cseq: cseq, at: now) ?? [], to: call, at: now)
        }
        // The line is the new call's from now on: the old one is heard no
        // more, and its end tells the line nothing.
        let callID = makeToken() + "@atad"
        lines[call.line]?.active = callID
        if let media = call.sdp.current { emit(.media(callID: call.callID, mediaStart(call, media))) }
        emit(.log(.info, "line \(call.line): the far end of call \(call.callID) transfers us to \(refer.target)"
                  + (refer.replaces == nil ? "" : " (attended)")))
        emit(.line(call.line, .input(.transferred)))
        pendingReferrals.append(PendingReferral(callID: callID, line: call.line, request: refer, referrer: call))
        emit(.findTransferRoute(callID: callID, line: call.line, target: refer.target))
    }

    /// The way to a REFER's target was found (nil: there is none): the
    /// new call gets its media ports, then its INVITE goes.
    public func transferRouted(_ callID: String, through account: (SIPAccount, Route)?, at now: Instant) -> [Action] {
        guard let index = pendingReferrals.firstIndex(where: { $0.callID == callID }) else { return take() }
        let referral = pendingReferrals.remove(at: index)
        guard let (settings, route) = account else {
            emit(.log(.info, "line \(referral.line): no way to \(referral.request.target) for the transfer"))
            referralFailed(referral.referrer, callID: callID, line: referral.line, status: 503, reason: "Service Unavailable",
                           at: now)
            return take()
        }
        var headers: [(HeaderName, String)] = []
        if let replaces = referral.request.replaces { headers += [(.replaces, replaces), (.require, "replaces")] }
        if let referredBy = referral.request.referredBy { headers.append((.referredBy, referredBy)) }
        pendingPlacements.append(PendingPlacement(callID: callID, line: referral.line, number: referral.request.target,
                                                  account: settings, route: route, target: referral.request.target,
                                                  headers: headers, referrer: referral.referrer))
        emit(.openMedia(callID: callID, host: settings.localHost, toward: route))
        return take()
    }

    /// A step of a call a REFER asked for, told to the REFER's sender; a
    /// failure takes the line back to the old call (true: the line was
    /// told, so the caller need not).
    func reportToReferrer(_ event: OutgoingCallEvent, _ call: Call<Route>, at now: Instant) -> Bool {
        guard let referrer = call.referrer else { return false }
        switch event {
        case .ringing:
            notifyReferrer(referrer, status: 180, reason: "Ringing", at: now)
        case .answered:
            call.referrer = nil
            notifyReferrer(referrer, status: 200, reason: "OK", at: now)
            // Its far end ends the old call now; should it not, we do.
            if calls[referrer.callID] === referrer { referrer.hangUpAt = now + CallControl.transferPatience }
        case .failed(_, let reason):
            call.referrer = nil
            let (status, phrase) = CallControl.failureStatus(reason)
            return referralFailed(referrer, callID: call.callID, line: call.line, status: status, reason: phrase, at: now)
        default:
            break
        }
        return false
    }

    /// The new call did not come about: the REFER's sender hears why, and
    /// the line, if still on it, goes back to the old call while that is
    /// up. True when the line was told.
    @discardableResult
    func referralFailed(_ referrer: Call<Route>, callID: String, line: Int, status: Int, reason: String,
                        at now: Instant) -> Bool {
        notifyReferrer(referrer, status: status, reason: reason, at: now)
        let waiting = lines[line]?.state == .calling || lines[line]?.state == .ringback
        guard calls[referrer.callID] === referrer, lines[line]?.active == callID, waiting,
              referrer.incoming?.state == .confirmed || referrer.outgoing?.state == .confirmed else {
            // The line is not waiting on it (hung up, or told otherwise):
            // the old call has nobody on our side any more.
            if calls[referrer.callID] === referrer { hangUp(referrer, at: now) }
            if lines[line]?.active == callID, calls[callID] == nil {
                // Never placed: the line hears what a failed call gives.
                lines[line]?.active = nil
                emit(.line(line, .input(.callFailed(busy: false))))
                return true
            }
            return false
        }
        emit(.log(.info, "line \(line): the transfer failed (\(status) \(reason)); back to call \(referrer.callID)"))
        lines[line]?.active = referrer.callID
        if let media = referrer.sdp.current { emit(.media(callID: referrer.callID, mediaStart(referrer, media))) }
        emit(.line(line, .input(.remoteAnswered)))
        return true
    }

    /// The handset hung up while a REFER's target was still being looked
    /// up: the lookup's answer is dropped, and the old call ends too.
    func dropReferral(on line: Int, at now: Instant) -> Bool {
        guard let index = pendingReferrals.firstIndex(where: { $0.line == line }) else { return false }
        let referral = pendingReferrals.remove(at: index)
        lines[line]?.remove(referral.callID)
        notifyReferrer(referral.referrer, status: 487, reason: "Request Terminated", at: now)
        if calls[referral.referrer.callID] === referral.referrer { hangUp(referral.referrer, at: now) }
        return true
    }

    @inline(never)
    private func notifyReferrer(_ referrer: Call<Route>, status: Int, reason: String, at now: Instant) {
        guard calls[referrer.callID] === referrer else { return }
        if referrer.incoming != nil {
            apply(referrer.incoming?.reportReferral(status: status, reason: reason, at: now) ?? [], to: referrer)
        } else {
            apply(referrer.outgoing?.reportReferral(status: status, reason: reason, at: now) ?? [], to: referrer, at: now)
        }
    }

    /// A failed call's status line for a sipfrag: the SIP response that
    /// ended it ("486 Busy Here"), else 503 (no answer, no server).
    static func failureStatus(_ reason: String) -> (Int, String) {
        let bytes = Array(reason.utf8)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              bytes.count == 3 || bytes[3] == 0x20 else { return (503, "Service Unavailable") }
        let status = bytes[0..<3].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        // The phrase, without what atad added after it (" (no new place to call)").
        let phrase = bytes.count > 4 ? String(decoding: bytes[4...].prefix { $0 != 0x28 }.prefix(64), as: UTF8.self) : ""
        let trimmed = String(decoding: Array(phrase.utf8).reversed().drop { $0 == 0x20 }.reversed(), as: UTF8.self)
        return status >= 300 && status < 700 ? (status, trimmed.isEmpty ? "Failed" : trimmed) : (503, "Service Unavailable")
    }
}

/// A REFER we took whose target's route is being found.
struct PendingReferral<Route> {
    let callID: String
    let line: Int
    let request: ReferRequest
    /// The call whose far end sent the REFER (told by NOTIFY).
    let referrer: Call<Route>
}
