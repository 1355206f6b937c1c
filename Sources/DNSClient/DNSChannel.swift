import CAres
import CompactText
import Platform
import SIPLocation
import Timebase

/// A c-ares channel: DNS queries that never block. c-ares owns its sockets
/// and says which it wants watched (`onSocketChange`); the owner watches
/// them in its poll loop and calls `process(readable:writable:)`, and calls
/// `processTimeouts()` at `nextTimeout`. Answers come back through the
/// completion given with each query, from inside those calls (or at once,
/// from inside `query`, when c-ares knows the answer without asking).
public final class DNSChannel {
    private var channel: ares_channel?
    /// Holds the socket callback apart from the channel, so that c-ares
    /// calling it from `ares_destroy` in deinit never touches a dying self.
    private let watch = SocketWatch()
    /// A socket c-ares opened (read: true), wants written, or closed
    /// (both false): the owner adds, updates or removes its poll entry.
    public var onSocketChange: (_ fd: Int32, _ readable: Bool, _ writable: Bool) -> Void {
        get { watch.handler }
        set { watch.handler = newValue }
    }
    /// Queries sent and not answered yet.
    public private(set) var pendingQueries = 0

    /// - servers: "IP[:PORT],..." to use instead of /etc/resolv.conf, or nil.
    /// - timeoutMilliseconds, tries: how long one server is given, and how
    ///   many rounds over the servers, before a query fails.
    public init(servers: String?, timeoutMilliseconds: Int32, tries: Int32) throws(DNSChannelError) {
        _ = ares_library_init(ARES_LIB_INIT_ALL)
        var options = ares_options()
        options.timeout = timeoutMilliseconds
        options.tries = tries
        options.sock_state_cb = { data, fd, readable, writable in
            guard let data else { return }
            let watch = Unmanaged<SocketWatch>.fromOpaque(data).takeUnretainedValue()
            watch.handler(fd, readable != 0, writable != 0)
        }
        options.sock_state_cb_data = Unmanaged.passUnretained(watch).toOpaque()
        let mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB
        var created: ares_channel?
        let status = ares_init_options(&created, &options, mask)
        guard status == ARES_SUCCESS, let created else {
            throw DNSChannelError(message: "cannot start the DNS resolver: \(DNSChannel.text(of: status))")
        }
        channel = created
        if let servers {
            let set = ares_set_servers_ports_csv(created, servers)
            if set != ARES_SUCCESS {
                ares_destroy(created)
                channel = nil
                throw DNSChannelError(message: "dns_servers \(servers): \(DNSChannel.text(of: set))")
            }
        }
    }

    /// Ends every query (their completions get `.failed`) and closes the
    /// sockets. The channel answers nothing after this.
    public func close() {
        guard let channel else { return }
        self.channel = nil
        ares_destroy(channel)
    }

    deinit { close() }

    // MARK: Queries

    /// Asks for `query.name`'s records of `query.type`; `completion` gets
    /// the answer exactly once.
    public func query(_ query: DNSQuery, completion: @escaping (DNSAnswer) -> Void) {
        guard let channel else {
            completion(.failed("DNS resolver closed"))
            return
        }
        pendingQueries += 1
        let pending = PendingQuery(channel: self, type: query.type, completion: completion)
        let context = Unmanaged.passRetained(pending).toOpaque()
        switch query.type {
        case .naptr, .srv:
            let type: Int32 = query.type == .srv ? 33 : 35  // RFC 2782, RFC 3403
            ares_query(channel, query.name, 1 /* class IN */, type, { context, status, _, answer, length in
                guard let context else { return }
                let pending = Unmanaged<PendingQuery>.fromOpaque(context).takeRetainedValue()
                pending.finish(DNSChannel.records(status: status, answer: answer, length: length, type: pending.type))
            }, context)
        case .addresses:
            var hints = ares_addrinfo_hints()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            ares_getaddrinfo(channel, query.name, nil, &hints, { context, status, _, result in
                guard let context else { return }
                let pending = Unmanaged<PendingQuery>.fromOpaque(context).takeRetainedValue()
                pending.finish(DNSChannel.addresses(status: status, result: result))
            }, context)
        }
    }

    fileprivate func finished() { pendingQueries -= 1 }

    // MARK: Driving

    /// A watched socket is ready.
    public func process(readable: Int32?, writable: Int32?) {
        guard let channel else { return }
        ares_process_fd(channel, readable ?? ARES_SOCKET_BAD, writable ?? ARES_SOCKET_BAD)
    }

    /// Retries and failures that are due.
    public func processTimeouts() {
        guard let channel else { return }
        ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD)
    }

    /// How long until c-ares needs `processTimeouts()`; nil with nothing pending.
    public var nextTimeout: Interval? {
        guard let channel, pendingQueries > 0 else { return nil }
        var wait = timeval()
        guard let due = ares_timeout(channel, nil, &wait) else { return nil }
        return .milliseconds(Int64(due.pointee.tv_sec) * 1000 + Int64(due.pointee.tv_usec) / 1000)
    }

    // MARK: Answers

    private static func text(of status: Int32) -> String {
        switch status {
        case ARES_ETIMEOUT: return "DNS timeout"
        case ARES_ECONNREFUSED: return "DNS server refused"
        case ARES_ESERVFAIL: return "DNS server failure"
        case ARES_EREFUSED: return "DNS query refused"
        default: return ares_strerror(status).map { String(cString: $0) } ?? "DNS error \(status)"
        }
    }

    private static func failure(_ status: Int32) -> DNSAnswer {
        status == ARES_ENODATA || status == ARES_ENOTFOUND || status == ARES_ENONAME
            ? .noRecords : .failed(text(of: status))
    }

    private static func records(status: Int32, answer: UnsafeMutablePointer<UInt8>?, length: Int32,
                                type: DNSRecordType) -> DNSAnswer {
        guard status == ARES_SUCCESS, let answer else { return failure(status) }
        if type == .srv {
            var list: UnsafeMutablePointer<ares_srv_reply>?
            let parsed = ares_parse_srv_reply(answer, length, &list)
            guard parsed == ARES_SUCCESS else { return failure(parsed) }
            defer { if let list { ares_free_data(list) } }
            var records: [SRVRecord] = []
            var next = list
            while let reply = next, records.count < 32 {
                records.append(SRVRecord(priority: reply.pointee.priority, weight: reply.pointee.weight,
                                         port: reply.pointee.port,
                                         target: reply.pointee.host.map { String(cString: $0) } ?? "."))
                next = reply.pointee.next
            }
            return records.isEmpty ? .noRecords : .srv(records)
        }
        var list: UnsafeMutablePointer<ares_naptr_reply>?
        let parsed = ares_parse_naptr_reply(answer, length, &list)
        guard parsed == ARES_SUCCESS else { return failure(parsed) }
        defer { if let list { ares_free_data(list) } }
        var records: [NAPTRRecord] = []
        var next = list
        while let reply = next, records.count < 32 {
            let value = reply.pointee
            records.append(NAPTRRecord(order: value.order, preference: value.preference,
                                       flags: value.flags.map { String(cString: $0) } ?? "",
                                       service: value.service.map { String(cString: $0) } ?? "",
                                       replacement: value.replacement.map { String(cString: $0) } ?? ""))
            next = value.next
        }
        return records.isEmpty ? .noRecords : .naptr(records)
    }

    private static func addresses(status: Int32, result: UnsafeMutablePointer<ares_addrinfo>?) -> DNSAnswer {
        guard status == ARES_SUCCESS, let result else { return failure(status) }
        defer { ares_freeaddrinfo(result) }
        var found: [String] = []
        var ttl = Int.max
        var next = result.pointee.nodes
        while let node = next, found.count < 16 {
            if let raw = node.pointee.ai_addr,
               let address = SocketAddress(raw: raw, length: UInt32(node.pointee.ai_addrlen)),
               !found.contains(address.host) {
                found.append(address.host)
                ttl = min(ttl, Int(max(0, node.pointee.ai_ttl)))
            }
            next = node.pointee.ai_next
        }
        return found.isEmpty ? .noRecords : .addresses(found, ttlSeconds: ttl == .max ? 0 : ttl)
    }
}

private final class SocketWatch {
    var handler: (Int32, Bool, Bool) -> Void = { _, _, _ in }
}

/// One query in flight: carried through c-ares as its callback's argument.
private final class PendingQuery {
    let channel: DNSChannel
    let type: DNSRecordType
    let completion: (DNSAnswer) -> Void

    init(channel: DNSChannel, type: DNSRecordType, completion: @escaping (DNSAnswer) -> Void) {
        self.channel = channel
        self.type = type
        self.completion = completion
    }

    func finish(_ answer: DNSAnswer) {
        channel.finished()
        completion(answer)
    }
}

public struct DNSChannelError: Error, Sendable {
    public var message: String
}
