import SIPMessage

/// Finds the addresses to send SIP requests to for the configured server,
/// following RFC 3263 §4 for a UA whose transport the config fixes:
///
///     IP literal                          -> done, no query
///     name with a port                    -> A/AAAA(name) with that port
///     name                                -> NAPTR(name)
///       "S" records for our transport     -> SRV(each replacement), at most 4
///       none, or no answer                -> SRV(_sip._udp.name or _sip._tcp.name)
///     SRV records                         -> A/AAAA(each target), at most 8, kept in SRV order
///     no SRV records, or no answer        -> A/AAAA(name) with port 5060
///     only "." SRV targets                -> done: the service is not offered
///
/// It does no I/O, so it builds as Embedded Swift and is tested without a
/// network: `start()` and `receive(_:for:)` return the queries to run, the
/// daemon runs them and hands each answer back, in any order. The locator is
/// finished once no query is outstanding. The number of queries is bounded
/// by construction, whatever DNS answers: one NAPTR, at most
/// `maxNAPTRFollowed` SRV and `maxSRVTargets` address lookups, or one
/// address lookup instead of the last two (at most 13).
public struct SIPServerLocator {
    /// NAPTR records followed; more would only be alternatives rarely tried.
    public static let maxNAPTRFollowed = 4
    /// SRV targets whose addresses are looked up, over all SRV sets.
    public static let maxSRVTargets = 8
    /// Targets kept, so a flood of addresses cannot grow the list.
    public static let maxTargets = 16
    /// The SIP port when neither the config nor SRV gives one (RFC 3261 §19.1.2).
    public static let defaultPort: UInt16 = 5060

    /// Which lookups are outstanding, each stage waiting for all of its own.
    private enum Stage {
        case notStarted
        case naptr
        case srv
        case srvTargetAddresses
        case hostAddresses(port: UInt16)
        case finished
    }

    /// One query of the current stage and, once it came, its answer.
    private struct Lookup {
        let query: DNSQuery
        var answer: DNSAnswer?
    }

    private let host: HostText
    private let port: UInt16?
    private let transport: SIPTransport
    private let random: (UInt32) -> UInt32
    private var stage: Stage = .notStarted
    private var lookups: [Lookup] = []
    /// The SRV records chosen, in the order their addresses are to be used.
    private var selectedSRV: [SRVRecord] = []

    /// Ordered, best first, each address, port and transport once; valid once finished.
    public private(set) var targets: [ServerTarget] = []
    /// Why there are no targets, once finished without any: says whether DNS
    /// failed ("cannot resolve sip.example.com: DNS timeout") or answered
    /// that there is nothing ("... no such name").
    public private(set) var failure: String?
    /// The smallest TTL of the address answers the targets came from, when known:
    /// when to look up again.
    public private(set) var ttlSeconds: Int?

    /// - Parameters:
    ///   - host: a DNS name or an IP literal ("192.0.2.1", "2001:db8::1" or "[2001:db8::1]").
    ///   - port: `nil` when the config gave none, which lets DNS choose it.
    ///   - random: returns a number in 0..<n for n > 0, for the weighted SRV choice.
    public init(host: String, port: UInt16?, transport: SIPTransport, random: @escaping (UInt32) -> UInt32) {
        self.host = HostText(host)
        self.port = port
        self.transport = transport
        self.random = random
    }

    public var isFinished: Bool {
        if case .finished = stage { return true }
        return false
    }

    /// The queries to run first; none when the answer is already known
    /// (an IP literal). Calling it again returns nothing.
    public mutating func start() -> [DNSQuery] {
        guard case .notStarted = stage else { return [] }
        switch host {
        case .address(let address):
            add([address], ttlSeconds: nil, port: port ?? Self.defaultPort, hostName: address)
            stage = .finished
            return []
        case .name(let name):
            guard !name.isEmpty else {
                finish(failure: "no server host name")
                return []
            }
            if let port {
                return begin(.hostAddresses(port: port), [DNSQuery(name: name, type: .addresses)])
            }
            return begin(.naptr, [DNSQuery(name: name, type: .naptr)])
        }
    }

    /// Takes the answer to one query this locator asked for and returns the
    /// queries to run next. Answers to queries it is not waiting for (late,
    /// repeated or never asked) are ignored.
    public mutating func receive(_ answer: DNSAnswer, for query: DNSQuery) -> [DNSQuery] {
        guard let index = lookups.firstIndex(where: { $0.query == query && $0.answer == nil }) else { return [] }
        lookups[index].answer = Self.checked(answer, for: query.type)
        guard lookups.allSatisfy({ $0.answer != nil }) else { return [] }
        switch stage {
        case .naptr:
            return afterNAPTR()
        case .srv:
            return afterSRV()
        case .srvTargetAddresses:
            finishWithSRVTargets()
        case .hostAddresses(let port):
            finishWithHostAddresses(port: port)
        case .notStarted, .finished:
            break
        }
        return []
    }

    // MARK: Stages

    private var hostName: String {
        switch host {
        case .address(let text), .name(let text): return text
        }
    }

    private mutating func begin(_ next: Stage, _ queries: [DNSQuery]) -> [DNSQuery] {
        stage = next
        lookups = queries.map { Lookup(query: $0, answer: nil) }
        return queries
    }

    /// §4.1: follow the NAPTR records for our transport, or guess the SRV name.
    private mutating func afterNAPTR() -> [DNSQuery] {
        var names: [String] = []
        if case .naptr(let records)? = lookups.first?.answer {
            names = NAPTRSelection.srvNames(records, transport: transport, limit: Self.maxNAPTRFollowed)
        }
        if names.isEmpty { names = [transport.srvPrefix + hostName] }
        return begin(.srv, names.map { DNSQuery(name: $0, type: .srv) })
    }

    /// §4.2: the SRV sets in the order their names were found, each in RFC
    /// 2782 order; without any, the name's own addresses on port 5060.
    private mutating func afterSRV() -> [DNSQuery] {
        var selected: [SRVRecord] = []
        var notOffered = false
        for lookup in lookups {
            guard case .srv(let records)? = lookup.answer, !records.isEmpty else { continue }
            let ordered = SRVOrdering.ordered(records, limit: Self.maxSRVTargets, random: random)
            if ordered.isEmpty { notOffered = true }
            for record in ordered where selected.count < Self.maxSRVTargets {
                let target = DNSName.normalized(record.target)
                if selected.contains(where: { $0.target == target && $0.port == record.port }) { continue }
                selected.append(SRVRecord(priority: record.priority, weight: record.weight, port: record.port,
                                          target: target))
            }
        }
        if !selected.isEmpty {
            selectedSRV = selected
            var names: [String] = []
            for record in selected where !names.contains(record.target) { names.append(record.target) }
            return begin(.srvTargetAddresses, names.map { DNSQuery(name: $0, type: .addresses) })
        }
        if notOffered {
            finish(failure: hostName + " does not offer SIP over " + transport.viaName + " (SRV target \".\")")
            return []
        }
        return begin(.hostAddresses(port: Self.defaultPort), [DNSQuery(name: hostName, type: .addresses)])
    }

    /// Every SRV target's addresses in SRV order, whichever answer came first;
    /// a target without addresses is skipped.
    private mutating func finishWithSRVTargets() {
        var firstFailure: String?
        for record in selectedSRV {
            guard let lookup = lookups.first(where: { $0.query.name == record.target }) else { continue }
            switch lookup.answer {
            case .addresses(let addresses, let ttl)?:
                add(addresses, ttlSeconds: ttl, port: record.port, hostName: record.target)
            case .failed(let text)?:
                if firstFailure == nil { firstFailure = text }
            default:
                break
            }
        }
        finish(failure: "cannot resolve " + hostName + ": " + (firstFailure ?? "no address for its SRV targets"))
    }

    /// The host's own addresses; the answer of this last lookup decides the
    /// failure text, since it is the one that speaks for the name itself.
    private mutating func finishWithHostAddresses(port: UInt16) {
        var reason = "no such name"
        switch lookups.first?.answer {
        case .addresses(let addresses, let ttl)?:
            add(addresses, ttlSeconds: ttl, port: port, hostName: hostName)
        case .failed(let text)?:
            reason = text
        default:
            break
        }
        finish(failure: "cannot resolve " + hostName + ": " + reason)
    }

    /// Ends the lookup; `failure` is kept only when no target was found.
    private mutating func finish(failure text: String) {
        stage = .finished
        lookups = []
        if targets.isEmpty { failure = text }
    }

    /// Appends targets not already present, up to `maxTargets`; the TTL counts
    /// only when an address was used.
    private mutating func add(_ addresses: [String], ttlSeconds ttl: Int?, port: UInt16, hostName: String) {
        var used = false
        for address in addresses where targets.count < Self.maxTargets {
            let target = ServerTarget(address: address, port: port, transport: transport, hostName: hostName)
            if targets.contains(where: { $0.address == address && $0.port == port && $0.transport == transport }) {
                continue
            }
            targets.append(target)
            used = true
        }
        if used, let ttl { ttlSeconds = min(ttlSeconds ?? ttl, ttl) }
    }

    /// An answer of the wrong kind for its query counts as a failure.
    private static func checked(_ answer: DNSAnswer, for type: DNSRecordType) -> DNSAnswer {
        switch (answer, type) {
        case (.naptr, .naptr), (.srv, .srv), (.addresses, .addresses), (.noRecords, _), (.failed, _):
            return answer
        default:
            return .failed("unexpected DNS answer")
        }
    }
}
