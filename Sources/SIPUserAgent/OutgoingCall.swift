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
    /// It never got up: busy (486/600) or any other failure.
    case failed(busy: Bool, reason: String)
    /// It was up and is now over; `remote` when the far end ended it.
    case ended(remote: Bool)
}

public enum OutgoingCallAction: Equatable, Sendable {
    case send([UInt8])
    case event(OutgoingCallEvent)
    /// Keys sent by INFO: refused by the far end, or one dropped.
    case keys(DTMFInfoOutput)
}

/// One call we place (RFC 3261 §13.2, §17.1.1, §9, §15): INVITE with our SDP
/// offer, digest challenges answered, 180 → ringing, 2xx → ACK, CANCEL
/// before the answer, BYE either way, keys by INFO once it is up. No I/O.
public struct OutgoingCall {
    public enum State: Equatable, Sendable { case calling, ringing, confirmed, cancelling, ending, ended }

    public let callID: String
    public private(set) var state = State.calling
    /// Branch of the INVITE in flight (responses and CANCEL match it).
    public private(set) var inviteBranch = ""
    public private(set) var byeBranch: String?
    /// The far end's SDP answer, from the first 18x or 2xx that carried one
    /// (RFC 3261 §13.2.1: later answers in the same dialog repeat it).
    public private(set) var remoteSDP: [UInt8]?

    private let settings: RegistrationSettings
    private let requestURI: String
    private let toURI: String
    private let offer: [UInt8]
    /// The INVITE's CSeq number (CANCEL and ACK repeat it).
    private var cseq: UInt32 = 0
    private var dialog: DialogRequests
    private var invite: [UInt8] = []
    private var inviteTransaction: InviteClientTransaction?
    private var digest: DigestSession
    private var sentAuthorization: [DigestHeader] = []
    private var keys: DTMFInfoSender
    private var ack: [UInt8] = []
    private var bye: NonInviteClientTransaction?
    private var byeRequest: [UInt8] = []
    private var pendingCancel = false
    private let timers: TransactionTimers
    private let makeToken: () -> String

    /// Calls `number` at the account's domain.
    public init(settings: RegistrationSettings, number: String, offer: [UInt8], makeToken: @escaping () -> String) {
        self.settings = settings
        self.offer = offer
        self.makeToken = makeToken
        callID = makeToken() + "@atad"
        let fromTag = makeToken()
        let host = RegistrationSettings.uriHost(settings.domain)
        requestURI = "sip:\(number)@\(host)"
        toURI = requestURI
        let display = settings.displayName.map { "\"\($0)\" " } ?? ""
        dialog = DialogRequests(callID: callID, local: "\(display)<\(settings.addressOfRecord)>;tag=\(fromTag)",
                                remote: "<\(requestURI)>", remoteTarget: requestURI, host: settings.localHost,
                                port: settings.localPort, transport: settings.transport, userAgent: settings.userAgent)
        let timers: TransactionTimers = settings.transport == "udp" ? .unreliable : .reliable
        self.timers = timers
        let session = DigestSession(credentials: DigestCredentials(username: settings.authUser ?? settings.user,
                                                                   password: settings.password ?? ""))
        digest = session
        keys = DTMFInfoSender(timers: timers, digest: settings.password == nil ? nil : session, makeToken: makeToken)
    }

    /// The far end's re-INVITE was accepted: its Contact is the new remote
    /// target (RFC 3261 §12.2.2).
    public mutating func reinviteAccepted(_ request: SIPMessage) {
        dialog.refreshTarget(from: request)
    }

    public var nextDeadline: Instant? {
        var earliest = inviteTransaction?.nextDeadline
        if let due = bye?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = keys.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        return earliest
    }

    public mutating func start(at now: Instant) -> [OutgoingCallAction] {
        sendInvite(at: now)
    }

    /// A response whose CSeq method is INVITE, BYE or INFO.
    public mutating func handle(response: SIPMessage, at now: Instant) -> [OutgoingCallAction] {
        guard let status = response.statusCode, let cseq = response.cseq else { return [] }
        if cseq.method == .bye { return byeAnswered(status, at: now) }
        if cseq.method == .info {
            guard state == .confirmed else { return [] }
            return apply(keys.handle(response: response, dialog: &dialog, at: now))
        }
        guard cseq.method == .invite else { return [] }
        var actions: [OutgoingCallAction] = []
        if status >= 200 && status < 300 {
            // 2xx (or a retransmission of it): ACK it ourselves (§13.2.2.4).
            if state == .calling || state == .ringing || state == .cancelling {
                learnDialog(from: response)
                noteAnswer(in: response)
                ack = makeAck(cseq: cseq.number)
                let wasCancelling = state == .cancelling
                state = .confirmed
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
            } else if !ack.isEmpty {
                actions.append(.send(ack))
            }
            return actions
        }
        guard var transaction = inviteTransaction, cseq.number == self.cseq else { return [] }
        for action in transaction.handle(.response(statusCode: status), at: now) {
            if action == .sendAck { actions.append(.send(makeNon2xxAck(response))) }
        }
        inviteTransaction = transaction.isTerminated ? nil : transaction
        if status < 200 {
            let hadAnswer = remoteSDP != nil
            if status > 100 { noteAnswer(in: response) }
            if status >= 180 && state == .calling {
                state = .ringing
                actions.append(.event(.ringing))
            }
            if !hadAnswer && remoteSDP != nil && state == .ringing { actions.append(.event(.earlyMedia)) }
            if pendingCancel { pendingCancel = false; actions.append(.send(makeCancel())) }
            return actions
        }
        if state == .cancelling || state == .ended {
            state = .ended
            return actions
        }
        if status == 401 || status == 407 {
            let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
                .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
            if case .retry = digest.receive(challenges: challenges, from: status == 401 ? .server : .proxy,
                                            sent: sentAuthorization) {
                return actions + sendInvite(at: now)
            }
        }
        state = .ended
        let reason = "\(status) " + (response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? "")
        actions.append(.event(.failed(busy: status == 486 || status == 600, reason: reason)))
        return actions
    }

    /// Keeps the first SDP body the far end sends.
    private mutating func noteAnswer(in response: SIPMessage) {
        guard remoteSDP == nil, !response.body.isEmpty else { return }
        if let type = response.value(of: .contentType) {
            let prefix = Array("application/sdp".utf8)
            guard type.count >= prefix.count,
                  zip(type.prefix(prefix.count), prefix).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return }
        }
        remoteSDP = Array(response.body)
    }

    /// BYE from the far end.
    public mutating func byeReceived(_ request: SIPMessage) -> [OutgoingCallAction] {
        var ok = SIPMessageBuilder.response(to: request, status: 200, reason: "OK")
        ok.add(.userAgent, settings.userAgent)
        guard state == .confirmed else { return [.send(ok.serialize())] }
        state = .ended
        keys.finish()
        return [.send(ok.serialize()), .event(.ended(remote: true))]
    }

    /// A key released on the line, to go out by INFO: at once, or after
    /// the INFO in flight has its answer. Only while the call is up.
    public mutating func sendKey(_ key: DTMFRelayBody, at now: Instant) -> [OutgoingCallAction] {
        guard state == .confirmed else { return [] }
        return apply(keys.enqueue(key) + keys.pump(dialog: &dialog, at: now))
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { keys.refused }

    /// The sender's outputs as the call's actions; a dialog gone (logged
    /// with its reason) ends the call as if the far end had hung up (RFC
    /// 3261 §12.2.1.2).
    private mutating func apply(_ outputs: [DTMFInfoOutput]) -> [OutgoingCallAction] {
        outputs.flatMap { output -> [OutgoingCallAction] in
            guard case .send(let bytes) = output else {
                if case .dialogGone = output { state = .ended; return [.keys(output), .event(.ended(remote: true))] }
                return [.keys(output)]
            }
            return [.send(bytes)]
        }
    }

    /// The handset hung up: CANCEL before an answer, BYE after.
    public mutating func hangUp(at now: Instant) -> [OutgoingCallAction] {
        switch state {
        case .calling, .ringing:
            state = .cancelling
            // A CANCEL may only follow a provisional response (§9.1).
            if state == .cancelling && inviteTransaction?.state == .calling {
                pendingCancel = true
                return []
            }
            return [.send(makeCancel())]
        case .confirmed:
            state = .ending
            keys.finish()
            let branch = "z9hG4bK" + makeToken()
            byeBranch = branch
            byeRequest = dialog.next(.bye, branch: branch).serialize()
            let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
            bye = started
            return actions.contains(.sendRequest) ? [.send(byeRequest)] : []
        default:
            return []
        }
    }

    public mutating func advance(to now: Instant) -> [OutgoingCallAction] {
        var actions: [OutgoingCallAction] = []
        if var transaction = inviteTransaction, let due = transaction.nextDeadline, due <= now {
            for action in transaction.advance(to: now) {
                switch action {
                case .sendRequest: actions.append(.send(invite))
                case .timeout, .transportError:
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
        if var transaction = bye, let due = transaction.nextDeadline, due <= now {
            for action in transaction.advance(to: now) {
                switch action {
                case .sendRequest: actions.append(.send(byeRequest))
                case .timeout, .transportError:
                    if state == .ending { state = .ended; actions.append(.event(.ended(remote: false))) }
                default: break
                }
            }
            bye = transaction.isTerminated ? nil : transaction
        }
        if state == .confirmed { actions += apply(keys.advance(to: now)) }
        return actions
    }

    // MARK: Internals

    private mutating func byeAnswered(_ status: Int, at now: Instant) -> [OutgoingCallAction] {
        guard var transaction = bye else { return [] }
        _ = transaction.handle(.response(statusCode: status), at: now)
        bye = transaction.isTerminated ? nil : transaction
        guard status >= 200, state == .ending else { return [] }
        state = .ended
        return [.event(.ended(remote: false))]
    }

    private mutating func sendInvite(at now: Instant) -> [OutgoingCallAction] {
        cseq = dialog.nextCSeq()
        inviteBranch = "z9hG4bK" + makeToken()
        var builder = outOfDialog(.invite, branch: inviteBranch, to: "<\(toURI)>")
        builder.add(.contact, "<\(settings.contactURI)>")
        AdvertisedCapabilities.add(to: &builder)
        sentAuthorization = digest.authorize(method: "INVITE", uri: requestURI)
        for header in sentAuthorization { builder.add(named: header.name, header.value) }
        builder.add(.contentType, "application/sdp")
        builder.body = offer
        invite = builder.serialize()
        let (started, actions) = InviteClientTransaction.start(timers: timers, at: now)
        inviteTransaction = started
        return actions.contains(.sendRequest) ? [.send(invite)] : []
    }

    /// INVITE, CANCEL and the ACK of a non-2xx: to the Request-URI, with
    /// the INVITE's CSeq, no route set.
    private func outOfDialog(_ method: SIPMethod, branch: String, to: String) -> SIPMessageBuilder {
        dialog.request(method, uri: requestURI, to: to, cseq: cseq, branch: branch, routed: false)
    }

    private mutating func learnDialog(from response: SIPMessage) {
        let contact = response.headers(named: .contact).first.flatMap { try? NameAddress.parse(response.bytes[$0.valueRange]) }
        // The UAC's route set is the 2xx's Record-Route, reversed (§12.1.2).
        dialog.establish(remoteTag: response.to?.tag.map { String(decoding: $0, as: UTF8.self) },
                         remoteTarget: contact.map { String(decoding: $0.uri, as: UTF8.self) },
                         routeSet: response.headers(named: .recordRoute)
                            .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }.reversed())
    }

    private mutating func makeAck(cseq: UInt32) -> [UInt8] {
        dialog.inDialog(.ack, cseq: cseq, branch: "z9hG4bK" + makeToken()).serialize()
    }

    /// ACK for a non-2xx final response: same branch and Request-URI as the
    /// INVITE, To from the response (§17.1.1.3).
    private func makeNon2xxAck(_ response: SIPMessage) -> [UInt8] {
        let to = response.value(of: .to).map { String(decoding: $0, as: UTF8.self) } ?? "<\(toURI)>"
        return outOfDialog(.ack, branch: inviteBranch, to: to).serialize()
    }

    /// CANCEL: the INVITE's Request-URI, Via branch, Call-ID, From, To and
    /// CSeq number (§9.1).
    private func makeCancel() -> [UInt8] {
        outOfDialog(.cancel, branch: inviteBranch, to: "<\(toURI)>").serialize()
    }
}
