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
}

/// One call that came in as an INVITE, on the UAS side (RFC 3261 §13.3,
/// §12.1.1, §15): 180 while the line rings, 200 with our SDP answer when the
/// handset goes off hook (retransmitted until the ACK, §13.3.1.4), CANCEL
/// before answer (487), BYE in either direction, keys by INFO once it is
/// up. No I/O: messages and time in, bytes out.
public struct IncomingCall {
    public enum State: Equatable, Sendable { case ringing, answered, confirmed, ending, ended }

    public let callID: String
    public private(set) var state = State.ringing
    private let invite: SIPMessage
    private let toTag: String
    private let contact: String
    private let userAgent: String
    private let answerSDP: [UInt8]
    private var lastResponse: [UInt8] = []
    private var retransmitAt: Instant?
    private var retransmitInterval = Interval.milliseconds(500)
    private var giveUpAt: Instant?
    private var dialog: DialogRequests
    private var bye: NonInviteClientTransaction?
    private var byeRequest: [UInt8] = []
    private var keys: DTMFInfoSender
    private let timers: TransactionTimers
    private let makeToken: () -> String
    public private(set) var byeBranch: String?

    /// - contact: our Contact URI, e.g. "sip:atad@192.0.2.1:5060".
    /// - localHost, localPort, transport: our Via sent-by for the requests
    ///   we send in the dialog (BYE, INFO).
    /// - digest: credentials for a far end that challenges our INFO.
    public init(invite: SIPMessage, toTag: String, contact: String, userAgent: String, answerSDP: [UInt8],
                localHost: String, localPort: UInt16, transport: String = "udp",
                timers: TransactionTimers = .unreliable, digest: DigestSession? = nil,
                makeToken: @escaping () -> String) {
        self.invite = invite
        let callID = invite.callID.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.callID = callID
        self.toTag = toTag
        self.contact = contact
        self.userAgent = userAgent
        self.answerSDP = answerSDP
        self.timers = timers
        self.makeToken = makeToken
        func text(_ bytes: SIPBytes?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        // Our From is their To (with our tag), our To is their From; the
        // remote target is their Contact, the route set their Record-Route
        // in order (§12.1.1).
        let remoteTarget = invite.headers(named: .contact).first
            .flatMap { try? NameAddress.parse(invite.bytes[$0.valueRange]) }
            .map { String(decoding: $0.uri, as: UTF8.self) } ?? text(invite.requestURIBytes)
        dialog = DialogRequests(callID: callID, local: text(invite.value(of: .to)) + ";tag=\(toTag)",
                                remote: text(invite.value(of: .from)), remoteTarget: remoteTarget,
                                routeSet: invite.headers(named: .recordRoute).map { text(invite.bytes[$0.valueRange]) },
                                host: localHost, port: localPort, transport: transport, userAgent: userAgent)
        keys = DTMFInfoSender(timers: timers, digest: digest, makeToken: makeToken)
    }

    /// The far end's re-INVITE was accepted: its Contact is the new remote
    /// target (RFC 3261 §12.2.2).
    public mutating func reinviteAccepted(_ request: SIPMessage) {
        dialog.refreshTarget(from: request)
    }

    public var nextDeadline: Instant? {
        var earliest = retransmitAt
        if let giveUpAt, earliest == nil || giveUpAt < earliest! { earliest = giveUpAt }
        if let due = bye?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = keys.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        return earliest
    }

    /// 100 Trying and 180 Ringing, as the line starts to ring.
    public mutating func start() -> [CallAction] {
        let trying = response(100, "Trying", withTag: false).serialize()
        lastResponse = response(180, "Ringing").serialize()
        return [.send(trying), .send(lastResponse)]
    }

    /// A retransmitted INVITE: repeat our last response.
    public mutating func inviteRetransmitted() -> [CallAction] {
        lastResponse.isEmpty || state == .ended ? [] : [.send(lastResponse)]
    }

    /// The handset answered: 200 OK with the SDP answer, repeated until ACK.
    public mutating func answer(at now: Instant) -> [CallAction] {
        guard state == .ringing else { return [] }
        var ok = response(200, "OK")
        ok.add(.contentType, "application/sdp")
        ok.body = answerSDP
        lastResponse = ok.serialize()
        state = .answered
        retransmitInterval = timers.t1
        retransmitAt = now + retransmitInterval
        giveUpAt = now + timers.t1 * 64
        return [.send(lastResponse)]
    }

    /// The ACK for our 2xx: the call is up, and keys pressed since the
    /// answer go out.
    @discardableResult
    public mutating func ackReceived(at now: Instant) -> [CallAction] {
        guard state == .answered else { return [] }
        state = .confirmed
        retransmitAt = nil
        giveUpAt = nil
        return apply(keys.pump(dialog: &dialog, at: now))
    }

    /// A key released on the line, to go out by INFO: at once, or after
    /// the INFO in flight has its answer. Keys pressed between our 2xx and
    /// the ACK wait for the ACK.
    public mutating func sendKey(_ key: DTMFRelayBody, at now: Instant) -> [CallAction] {
        guard state == .answered || state == .confirmed else { return [] }
        var outputs = keys.enqueue(key)
        if state == .confirmed { outputs += keys.pump(dialog: &dialog, at: now) }
        return apply(outputs)
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { keys.refused }

    /// The sender's outputs as the call's actions; a dialog gone ends the
    /// call as if the far end had hung up (RFC 3261 §12.2.1.2).
    private mutating func apply(_ outputs: [DTMFInfoOutput]) -> [CallAction] {
        outputs.map { output in
            switch output {
            case .send(let bytes): return .send(bytes)
            case .dialogGone(let reason): state = .ended; return .ended(reason: reason, remote: true)
            case .refused, .dropped: return .keys(output)
            }
        }
    }

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

    /// BYE from the far end.
    public mutating func byeReceived(_ request: SIPMessage) -> [CallAction] {
        var ok = SIPMessageBuilder.response(to: request, status: 200, reason: "OK", toTag: toTag)
        ok.add(.server, userAgent)
        guard state != .ended else { return [.send(ok.serialize())] }
        state = .ended
        keys.finish()
        retransmitAt = nil
        giveUpAt = nil
        return [.send(ok.serialize()), .ended(reason: "the far end hung up", remote: true)]
    }

    /// The handset hung up: BYE (after answer), or 486/603 before it.
    public mutating func hangUp(at now: Instant) -> [CallAction] {
        switch state {
        case .ringing:
            lastResponse = response(603, "Decline").serialize()
            state = .ended
            return [.send(lastResponse), .ended(reason: "declined", remote: false)]
        case .answered, .confirmed:
            state = .ending
            retransmitAt = nil
            giveUpAt = nil
            keys.finish()
            let branch = "z9hG4bK" + makeToken()
            byeBranch = branch
            byeRequest = dialog.next(.bye, branch: branch).serialize()
            let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
            bye = started
            var result: [CallAction] = []
            for action in actions where action == .sendRequest { result.append(.send(byeRequest)) }
            return result
        case .ending, .ended:
            return []
        }
    }

    /// A response to our BYE or INFO.
    public mutating func handle(response: SIPMessage, at now: Instant) -> [CallAction] {
        if response.cseq?.method == .info {
            guard state == .confirmed else { return [] }
            return apply(keys.handle(response: response, dialog: &dialog, at: now))
        }
        guard response.cseq?.method == .bye, var current = bye, let status = response.statusCode else { return [] }
        _ = current.handle(.response(statusCode: status), at: now)
        bye = current.isTerminated ? nil : current
        guard status >= 200, state == .ending else { return [] }
        state = .ended
        return [.ended(reason: "hung up", remote: false)]
    }

    public mutating func advance(to now: Instant) -> [CallAction] {
        var actions: [CallAction] = []
        if let giveUp = giveUpAt, giveUp <= now {
            // No ACK in 64*T1: the call is dead (§13.3.1.4).
            giveUpAt = nil
            retransmitAt = nil
            state = .ended
            actions.append(.ended(reason: "no ACK for our 200 OK", remote: true))
            return actions
        }
        if let due = retransmitAt, due <= now {
            actions.append(.send(lastResponse))
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            retransmitAt = now + retransmitInterval
        }
        if var current = bye, let due = current.nextDeadline, due <= now {
            for action in current.advance(to: now) {
                switch action {
                case .sendRequest: actions.append(.send(byeRequest))
                case .timeout, .transportError:
                    if state == .ending {
                        state = .ended
                        actions.append(.ended(reason: "no answer to our BYE", remote: false))
                    }
                default: break
                }
            }
            bye = current.isTerminated ? nil : current
        }
        if state == .confirmed { actions += apply(keys.advance(to: now)) }
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
