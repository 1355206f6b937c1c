import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What our BYE asks of the call that sends it.
public enum ByeOutput: Equatable, Sendable {
    /// Send this BYE (first time, a retransmission, or with credentials).
    case send([UInt8])
    /// The BYE is over: answered (any final response) or never answered.
    /// Either way the call is gone on our side.
    case finished(answered: Bool)
}

/// Our BYE ending a call (RFC 3261 §15.1.1), the same for calls in either
/// direction: one non-INVITE client transaction (Timer E retransmits over
/// UDP, Timer F gives up). A proxy or far end that challenges it with
/// 401/407 gets it again with the account's credentials (§22.2), as long
/// as the digest session says a retry can succeed; otherwise the far end
/// would stay connected, billing a call nobody is on. No I/O.
public struct ByeSender {
    private var transaction: NonInviteClientTransaction?
    private var request: [UInt8] = []
    /// The branch of the BYE in flight: its responses carry it.
    public private(set) var branch = ""
    private var digest: DigestSession?
    private var sentAuthorization: [DigestHeader] = []
    private let timers: TransactionTimers
    private let makeToken: () -> String

    /// Builds and starts the BYE; the outputs send it.
    public static func start(dialog: inout DialogRequests, digest: DigestSession?, timers: TransactionTimers,
                             makeToken: @escaping () -> String, at now: Instant) -> (ByeSender, [ByeOutput]) {
        var sender = ByeSender(digest: digest, timers: timers, makeToken: makeToken)
        let outputs = sender.send(dialog: &dialog, authorized: false, at: now)
        return (sender, outputs)
    }

    private init(digest: DigestSession?, timers: TransactionTimers, makeToken: @escaping () -> String) {
        self.digest = digest
        self.timers = timers
        self.makeToken = makeToken
    }

    public var nextDeadline: Instant? { transaction?.nextDeadline }

    /// A response whose CSeq method is BYE; ignored unless it answers the
    /// BYE in flight.
    public mutating func handle(response: SIPMessage, dialog: inout DialogRequests, at now: Instant) -> [ByeOutput] {
        guard var current = transaction, let status = response.statusCode,
              let answered = response.topVia?.branch, answered.elementsEqual(branch.utf8) else { return [] }
        _ = current.handle(.response(statusCode: status), at: now)
        guard status >= 200 else {
            transaction = current
            return []
        }
        transaction = nil
        if (status == 401 || status == 407), var session = digest {
            let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
                .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
            let outcome = session.receive(challenges: challenges, from: status == 401 ? .server : .proxy,
                                          sent: sentAuthorization)
            digest = session
            if case .retry = outcome { return send(dialog: &dialog, authorized: true, at: now) }
        }
        return [.finished(answered: true)]
    }

    /// Timer E retransmits; Timer F (or a transport error) gives up.
    public mutating func advance(to now: Instant) -> [ByeOutput] {
        guard var current = transaction, let due = current.nextDeadline, due <= now else { return [] }
        var outputs: [ByeOutput] = []
        for action in current.advance(to: now) {
            switch action {
            case .sendRequest: outputs.append(.send(request))
            case .timeout, .transportError:
                transaction = nil
                return [.finished(answered: false)]
            default: break
            }
        }
        transaction = current.isTerminated ? nil : current
        return outputs
    }

    /// A new BYE (new CSeq and branch), with credentials after a challenge.
    private mutating func send(dialog: inout DialogRequests, authorized: Bool, at now: Instant) -> [ByeOutput] {
        branch = "z9hG4bK" + makeToken()
        var builder = dialog.next(.bye, branch: branch)
        sentAuthorization = []
        if authorized, var session = digest {
            sentAuthorization = session.authorize(method: "BYE", uri: dialog.remoteTarget)
            digest = session
            for header in sentAuthorization { builder.add(named: header.name, header.value) }
        }
        request = builder.serialize()
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        return actions.contains(.sendRequest) ? [.send(request)] : []
    }
}
