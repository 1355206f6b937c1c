import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What a request we send in a call's dialog asks of the dialog.
public enum DialogRequestOutput: Sendable {
    /// Send the request (first time, a retransmission, or with credentials).
    case send([UInt8])
    /// Its final response, after any challenge was answered.
    case answered(SIPMessage)
    /// No final response came (Timer F, or a transport error).
    case unanswered
}

/// One non-INVITE request we send inside a call's dialog: BYE (RFC 3261
/// §15.1.1), a session refresh by UPDATE (RFC 3311, RFC 4028), REFER, or
/// the NOTIFY that tells how a REFER we took is going. It is one
/// non-INVITE client transaction (Timer E retransmits over UDP, Timer F
/// gives up). A proxy or far end that challenges it with 401/407 gets it
/// again with the account's credentials (§22.2), as long as the digest
/// session says a retry can succeed: a BYE that never gets through would
/// leave the far end connected, billing a call nobody is on. No I/O.
public struct DialogRequestSender {
    public let method: SIPMethod
    /// Fields the request carries besides the dialog's own.
    private let extraHeaders: [(HeaderName, String)]
    /// Its body (a NOTIFY's sipfrag), typed by a Content-Type in `extraHeaders`.
    private let body: [UInt8]
    private var transaction: NonInviteClientTransaction?
    private var request: [UInt8] = []
    /// The branch of the request in flight: its responses carry it.
    public private(set) var branch = ""
    private var digest: DigestSession?
    private var sentAuthorization: [DigestHeader] = []
    private let timers: TransactionTimers
    private let makeToken: () -> String

    /// Builds and starts the request; the outputs send it.
    public static func start(_ method: SIPMethod, headers: [(HeaderName, String)] = [], body: [UInt8] = [],
                             dialog: inout DialogRequests, digest: DigestSession?, timers: TransactionTimers,
                             makeToken: @escaping () -> String, at now: Instant) -> (DialogRequestSender, [DialogRequestOutput]) {
        var sender = DialogRequestSender(method: method, extraHeaders: headers, body: body, digest: digest, timers: timers,
                                         makeToken: makeToken)
        let outputs = sender.send(dialog: &dialog, authorized: false, at: now)
        return (sender, outputs)
    }

    private init(method: SIPMethod, extraHeaders: [(HeaderName, String)], body: [UInt8], digest: DigestSession?,
                 timers: TransactionTimers, makeToken: @escaping () -> String) {
        self.method = method
        self.extraHeaders = extraHeaders
        self.body = body
        self.digest = digest
        self.timers = timers
        self.makeToken = makeToken
    }

    public var nextDeadline: Instant? { transaction?.nextDeadline }

    /// A response whose CSeq names our method; ignored unless it answers
    /// the request in flight.
    public mutating func handle(response: SIPMessage, dialog: inout DialogRequests, at now: Instant) -> [DialogRequestOutput] {
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
        return [.answered(response)]
    }

    /// Timer E retransmits; Timer F (or a transport error) gives up.
    public mutating func advance(to now: Instant) -> [DialogRequestOutput] {
        guard var current = transaction, let due = current.nextDeadline, due <= now else { return [] }
        var outputs: [DialogRequestOutput] = []
        for action in current.advance(to: now) {
            switch action {
            case .sendRequest: outputs.append(.send(request))
            case .timeout, .transportError:
                transaction = nil
                return [.unanswered]
            default: break
            }
        }
        transaction = current.isTerminated ? nil : current
        return outputs
    }

    /// A new request (new CSeq and branch), with credentials after a challenge.
    private mutating func send(dialog: inout DialogRequests, authorized: Bool, at now: Instant) -> [DialogRequestOutput] {
        branch = "z9hG4bK" + makeToken()
        var builder = dialog.next(method, branch: branch)
        for (name, value) in extraHeaders { builder.add(name, value) }
        sentAuthorization = []
        if authorized, var session = digest {
            sentAuthorization = session.authorize(method: method.name, uri: dialog.remoteTarget)
            digest = session
            for header in sentAuthorization { builder.add(named: header.name, header.value) }
        }
        builder.body = body
        request = builder.serialize()
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        return actions.contains(.sendRequest) ? [.send(request)] : []
    }
}
