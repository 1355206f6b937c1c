import CompactText
import DNSClient
import EventLoop
import Platform
import SIPLocation
import SIPMessage
import Timebase

/// Finds SIP servers (RFC 3263: NAPTR, SRV, A/AAAA) without ever blocking
/// the loop: each lookup is a `SIPServerLocator` whose queries run on one
/// c-ares channel, whose sockets and timeouts this service watches.
final class DNSService {
    private let loop: EventLoop
    private let log: Logger
    /// `[sip] dns_servers`, or nil for /etc/resolv.conf.
    private let servers: String?
    private var channel: DNSChannel?
    private var watched: Set<Int32> = []
    private var timer: TimerID?
    /// A query failed for the network's sake: the next lookup, once none is
    /// running, opens a fresh channel, so that a resolv.conf written after
    /// boot (DHCP) is read.
    private var renewChannel = false
    /// Answers being handed out: c-ares is on the stack, and a channel must
    /// not be destroyed from its own callback.
    private var answering = 0

    init(servers: String?, loop: EventLoop, log: Logger) {
        self.servers = servers
        self.loop = loop
        self.log = log
    }

    /// Looks up `host` (with `port` when the config gave one) for
    /// `transport`; `done` gets the finished locator (its `targets`, or its
    /// `failure`), exactly once: at once for an IP literal, else later from
    /// the loop.
    func locate(_ host: String, port: UInt16?, transport: SIPTransport,
                then done: @escaping (SIPServerLocator) -> Void) {
        var locator = SIPServerLocator(host: host, port: port, transport: transport,
                                       random: { bound in RandomToken.number() % bound })
        let queries = locator.start()
        if locator.isFinished {
            done(locator)
            return
        }
        let lookup = Lookup(locator: locator, done: done)
        run(queries, for: lookup)
    }

    func stop() {
        channel?.close()
        channel = nil
        for fd in watched { loop.unregister(FileDescriptor(rawValue: fd)) }
        watched.removeAll()
        if let timer { loop.cancel(timer) }
        timer = nil
    }

    // MARK: Driving c-ares

    private func run(_ queries: [DNSQuery], for lookup: Lookup) {
        guard let channel = openChannel() else {
            for query in queries { answer(.failed("no DNS resolver"), to: query, for: lookup) }
            return
        }
        for query in queries {
            channel.query(query) { answer in self.answer(answer, to: query, for: lookup) }
        }
        rearm()
    }

    private func answer(_ answer: DNSAnswer, to query: DNSQuery, for lookup: Lookup) {
        if case .failed(let why) = answer {
            renewChannel = true
            log.debug("dns: \(query.name): \(why)")
        }
        answering += 1
        defer { answering -= 1 }
        let more = lookup.locator.receive(answer, for: query)
        if lookup.locator.isFinished {
            guard !lookup.reported else { return }
            lookup.reported = true
            lookup.done(lookup.locator)
        } else if !more.isEmpty {
            run(more, for: lookup)
        }
    }

    private func openChannel() -> DNSChannel? {
        if let channel, !(renewChannel && channel.pendingQueries == 0 && answering == 0) { return channel }
        stop()
        renewChannel = false
        do throws(DNSChannelError) {
            let fresh = try DNSChannel(servers: servers, timeoutMilliseconds: 2000, tries: 2)
            fresh.onSocketChange = { fd, readable, writable in self.watch(fd, readable: readable, writable: writable) }
            channel = fresh
            return fresh
        } catch {
            log.warn("dns: \(error.message)")
            return nil
        }
    }

    private func watch(_ fd: Int32, readable: Bool, writable: Bool) {
        let descriptor = FileDescriptor(rawValue: fd)
        guard readable || writable else {
            if watched.remove(fd) != nil { loop.unregister(descriptor) }
            return
        }
        let events: PollEvents = readable && writable ? [.readable, .writable] : (readable ? .readable : .writable)
        if watched.contains(fd) {
            loop.update(descriptor, events: events)
            return
        }
        watched.insert(fd)
        loop.register(descriptor, for: events) { ready in
            self.channel?.process(readable: ready.contains(.readable) ? fd : nil,
                                  writable: ready.contains(.writable) ? fd : nil)
            self.rearm()
        }
    }

    /// One timer for c-ares' next retry or failure.
    private func rearm() {
        if let timer { loop.cancel(timer) }
        timer = nil
        guard let wait = channel?.nextTimeout else { return }
        timer = loop.schedule(after: wait) {
            self.timer = nil
            self.channel?.processTimeouts()
            self.rearm()
        }
    }
}

/// One lookup: its locator and who waits for it.
private final class Lookup {
    var locator: SIPServerLocator
    let done: (SIPServerLocator) -> Void
    var reported = false

    init(locator: SIPServerLocator, done: @escaping (SIPServerLocator) -> Void) {
        self.locator = locator
        self.done = done
    }
}
