import Config
import DSP
import Media
import EventLoop
import Platform
import SDP
import SIPDigest
import SIPMessage
import SIPTransaction
import SIPUserAgent
import Timebase

/// The daemon's SIP side over UDP: receives and answers requests (OPTIONS
/// now; calls come with call control), and runs each account's
/// registration. All SIP decisions are made by the state machines and the
/// message validator; this class only moves bytes and time.
final class SIPService {
    let loop: EventLoop
    let log: Logger
    let site: SiteConfig
    var socket: UDPSocket?
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var registrations: [(registration: Registration, destination: SocketAddress, timer: TimerID?)] = []
    var tcpListener: FileDescriptor?
    var streams: [Int32: SIPStreamConnection] = [:]
    var keepAliveTimer: TimerID?
    var readScratch = [UInt8](repeating: 0, count: 16_384)
    static let maximumStreams = 32
    var calls: [String: CallEntry] = [:]
    static let maximumCalls = 64
    /// Every request received passes through its server transaction first:
    /// copies are answered from here and never reach a call.
    var serverTransactions = ServerTransactions<ReplyRoute>(capacity: 64)
    var serverTransactionTimer: TimerID?
    /// Call control: ring a free line for a new call; returns its number.
    var onIncomingCall: (String) -> Int? = { _ in nil }
    /// Call control: the call on a line ended (remote: the far end ended it).
    var onCallEnded: (Int, Bool) -> Void = { _, _ in }
    var outgoing: [String: OutgoingEntry] = [:]
    /// Call control: what became of a call a line placed.
    var onOutgoingEvent: (Int, OutgoingCallEvent) -> Void = { _, _ in }
    /// Call control: a line's call media started (or changed), or ended (nil).
    var onMedia: (Int, CallMedia?) -> Void = { _, _ in }
    var keepAlivesSent = 0
    var keepAlivesAnswered = 0
    /// What the validator lets through: the methods handled here, no SIP
    /// extensions (a Require gets 420), SDP and key-press bodies.
    let profile = SIPUASProfile(allowedMethods: [.invite, .ack, .bye, .cancel, .options, .info],
                                        supportedExtensions: [],
                                        acceptedContentTypes: ["application/sdp", "application/dtmf-relay"])
    var droppedMessages = 0
    var callSources = CallSourcePolicy(trusted: [], enforced: false)
    var receivedMessages = 0
    var userAgent: String { site.userAgent ?? "atad/\(Version.number)" }
    static let allowedMethods = AdvertisedCapabilities.allow

    init(site: SiteConfig, loop: EventLoop, log: Logger) {
        self.site = site
        self.loop = loop
        self.log = log
    }

    func start() throws(StartupError) {
        guard let address = SocketAddress(ip: site.sipListenAddress, port: UInt16(site.sipListenPort)) else {
            throw StartupError(message: "sip listen_address \(site.sipListenAddress) is not an IP address")
        }
        // UDP, then TCP on the same address and port. With port 0 the
        // kernel picks a port free for UDP, which TCP may have in use (an
        // outgoing connection's port): then another pick, a few times.
        var attemptsLeft = site.sipListenPort == 0 ? 8 : 1
        var socket: UDPSocket
        var boundAddress: SocketAddress
        while true {
            do throws(Errno) {
                socket = try UDPSocket(binding: address)
            } catch {
                throw StartupError(message: "cannot listen for SIP on \(address.description)/udp: \(error.message)")
            }
            boundAddress = (try? socket.localAddress()) ?? address
            do throws(Errno) {
                tcpListener = try TCPSocket.listen(on: boundAddress)
                break
            } catch {
                socket.close()
                attemptsLeft -= 1
                if error != .addressInUse || attemptsLeft == 0 {
                    throw StartupError(message: "cannot listen for SIP on \(boundAddress.description)/tcp: \(error.message)")
                }
            }
        }
        self.socket = socket
        loop.register(socket.descriptor, for: .readable) { _ in self.receive() }
        if let tcpListener { loop.register(tcpListener, for: .readable) { _ in self.acceptStreams() } }
        log.info("SIP listening on \(boundAddress.description)/udp and /tcp")
        callSources = makeCallSourcePolicy()
        scheduleKeepAlive()
        for account in site.accounts where account.register {
            startRegistration(account, localPort: boundAddress.port)
        }
    }

    /// Sends un-REGISTERs; `pending` says whether any still waits for its answer.
    func unregisterAll() {
        let now = loop.now
        for index in registrations.indices {
            let actions = registrations[index].registration.unregister(at: now)
            perform(actions, index: index)
            rearm(index)
        }
    }

    var unregistrationPending: Bool {
        registrations.contains { if case .unregistering = $0.registration.state { return true } else { return false } }
    }

    func stop() {
        for entry in registrations { if let timer = entry.timer { loop.cancel(timer) } }
        registrations.removeAll()
        for entry in Array(calls.values) { endCall(entry) }
        for entry in Array(outgoing.values) { endCall(entry) }
        if let socket {
            loop.unregister(socket.descriptor)
            socket.close()
        }
        socket = nil
        for fd in Array(streams.keys) { closeStream(fd, reason: nil) }
        if let tcpListener {
            loop.unregister(tcpListener)
            tcpListener.close()
        }
        tcpListener = nil
        if let keepAliveTimer { loop.cancel(keepAliveTimer) }
        keepAliveTimer = nil
        if let serverTransactionTimer { loop.cancel(serverTransactionTimer) }
        serverTransactionTimer = nil
    }

    /// `sip: ADDRESS/udp`, then `account NAME: STATE` lines, for `status`.
    var statusLines: [String] {
        let now = loop.now
        var lines: [String] = []
        if let socket, let bound = try? socket.localAddress() { lines.append("sip: \(bound.description)/udp") }
        if site.keepAliveSeconds > 0 && !registrations.isEmpty {
            let method = site.keepAliveWithOptions ? "options" : "crlf"
            let answered = site.keepAliveWithOptions ? ", \(keepAlivesAnswered) answered" : ""
            lines.append("sip: keep-alive every \(site.keepAliveSeconds) s (\(method)): \(keepAlivesSent) sent\(answered)")
        }
        if callSources.refused > 0 {
            lines.append("sip: refused \(callSources.refused) calls not from a registrar or proxy")
        }
        lines += registrations.map { "account \($0.registration.settings.accountName): \($0.registration.statusText(at: now))" }
        for account in site.accounts where !account.register {
            lines.append("account \(account.name): not registering (register = no)")
        }
        return lines
    }

    // MARK: Registration

    func startRegistration(_ account: SiteConfig.Account, localPort: UInt16) {
        let (host, port) = SIPService.hostAndPort(account.outboundProxy ?? account.registrar ?? account.domain)
        let destination: SocketAddress
        switch SocketAddress.resolve(host, port: port) {
        case .success(let address): destination = address
        case .failure(let error):
            log.error("account \(account.name): \(error.message); not registering")
            return
        }
        let local = destination.localAddressToward()?.host ?? site.sipListenAddress
        let settings = RegistrationSettings(
            accountName: account.name, user: account.user, domain: account.domain,
            authUser: account.authUser, password: account.password, displayName: account.displayName,
            registrarHost: host, registrarPort: port, transport: account.transport,
            expires: account.expires, localHost: local, localPort: localPort, userAgent: userAgent)
        var registration = Registration(settings: settings, makeToken: { RandomToken.hex() })
        let actions = registration.start(at: loop.now)
        registrations.append((registration, destination, nil))
        perform(actions, index: registrations.count - 1)
        rearm(registrations.count - 1)
    }

    /// The hosts new calls may come from: every account's outbound proxy and
    /// registrar, and the peer of a direct (`register = no`) account.
    /// Enforced while some account registers or names a proxy, unless
    /// `accept_calls_from = anyone`. Names are resolved once, at start-up.
    func makeCallSourcePolicy() -> CallSourcePolicy {
        let enforced = site.acceptCallsOnlyFromProxies
            && site.accounts.contains { $0.register || $0.outboundProxy != nil }
        guard enforced else { return CallSourcePolicy(trusted: [], enforced: false) }
        var names: [String] = []
        for account in site.accounts {
            if let proxy = account.outboundProxy { names.append(proxy) }
            names.append(account.register ? (account.registrar ?? account.domain) : account.domain)
        }
        var trusted: [SocketAddress] = []
        for name in names {
            let (host, port) = SIPService.hostAndPort(name)
            if case .success(let address) = SocketAddress.resolve(host, port: port),
               !trusted.contains(where: { $0.sameHost(as: address) }) {
                trusted.append(address)
            }
        }
        log.info("SIP: new calls are taken only from " + trusted.map { $0.host }.joined(separator: ", ")
                 + " (accept_calls_from = proxy)")
        return CallSourcePolicy(trusted: trusted, enforced: true)
    }

    /// "host", "host:port", "[v6]:port" -> (host, port); port 5060 when absent.
    static func hostAndPort(_ text: String) -> (String, UInt16) {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            let host = String(decoding: bytes[1..<close], as: UTF8.self)
            let rest = bytes[(close + 1)...]
            if rest.first == UInt8(ascii: ":"), let port = UInt16(String(decoding: rest.dropFirst(), as: UTF8.self)) {
                return (host, port)
            }
            return (host, 5060)
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.lastIndex(of: UInt8(ascii: ":")) == colon,
           let port = UInt16(String(decoding: bytes[(colon + 1)...], as: UTF8.self)) {
            return (String(decoding: bytes[..<colon], as: UTF8.self), port)
        }
        return (text, 5060)
    }

    func rearm(_ index: Int) {
        if let timer = registrations[index].timer { loop.cancel(timer) }
        registrations[index].timer = nil
        guard let deadline = registrations[index].registration.nextDeadline else { return }
        let name = registrations[index].registration.settings.accountName
        registrations[index].timer = loop.schedule(at: deadline) {
            guard let current = self.registrations.firstIndex(where: { $0.registration.settings.accountName == name }) else { return }
            self.registrations[current].timer = nil
            let actions = self.registrations[current].registration.advance(to: self.loop.now)
            self.perform(actions, index: current)
            self.rearm(current)
        }
    }

    func perform(_ actions: [RegistrationAction], index: Int) {
        for action in actions {
            switch action {
            case .send(let bytes):
                let entry = registrations[index]
                if entry.registration.settings.transport == "tcp" {
                    sendOverStream(bytes, to: entry.destination)
                } else {
                    send(bytes, to: entry.destination)
                }
            case .logInfo(let text): log.info(text)
            case .logWarning(let text): log.warn(text)
            case .logDebug(let text): log.debug(text)
            }
        }
    }

    // MARK: Transport

    func send(_ bytes: [UInt8], to destination: SocketAddress) {
        guard let socket else { return }
        trace(sent: true, bytes, destination, "udp")
        do throws(Errno) {
            if try !socket.send(bytes, to: destination) { log.debug("SIP: send buffer full, dropped a message") }
        } catch {
            log.debug("SIP: sending to \(destination.description): \(error.message)")
        }
    }

    /// Reads every waiting datagram (bounded per wake-up, so a flood cannot
    /// starve the rest of the loop).
    func receive() {
        guard let socket else { return }
        for _ in 0..<64 {
            let received: (count: Int, from: SocketAddress, truncated: Bool)?
            do throws(Errno) {
                received = try socket.receive(into: &buffer)
            } catch {
                log.debug("SIP: receive: \(error.message)")
                return
            }
            guard let (count, source, truncated) = received else { return }
            receivedMessages += 1
            if truncated {
                droppedMessages += 1
                log.debug("SIP: dropped an oversized datagram from \(source.description)")
                continue
            }
            // Keep-alives (CRLF) and other empty datagrams.
            if count <= 4 { continue }
            handle(Array(buffer[0..<count]), from: source)
        }
    }

    /// At debug level, one log line per SIP message sent or received: its
    /// start line only (no headers, bodies or credentials), so a call's
    /// exchange can be followed without a packet capture.
    func trace(sent: Bool, _ bytes: [UInt8], _ peer: SocketAddress, _ transport: String) {
        guard log.level >= .debug, let line = SIPLogLine.startLine(of: bytes) else { return }
        log.debug(sent ? "sip: -> \(line) (to \(peer.description) \(transport))"
                       : "sip: <- \(line) (from \(peer.description) \(transport))")
    }

    func handle(_ bytes: [UInt8], from source: SocketAddress) {
        trace(sent: false, bytes, source, "udp")
        switch SIPParseOutcome.evaluate(bytes, framing: .datagram, uas: profile) {
        case .request(var request):
            request.source = SIPSource(host: source.host, port: source.port)
            handleRequest(request, from: source, stream: nil)
        case .response(let response):
            dispatch(response)
        case .reject(let rejection):
            log.debug("SIP: \(rejection.status) \(rejection.reason) to \(source.description)")
            var reply = rejection.response(toTag: RandomToken.hex(bytes: 4))
            reply.add(.server, userAgent)
            send(reply.serialize(), to: source)
        case .drop(let reason):
            droppedMessages += 1
            log.debug("SIP: dropped a message from \(source.description): \(reason)")
        case .needMoreData:
            droppedMessages += 1
        }
    }

    func dispatch(_ response: SIPMessage) {
        if let method = response.cseq?.method, method == .invite || method == .cancel || method == .bye || method == .info,
           let callID = response.callID.map({ String(decoding: $0, as: UTF8.self) }), let entry = outgoing[callID] {
            perform(entry.call.handle(response: response, at: loop.now), on: entry)
            return
        }
        if let method = response.cseq?.method, method == .bye || method == .info,
           let callID = response.callID.map({ String(decoding: $0, as: UTF8.self) }), let entry = calls[callID] {
            perform(entry.call.handle(response: response, at: loop.now), on: entry)
            return
        }
        if response.cseq?.method == .options,
           response.topVia?.branch?.starts(with: KeepAliveMethod.branchPrefix.utf8) == true {
            keepAlivesAnswered += 1
            return
        }
        guard let branch = response.topVia?.branch.map({ String(decoding: $0, as: UTF8.self) }),
              let index = registrations.firstIndex(where: { $0.registration.branch == branch }),
              response.cseq?.method == .register else {
            droppedMessages += 1
            return
        }
        let actions = registrations[index].registration.handle(response: response, at: loop.now)
        perform(actions, index: index)
        rearm(index)
    }

    /// Requests are answered statelessly for now: OPTIONS with what we
    /// support; calls are not taken until call control lands. Returns the
    /// response to send back the way the request came, if any.
    func answer(_ request: SIPMessage) -> [UInt8]? {
        guard let method = request.method else { return nil }
        let toTag = RandomToken.hex(bytes: 4)
        var reply: SIPMessageBuilder
        switch method {
        case .ack:
            return nil
        case .options:
            reply = .response(to: request, status: 200, reason: "OK", toTag: toTag)
            AdvertisedCapabilities.add(to: &reply)
            reply.add(.accept, "application/sdp, application/dtmf-relay")
            reply.add(.acceptEncoding, "identity")
        case .invite:
            reply = .response(to: request, status: 480, reason: "Temporarily Unavailable", toTag: toTag)
        case .bye, .cancel, .info:
            reply = .response(to: request, status: 481, reason: "Call/Transaction Does Not Exist", toTag: toTag)
        default:
            reply = .response(to: request, status: 405, reason: "Method Not Allowed", toTag: toTag)
            reply.add(.allow, SIPService.allowedMethods)
        }
        reply.add(.server, userAgent)
        return reply.serialize()
    }
}
