import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What a call's dialog asks of the call that owns it.
public enum DialogOutput: Equatable, Sendable {
    /// Send this request or 2xx the way the call's messages go.
    case send([UInt8])
    /// Keys sent by INFO: refused by the far end, or one dropped.
    case keys(DTMFInfoOutput)
    /// The dialog is over; `remote` when it was the far end's doing (or
    /// its silence), not our handset's.
    case ended(reason: String, remote: Bool)
    /// What came of our re-INVITE (`reoffer`).
    case reoffer(ReofferOutcome)
    /// The final status of our REFER (`refer`), unless it ended the call.
    case referred(status: Int)
}

/// The dialog of a call, the same whichever side placed it (RFC 3261
/// §12-§15): who may send requests in it (both tags, CSeq order), the
/// requests we send in it (BYE, with credentials when challenged; keys by
/// INFO; session refreshes by UPDATE; REFER for a transfer), our 2xx to the far end's INVITE or
/// re-INVITE, repeated until its ACK, and the session timer (RFC 4028).
/// The INVITE that set it up stays with `IncomingCall` or `OutgoingCall`.
/// No I/O.
public struct CallDialog {
    /// How requests in the dialog are built (and, before it exists, the
    /// INVITE and CANCEL of a call we place).
    public var requests: DialogRequests
    public private(set) var identity: DialogIdentity
    private var keys: DTMFInfoSender
    private var bye: DialogRequestSender?
    /// The session timer, once a 2xx agreed one (RFC 4028).
    public private(set) var session: SessionTimer?
    /// Our session refresh (UPDATE) in flight, and the interval it asks.
    private var refresh: DialogRequestSender?
    private var refreshSeconds: UInt32 = 0
    /// Our re-INVITE (hold, resume), in flight or answered.
    private var reinvite: ReinviteSender?
    /// Our REFER (a transfer), in flight.
    private var transfer: DialogRequestSender?
    /// A REFER of the far end's we took: the NOTIFYs that report on it.
    private var referral: ReferNotifier?
    /// The ACK for the 2xx of the re-INVITE before it, for a copy of
    /// that 2xx that comes after the next one went out.
    private var earlierAck: (cseq: UInt32, bytes: [UInt8])?
    /// Our Contact URI: an UPDATE is a target refresh and carries it.
    private var contact = ""
    private var answer: AnswerRetransmission?
    /// What ends the dialog when our 2xx is never acknowledged.
    private var unacknowledgedReason = ""
    private let digest: DigestSession?
    private let timers: TransactionTimers
    private let makeToken: () -> String
    /// Our BYE is out; nothing else is sent.
    public private(set) var isEnding = false
    public private(set) var isOver = false

    /// - digest: the account's credentials, for a far end or proxy that
    ///   challenges our BYE or INFO.
    public init(requests: DialogRequests, identity: DialogIdentity, timers: TransactionTimers,
                digest: DigestSession?, makeToken: @escaping () -> String) {
        self.requests = requests
        self.identity = identity
        self.timers = timers
        self.digest = digest
        self.makeToken = makeToken
        keys = DTMFInfoSender(timers: timers, digest: digest, makeToken: makeToken)
    }

    public var nextDeadline: Instant? {
        var earliest = answer?.nextDeadline
        if let due = bye?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = keys.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if !isEnding, let due = session?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = refresh?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = reinvite?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = transfer?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = referral?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        return earliest
    }

    /// The far end's tag, from a tagged response to our INVITE.
    public mutating func learnRemoteTag(_ tag: String) {
        identity.learnRemoteTag(tag)
    }

    /// Checks a request the far end sends in the call: its tags, then its
    /// CSeq order. Only an accepted request may act on the call.
    public mutating func admit(_ request: SIPMessage) -> DialogIdentity.Verdict {
        identity.admit(request)
    }

    /// We accepted the far end's re-INVITE with the 2xx `answer`: its
    /// Contact is the new remote target (§12.2.2), and the 2xx is repeated
    /// until its ACK.
    public mutating func reinviteAccepted(_ request: SIPMessage, answer: [UInt8], session terms: SessionTimerTerms,
                                          at now: Instant) {
        withdrawWaitingReoffer()
        requests.refreshTarget(from: request)
        answered(answer, cseq: request.cseq?.number ?? 0, at: now)
        sessionAgreed(terms, at: now)
    }

    /// We answered the far end's UPDATE with 2xx: a target refresh, and a
    /// session refresh on the terms our 2xx gave.
    public mutating func updateAccepted(_ request: SIPMessage, session terms: SessionTimerTerms, at now: Instant) {
        if !request.body.isEmpty { withdrawWaitingReoffer() }
        requests.refreshTarget(from: request)
        sessionAgreed(terms, at: now)
    }

    // MARK: Session timer (RFC 4028)

    /// A 2xx to the INVITE, or to a re-INVITE or UPDATE either side sent,
    /// named `terms` (nil: none, and the timer stops). `weAreUAS` says
    /// which side of that transaction we were, which is what `refresher`
    /// is relative to; a 2xx that names no refresher leaves it to the UAC.
    public mutating func sessionAgreed(_ terms: SessionExpires?, weAreUAS: Bool, at now: Instant) {
        guard let terms else {
            session = nil
            return
        }
        let weRefresh = (terms.refresher ?? .uac) == (weAreUAS ? .uas : .uac)
        if session == nil {
            session = SessionTimer(seconds: terms.seconds, weRefresh: weRefresh, at: now)
        } else {
            session?.refreshed(seconds: terms.seconds, weRefresh: weRefresh, at: now)
        }
    }

    /// Our answer to a request that came in gave `terms`.
    private mutating func sessionAgreed(_ terms: SessionTimerTerms, at now: Instant) {
        if case .agreed(let agreed, _) = terms {
            sessionAgreed(agreed, weAreUAS: true, at: now)
        } else {
            session = nil
        }
    }

    /// Our Contact, for the UPDATEs that refresh the session.
    public mutating func setContact(_ uri: String) {
        contact = uri
    }

    // MARK: Our re-INVITE

    /// The far end's own offer came while ours waited after a 491: our
    /// answer to it (made with our direction) settled the session, and
    /// our stale offer is not sent.
    private mutating func withdrawWaitingReoffer() {
        if reinvite?.isWaitingToRetry == true { reinvite = nil }
    }

    /// Our re-INVITE waits for its final response: a new offer must wait
    /// too (§14.1), and one from the far end gets 491 (§14.2).
    public var isReoffering: Bool { reinvite?.isInProgress ?? false }

    /// A new offer may go now: no offer/answer of either side is open
    /// (ours in flight, or our 2xx to the far end's still without ACK).
    public var mayReoffer: Bool { !isEnding && !isOver && !isReoffering && answer == nil }

    /// Sends a re-INVITE with the SDP offer `body`; `ownsCallID` says we
    /// placed the call (the wait after a 491 depends on it). Nothing goes
    /// while another is pending or the dialog ends. It refreshes the
    /// session too, on the running timer's terms.
    public mutating func reoffer(_ body: [UInt8], ownsCallID: Bool, at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver, !isReoffering else { return [] }
        if reinvite?.isWaitingToRetry == true {
            // After a 491: the newest offer goes when the wait is over.
            reinvite?.body = body
            return []
        }
        var headers: [(HeaderName, String)] = [(.contact, "<\(contact)>"), (.allow, AdvertisedCapabilities.allow),
                                                (.supported, AdvertisedCapabilities.supported)]
        if let session {
            headers.append((.sessionExpires, SessionExpires(seconds: session.seconds, refresher: session.weRefresh ? .uac : .uas).text))
        }
        if let earlier = reinvite?.acknowledgement { earlierAck = earlier }
        var sender = ReinviteSender(body: body, headers: headers, ownsCallID: ownsCallID, digest: digest, timers: timers,
                                    makeToken: makeToken)
        let outputs = sender.send(dialog: &requests, authorized: false, at: now)
        reinvite = sender
        return reinviteOutputs(outputs, at: now)
    }

    /// 2xx: the answer, and the session goes on on its terms. 408, 481 or
    /// no answer: the far end lost the call (§14.1). Any other refusal
    /// leaves the session as it was.
    private mutating func reinviteOutputs(_ outputs: [ReinviteSender.Output], at now: Instant) -> [DialogOutput] {
        var result: [DialogOutput] = []
        for output in outputs {
            switch output {
            case .send(let bytes):
                result.append(.send(bytes))
            case .answered(let response):
                let status = response.statusCode ?? 500
                if isEnding || isOver { continue }
                if status < 300 {
                    sessionAgreed(response.sessionExpires, weAreUAS: false, at: now)
                    result.append(.reoffer(.answered(body: Array(response.body))))
                } else if status == 408 || status == 481 {
                    return result + lost("the far end lost the call (\(status) to our re-INVITE)", at: now)
                } else {
                    result.append(.reoffer(.refused(status: status)))
                }
            case .unanswered:
                if isEnding || isOver { continue }
                return result + lost("no answer to our re-INVITE", at: now)
            }
        }
        return result
    }

    /// Sends UPDATE asking to go on for `seconds`, refreshed by us.
    private mutating func startRefresh(seconds: UInt32, at now: Instant) -> [DialogOutput] {
        guard refresh == nil else { return [] }
        refreshSeconds = seconds
        let headers: [(HeaderName, String)] = [
            (.contact, "<\(contact)>"),
            (.sessionExpires, SessionExpires(seconds: seconds, refresher: .uac).text),
            (.minSE, "\(SessionTimer.minimumSeconds)"),
            (.supported, AdvertisedCapabilities.supported),
        ]
        let (sender, outputs) = DialogRequestSender.start(.update, headers: headers, dialog: &requests, digest: digest,
                                                          timers: timers, makeToken: makeToken, at: now)
        refresh = sender
        return refreshOutputs(outputs, at: now)
    }

    /// What came of our UPDATE. 2xx: the session goes on (on the terms
    /// it names; none turns the timer off). 422: once more with the
    /// interval it asks for. 408, 481 or no answer: the far end lost the
    /// call, which ends with a BYE (§10). Any other refusal leaves the
    /// session to run out, as the far end's own timer would end it.
    private mutating func refreshOutputs(_ outputs: [DialogRequestOutput], at now: Instant) -> [DialogOutput] {
        var result: [DialogOutput] = []
        for output in outputs {
            switch output {
            case .send(let bytes):
                result.append(.send(bytes))
            case .answered(let response):
                refresh = nil
                let status = response.statusCode ?? 500
                if status < 300 {
                    sessionAgreed(response.sessionExpires, weAreUAS: false, at: now)
                } else if status == 422, let floor = response.minimumSessionExpires, floor > refreshSeconds,
                          floor <= SessionTimer.maximumSeconds {
                    result += startRefresh(seconds: floor, at: now)
                } else if status == 408 || status == 481 {
                    return result + lost("the far end lost the call (\(status) to our session refresh)", at: now)
                }
            case .unanswered:
                refresh = nil
                return result + lost("no answer to our session refresh", at: now)
            }
        }
        return result
    }

    /// The session is over without the far end's BYE: ours goes once,
    /// and the call ends as if the far end had hung up.
    private mutating func lost(_ reason: String, at now: Instant) -> [DialogOutput] {
        let outputs = hangUp(at: now)
        finish()
        return outputs + [.ended(reason: reason, remote: true)]
    }

    /// We sent a 2xx to the INVITE with CSeq `cseq`: it is repeated until
    /// the ACK. Without one in 64*T1, the dialog ends with `reason`.
    public mutating func answered(_ response: [UInt8], cseq: UInt32, at now: Instant,
                                  unacknowledged reason: String = "no ACK for our answer to a re-INVITE") {
        answer = AnswerRetransmission(response: response, cseq: cseq, timers: timers, at: now)
        unacknowledgedReason = reason
    }

    /// An ACK from the far end: true when it acknowledges the 2xx we
    /// repeat (same CSeq), which then stops.
    public mutating func ackReceived(cseq: UInt32) -> Bool {
        guard let pending = answer, pending.cseq == cseq else { return false }
        answer = nil
        return true
    }

    // MARK: Keys by INFO

    /// Queues a key; `send` says whether it may go now (the call is up).
    public mutating func sendKey(_ key: DTMFRelayBody, send: Bool, at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        var outputs = keys.enqueue(key)
        if send { outputs += keys.pump(dialog: &requests, at: now) }
        return apply(outputs)
    }

    /// Sends keys that waited (pressed between our 2xx and its ACK).
    public mutating func sendWaitingKeys(at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        return apply(keys.pump(dialog: &requests, at: now))
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { keys.refused }

    // MARK: Transfer

    /// Asks the far end to call `referTo` (a Refer-To value) in our place
    /// (RFC 3515): the answer comes as `referred`, what became of the
    /// call as NOTIFYs the call's owner answers.
    public mutating func refer(to referTo: String, at now: Instant) -> [DialogOutput] {
        guard mayRefer else { return [] }
        let headers: [(HeaderName, String)] = [(.referTo, referTo), (.contact, "<\(contact)>")]
        let (sender, outputs) = DialogRequestSender.start(.refer, headers: headers, dialog: &requests, digest: digest,
                                                          timers: timers, makeToken: makeToken, at: now)
        transfer = sender
        return referOutputs(outputs, at: now)
    }

    /// Not ending, and no REFER of ours out (one at a time: its answer
    /// must not be taken for the next one's).
    public var mayRefer: Bool { !isEnding && !isOver && transfer == nil }

    /// The far end's REFER with CSeq `cseq` was accepted (our 202 is the
    /// caller's to send): the first NOTIFY, "100 Trying", goes (§2.4.4).
    public mutating func referAccepted(cseq: UInt32, at now: Instant) -> [DialogOutput] {
        referral = ReferNotifier(id: cseq)
        return reportReferral(status: 100, reason: "Trying", at: now)
    }

    /// A REFER we took is still being carried out (or reported on): a
    /// second one waits its turn (491).
    public var isReferred: Bool { !(referral?.isOver ?? true) }

    /// Where the call the far end's REFER asked for stands: a NOTIFY with
    /// its status line; a final status ends the subscription.
    public mutating func reportReferral(status: Int, reason: String, at now: Instant) -> [DialogOutput] {
        guard !isOver, var notifier = referral else { return [] }
        let outputs = notifier.report(status: status, reason: reason, contact: contact, dialog: &requests, digest: digest,
                                      timers: timers, makeToken: makeToken, at: now)
        referral = notifier
        return referralOutputs(outputs)
    }

    /// Our NOTIFYs need only be sent: their answers change nothing else.
    private func referralOutputs(_ outputs: [DialogRequestOutput]) -> [DialogOutput] {
        outputs.compactMap { if case .send(let bytes) = $0 { return .send(bytes) } else { return nil } }
    }

    /// What came of our REFER: its final status; 408, 481 or no answer
    /// at all means the far end lost the call, which ends (RFC 5057).
    private mutating func referOutputs(_ outputs: [DialogRequestOutput], at now: Instant) -> [DialogOutput] {
        var result: [DialogOutput] = []
        for output in outputs {
            switch output {
            case .send(let bytes):
                result.append(.send(bytes))
            case .answered(let response):
                transfer = nil
                let status = response.statusCode ?? 500
                if status == 408 || status == 481 {
                    return result + lost("the far end lost the call (\(status) to our REFER)", at: now)
                }
                result.append(.referred(status: status))
            case .unanswered:
                transfer = nil
                if isEnding || isOver { continue }
                return result + lost("no answer to our REFER", at: now)
            }
        }
        return result
    }

    // MARK: Ending

    /// Our handset hung up: BYE.
    public mutating func hangUp(at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        isEnding = true
        keys.finish()
        answer = nil
        refresh = nil
        // A re-offer waiting out a 491 never goes after our BYE (§15),
        // nor a NOTIFY still waiting its turn.
        if reinvite?.isWaitingToRetry == true { reinvite = nil }
        referral?.stop()
        let (started, outputs) = DialogRequestSender.start(.bye, dialog: &requests, digest: digest, timers: timers,
                                                           makeToken: makeToken, at: now)
        bye = started
        return outputs.compactMap { if case .send(let bytes) = $0 { return .send(bytes) } else { return nil } }
    }

    /// The far end's BYE (accepted by `admit`): the dialog is over.
    public mutating func farEndHungUp() {
        finish()
    }

    /// A response to a request we sent in the dialog (BYE, INFO or UPDATE).
    public mutating func handle(response: SIPMessage, at now: Instant) -> [DialogOutput] {
        guard !isOver, let method = response.cseq?.method else { return [] }
        if method == .bye, var sender = bye {
            let outputs = sender.handle(response: response, dialog: &requests, at: now)
            bye = sender
            return byeOutputs(outputs)
        }
        if method == .info && !isEnding {
            return apply(keys.handle(response: response, dialog: &requests, at: now))
        }
        if method == .invite, let earlier = earlierAck, response.cseq?.number == earlier.cseq,
           let status = response.statusCode, status >= 200 && status < 300 {
            return [.send(earlier.bytes)]
        }
        if method == .invite, var sender = reinvite {
            let outputs = sender.handle(response: response, dialog: &requests, at: now)
            reinvite = sender
            return reinviteOutputs(outputs, at: now)
        }
        if method == .refer, var sender = transfer {
            let outputs = sender.handle(response: response, dialog: &requests, at: now)
            transfer = sender
            return referOutputs(outputs, at: now)
        }
        if method == .notify, var notifier = referral {
            let outputs = notifier.handle(response: response, contact: contact, dialog: &requests, digest: digest,
                                          timers: timers, makeToken: makeToken, at: now)
            referral = notifier
            return referralOutputs(outputs)
        }
        if method == .update && !isEnding, var sender = refresh {
            let outputs = sender.handle(response: response, dialog: &requests, at: now)
            refresh = sender
            return refreshOutputs(outputs, at: now)
        }
        return []
    }

    public mutating func advance(to now: Instant) -> [DialogOutput] {
        guard !isOver else { return [] }
        var outputs: [DialogOutput] = []
        if var pending = answer, pending.nextDeadline <= now {
            for output in pending.advance(to: now) {
                switch output {
                case .send(let bytes):
                    outputs.append(.send(bytes))
                    answer = pending
                case .unacknowledged:
                    // §13.3.1.4: the session ends with a BYE; the far end
                    // is gone as far as the handset is concerned.
                    let reason = unacknowledgedReason
                    outputs += hangUp(at: now)
                    finish()
                    return outputs + [.ended(reason: reason, remote: true)]
                }
            }
        }
        if var sender = bye, let due = sender.nextDeadline, due <= now {
            let byeResult = sender.advance(to: now)
            bye = sender
            outputs += byeOutputs(byeResult)
        }
        if !isEnding && !isOver { outputs += apply(keys.advance(to: now)) }
        if var sender = transfer, let due = sender.nextDeadline, due <= now {
            let referResult = sender.advance(to: now)
            transfer = sender
            outputs += referOutputs(referResult, at: now)
        }
        if var notifier = referral, let due = notifier.nextDeadline, due <= now {
            let notified = notifier.advance(to: now, contact: contact, dialog: &requests, digest: digest, timers: timers,
                                            makeToken: makeToken)
            referral = notifier
            outputs += referralOutputs(notified)
        }
        if !isEnding && !isOver, var sender = refresh, let due = sender.nextDeadline, due <= now {
            let refreshResult = sender.advance(to: now)
            refresh = sender
            outputs += refreshOutputs(refreshResult, at: now)
        }
        if var sender = reinvite, let due = sender.nextDeadline, due <= now {
            let reinviteResult = sender.advance(to: now, dialog: &requests)
            reinvite = sender
            outputs += reinviteOutputs(reinviteResult, at: now)
            if isOver { return outputs }
        }
        if !isEnding && !isOver, var timer = session, let due = timer.advance(to: now) {
            session = timer
            switch due {
            case .refresh:
                outputs += startRefresh(seconds: timer.seconds, at: now)
            case .expired:
                return outputs + lost("the session expired: no refresh in \(timer.seconds) s", at: now)
            }
        }
        return outputs
    }

    private mutating func byeOutputs(_ outputs: [DialogRequestOutput]) -> [DialogOutput] {
        outputs.map { output in
            switch output {
            case .send(let bytes): return .send(bytes)
            case .answered:
                finish()
                return .ended(reason: "hung up", remote: false)
            case .unanswered:
                finish()
                return .ended(reason: "no answer to our BYE", remote: false)
            }
        }
    }

    /// The sender's outputs; a dialog gone (RFC 3261 §12.2.1.2) ends the
    /// call as if the far end had hung up.
    private mutating func apply(_ outputs: [DTMFInfoOutput]) -> [DialogOutput] {
        var result: [DialogOutput] = []
        for output in outputs {
            switch output {
            case .send(let bytes):
                result.append(.send(bytes))
            case .dialogGone(let reason):
                finish()
                result.append(.keys(output))
                result.append(.ended(reason: reason, remote: true))
            case .refused, .dropped:
                result.append(.keys(output))
            }
        }
        return result
    }

    private mutating func finish() {
        isOver = true
        keys.finish()
        answer = nil
        bye = nil
        refresh = nil
        reinvite = nil
        transfer = nil
        referral = nil
        session = nil
    }
}
