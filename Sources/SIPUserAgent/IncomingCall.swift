import SIPMessage
import SIPTransaction
import Timebase

/// What an incoming call asks the daemon to do.
public enum CallAction: Equatable, Sendable {
    /// Send to the far end, the way the INVITE came.
    case send([UInt8])
    /// The call is over; `remote` says whether the far end ended it.
    case ended(reason: String, remote: Bool)
}

/// One call that came in as an INVITE, on the UAS side (RFC 3261 §13.3,
/// §12.1.1, §15): 180 while the line rings, 200 with our SDP answer when the
/// handset goes off hook (retransmitted until the ACK, §13.3.1.4), CANCEL
/// before answer (487), BYE in either direction. No I/O: messages and time
/// in, bytes out.
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
    private var localCSeq: UInt32 = 0
    private var bye: NonInviteClientTransaction?
    private var byeRequest: [UInt8] = []
    private let timers: TransactionTimers
    public private(set) var byeBranch: String?

    /// - contact: our Contact URI, e.g. "sip:atad@192.0.2.1:5060".
    public init(invite: SIPMessage, toTag: String, contact: String, userAgent: String, answerSDP: [UInt8],
                timers: TransactionTimers = .unreliable) {
        self.invite = invite
        callID = invite.callID.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.toTag = toTag
        self.contact = contact
        self.userAgent = userAgent
        self.answerSDP = answerSDP
        self.timers = timers
    }

    public var nextDeadline: Instant? {
        var earliest = retransmitAt
        if let giveUpAt, earliest == nil || giveUpAt < earliest! { earliest = giveUpAt }
        if let due = bye?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
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

    public mutating func ackReceived() {
        guard state == .answered else { return }
        state = .confirmed
        retransmitAt = nil
        giveUpAt = nil
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
        retransmitAt = nil
        giveUpAt = nil
        return [.send(ok.serialize()), .ended(reason: "the far end hung up", remote: true)]
    }

    /// The handset hung up: BYE (after answer), or 486/603 before it.
    public mutating func hangUp(at now: Instant, branch: String, localHost: String, localPort: UInt16,
                                transport: String) -> [CallAction] {
        switch state {
        case .ringing:
            lastResponse = response(603, "Decline").serialize()
            state = .ended
            return [.send(lastResponse), .ended(reason: "declined", remote: false)]
        case .answered, .confirmed:
            state = .ending
            retransmitAt = nil
            giveUpAt = nil
            byeBranch = branch
            byeRequest = makeBye(branch: branch, localHost: localHost, localPort: localPort, transport: transport)
            let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
            bye = started
            var result: [CallAction] = []
            for action in actions where action == .sendRequest { result.append(.send(byeRequest)) }
            return result
        case .ending, .ended:
            return []
        }
    }

    /// A response to our BYE.
    public mutating func byeResponse(_ response: SIPMessage, at now: Instant) -> [CallAction] {
        guard var current = bye, let status = response.statusCode else { return [] }
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

    /// BYE inside the dialog, from our side (§15.1.1): to the remote target
    /// (their Contact) along the route set (their Record-Route, in order).
    private mutating func makeBye(branch: String, localHost: String, localPort: UInt16, transport: String) -> [UInt8] {
        localCSeq += 1
        let remoteTarget = invite.headers(named: .contact).first
            .flatMap { try? NameAddress.parse(invite.bytes[$0.valueRange]) }
            .map { String(decoding: $0.uri, as: UTF8.self) }
            ?? invite.requestURIBytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
        var builder = SIPMessageBuilder(request: .bye, uri: remoteTarget)
        let host = localHost.utf8.contains(UInt8(ascii: ":")) ? "[\(localHost)]" : localHost
        builder.add(.via, "SIP/2.0/\(transport.uppercased()) \(host):\(localPort);branch=\(branch);rport")
        builder.add(.maxForwards, "70")
        for header in invite.headers(named: .recordRoute) {
            builder.headers.append(SIPHeaderField(.route, bytes: invite.bytes[header.valueRange]))
        }
        // Our From is their To (with our tag); our To is their From.
        if let to = invite.value(of: .to) {
            builder.headers.append(SIPHeaderField(named: "From", String(decoding: to, as: UTF8.self) + ";tag=\(toTag)"))
        }
        if let from = invite.value(of: .from) { builder.headers.append(SIPHeaderField(.to, bytes: from)) }
        builder.add(.callID, callID)
        builder.add(.cseq, "\(localCSeq) BYE")
        builder.add(.userAgent, userAgent)
        return builder.serialize()
    }
}
