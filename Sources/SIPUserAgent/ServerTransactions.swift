import SIPMessage
import SIPTransaction
import Timebase

/// Every request the UA receives passes through here first (RFC 3261
/// §17.2): a retransmission is answered with the response already sent and
/// never reaches a call; 300-699 answers to an INVITE are retransmitted
/// (Timer G) until their ACK comes, which is absorbed; a final answer to a
/// BYE, INFO or CANCEL stays for Timer J, so a BYE repeated after its 200
/// gets that 200 again even when the call is long gone. No I/O: requests
/// and responses in, bytes and where they go out.
///
/// The call side answers a request by building the response from it and
/// handing the bytes to `respond`: the response's Call-ID, CSeq and top
/// Via name its transaction, so the answer to an INVITE given seconds
/// later (the handset picked up) needs no key kept by the call.
///
/// Bounded: `capacity` transactions; when full, the oldest one that has
/// its final answer is dropped, and if none has, a new request is refused
/// (`full`: answer it 503 statelessly). Since the call side answers every
/// request at once but an INVITE that rings a line, a flood of requests
/// cannot crowd out the BYE that ends a real call.
///
/// `Route` is how a response goes back: the daemon's address and stream.
public struct ServerTransactions<Route> {
    public enum Arrival: Equatable, Sendable {
        /// A new request (or an ACK for a 2xx): the call side takes it.
        case new
        /// A copy of a request already answered, or an ACK for a non-2xx
        /// answer: handled here.
        case absorbed
        /// No room for another transaction.
        case full
    }

    /// Bytes to send, and where.
    public struct Send {
        public let bytes: [UInt8]
        public let route: Route
    }

    enum Machine {
        case invite(InviteServerTransaction)
        case nonInvite(NonInviteServerTransaction)

        var isTerminated: Bool {
            switch self {
            case .invite(let transaction): return transaction.isTerminated
            case .nonInvite(let transaction): return transaction.isTerminated
            }
        }

        /// Whether dropping it costs nothing but a copy answered afresh:
        /// it has its final answer. Only a request still waiting for one
        /// (an INVITE ringing a line) must stay.
        var isEvictable: Bool {
            switch self {
            case .invite(let transaction): return transaction.state != .proceeding
            case .nonInvite(let transaction): return transaction.state != .trying && transaction.state != .proceeding
            }
        }

        var nextDeadline: Instant? {
            switch self {
            case .invite(let transaction): return transaction.nextDeadline
            case .nonInvite(let transaction): return transaction.nextDeadline
            }
        }
    }

    struct Entry {
        var machine: Machine
        let route: Route
        let identity: ResponseIdentity
        /// The INVITE itself, for a 100 Trying the transaction may send
        /// before the call side's first answer (then let go).
        var invite: SIPMessage?
        /// The last response the call side gave.
        var response: [UInt8] = []
    }

    private var table: TransactionTable<Entry>

    public init(capacity: Int = 64) {
        table = TransactionTable(clientCapacity: 0, serverCapacity: capacity)
    }

    /// Transactions held (live or lingering).
    public var count: Int { table.count }

    public var nextDeadline: Instant? {
        var earliest: Instant?
        table.forEachValue { entry in
            if let due = entry.machine.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    /// A request received on `route` (over a transport with `timers`).
    public mutating func receive(_ request: SIPMessage, route: Route, timers: TransactionTimers,
                                 at now: Instant) -> (arrival: Arrival, sends: [Send]) {
        guard let method = request.method, let key = Self.key(of: request),
              let identity = ResponseIdentity(request) else { return (.new, []) }
        if let outcome = table.update(matching: key, { entry -> (Bool, [Send]) in
            switch entry.machine {
            case .invite(var transaction):
                let actions = transaction.handle(method == .ack ? .ack : .request, at: now)
                entry.machine = .invite(transaction)
                return (actions.contains(.passAckToTU), Self.sends(for: actions, entry))
            case .nonInvite(var transaction):
                let actions = transaction.handle(.request, at: now)
                entry.machine = .nonInvite(transaction)
                return (false, Self.sends(for: actions, entry))
            }
        }) {
            removeTerminated()
            return (outcome.0 ? .new : .absorbed, outcome.1)
        }
        // An ACK that matches no INVITE answered here belongs to a 2xx:
        // the call side's. It never starts a transaction.
        if method == .ack { return (.new, []) }
        let entry: Entry
        if method == .invite {
            let (started, _) = InviteServerTransaction.start(timers: timers, at: now)
            entry = Entry(machine: .invite(started), route: route, identity: identity, invite: request)
        } else {
            let (started, _) = NonInviteServerTransaction.start(timers: timers, at: now)
            entry = Entry(machine: .nonInvite(started), route: route, identity: identity, invite: nil)
        }
        switch table.insert(entry, for: key, evictingOldestWhere: { $0.machine.isEvictable }) {
        case .inserted, .evicted: return (.new, [])
        case .duplicate: return (.absorbed, [])
        case .full: return (.full, [])
        }
    }

    /// The call side answers a request: returns what to send, or `nil`
    /// when no transaction here took the request (send it as it is).
    public mutating func respond(_ response: [UInt8], at now: Instant) -> [Send]? {
        guard let message = try? SIPParser().parse(response, framing: .datagram),
              let status = message.statusCode, let identity = ResponseIdentity(message) else { return nil }
        var matched: [Send]?
        var matchedKey: TransactionKey?
        table.updateAll { key, entry in
            guard matched == nil, entry.identity == identity else { return }
            matchedKey = key
            entry.response = response
            entry.invite = nil
            var actions: [TransactionAction]
            switch entry.machine {
            case .invite(var transaction):
                actions = transaction.handle(.tuResponse(statusCode: status), at: now)
                entry.machine = .invite(transaction)
            case .nonInvite(var transaction):
                actions = transaction.handle(.tuResponse(statusCode: status), at: now)
                entry.machine = .nonInvite(transaction)
            }
            matched = Self.sends(for: actions, entry)
        }
        // An RFC 2543 ACK names the transaction by the To tag we answered with.
        if let matchedKey, matchedKey.isLegacy, let tag = message.to?.tag {
            table.setResponseToTag(String(decoding: tag, as: UTF8.self), for: matchedKey)
        }
        removeTerminated()
        return matched
    }

    /// Whether the INVITE a CANCEL names is still a transaction here (RFC
    /// 3261 §9.2: otherwise the CANCEL gets 481).
    public func holdsInvite(cancelledBy cancel: SIPMessage) -> Bool {
        guard let key = Self.key(of: cancel)?.cancelledInviteKey else { return false }
        return table.value(matching: key) != nil
    }

    /// Retransmissions and 100 Trying due by `now`; ended transactions go.
    public mutating func advance(to now: Instant) -> [Send] {
        var out: [Send] = []
        table.updateAll { _, entry in
            guard let due = entry.machine.nextDeadline, due <= now else { return }
            switch entry.machine {
            case .invite(var transaction):
                let actions = transaction.advance(to: now)
                entry.machine = .invite(transaction)
                out += Self.sends(for: actions, entry)
            case .nonInvite(var transaction):
                let actions = transaction.advance(to: now)
                entry.machine = .nonInvite(transaction)
                out += Self.sends(for: actions, entry)
            }
        }
        removeTerminated()
        return out
    }

    private mutating func removeTerminated() {
        table.removeAll { $0.machine.isTerminated }
    }

    private static func sends(for actions: [TransactionAction], _ entry: Entry) -> [Send] {
        var out: [Send] = []
        for action in actions {
            switch action {
            case .sendResponse:
                if !entry.response.isEmpty { out.append(Send(bytes: entry.response, route: entry.route)) }
            case .sendTrying:
                if let invite = entry.invite {
                    out.append(Send(bytes: SIPMessageBuilder.response(to: invite, status: 100, reason: "Trying").serialize(),
                                    route: entry.route))
                }
            default:
                break
            }
        }
        return out
    }

    /// The transaction key of a received request (RFC 3261 §17.2.3, with
    /// the RFC 2543 fallback when the branch lacks the magic cookie).
    static func key(of request: SIPMessage) -> TransactionKey? {
        guard let method = request.method, let via = request.topVia, let cseq = request.cseq,
              let callID = request.callID, let uri = request.requestURIBytes,
              let viaField = request.headers(named: .via).first else { return nil }
        func text(_ bytes: SIPBytes?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        return TransactionKey.server(
            method: method.name, branch: text(via.branch),
            sentBy: SentBy(host: text(via.host) ?? "", port: via.port.map { Int($0) }),
            requestURI: text(uri) ?? "", toTag: text(request.to?.tag), fromTag: text(request.from?.tag),
            callID: text(callID) ?? "", cseqNumber: cseq.number, topVia: text(request.value(of: viaField)) ?? "")
    }
}

/// What a response shares with the request it answers (RFC 3261 §8.2.6.2):
/// Call-ID, CSeq, and the top Via's branch and sent-by (the Via we stamp
/// with `received`/`rport` keeps those).
struct ResponseIdentity: Equatable {
    let callID: [UInt8]
    let cseqNumber: UInt32
    let method: String
    let branch: [UInt8]
    let host: [UInt8]
    let port: UInt16?

    init?(_ message: SIPMessage) {
        guard let callID = message.callID, let cseq = message.cseq, let via = message.topVia else { return nil }
        self.callID = Array(callID)
        cseqNumber = cseq.number
        // An ACK's CSeq says ACK; it is answered by nothing, and matched
        // to its INVITE by key, never by this identity.
        method = cseq.method.name
        branch = via.branch.map { Array($0) } ?? []
        host = Array(via.host).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        port = via.port
    }
}
