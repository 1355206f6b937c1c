import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What came of our re-INVITE, for the call that sent it.
public enum ReofferOutcome: Equatable, Sendable {
    /// 2xx (already acknowledged): the far end's SDP answer.
    case answered(body: [UInt8])
    /// A final refusal: the session stays as it was (RFC 3261 §14.1).
    case refused(status: Int)
}

/// Our re-INVITE inside a call (RFC 3261 §14.1): the new offer that puts
/// the far end on hold or takes it back. One INVITE client transaction
/// (Timer A resends over UDP, Timer B gives up); a 2xx gets our ACK, and
/// every copy of it the same ACK, also after the transaction is gone;
/// 401/407 is answered with the account's credentials; 491 (both ends
/// re-offered at once) is tried again after a random wait, 2.1-4 s when
/// we chose the Call-ID and up to 2 s when the far end did. No I/O.
struct ReinviteSender {
    enum Output {
        case send([UInt8])
        /// The final response, after challenges and glare retries.
        case answered(SIPMessage)
        /// No final response (Timer B or a transport error): as a 408.
        case unanswered
    }

    /// How often a re-offer is tried again after 491.
    static let glareRetries = 3

    /// The offer; one made while a 491's wait runs replaces it.
    var body: [UInt8]
    private let headers: [(HeaderName, String)]
    private let ownsCallID: Bool
    private var transaction: InviteClientTransaction?
    private var request: [UInt8] = []
    private var branch = ""
    /// The CSeq of the re-INVITE in flight (or last sent): its responses carry it.
    private(set) var cseq: UInt32 = 0
    /// Our ACK for its 2xx, repeated for every copy of the 2xx.
    private var ack: [UInt8] = []
    /// A 491 was answered: the offer goes again at this time.
    private var retryAt: Instant?
    private var retries = 0
    private var digest: DigestSession?
    private var sentAuthorization: [DigestHeader] = []
    private let timers: TransactionTimers
    private let makeToken: () -> String

    init(body: [UInt8], headers: [(HeaderName, String)], ownsCallID: Bool, digest: DigestSession?,
         timers: TransactionTimers, makeToken: @escaping () -> String) {
        self.body = body
        self.headers = headers
        self.ownsCallID = ownsCallID
        self.digest = digest
        self.timers = timers
        self.makeToken = makeToken
    }

    /// The re-INVITE waits for its final response: the far end's own
    /// gets 491 meanwhile (§14.2).
    var isInProgress: Bool { transaction.map { $0.state == .calling || $0.state == .proceeding } ?? false }

    /// The CSeq and ACK of the re-INVITE's 2xx, once it came.
    var acknowledgement: (cseq: UInt32, bytes: [UInt8])? { ack.isEmpty ? nil : (cseq, ack) }

    /// A 491 came: the offer goes again when the wait is over.
    var isWaitingToRetry: Bool { retryAt != nil }

    var nextDeadline: Instant? {
        guard let retryAt else { return transaction?.nextDeadline }
        return transaction?.nextDeadline.map { min($0, retryAt) } ?? retryAt
    }

    /// A response whose CSeq is an INVITE of ours in the dialog.
    mutating func handle(response: SIPMessage, dialog: inout DialogRequests, at now: Instant) -> [Output] {
        guard let status = response.statusCode, response.cseq?.number == cseq else { return [] }
        if status >= 200 && status < 300 {
            // A copy after the first: the same ACK again (§13.2.2.4).
            guard var current = transaction, current.state != .accepted else { return ack.isEmpty ? [] : [.send(ack)] }
            _ = current.handle(.response(statusCode: status), at: now)
            transaction = current.isTerminated ? nil : current
            // A re-INVITE refreshes the target (§12.2.1.2).
            dialog.refreshTarget(from: response)
            var builder = dialog.inDialog(.ack, cseq: cseq, branch: "z9hG4bK" + makeToken())
            for header in sentAuthorization { builder.add(named: header.name, header.value) }
            ack = builder.serialize()
            return [.send(ack), .answered(response)]
        }
        guard var current = transaction, response.topVia?.branch?.elementsEqual(branch.utf8) == true else { return [] }
        var outputs: [Output] = []
        let wasPending = isInProgress
        for action in current.handle(.response(statusCode: status), at: now) where action == .sendAck {
            // The ACK of a non-2xx: the INVITE's branch and CSeq (§17.1.1.3).
            outputs.append(.send(dialog.inDialog(.ack, cseq: cseq, branch: branch).serialize()))
        }
        transaction = current.isTerminated ? nil : current
        guard status >= 200, wasPending else { return outputs }
        if (status == 401 || status == 407), var session = digest {
            let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
                .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
            let outcome = session.receive(challenges: challenges, from: status == 401 ? .server : .proxy,
                                          sent: sentAuthorization)
            digest = session
            if case .retry = outcome { return outputs + send(dialog: &dialog, authorized: true, at: now) }
        }
        if status == 491, retries < ReinviteSender.glareRetries {
            retries += 1
            // A wait in 10 ms steps, random from a fresh token's bytes.
            let steps = Int64(makeToken().utf8.reduce(UInt32(0)) { $0 &* 31 &+ UInt32($1) } % 190)
            retryAt = now + .milliseconds(ownsCallID ? 2100 + steps * 10 : steps * 10)
            return outputs
        }
        return outputs + [.answered(response)]
    }

    /// Timer A resends, Timer B gives up; a 491's wait ends in a new re-INVITE.
    mutating func advance(to now: Instant, dialog: inout DialogRequests) -> [Output] {
        if let due = retryAt, due <= now {
            retryAt = nil
            return send(dialog: &dialog, authorized: !sentAuthorization.isEmpty, at: now)
        }
        guard var current = transaction, let due = current.nextDeadline, due <= now else { return [] }
        let wasPending = isInProgress
        var outputs: [Output] = []
        for action in current.advance(to: now) {
            switch action {
            case .sendRequest: outputs.append(.send(request))
            case .timeout, .transportError:
                transaction = nil
                return wasPending ? [.unanswered] : []
            default: break
            }
        }
        transaction = current.isTerminated ? nil : current
        return outputs
    }

    /// A new re-INVITE (new CSeq and branch), with credentials after a challenge.
    mutating func send(dialog: inout DialogRequests, authorized: Bool, at now: Instant) -> [Output] {
        branch = "z9hG4bK" + makeToken()
        cseq = dialog.nextCSeq()
        ack = []
        var builder = dialog.inDialog(.invite, cseq: cseq, branch: branch)
        for (name, value) in headers { builder.add(name, value) }
        sentAuthorization = []
        if authorized, var session = digest {
            sentAuthorization = session.authorize(method: "INVITE", uri: dialog.remoteTarget)
            digest = session
            for header in sentAuthorization { builder.add(named: header.name, header.value) }
        }
        builder.add(.contentType, "application/sdp")
        builder.body = body
        request = builder.serialize()
        let (started, actions) = InviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        return actions.contains(.sendRequest) ? [.send(request)] : []
    }
}
