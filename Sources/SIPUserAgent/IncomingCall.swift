import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What an incoming call asks the daemon to do.
public enum CallAction: Equatable, Sendable {
    /// Send to the far end, the way the INVITE came.
    case send([UInt8])
    /// The call is over; `remote` says whether the far end ended it.
    case ended(reason: String, remote: Bool)
    /// Keys sent by INFO: refused by the far end, or one dropped.
    case keys(DTMFInfoOutput)
    /// What came of our re-INVITE.
    case reoffer(ReofferOutcome)
    /// Our REFER's final status (a far end that lost the call ends it instead).
    case referred(status: Int)
}

/// One call that came in as an INVITE, on the UAS side (RFC 3261 §13.3,
/// §12.1.1, §15): 180 while the line rings, 200 with our SDP answer when the
/// handset goes off hook (repeated until the ACK, §13.3.1.4), CANCEL before
/// the answer (487), then the dialog (`CallDialog`): BYE either way, keys
/// by INFO, re-INVITEs, UPDATEs, the session timer the INVITE asks for
/// (RFC 4028; one asked below our Min-SE got 422 before ringing). Responses to the INVITE other than 2xx are
/// repeated by the server transaction, not here. No I/O: messages and
/// time in, bytes out.
public struct IncomingCall {
    public enum State: Equatable, Sendable { case ringing, answered, confirmed, ending, ended }

    public let callID: String
    public private(set) var state = State.ringing
    private let invite: SIPMessage
    private let inviteCSeq: UInt32
    private let toTag: String
    private let contact: String
    private let userAgent: String
    private let answerSDP: [UInt8]
    private var lastResponse: [UInt8] = []
    public private(set) var dialog: CallDialog
    /// The caller requires reliable provisional responses (RFC 3262).
    private let requiresReliable: Bool
    private var reliable: ReliableProvisional?
    private let timers: TransactionTimers
    /// The session timer our 200 agrees to (RFC 4028): the INVITE's terms.
    public let sessionTerms: SessionTimerTerms

    /// - contact: our Contact URI, e.g. "sip:atad@192.0.2.1:5060".
    /// - localHost, localPort, transport: our Via sent-by for the requests
    ///   we send in the dialog (BYE, INFO).
    /// - digest: credentials for a far end that challenges our BYE or INFO.
    public init(invite: SIPMessage, toTag: String, contact: String, userAgent: String, answerSDP: [UInt8],
                localHost: String, localPort: UInt16, transport: SIPTransport = .udp,
                timers: TransactionTimers = .unreliable, digest: DigestSession? = nil,
                makeToken: @escaping () -> String) {
        self.invite = invite
        let callID = invite.callID.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.callID = callID
        self.toTag = toTag
        self.contact = contact
        self.userAgent = userAgent
        self.answerSDP = answerSDP
        inviteCSeq = invite.cseq?.number ?? 0
        requiresReliable = invite.optionTags(.require).contains { $0.equalsIgnoringCase("100rel") }
        self.timers = timers
        sessionTerms = SessionTimerTerms.answering(invite)
        func text(_ bytes: SIPBytes?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        // Our From is their To (with our tag), our To is their From; the
        // remote target is their Contact, the route set their Record-Route
        // in order (§12.1.1).
        let remoteTarget = invite.headers(named: .contact).first
            .flatMap { try? NameAddress.parse(invite.bytes[$0.valueRange]) }
            .map { String(decoding: $0.uri, as: UTF8.self) } ?? text(invite.requestURIBytes)
        let requests = DialogRequests(callID: callID, local: text(invite.value(of: .to)) + ";tag=\(toTag)",
                                      remote: text(invite.value(of: .from)), remoteTarget: remoteTarget,
                                      routeSet: invite.headers(named: .recordRoute).map { text(invite.bytes[$0.valueRange]) },
                                      host: localHost, port: localPort, transport: transport, userAgent: userAgent)
        let identity = DialogIdentity(callID: callID, localTag: toTag,
                                      remoteTag: invite.from?.tag.map { String(decoding: $0, as: UTF8.self) } ?? "",
                                      remoteCSeq: inviteCSeq)
        dialog = CallDialog(requests: requests, identity: identity, timers: timers, digest: digest, makeToken: makeToken)
        dialog.setContact(contact)
    }

    /// Checks a request the far end sends in the call (both tags, CSeq
    /// order): only an accepted one may act on it.
    public mutating func admit(_ request: SIPMessage) -> DialogIdentity.Verdict {
        dialog.admit(request)
    }

    /// We accepted the far end's re-INVITE with the 2xx `answer`: its
    /// Contact is the new remote target (RFC 3261 §12.2.2), the 2xx is
    /// repeated until its ACK, and the session timer runs on its terms.
    public mutating func reinviteAccepted(_ request: SIPMessage, answer: [UInt8], session: SessionTimerTerms,
                                          at now: Instant) {
        dialog.reinviteAccepted(request, answer: answer, session: session, at: now)
    }

    /// We accepted the far end's UPDATE with 2xx on the session terms `session`.
    public mutating func updateAccepted(_ request: SIPMessage, session: SessionTimerTerms, at now: Instant) {
        dialog.updateAccepted(request, session: session, at: now)
    }

    public var nextDeadline: Instant? {
        guard state != .ended else { return nil }
        guard let due = reliable?.nextDeadline else { return dialog.nextDeadline }
        return min(due, dialog.nextDeadline ?? due)
    }

    /// 100 Trying and 180 Ringing, as the line starts to ring; the 180 is
    /// sent reliably (RSeq, repeated until PRACK) when the caller requires
    /// `100rel`.
    public mutating func start(at now: Instant) -> [CallAction] {
        let trying = response(100, "Trying", withTag: false).serialize()
        var ringing = response(180, "Ringing")
        if requiresReliable {
            ringing.add(.require, "100rel")
            ringing.add(.rseq, "1")
        }
        lastResponse = ringing.serialize()
        if requiresReliable {
            reliable = ReliableProvisional(response: lastResponse, rseq: 1, inviteCSeq: inviteCSeq, timers: timers, at: now)
        }
        return [.send(trying), .send(lastResponse)]
    }

    /// PRACK (already admitted): 200 when its RAck names our reliable 180,
    /// which then stops; 481 when it names nothing we sent (RFC 3262 §4).
    public mutating func prackReceived(_ request: SIPMessage) -> [CallAction] {
        let matched = reliable?.acknowledge(request.value(of: .rack)) ?? false
        var reply = matched
            ? SIPMessageBuilder.response(to: request, status: 200, reason: "OK", toTag: toTag)
            : SIPMessageBuilder.response(to: request, status: 481, reason: "Call/Transaction Does Not Exist", toTag: toTag)
        reply.add(.server, userAgent)
        return [.send(reply.serialize())]
    }

    /// Whether an INVITE without a To tag is a copy of ours (same branch
    /// and CSeq); another one with our Call-ID is a merged request.
    public func isCopy(of request: SIPMessage) -> Bool {
        guard let branch = request.topVia?.branch, let ours = invite.topVia?.branch else { return false }
        return branch.elementsEqual(ours) && request.cseq?.number == inviteCSeq
    }

    /// A retransmitted INVITE the transaction layer did not absorb: repeat
    /// our last response.
    public mutating func inviteRetransmitted() -> [CallAction] {
        lastResponse.isEmpty || state == .ended ? [] : [.send(lastResponse)]
    }

    /// The handset answered: 200 OK with the SDP answer, repeated until ACK.
    public mutating func answer(at now: Instant) -> [CallAction] {
        guard state == .ringing else { return [] }
        reliable?.stop()
        var ok = response(200, "OK")
        sessionTerms.add(to: &ok)
        ok.add(.contentType, "application/sdp")
        ok.body = answerSDP
        lastResponse = ok.serialize()
        state = .answered
        dialog.answered(lastResponse, cseq: inviteCSeq, at: now, unacknowledged: "no ACK for our 200 OK")
        if case .agreed(let terms, _) = sessionTerms { dialog.sessionAgreed(terms, weAreUAS: true, at: now) }
        return [.send(lastResponse)]
    }

    /// An ACK in the dialog (already admitted): the one for our 2xx makes
    /// the call up, and keys pressed since the answer go out.
    @discardableResult
    public mutating func ackReceived(cseq: UInt32, at now: Instant) -> [CallAction] {
        guard dialog.ackReceived(cseq: cseq), state == .answered else { return [] }
        state = .confirmed
        return apply(dialog.sendWaitingKeys(at: now))
    }

    /// A new offer for the far end (hold, resume) by re-INVITE, once the
    /// call is up and no other re-INVITE is pending.
    public mutating func reoffer(_ body: [UInt8], at now: Instant) -> [CallAction] {
        guard state == .confirmed else { return [] }
        return apply(dialog.reoffer(body, ownsCallID: false, at: now))
    }

    /// Asks the far end to call `referTo` instead (a transfer, RFC 3515).
    public mutating func refer(to referTo: String, at now: Instant) -> [CallAction] {
        guard mayRefer else { return [] }
        return apply(dialog.refer(to: referTo, at: now))
    }

    /// The call is up and no REFER of ours is out: `refer` may send one.
    public var mayRefer: Bool { state == .confirmed && dialog.mayRefer }

    /// We accepted the far end's REFER (CSeq `cseq`): "100 Trying" by NOTIFY.
    public mutating func referAccepted(cseq: UInt32, at now: Instant) -> [CallAction] {
        guard state == .confirmed else { return [] }
        return apply(dialog.referAccepted(cseq: cseq, at: now))
    }

    /// How the call the far end's REFER asked for goes, by NOTIFY.
    public mutating func reportReferral(status: Int, reason: String, at now: Instant) -> [CallAction] {
        guard state == .confirmed || state == .ending else { return [] }
        return apply(dialog.reportReferral(status: status, reason: reason, at: now))
    }

    /// A REFER we took is still being carried out: another gets 491.
    public var isReferred: Bool { dialog.isReferred }

    /// Our re-INVITE waits for its answer.
    public var isReoffering: Bool { dialog.isReoffering }

    /// The call is up and no offer/answer is open: a re-INVITE may go.
    public var mayReoffer: Bool { state == .confirmed && dialog.mayReoffer }

    /// A key released on the line, to go out by INFO: at once, or after
    /// the INFO in flight has its answer. Keys pressed between our 2xx and
    /// the ACK wait for the ACK.
    public mutating func sendKey(_ key: DTMFRelayBody, at now: Instant) -> [CallAction] {
        guard state == .answered || state == .confirmed else { return [] }
        return apply(dialog.sendKey(key, send: state == .confirmed, at: now))
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { dialog.keysRefused }

    /// CANCEL for this INVITE: 200 to the CANCEL, 487 to the INVITE.
    public mutating func cancelReceived(_ cancel: SIPMessage) -> [CallAction] {
        var actions: [CallAction] = [.send(SIPMessageBuilder.response(to: cancel, status: 200, reason: "OK", toTag: toTag).serialize())]
        guard state == .ringing else { return actions }
        lastResponse = response(487, "Request Terminated").serialize()
        state = .ended
        actions.append(.send(lastResponse))
        actions.append(.ended(reason: "cancelled by the caller", remote: true))
        return actions
    }

    /// BYE from the far end (already admitted).
    public mutating func byeReceived(_ request: SIPMessage) -> [CallAction] {
        var ok = SIPMessageBuilder.response(to: request, status: 200, reason: "OK", toTag: toTag)
        ok.add(.server, userAgent)
        guard state != .ended else { return [.send(ok.serialize())] }
        state = .ended
        dialog.farEndHungUp()
        return [.send(ok.serialize()), .ended(reason: "the far end hung up", remote: true)]
    }

    /// The handset hung up: BYE (after answer), or 603 before it.
    public mutating func hangUp(at now: Instant) -> [CallAction] {
        switch state {
        case .ringing:
            lastResponse = response(603, "Decline").serialize()
            state = .ended
            return [.send(lastResponse), .ended(reason: "declined", remote: false)]
        case .answered, .confirmed:
            state = .ending
            return apply(dialog.hangUp(at: now))
        case .ending, .ended:
            return []
        }
    }

    /// Before the answer: 302 sends the caller to `target`, a SIP URI
    /// (forwarding of a call not answered in time).
    public mutating func redirect(to target: String) -> [CallAction] {
        guard state == .ringing else { return [] }
        var builder = response(302, "Moved Temporarily")
        builder.add(.contact, "<\(target)>")
        lastResponse = builder.serialize()
        state = .ended
        return [.send(lastResponse), .ended(reason: "forwarded", remote: false)]
    }

    /// A response to our BYE, INFO, UPDATE or re-INVITE.
    public mutating func handle(response: SIPMessage, at now: Instant) -> [CallAction] {
        guard state != .ended else { return [] }
        return apply(dialog.handle(response: response, at: now))
    }

    public mutating func advance(to now: Instant) -> [CallAction] {
        guard state != .ended else { return [] }
        if state == .ringing, var pending = reliable {
            let due = pending.advance(to: now)
            reliable = pending
            switch due {
            case .nothing: break
            case .send(let bytes): return [.send(bytes)]
            case .gaveUp:
                // No PRACK in 64×T1: the caller cannot hear us (§3).
                lastResponse = response(500, "Server Internal Error").serialize()
                state = .ended
                return [.send(lastResponse), .ended(reason: "no PRACK for our reliable 180", remote: true)]
            }
        }
        return apply(dialog.advance(to: now))
    }

    /// The dialog's outputs as the call's actions.
    private mutating func apply(_ outputs: [DialogOutput]) -> [CallAction] {
        var actions: [CallAction] = []
        for output in outputs {
            switch output {
            case .send(let bytes): actions.append(.send(bytes))
            case .keys(.dialogGone): break  // told by the `ended` that follows
            case .keys(let notice): actions.append(.keys(notice))
            case .reoffer(let outcome): actions.append(.reoffer(outcome))
            case .referred(let status): actions.append(.referred(status: status))
            case .ended(let reason, let remote):
                state = .ended
                actions.append(.ended(reason: reason, remote: remote))
            }
        }
        return actions
    }

    // MARK: Building messages

    private func response(_ status: Int, _ reason: String, withTag: Bool = true) -> SIPMessageBuilder {
        var builder = SIPMessageBuilder.response(to: invite, status: status, reason: reason, toTag: withTag ? toTag : nil)
        // The route set goes back in 18x/2xx so both ends agree (§12.1.1).
        if status > 100 && status < 300 {
            for header in invite.headers(named: .recordRoute) {
                builder.headers.append(SIPHeaderField(.recordRoute, bytes: invite.bytes[header.valueRange]))
            }
            builder.add(.contact, "<\(contact)>")
            AdvertisedCapabilities.add(to: &builder)
        }
        builder.add(.server, userAgent)
        return builder
    }
}
