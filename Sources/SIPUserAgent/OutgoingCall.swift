import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What an outgoing call tells call control.
public enum OutgoingCallEvent: Equatable, Sendable {
    case ringing
    /// A provisional response (183) brought the far end's SDP answer: the
    /// network plays its own ringback or announcement (RFC 3960).
    case earlyMedia
    case answered
    /// A 3xx named where to call instead (`target`, a SIP URI): call
    /// control finds the way there and calls `followRedirect`.
    case redirected(to: String)
    /// The server the INVITE went to failed before anything rang: 503,
    /// no response at all for a while, or the transaction's timeout
    /// (RFC 3263 §4.3). Call control looks for the account's next server
    /// and calls `tryOtherServer`, or `noOtherServer`.
    case serverFailed(reason: String)
    /// It never got up: busy (486/600) or any other failure.
    case failed(busy: Bool, reason: String)
    /// It was up and is now over; `remote` when the far end ended it.
    case ended(remote: Bool)
}

public enum OutgoingCallAction: Equatable, Sendable {
    case send([UInt8])
    /// A request for the `index`-th server the call tried (0: the first),
    /// one failover left behind: what answers its INVITE late is
    /// cancelled or hung up there.
    case sendToServer([UInt8], index: Int)
    case event(OutgoingCallEvent)
    /// Keys sent by INFO: refused by the far end, or one dropped.
    case keys(DTMFInfoOutput)
    /// What came of our re-INVITE.
    case reoffer(ReofferOutcome)
    /// Our REFER's final status (a far end that lost the call ends it instead).
    case referred(status: Int)
}

/// One call we place (RFC 3261 §13.2, §17.1.1, §9, §15): INVITE with our SDP
/// offer, digest challenges answered, 180 → ringing, 2xx → ACK (with the
/// INVITE's credentials, §22.1), CANCEL before the answer as its own
/// transaction, then the dialog (`CallDialog`): BYE either way, keys by
/// INFO, re-INVITEs. No I/O.
public struct OutgoingCall {
    public enum State: Equatable, Sendable { case calling, ringing, redirecting, seekingServer, confirmed, cancelling, ending, ended }

    /// How many 3xx a call follows (RFC 3261 §8.1.3.4 asks for a bound).
    public static let maximumRedirects = 5
    /// How long an INVITE may go without any response (not even 100,
    /// which a live server sends within 200 ms, RFC 3261 §17.2.1) before
    /// its server is taken for down and another is tried, in units of T1:
    /// 4 s over UDP, rather than Timer B's 32 s of silence on the line.
    static let silentServerT1s: Int64 = 8

    public let callID: String
    public internal(set) var state = State.calling
    /// Branch of the INVITE in flight (responses and CANCEL match it).
    public private(set) var inviteBranch = ""
    /// The far end's SDP answer, from the first 18x or 2xx that carried one
    /// (RFC 3261 §13.2.1: later answers in the same dialog repeat it).
    public private(set) var remoteSDP: [UInt8]?
    /// Counts changes of `remoteSDP`: a 2xx from another fork than the
    /// early media's brings its own answer, which the media must follow.
    public private(set) var answerRevision = 0
    /// The To tag of the response whose SDP `remoteSDP` is.
    private var answerTag: String?
    /// The fork whose 2xx the call took; other forks' 2xx are hung up.
    private var confirmedTag: String?
    private var forks: ForkedAnswers
    /// The call's requests before any fork answered (no remote tag): the
    /// template of each extra fork's ACK and BYE.
    let requestsBeforeAnswer: DialogRequests
    /// Our PRACK (RFC 3262 §4) to the latest reliable 18x of each early
    /// dialog, by its To tag: sent again for a copy of that 18x (ours was
    /// lost), never for an older one. Bounded like the forks.
    private var pracks: [(tag: String, rseq: UInt32, request: [UInt8])] = []

    private let settings: SIPAccount
    /// Whom the INVITE asks for: the number at the account's domain, or
    /// where a 3xx sent us.
    public private(set) var requestURI: String
    /// Every Request-URI tried, so a redirect loop ends.
    var targetsTried: [String] = []
    let toURI: String
    private let offer: [UInt8]
    /// Fields every INVITE of the call carries besides its own.
    private let extraHeaders: [(HeaderName, String)]
    /// The INVITE's CSeq number (CANCEL and ACK repeat it).
    var cseq: UInt32 = 0
    public internal(set) var dialog: CallDialog
    private var invite: [UInt8] = []
    var inviteTransaction: InviteClientTransaction?
    var digest: DigestSession
    private var sentAuthorization: [DigestHeader] = []
    private var ack: [UInt8] = []
    private var pendingCancel = false
    private var cancel: NonInviteClientTransaction?
    private var cancelRequest: [UInt8] = []
    /// §9.1: a CANCEL'd INVITE with no final response by then is over.
    private var cancelGivesUpAt: Instant?
    let timers: TransactionTimers
    let makeToken: () -> String
    /// The session interval our INVITE asks for and the Min-SE it gives;
    /// a 422 raises both, at most `maximumSessionRetries` times.
    private var sessionSeconds: UInt32
    private var minimumSessionSeconds = SessionTimer.minimumSeconds
    private var sessionRetries = 0
    static let maximumSessionRetries = 2
    /// When the INVITE in flight went out, for `silentServerT1s`.
    var inviteSentAt: Instant?
    /// Why the server in use failed, while call control seeks another.
    var serverFailure = ""
    /// Call control knows no other server: the next failure is final.
    var otherServersLeft = true
    /// Which of the call's servers the INVITE in flight goes to (0: the first).
    var serverIndex = 0
    /// The INVITEs failover left behind, by CSeq: one that answers after
    /// all is cancelled (1xx) or acknowledged and hung up (2xx) at its own
    /// server, never taken for the call. At most one per server tried.
    var abandoned: [(cseq: UInt32, branch: String, server: Int, cancelled: Bool, hungUp: Bool)] = []

    /// The account the call is placed through (call control looks up its
    /// other servers when one fails).
    public var accountName: String { settings.accountName }

    /// Calls `number` at the account's domain; `callID` nil makes one.
    /// `sessionSeconds` is the session interval our INVITE asks for
    /// (RFC 4028); 0 asks for none.
    public init(settings: SIPAccount, number: String, offer: [UInt8], callID: String? = nil, sessionSeconds: UInt32 = 0,
                makeToken: @escaping () -> String) {
        self.init(settings: settings, target: OutgoingCall.requestURI(calling: number, through: settings),
                  headers: [], offer: offer, callID: callID, sessionSeconds: sessionSeconds, makeToken: makeToken)
    }

    /// The Request-URI that calls `number` at the account's domain.
    public static func requestURI(calling number: String, through settings: SIPAccount) -> String {
        "sip:\(SIPPercent.encodeUser(number))@\(SIPAccount.uriHost(settings.domain))"
    }

    /// Calls the SIP URI `target` (where a REFER sent us), the INVITE
    /// carrying `headers` besides its own (Replaces, Referred-By).
    public init(settings: SIPAccount, target: String, headers: [(HeaderName, String)], offer: [UInt8], callID: String? = nil,
                sessionSeconds: UInt32 = 0, makeToken: @escaping () -> String) {
        extraHeaders = headers
        self.settings = settings
        self.sessionSeconds = sessionSeconds
        self.offer = offer
        self.makeToken = makeToken
        let callID = callID ?? makeToken() + "@atad"
        self.callID = callID
        let fromTag = makeToken()
        requestURI = target
        toURI = requestURI
        targetsTried = [requestURI]
        let display = settings.displayName.map { "\"\($0)\" " } ?? ""
        let requests = DialogRequests(callID: callID, local: "\(display)<\(settings.addressOfRecord)>;tag=\(fromTag)",
                                      remote: "<\(requestURI)>", remoteTarget: requestURI, host: settings.localHost,
                                      port: settings.localPort, transport: settings.transport, userAgent: settings.userAgent)
        let timers: TransactionTimers = settings.transport.isReliable ? .reliable : .unreliable
        self.timers = timers
        forks = ForkedAnswers(timers: timers)
        requestsBeforeAnswer = requests
        let session = DigestSession(credentials: DigestCredentials(username: settings.authUser ?? settings.user,
                                                                   password: settings.password ?? ""))
        digest = session
        dialog = CallDialog(requests: requests, identity: DialogIdentity(callID: callID, localTag: fromTag, remoteTag: nil),
                            timers: timers, digest: settings.password == nil ? nil : session, makeToken: makeToken)
        dialog.setContact(settings.contactURI)
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

    /// An ACK from the far end (already admitted): the one for our 2xx to
    /// its re-INVITE stops that 2xx.
    public mutating func ackReceived(cseq: UInt32) {
        _ = dialog.ackReceived(cseq: cseq)
    }

    public var nextDeadline: Instant? {
        guard state != .ended else { return nil }
        var earliest = inviteTransaction?.nextDeadline
        for due in [state == .calling ? silentServerDeadline : nil, cancel?.nextDeadline, cancelGivesUpAt, dialog.nextDeadline, forks.nextDeadline] {
            if let due, earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    public mutating func start(at now: Instant) -> [OutgoingCallAction] {
        sendInvite(at: now)
    }

    /// A response whose CSeq method is INVITE, CANCEL, BYE, INFO, UPDATE,
    /// REFER or NOTIFY.
    public mutating func handle(response: SIPMessage, at now: Instant) -> [OutgoingCallAction] {
        guard let status = response.statusCode, let cseq = response.cseq else { return [] }
        switch cseq.method {
        case .invite where cseq.number > self.cseq && (state == .confirmed || state == .ending):
            // Our re-INVITE's: the dialog's business.
            return apply(dialog.handle(response: response, at: now))
        case .invite: return inviteAnswered(response, status: status, cseq: cseq.number, at: now)
        case .cancel:
            if var transaction = cancel, response.topVia?.branch?.elementsEqual(inviteBranch.utf8) == true {
                _ = transaction.handle(.response(statusCode: status), at: now)
                cancel = transaction.isTerminated ? nil : transaction
            }
            return []
        case .bye, .info, .update, .refer, .notify:
            if cseq.method == .bye, forks.byeAnswered(response, at: now) { return [] }
            guard state == .confirmed || state == .ending else { return [] }
            return apply(dialog.handle(response: response, at: now))
        default:
            return []
        }
    }

    private mutating func inviteAnswered(_ response: SIPMessage, status: Int, cseq: UInt32,
                                         at now: Instant) -> [OutgoingCallAction] {
        var actions: [OutgoingCallAction] = []
        if cseq != self.cseq, let index = abandoned.firstIndex(where: { $0.cseq == cseq }) {
            return abandonedServerAnswered(response, status: status, index: index)
        }
        if state == .seekingServer, cseq == self.cseq {
            // The silent server spoke after all: it is the one in use
            // again. A final failure's copies only get their ACK.
            guard status < 300 else {
                if var transaction = inviteTransaction {
                    for action in transaction.handle(.response(statusCode: status), at: now) where action == .sendAck {
                        actions.append(.send(makeNon2xxAck(response)))
                    }
                    inviteTransaction = transaction.isTerminated ? nil : transaction
                }
                return actions
            }
            state = .calling
        }
        if status >= 200 && status < 300 {
            // 2xx (or a retransmission of it): ACK it ourselves (§13.2.2.4).
            let tag = response.to?.tag.map { String(decoding: $0, as: UTF8.self) } ?? ""
            if state == .calling || state == .ringing || state == .cancelling {
                learnDialog(from: response)
                dialog.sessionAgreed(response.sessionExpires, weAreUAS: false, at: now)
                confirmedTag = tag
                // Early media from one fork, the answer from another: the
                // answer's SDP is the one in force.
                if answerTag != tag, hasSDP(response) { remoteSDP = nil }
                noteAnswer(in: response)
                ack = makeAck(cseq: cseq)
                let wasCancelling = state == .cancelling
                state = .confirmed
                cancel = nil
                cancelGivesUpAt = nil
                if var transaction = inviteTransaction {
                    _ = transaction.handle(.response(statusCode: status), at: now)
                    inviteTransaction = transaction.isTerminated ? nil : transaction
                }
                actions.append(.send(ack))
                if wasCancelling {
                    // The answer crossed our CANCEL: hang up at once.
                    actions += hangUp(at: now)
                } else {
                    actions.append(.event(.answered))
                }
            } else if confirmedTag != nil, tag != confirmedTag {
                // Another fork answered too: ACK it, then hang it up.
                for bytes in forks.answered(response, tag: tag, requests: requestsBeforeAnswer, inviteCSeq: cseq,
                                            credentials: sentAuthorization, makeToken: makeToken, at: now) {
                    actions.append(.send(bytes))
                }
            } else if !ack.isEmpty {
                actions.append(.send(ack))
            }
            return actions
        }
        guard var transaction = inviteTransaction, cseq == self.cseq else { return [] }
        for action in transaction.handle(.response(statusCode: status), at: now) {
            if action == .sendAck { actions.append(.send(makeNon2xxAck(response))) }
        }
        inviteTransaction = transaction.isTerminated ? nil : transaction
        if status < 200 {
            let hadAnswer = remoteSDP != nil
            if status > 100 {
                noteAnswer(in: response)
                if let tag = response.to?.tag { dialog.learnRemoteTag(String(decoding: tag, as: UTF8.self)) }
                actions += prackIfReliable(response, inviteCSeq: cseq)
            }
            if status >= 180 && state == .calling {
                state = .ringing
                actions.append(.event(.ringing))
            }
            if !hadAnswer && remoteSDP != nil && state == .ringing { actions.append(.event(.earlyMedia)) }
            if pendingCancel { pendingCancel = false; actions += startCancel(at: now) }
            return actions
        }
        if state == .cancelling || state == .ended {
            state = .ended
            cancel = nil
            cancelGivesUpAt = nil
            return actions
        }
        if status == 422, let floor = response.minimumSessionExpires, floor > sessionSeconds,
           floor <= SessionTimer.maximumSeconds, sessionRetries < Self.maximumSessionRetries {
            // Our session interval is below what a proxy or the far end
            // takes (RFC 4028, UAC behaviour): ask again with its Min-SE.
            sessionRetries += 1
            sessionSeconds = floor
            minimumSessionSeconds = floor
            return actions + sendInvite(at: now)
        }
        if status == 503, state == .calling, let failing = serverFailed("503 " + (response.reasonPhrase.map {
            String(decoding: $0, as: UTF8.self) } ?? "")) {
            return actions + failing
        }
        if status == 401 || status == 407 {
            let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
                .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
            if case .retry = digest.receive(challenges: challenges, from: status == 401 ? .server : .proxy,
                                            sent: sentAuthorization) {
                return actions + sendInvite(at: now)
            }
        }
        let reason = "\(status) " + (response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? "")
        if status < 400, let target = redirectTarget(in: response) {
            // The ACK of the 3xx went above, to the old target, with the
            // old Request-URI; the new INVITE waits for its route.
            requestURI = target
            targetsTried.append(target)
            remoteSDP = nil
            state = .redirecting
            actions.append(.event(.redirected(to: target)))
            return actions
        }
        state = .ended
        actions.append(.event(.failed(busy: status == 486 || status == 600,
                                      reason: status < 400 ? reason + " (no new place to call)" : reason)))
        return actions
    }

    /// A reliable provisional response (`Require: 100rel`, `RSeq`) gets a
    /// PRACK in its early dialog: to its Contact, along its Record-Route,
    /// with `RAck: RSEQ CSEQ INVITE`.
    private mutating func prackIfReliable(_ response: SIPMessage, inviteCSeq: UInt32) -> [OutgoingCallAction] {
        guard response.optionTags(.require).contains(where: { $0.equalsIgnoringCase("100rel") }),
              let rseq = response.value(of: .rseq).flatMap({ SIPScalar.deltaSeconds($0) }) else { return [] }
        let tag = response.to?.tag.map { String(decoding: $0, as: UTF8.self) } ?? ""
        if let known = pracks.firstIndex(where: { $0.tag == tag }) {
            if pracks[known].rseq == rseq { return [.send(pracks[known].request)] }
            guard pracks[known].rseq < rseq else { return [] }
        } else if pracks.count >= ForkedAnswers.limit {
            return []
        }
        var early = requestsBeforeAnswer
        early.establish(from: response)
        var prack = early.inDialog(.prack, cseq: dialog.requests.nextCSeq(), branch: "z9hG4bK" + makeToken())
        prack.add(.rack, "\(rseq) \(inviteCSeq) INVITE")
        let request = prack.serialize()
        pracks.removeAll { $0.tag == tag }
        pracks.append((tag, rseq, request))
        return [.send(request)]
    }

    /// Keeps the first SDP body the far end sends (in its fork).
    private mutating func noteAnswer(in response: SIPMessage) {
        guard remoteSDP == nil, hasSDP(response) else { return }
        remoteSDP = Array(response.body)
        answerTag = response.to?.tag.map { String(decoding: $0, as: UTF8.self) }
        answerRevision += 1
    }

    private func hasSDP(_ response: SIPMessage) -> Bool {
        guard !response.body.isEmpty else { return false }
        guard let type = response.value(of: .contentType) else { return true }
        let prefix = Array("application/sdp".utf8)
        return type.count >= prefix.count && zip(type.prefix(prefix.count), prefix).allSatisfy({ $0 | 0x20 == $1 | 0x20 })
    }

    /// BYE from the far end (already admitted).
    public mutating func byeReceived(_ request: SIPMessage) -> [OutgoingCallAction] {
        var ok = SIPMessageBuilder.response(to: request, status: 200, reason: "OK")
        ok.add(.userAgent, settings.userAgent)
        guard state == .confirmed else { return [.send(ok.serialize())] }
        state = .ended
        dialog.farEndHungUp()
        return [.send(ok.serialize()), .event(.ended(remote: true))]
    }

    /// The handset hung up: CANCEL before an answer, BYE after.
    public mutating func hangUp(at now: Instant) -> [OutgoingCallAction] {
        switch state {
        case .calling, .ringing:
            state = .cancelling
            // A CANCEL may only follow a provisional response (§9.1).
            if inviteTransaction?.state == .calling {
                pendingCancel = true
                return []
            }
            return startCancel(at: now)
        case .confirmed:
            state = .ending
            return apply(dialog.hangUp(at: now))
        case .redirecting, .seekingServer:
            if let transaction = inviteTransaction, transaction.state == .calling {
                // A silent server's INVITE is still out: cancel it should
                // it answer after all.
                state = .cancelling
                pendingCancel = true
                return []
            }
            // No INVITE is in flight: nothing to cancel.
            state = .ended
            return [.event(.ended(remote: false))]
        default:
            return []
        }
    }

    public mutating func advance(to now: Instant) -> [OutgoingCallAction] {
        guard state != .ended else { return [] }
        var actions: [OutgoingCallAction] = forks.advance(to: now).map { .send($0) }
        if var transaction = inviteTransaction, let due = transaction.nextDeadline, due <= now {
            for action in transaction.advance(to: now) {
                switch action {
                case .sendRequest: actions.append(.send(invite))
                case .timeout, .transportError:
                    if state == .calling, let failing = serverFailed("no answer from the server") {
                        inviteTransaction = nil
                        return actions + failing
                    }
                    if state == .seekingServer {
                        // Found silent before; call control is on it.
                        inviteTransaction = nil
                        return actions
                    }
                    if state == .calling || state == .ringing || state == .cancelling {
                        let wasCancelling = state == .cancelling
                        state = .ended
                        actions.append(.event(wasCancelling ? .ended(remote: false)
                                                            : .failed(busy: false, reason: "no answer from the far end")))
                    }
                default: break
                }
            }
            inviteTransaction = transaction.isTerminated ? nil : transaction
        }
        if state == .calling, let due = silentServerDeadline, due <= now, let failing = serverFailed(
            "no response from the server in \(timers.t1.milliseconds * Self.silentServerT1s / 1000) s") {
            actions += failing
        }
        if var transaction = cancel, let due = transaction.nextDeadline, due <= now {
            for action in transaction.advance(to: now) where action == .sendRequest {
                actions.append(.send(cancelRequest))
            }
            cancel = transaction.isTerminated ? nil : transaction
        }
        if let giveUp = cancelGivesUpAt, giveUp <= now, state == .cancelling {
            // The far end took our CANCEL (or not) but never ended the
            // INVITE: the call is over on our side (§9.1).
            state = .ended
            cancel = nil
            cancelGivesUpAt = nil
            inviteTransaction = nil
            actions.append(.event(.ended(remote: false)))
            return actions
        }
        if state == .confirmed || state == .ending { actions += apply(dialog.advance(to: now)) }
        return actions
    }

    // MARK: Internals

    mutating func sendInvite(at now: Instant) -> [OutgoingCallAction] {
        cseq = dialog.requests.nextCSeq()
        inviteBranch = "z9hG4bK" + makeToken()
        var builder = outOfDialog(.invite, branch: inviteBranch, to: "<\(toURI)>")
        builder.add(.contact, "<\(settings.contactURI)>")
        AdvertisedCapabilities.add(to: &builder)
        for (name, value) in extraHeaders { builder.add(name, value) }
        if sessionSeconds > 0 {
            builder.add(.sessionExpires, "\(sessionSeconds)")
            builder.add(.minSE, "\(minimumSessionSeconds)")
        }
        sentAuthorization = digest.authorize(method: "INVITE", uri: requestURI)
        for header in sentAuthorization { builder.add(named: header.name, header.value) }
        builder.add(.contentType, "application/sdp")
        builder.body = offer
        invite = builder.serialize()
        let (started, actions) = InviteClientTransaction.start(timers: timers, at: now)
        inviteTransaction = started
        inviteSentAt = now
        return actions.contains(.sendRequest) ? [.send(invite)] : []
    }

    /// CANCEL as its own non-INVITE transaction (retransmitted over UDP);
    /// the INVITE gets 64*T1 to end before the call is given up (§9.1).
    private mutating func startCancel(at now: Instant) -> [OutgoingCallAction] {
        cancelRequest = outOfDialog(.cancel, branch: inviteBranch, to: "<\(toURI)>").serialize()
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        cancel = started
        cancelGivesUpAt = now + timers.t1 * 64
        return actions.contains(.sendRequest) ? [.send(cancelRequest)] : []
    }

    /// INVITE, CANCEL and the ACK of a non-2xx: to the Request-URI, with
    /// the INVITE's CSeq, no route set.
    func outOfDialog(_ method: SIPMethod, branch: String, to: String, cseq: UInt32? = nil) -> SIPMessageBuilder {
        dialog.requests.request(method, uri: requestURI, to: to, cseq: cseq ?? self.cseq, branch: branch, routed: false)
    }

    private mutating func learnDialog(from response: SIPMessage) {
        // The UAC's route set is the 2xx's Record-Route, reversed (§12.1.2).
        dialog.requests.establish(from: response)
        if let tag = response.to?.tag { dialog.learnRemoteTag(String(decoding: tag, as: UTF8.self)) }
    }

    /// The ACK for a 2xx: in the dialog, with the INVITE's credentials,
    /// which a proxy may check again (§22.1).
    private mutating func makeAck(cseq: UInt32) -> [UInt8] {
        var builder = dialog.requests.inDialog(.ack, cseq: cseq, branch: "z9hG4bK" + makeToken())
        for header in sentAuthorization { builder.add(named: header.name, header.value) }
        return builder.serialize()
    }

    /// ACK for a non-2xx final response: same branch and Request-URI as the
    /// INVITE, To from the response (§17.1.1.3).
    private func makeNon2xxAck(_ response: SIPMessage) -> [UInt8] {
        let to = response.value(of: .to).map { String(decoding: $0, as: UTF8.self) } ?? "<\(toURI)>"
        return outOfDialog(.ack, branch: inviteBranch, to: to).serialize()
    }
}
