import CallControl
import CompactText
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

/// The daemon's SIP side: the UDP socket and TCP listener, requests in
/// through the server transactions, then to call control (`onCallRequest`)
/// or answered here (OPTIONS, 405); responses to call control
/// (`onCallResponse`) or to the registrations and keep-alives this
/// service runs. What a call does is decided in CallControl.
final class SIPService {
    let loop: EventLoop
    let log: Logger
    /// The running config; a reload replaces it (`reconfigure`).
    var site: SiteConfig
    var socket: UDPSocket?
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var registrations: [RegistrationEntry] = []
    /// Message-summary subscriptions (`mwi = subscribe` accounts).
    var subscriptions: [SubscriptionEntry] = []
    var tcpListener: FileDescriptor?
    var streams: [Int32: SIPStreamConnection] = [:]
    var keepAliveTimer: TimerID?
    var readScratch = [UInt8](repeating: 0, count: 16_384)
    static let maximumStreams = 32
    /// Connections others open to us take at most this many of the
    /// `maximumStreams`: the rest stay for our own (registrations, calls).
    static let maximumInboundStreams = 24
    /// An inbound connection quiet this long, carrying no call, is closed.
    static let inboundIdleLimit = Interval.seconds(120)
    var streamSweepTimer: TimerID?
    /// Every request received passes through its server transaction first:
    /// copies are answered from here and never reach a call.
    var serverTransactions = ServerTransactions<ReplyRoute>(capacity: 64)
    var serverTransactionTimer: TimerID?
    /// Call control: a request that may be a call's (false: it is not,
    /// and is answered here); a response that may be (false: it is not).
    var onCallRequest: (SIPMessage, RequestOrigin<SIPRoute>) -> Bool = { _, _ in false }
    var onCallResponse: (SIPMessage) -> Bool = { _ in false }
    /// Call control: a TCP connection (its fd) closed.
    var onConnectionClosed: (Int32) -> Void = { _ in }
    /// Call control: a TCP connection we opened (or tried to) to this
    /// server failed.
    var onStreamFailed: (SocketAddress) -> Void = { _ in }
    /// Call control: whether a call travels over this TCP connection (fd).
    var connectionCarriesCall: (Int32) -> Bool = { _ in false }
    /// Finds registrars and proxies (NAPTR, SRV, A/AAAA) off the loop's back.
    var dns: DNSService
    /// Direct accounts' servers, by account name, as last looked up.
    var directRoutes: [String: DirectRoute] = [:]
    var keepAlivesSent = 0
    var keepAlivesAnswered = 0
    /// What the validator lets through: the methods handled here, two SIP
    /// extensions (reliable provisional responses and session timers; a
    /// Require of any other gets 420), SDP, key-press and message-summary
    /// bodies, and the sipfrag of a transfer's NOTIFY.
    let profile = SIPUASProfile(allowedMethods: [.invite, .ack, .bye, .cancel, .options, .info, .prack, .update, .notify, .refer],
                                        supportedExtensions: ["100rel", "timer"],
                                        acceptedContentTypes: ["application/sdp", "application/dtmf-relay",
                                                               "application/simple-message-summary", "message/sipfrag"])
    var droppedMessages = 0
    /// The last message summary of each account (by name; "" without
    /// accounts), in the order they came, and the hook that tells the
    /// lines. A list: there are a few accounts, and a dictionary of them
    /// would cost the firmware kilobytes of specialized hashing code.
    var messageSummaries: [(account: String, summary: MessageSummary)] = []
    var onMessageWaiting: (String?, MessageSummary) -> Void = { _, _ in }
    var callSources = CallSourcePolicy(trusted: [], enforced: false)
    var receivedMessages = 0
    var userAgent: String { site.userAgent ?? "atad/\(Version.number)" }
    /// The port SIP listens on (UDP and TCP), once started.
    var boundPort: UInt16? { (try? socket?.localAddress())?.port }
    static let allowedMethods = AdvertisedCapabilities.allow

    init(site: SiteConfig, loop: EventLoop, log: Logger) {
        self.site = site
        self.loop = loop
        self.log = log
        dns = DNSService(servers: site.dnsServers, loop: loop, log: log)
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
        for account in site.accounts where account.messageWaiting == .subscribe {
            startSubscription(account, localPort: boundAddress.port)
        }
    }

    func stop() {
        for entry in registrations { if let timer = entry.timer { loop.cancel(timer) } }
        registrations.removeAll()
        for entry in subscriptions { if let timer = entry.timer { loop.cancel(timer) } }
        subscriptions.removeAll()
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
        if let streamSweepTimer { loop.cancel(streamSweepTimer) }
        streamSweepTimer = nil
        dns.stop()
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
        lines += registrations.map {
            "account \($0.accountName)\($0.retiring ? " (before the reload)" : ""): \($0.registration.statusText(at: now))"
        }
        for account in site.accounts where !account.register {
            lines.append("account \(account.name): not registering (register = no)")
        }
        return lines + subscriptionStatusLines + messageWaitingStatusLines
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
        if onCallResponse(response) { return }
        if response.cseq?.method == .options,
           let branch = response.topVia?.branch, branch.starts(with: KeepAliveMethod.branchPrefix.utf8) {
            keepAlivesAnswered += 1
            let token = String(decoding: branch.dropFirst(KeepAliveMethod.branchPrefix.utf8.count), as: UTF8.self)
            if let entry = registrations.first(where: { $0.keepAliveToken == token }) {
                entry.keepAliveToken = nil
                entry.keepAliveMisses = 0
                perform(entry.registration.keepAliveAnswered(response, at: loop.now), on: entry)
                rearm(entry)
            }
            return
        }
        guard let branch = response.topVia?.branch.map({ String(decoding: $0, as: UTF8.self) }) else {
            droppedMessages += 1
            return
        }
        guard let entry = registrations.first(where: { $0.registration.branch == branch }),
              response.cseq?.method == .register else {
            if !dispatchSubscriptionResponse(response, branch: branch) { droppedMessages += 1 }
            return
        }
        perform(entry.registration.handle(response: response, at: loop.now), on: entry)
        rearm(entry)
    }

    /// The answer to a request no call took: OPTIONS with what we support,
    /// 481 to BYE, CANCEL, INFO, PRACK or UPDATE for no call, 405 to other
    /// methods.
    /// Returns the response to send back the way the request came, if any.
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
        case .bye, .cancel, .info, .prack, .update:
            reply = .response(to: request, status: 481, reason: "Call/Transaction Does Not Exist", toTag: toTag)
        case .refer:
            // A transfer is taken only inside a call (RFC 3515 leaves the rest to policy).
            reply = .response(to: request, status: 403, reason: "Forbidden Outside A Call", toTag: toTag)
        default:
            reply = .response(to: request, status: 405, reason: "Method Not Allowed", toTag: toTag)
            reply.add(.allow, SIPService.allowedMethods)
        }
        reply.add(.server, userAgent)
        return reply.serialize()
    }
}
