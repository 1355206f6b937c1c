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
    private let loop: EventLoop
    private let log: Logger
    private let site: SiteConfig
    private var socket: UDPSocket?
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var registrations: [(registration: Registration, destination: SocketAddress, timer: TimerID?)] = []
    private var tcpListener: FileDescriptor?
    private var streams: [Int32: SIPStreamConnection] = [:]
    private var keepAliveTimer: TimerID?
    private var readScratch = [UInt8](repeating: 0, count: 16_384)
    static let maximumStreams = 32
    private var calls: [String: CallEntry] = [:]
    static let maximumCalls = 64
    /// Call control: ring a free line for a new call; returns its number.
    var onIncomingCall: (String) -> Int? = { _ in nil }
    /// Call control: the call on a line ended (remote: the far end ended it).
    var onCallEnded: (Int, Bool) -> Void = { _, _ in }
    private var outgoing: [String: OutgoingEntry] = [:]
    /// Call control: what became of a call a line placed.
    var onOutgoingEvent: (Int, OutgoingCallEvent) -> Void = { _, _ in }
    /// Call control: a line's call media started (or changed), or ended (nil).
    var onMedia: (Int, CallMedia?) -> Void = { _, _ in }
    private var keepAlivesSent = 0
    private var keepAlivesAnswered = 0
    /// What the validator lets through: the methods handled here, no SIP
    /// extensions (a Require gets 420), SDP and key-press bodies.
    private let profile = SIPUASProfile(allowedMethods: [.invite, .ack, .bye, .cancel, .options, .info],
                                        supportedExtensions: [],
                                        acceptedContentTypes: ["application/sdp", "application/dtmf-relay"])
    private(set) var droppedMessages = 0
    private var callSources = CallSourcePolicy(trusted: [], enforced: false)
    private(set) var receivedMessages = 0
    private var userAgent: String { site.userAgent ?? "atad/\(Version.number)" }
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

    private func startRegistration(_ account: SiteConfig.Account, localPort: UInt16) {
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
    private func makeCallSourcePolicy() -> CallSourcePolicy {
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

    private func rearm(_ index: Int) {
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

    private func perform(_ actions: [RegistrationAction], index: Int) {
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

    private func send(_ bytes: [UInt8], to destination: SocketAddress) {
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
    private func receive() {
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
    private func trace(sent: Bool, _ bytes: [UInt8], _ peer: SocketAddress, _ transport: String) {
        guard log.level >= .debug, let line = SIPLogLine.startLine(of: bytes) else { return }
        log.debug(sent ? "sip: -> \(line) (to \(peer.description) \(transport))"
                       : "sip: <- \(line) (from \(peer.description) \(transport))")
    }

    private func handle(_ bytes: [UInt8], from source: SocketAddress) {
        trace(sent: false, bytes, source, "udp")
        switch SIPParseOutcome.evaluate(bytes, framing: .datagram, uas: profile) {
        case .request(var request):
            request.source = SIPSource(host: source.host, port: source.port)
            if handleCallRequest(request, from: source, stream: nil) { return }
            if let reply = answer(request) { send(reply, to: source) }
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

    private func dispatch(_ response: SIPMessage) {
        if let method = response.cseq?.method, method == .invite || method == .bye || method == .info,
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
    private func answer(_ request: SIPMessage) -> [UInt8]? {
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

    // MARK: Calls

    /// INVITE, ACK, CANCEL and BYE over UDP go to the call they belong to;
    /// a new INVITE rings a line. Returns false for everything else.
    private func handleCallRequest(_ request: SIPMessage, from source: SocketAddress, stream: Int32?) -> Bool {
        guard let method = request.method, let callIDBytes = request.callID else { return false }
        let callID = String(decoding: callIDBytes, as: UTF8.self)
        if let placed = outgoing[callID] {
            switch method {
            case .bye:
                for action in placed.call.byeReceived(request) {
                    if case .send(let bytes) = action { reply(bytes, to: source, stream: stream) }
                    if case .event(let event) = action { deliver(event, for: placed) }
                }
                return true
            case .ack:
                return true
            case .info:
                reply(infoReceived(request, media: placed.media, line: placed.line), to: source, stream: stream)
                return true
            case .invite where request.to?.tag != nil:
                // Our own INVITE is still in progress: glare (RFC 3261 §14.2).
                if placed.call.state == .calling || placed.call.state == .ringing {
                    reply(refuseOverlappingInvite(request, status: 491, reason: "Request Pending"), to: source, stream: stream)
                    return true
                }
                let (response, accepted) = reinvite(request, media: placed.media, contact: placed.contact, line: placed.line)
                if accepted { placed.call.reinviteAccepted(request) }
                reply(response, to: source, stream: stream)
                return true
            default:
                return false
            }
        }
        let entry = calls[callID]
        switch method {
        case .invite:
            if let entry {
                if request.to?.tag == nil { perform(entry.call.inviteRetransmitted(), on: entry) } else if entry.call.state == .ringing {
                    // A re-INVITE before we answered the first (§14.2): 500 with Retry-After.
                    reply(refuseOverlappingInvite(request, status: 500, reason: "Server Internal Error"), to: source, stream: stream)
                } else {
                    let (response, accepted) = reinvite(request, media: entry.media, contact: entry.contact, line: entry.line)
                    if accepted { entry.call.reinviteAccepted(request) }
                    reply(response, to: source, stream: stream)
                }
                return true
            }
            guard request.to?.tag == nil else { return false }
            guard callSources.admits(source) else {
                refuseCall(request, callID: callID, from: source, stream: stream)
                return true
            }
            startCall(request, callID: callID, from: source, stream: stream)
            return true
        case .ack:
            guard let entry else { return false }
            perform(entry.call.ackReceived(at: loop.now), on: entry)
            return true
        case .cancel:
            guard let entry else { return false }
            perform(entry.call.cancelReceived(request), on: entry)
            return true
        case .bye:
            guard let entry else { return false }
            perform(entry.call.byeReceived(request), on: entry)
            return true
        case .info:
            guard let entry, request.to?.tag != nil else { return false }
            reply(infoReceived(request, media: entry.media, line: entry.line), to: source, stream: stream)
            return true
        default:
            return false
        }
    }

    /// A re-INVITE inside a call (hold, resume, a new address or codec):
    /// answered from the call's SDP session, and the media follows. A
    /// retransmission gets the same response; an offer we cannot take gets
    /// 488 and the call goes on as it was (RFC 3261 §14.2).
    /// `accepted`: a new re-INVITE got 200 (the caller refreshes the
    /// dialog's remote target from it).
    private func reinvite(_ request: SIPMessage, media: CallMedia, contact: String,
                          line: Int) -> (response: [UInt8], accepted: Bool) {
        let cseq = request.cseq?.number ?? 0
        if let last = media.lastReinvite, last.cseq == cseq { return (last.response, false) }
        var response: SIPMessageBuilder
        var accepted = false
        var offer: SessionDescription? = nil
        if !request.body.isEmpty {
            do throws(SDPError) { offer = try SessionDescription(parsing: Array(request.body)) } catch {
                log.info("line \(line): re-INVITE with invalid SDP: \(error.message)")
            }
        }
        if let offer, case .success(let answer) = media.sdp.answer(to: offer, ours: media.capabilities) {
            let before = media.session?.media
            media.start(answer.media, settings: MediaSession.Settings())
            if before?.heldByRemote != answer.media.heldByRemote {
                log.info("line \(line): " + (answer.media.heldByRemote ? "the far end put the call on hold" : "the far end resumed the call"))
            }
            onMedia(line, media)
            response = .response(to: request, status: 200, reason: "OK")
            response.add(.contact, "<\(contact)>")
            response.add(.contentType, "application/sdp")
            response.body = answer.sdp.serializedBytes()
            response.add(.supported, AdvertisedCapabilities.supported)
            accepted = true
        } else {
            response = .response(to: request, status: 488, reason: "Not Acceptable Here")
        }
        response.add(.allow, SIPService.allowedMethods)
        response.add(.server, userAgent)
        let bytes = response.serialize()
        media.lastReinvite = (cseq, bytes)
        return (bytes, accepted)
    }

    /// The answer to a re-INVITE that overlaps an INVITE transaction still in
    /// progress on the dialog (RFC 3261 §14.2): 491 when it is ours, 500 with
    /// a random Retry-After of 0–10 s when it is the far end's first INVITE.
    private func refuseOverlappingInvite(_ request: SIPMessage, status: Int, reason: String) -> [UInt8] {
        var response = SIPMessageBuilder.response(to: request, status: status, reason: reason)
        if status == 500 { response.add(.retryAfter, "\(RandomToken.number() % 11)") }
        response.add(.server, userAgent)
        return response.serialize()
    }

    /// INFO inside a call: a key press (`application/dtmf-relay`) is played
    /// to the line; other INFO packages are refused with 415.
    private func infoReceived(_ request: SIPMessage, media: CallMedia, line: Int) -> [UInt8] {
        var response: SIPMessageBuilder
        let type = request.value(of: .contentType).map { Array($0).map { $0 | 0x20 } } ?? []
        if type.starts(with: Array("application/dtmf-relay".utf8)), let relay = DTMFRelayBody(parsing: request.body),
           let digit = DTMFDigit(ascii: relay.key) {
            media.session?.playKey(digit, milliseconds: relay.durationMilliseconds)
            log.info("line \(line): key \(digit.character) from the far end (SIP INFO, \(relay.durationMilliseconds) ms)")
            response = .response(to: request, status: 200, reason: "OK")
        } else {
            response = .response(to: request, status: 415, reason: "Unsupported Media Type")
            response.add(.accept, "application/dtmf-relay")
        }
        response.add(.server, userAgent)
        return response.serialize()
    }

    /// 403 to an INVITE from a host that is not a registrar or proxy of ours.
    private func refuseCall(_ invite: SIPMessage, callID: String, from source: SocketAddress, stream: Int32?) {
        if callSources.noteRefusal(from: source, callID: callID) {
            log.info("SIP: refused a call from \(source.description): not a registrar or proxy of ours (accept_calls_from = proxy)")
        } else {
            log.debug("SIP: refused INVITE \(callID) from \(source.description)")
        }
        var response = SIPMessageBuilder.response(to: invite, status: 403, reason: "Forbidden", toTag: RandomToken.hex(bytes: 4))
        response.add(.server, userAgent)
        reply(response.serialize(), to: source, stream: stream)
    }

    private func startCall(_ invite: SIPMessage, callID: String, from source: SocketAddress, stream: Int32?) {
        func refuse(_ status: Int, _ reason: String) {
            var response = SIPMessageBuilder.response(to: invite, status: status, reason: reason, toTag: RandomToken.hex(bytes: 4))
            response.add(.server, userAgent)
            reply(response.serialize(), to: source, stream: stream)
        }
        guard calls.count < SIPService.maximumCalls else { return refuse(503, "Service Unavailable") }
        let localHost = source.localAddressToward()?.host ?? site.sipListenAddress
        guard let localPort = (try? socket?.localAddress())?.port else { return refuse(500, "Server Internal Error") }
        // The media sockets first, so the answer names ports that are really ours.
        guard let media = CallMedia.open(host: localHost, loop: loop) else { return refuse(500, "Server Internal Error") }
        let offer: SessionDescription
        do throws(SDPError) {
            offer = try SessionDescription(parsing: Array(invite.body))
        } catch {
            media.close()
            log.debug("SIP: refusing INVITE \(callID): SDP: \(error.message)")
            return refuse(488, "Not Acceptable Here")
        }
        let account = incomingAccount
        media.capabilities = capabilities(for: account, host: localHost, port: media.localPort)
        let answer: SDPAnswer
        switch media.sdp.answer(to: offer, ours: media.capabilities) {
        case .success(let settled): answer = settled
        case .failure(let error):
            media.close()
            log.info("SIP: refusing INVITE \(callID): \(error.message)")
            return refuse(488, "Not Acceptable Here")
        }
        guard let line = onIncomingCall(callID) else {
            media.close()
            return refuse(486, "Busy Here")
        }
        let host = localHost.utf8.contains(UInt8(ascii: ":")) ? "[\(localHost)]" : localHost
        let transportParameter = stream == nil ? "" : ";transport=tcp"
        let contact = "sip:atad@\(host):\(localPort)\(transportParameter)"
        let lineAccount = site.lineSettings(line).account.flatMap(account(named:)) ?? account
        let call = IncomingCall(invite: invite, toTag: RandomToken.hex(bytes: 6), contact: contact,
                                userAgent: userAgent, answerSDP: answer.sdp.serializedBytes(),
                                localHost: localHost, localPort: localPort, transport: stream == nil ? "udp" : "tcp",
                                timers: stream == nil ? .unreliable : .reliable, digest: lineAccount.flatMap(digest(for:)),
                                makeToken: { RandomToken.hex() })
        let entry = CallEntry(call: call, source: source, stream: stream, line: line, media: media, contact: contact)
        calls[callID] = entry
        media.start(answer.media, settings: mediaSettings(for: lineAccount, host: localHost))
        media.onKeyReleased = { digit, milliseconds in self.keyReleased(digit, milliseconds: milliseconds, callID: callID) }
        onMedia(line, media)
        log.info("line \(line): incoming call \(callID)")
        perform(entry.call.start(), on: entry)
    }

    /// Call control: the handset on `line` answered.
    func answerCall(line: Int) {
        guard let entry = calls.values.first(where: { $0.line == line }) else { return }
        perform(entry.call.answer(at: loop.now), on: entry)
    }

    /// Call control: the handset on `line` hung up.
    func hangUpCall(line: Int) {
        if let placed = outgoing.values.first(where: { $0.line == line }) {
            perform(placed.call.hangUp(at: loop.now), on: placed)
            return
        }
        guard let entry = calls.values.first(where: { $0.line == line }) else { return }
        perform(entry.call.hangUp(at: loop.now), on: entry)
    }

    /// The account's digest credentials, for a far end that challenges the
    /// requests we send inside an incoming call (INFO).
    private func digest(for account: SiteConfig.Account) -> DigestSession? {
        guard let password = account.password else { return nil }
        return DigestSession(credentials: DigestCredentials(username: account.authUser ?? account.user, password: password))
    }

    /// With `dtmf_relay = info`: a key released on a call's line goes to
    /// the far end as SIP INFO (sent at release, so Duration is what the
    /// handset really sounded).
    private func keyReleased(_ digit: DTMFDigit, milliseconds: Int, callID: String) {
        let key = DTMFRelayBody(key: digit.rawValue, durationMilliseconds: max(milliseconds, 1))
        if let entry = outgoing[callID] {
            log.debug("line \(entry.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO")
            perform(entry.call.sendKey(key, at: loop.now), on: entry)
        } else if let entry = calls[callID] {
            log.debug("line \(entry.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO")
            perform(entry.call.sendKey(key, at: loop.now), on: entry)
        }
    }

    /// What became of keys sent by INFO: a refusal sends the next keys in
    /// band (one log line per call), a full queue drops a key.
    private func keysNotice(_ output: DTMFInfoOutput, line: Int, media: CallMedia) {
        switch output {
        case .refused(let reason, let lost):
            media.session?.sendKeysInBand()
            log.warn("line \(line): the far end refused keys by SIP INFO (\(reason)); keys go in band for the rest of the call"
                     + (lost > 0 ? "; \(lost) waiting dropped" : ""))
        case .dropped(let key):
            log.warn("line \(line): key \(String(decoding: [key], as: UTF8.self)) dropped: "
                     + "\(DTMFInfoSender.queueLimit) keys already wait for the far end to answer INFO")
        case .dialogGone(let reason):
            log.info("line \(line): \(reason)")
        case .send:
            break
        }
    }

    private func perform(_ actions: [CallAction], on entry: CallEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                reply(bytes, to: entry.source, stream: entry.stream)
            case .keys(let output):
                keysNotice(output, line: entry.line, media: entry.media)
            case .ended(let reason, let remote):
                log.info("line \(entry.line): call \(entry.call.callID) ended: \(reason)")
                endCall(entry)
                onCallEnded(entry.line, remote)
                return
            }
        }
        rearm(entry)
    }

    // MARK: Calls we place

    /// Call control: `line` dialed `number`. False when no account can
    /// carry the call (the line then plays congestion).
    func placeCall(line: Int, number: String) -> Bool {
        let accountName = site.lineSettings(line).account ?? site.accounts.first?.name
        guard let account = accountName.flatMap(account(named:)), let (settings, destination) = route(for: account) else {
            log.warn("line \(line): no SIP account to call \(number) through")
            return false
        }
        guard let media = CallMedia.open(host: settings.localHost, loop: loop) else {
            log.warn("line \(line): no port for the call's media")
            return false
        }
        media.capabilities = capabilities(for: account, host: settings.localHost, port: media.localPort)
        let offer = media.sdp.makeOffer(media.capabilities)
        let call = OutgoingCall(settings: settings, number: number, offer: offer.serializedBytes(),
                                makeToken: { RandomToken.hex() })
        let entry = OutgoingEntry(call: call, destination: destination, transport: settings.transport, line: line,
                                  media: media, mediaSettings: mediaSettings(for: account, host: settings.localHost),
                                  contact: settings.contactURI)
        outgoing[call.callID] = entry
        let callID = call.callID
        media.onKeyReleased = { digit, milliseconds in self.keyReleased(digit, milliseconds: milliseconds, callID: callID) }
        log.info("line \(line): calling \(number) through account \(settings.accountName)")
        perform(entry.call.start(at: loop.now), on: entry)
        return true
    }

    /// How calls through `account` travel: its registration's settings and
    /// destination, or for an account that does not register (direct mode)
    /// the same built from its proxy, registrar or domain.
    private func route(for account: SiteConfig.Account) -> (RegistrationSettings, SocketAddress)? {
        if let entry = registrations.first(where: { $0.registration.settings.accountName == account.name }) {
            return (entry.registration.settings, entry.destination)
        }
        let (host, port) = SIPService.hostAndPort(account.outboundProxy ?? account.registrar ?? account.domain)
        let destination: SocketAddress
        switch SocketAddress.resolve(host, port: port) {
        case .success(let address): destination = address
        case .failure(let error):
            log.warn("account \(account.name): \(error.message)")
            return nil
        }
        let localPort = (try? socket?.localAddress())?.port ?? UInt16(site.sipListenPort)
        let local = destination.localAddressToward()?.host ?? site.sipListenAddress
        let settings = RegistrationSettings(
            accountName: account.name, user: account.user, domain: account.domain,
            authUser: account.authUser, password: account.password, displayName: account.displayName,
            registrarHost: host, registrarPort: port, transport: account.transport,
            expires: account.expires, localHost: local, localPort: localPort, userAgent: userAgent)
        return (settings, destination)
    }

    private func account(named name: String) -> SiteConfig.Account? {
        site.accounts.first { $0.name == name }
    }

    /// The account whose media preferences answer an incoming offer (the
    /// line is chosen after the answer is known): the first one.
    private var incomingAccount: SiteConfig.Account? { site.accounts.first }

    /// What we offer or accept, from an account's codec and ptime settings.
    private func capabilities(for account: SiteConfig.Account?, host: String, port: UInt16) -> MediaCapabilities {
        let codecs: [AudioCodec] = account?.codec == "pcma" ? [.pcma, .pcmu] : [.pcmu, .pcma]
        // Comfort noise (RFC 3389) is accepted: the far end's silence
        // descriptors are played as noise at their level (we send none).
        return MediaCapabilities(address: ConnectionAddress(inferring: host), rtpPort: port, codecs: codecs,
                                 comfortNoise: true, ptime: UInt32(account?.ptime ?? 20))
    }

    /// A new call's RTP identity (random, RFC 3550 §5.1) and DTMF relay.
    private func mediaSettings(for account: SiteConfig.Account?, host: String) -> MediaSession.Settings {
        var settings = MediaSession.Settings()
        settings.ssrc = RandomToken.number()
        settings.initialSequence = UInt16(truncatingIfNeeded: RandomToken.number())
        settings.initialTimestamp = RandomToken.number()
        settings.canonicalName = "atad@" + host
        settings.dtmfRelay = MediaSession.DTMFRelay(rawValue: account?.dtmfRelay ?? "rfc4733") ?? .rfc4733
        return settings
    }

    /// The far end's SDP answer arrived (183 or 2xx): start the media.
    private func startMedia(_ entry: OutgoingEntry) {
        guard entry.media.session == nil, let body = entry.call.remoteSDP else { return }
        let answer: SessionDescription
        do throws(SDPError) { answer = try SessionDescription(parsing: body) } catch {
            log.warn("line \(entry.line): the far end's SDP answer is invalid: \(error.message)")
            return
        }
        switch entry.media.sdp.negotiated(fromAnswer: answer) {
        case .success(let media):
            entry.media.start(media, settings: entry.mediaSettings)
            onMedia(entry.line, entry.media)
        case .failure(let error):
            log.warn("line \(entry.line): the far end's SDP answer: \(error.message)")
        }
    }

    private func perform(_ actions: [OutgoingCallAction], on entry: OutgoingEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                if entry.transport == "tcp" { sendOverStream(bytes, to: entry.destination) } else { send(bytes, to: entry.destination) }
            case .event(let event):
                deliver(event, for: entry)
            case .keys(let output):
                keysNotice(output, line: entry.line, media: entry.media)
            }
        }
        if entry.call.state == .ended {
            endCall(entry)
        } else {
            rearm(entry)
        }
    }

    private func deliver(_ event: OutgoingCallEvent, for entry: OutgoingEntry) {
        switch event {
        case .earlyMedia, .answered: startMedia(entry)
        default: break
        }
        switch event {
        case .ringing: log.info("line \(entry.line): the far end is ringing")
        case .earlyMedia: log.info("line \(entry.line): early media from the far end")
        case .answered: log.info("line \(entry.line): call \(entry.call.callID) answered")
        case .failed(_, let reason): log.info("line \(entry.line): call failed: \(reason)")
        case .ended(let remote): log.info("line \(entry.line): call \(entry.call.callID) ended by \(remote ? "the far end" : "us")")
        }
        onOutgoingEvent(entry.line, event)
        if entry.call.state == .ended { endCall(entry) }
    }

    private func rearm(_ entry: OutgoingEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        guard outgoing[entry.call.callID] === entry, let deadline = entry.call.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.call.advance(to: self.loop.now), on: entry)
        }
    }

    private func endCall(_ entry: OutgoingEntry) {
        guard outgoing[entry.call.callID] === entry else { return }
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        finishMedia(entry.media, line: entry.line, callID: entry.call.callID)
        outgoing.removeValue(forKey: entry.call.callID)
    }

    /// Sends back the way a request came: its TCP connection, or UDP.
    private func reply(_ bytes: [UInt8], to source: SocketAddress, stream: Int32?) {
        if let stream {
            if let connection = streams[stream] { queue(bytes, on: connection) }
        } else {
            send(bytes, to: source)
        }
    }

    private func rearm(_ entry: CallEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        guard calls[entry.call.callID] === entry, let deadline = entry.call.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.call.advance(to: self.loop.now), on: entry)
        }
    }

    private func endCall(_ entry: CallEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        if calls[entry.call.callID] === entry { finishMedia(entry.media, line: entry.line, callID: entry.call.callID) }
        calls.removeValue(forKey: entry.call.callID)
    }

    /// A call's media ends: one log line with its figures, then the sockets go.
    private func finishMedia(_ media: CallMedia, line: Int, callID: String) {
        if media.session != nil { log.info("line \(line): call \(callID) \(media.summary)") }
        media.close()
        onMedia(line, nil)
    }

    /// `call LINE: media ...` lines for `status`, one per call with media.
    var callStatusLines: [String] {
        var lines: [String] = []
        for entry in calls.values { lines.append("call line \(entry.line): \(entry.media.summary)") }
        for entry in outgoing.values { lines.append("call line \(entry.line): \(entry.media.summary)") }
        return lines.sorted()
    }

    // MARK: Streams (TCP)

    private func acceptStreams() {
        guard let tcpListener else { return }
        while true {
            let accepted: (FileDescriptor, SocketAddress)?
            do throws(Errno) { accepted = try TCPSocket.accept(tcpListener) } catch {
                log.debug("SIP: accept: \(error.message)")
                return
            }
            guard let (descriptor, remote) = accepted else { return }
            guard streams.count < SIPService.maximumStreams else {
                log.warn("SIP: refusing a TCP connection from \(remote.description): \(SIPService.maximumStreams) open")
                descriptor.close()
                continue
            }
            addStream(SIPStreamConnection(descriptor: descriptor, remote: remote, outbound: false, connected: true, now: loop.now))
        }
    }

    private func addStream(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        streams[fd] = connection
        loop.register(connection.descriptor, for: connection.connected ? .readable : [.readable, .writable]) { events in
            self.serviceStream(fd, events)
        }
    }

    /// Sends over the connection to `destination`, opening one if needed;
    /// bytes wait in the connection's queue until it is up.
    private func sendOverStream(_ bytes: [UInt8], to destination: SocketAddress) {
        var connection = streams.values.first { $0.remote == destination && $0.outbound }
        if connection == nil {
            guard streams.count < SIPService.maximumStreams else {
                log.warn("SIP: no TCP connection to \(destination.description): \(SIPService.maximumStreams) open")
                return
            }
            do throws(Errno) {
                let descriptor = try TCPSocket.connect(to: destination)
                let opened = SIPStreamConnection(descriptor: descriptor, remote: destination, outbound: true,
                                                 connected: false, now: loop.now)
                addStream(opened)
                connection = opened
            } catch {
                log.debug("SIP: connecting to \(destination.description): \(error.message)")
                streamFailed(destination)
                return
            }
        }
        guard let connection else { return }
        queue(bytes, on: connection)
    }

    private func queue(_ bytes: [UInt8], on connection: SIPStreamConnection) {
        guard connection.output.count + bytes.count <= SIPStreamConnection.maximumOutput else {
            closeStream(connection.descriptor.rawValue, reason: "output queue full")
            return
        }
        trace(sent: true, bytes, connection.remote, "tcp")
        connection.output += bytes
        connection.lastActivity = loop.now
        if connection.connected { flush(connection) }
    }

    private func flush(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        while !connection.output.isEmpty {
            let written: Int
            do throws(Errno) { written = try connection.descriptor.write(connection.output) } catch {
                if error == .wouldBlock {
                    loop.update(connection.descriptor, events: [.readable, .writable])
                    return
                }
                closeStream(fd, reason: error.message)
                return
            }
            connection.output.removeFirst(written)
        }
        loop.update(connection.descriptor, events: .readable)
    }

    private func serviceStream(_ fd: Int32, _ events: PollEvents) {
        guard let connection = streams[fd] else { return }
        if !connection.connected {
            guard events.contains(.writable) || events.contains(.error) || events.contains(.hangUp) else { return }
            if let error = TCPSocket.pendingError(connection.descriptor) {
                closeStream(fd, reason: error.message)
                return
            }
            connection.connected = true
        }
        if events.contains(.writable) { flush(connection) }
        guard streams[fd] != nil else { return }
        if events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) { readStream(connection) }
    }

    private func readStream(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        let count: Int
        do throws(Errno) { count = try connection.descriptor.read(into: &readScratch) } catch {
            if error == .wouldBlock { return }
            closeStream(fd, reason: error.message)
            return
        }
        if count == 0 {
            closeStream(fd, reason: "closed by the far end")
            return
        }
        guard connection.input.count + count <= SIPStreamConnection.maximumInput else {
            closeStream(fd, reason: "a message larger than \(SIPStreamConnection.maximumInput) bytes")
            return
        }
        connection.input += readScratch[0..<count]
        connection.lastActivity = loop.now
        // Frame as many whole messages as the buffer holds.
        for _ in 0..<64 {
            if connection.stripKeepAlives() && !connection.outbound { queue([13, 10], on: connection) }
            guard streams[fd] != nil, !connection.input.isEmpty else { return }
            switch SIPParseOutcome.evaluate(connection.input, framing: .stream, uas: profile) {
            case .needMoreData:
                return
            case .request(var request):
                trace(sent: false, connection.input, connection.remote, "tcp")
                request.source = SIPSource(host: connection.remote.host, port: connection.remote.port)
                connection.input.removeFirst(min(request.frameLength, connection.input.count))
                receivedMessages += 1
                if handleCallRequest(request, from: connection.remote, stream: fd) { continue }
                if let reply = answer(request) { queue(reply, on: connection) }
            case .response(let response):
                trace(sent: false, connection.input, connection.remote, "tcp")
                connection.input.removeFirst(min(response.frameLength, connection.input.count))
                receivedMessages += 1
                dispatch(response)
            case .reject(let rejection):
                var reply = rejection.response(toTag: RandomToken.hex(bytes: 4))
                reply.add(.server, userAgent)
                queue(reply.serialize(), on: connection)
                if rejection.closeConnection || rejection.request.frameLength <= 0 {
                    closeStream(fd, reason: "\(rejection.status) \(rejection.reason)")
                    return
                }
                connection.input.removeFirst(min(rejection.request.frameLength, connection.input.count))
            case .drop(let reason):
                droppedMessages += 1
                closeStream(fd, reason: "unframeable data: \(reason)")
                return
            }
        }
    }

    private func closeStream(_ fd: Int32, reason: String?) {
        guard let connection = streams.removeValue(forKey: fd) else { return }
        loop.unregister(connection.descriptor)
        connection.descriptor.close()
        if let reason { log.debug("SIP: TCP connection with \(connection.remote.description) ended: \(reason)") }
        // Calls signalled over this connection cannot be reached any more.
        for entry in Array(calls.values) where entry.stream == fd {
            log.info("line \(entry.line): call \(entry.call.callID) ended: its TCP connection closed")
            endCall(entry)
            onCallEnded(entry.line, true)
        }
        if connection.outbound { streamFailed(connection.remote) }
    }

    /// A connection to `destination` is gone: registrations waiting on it
    /// learn of the transport error at once instead of timing out.
    private func streamFailed(_ destination: SocketAddress) {
        let now = loop.now
        for index in registrations.indices
        where registrations[index].destination == destination && registrations[index].registration.settings.transport == "tcp" {
            let actions = registrations[index].registration.transportFailed(at: now)
            perform(actions, index: index)
            rearm(index)
        }
    }

    /// Every `keep_alive_seconds`: CRLFCRLF on each idle outbound TCP
    /// connection (RFC 5626 §3.5.1), and toward each UDP registrar a CRLF
    /// datagram or an OPTIONS (`keep_alive`), so NAT bindings on the way
    /// stay open and the registrar's INVITEs keep reaching us.
    private func scheduleKeepAlive() {
        guard site.keepAliveSeconds > 0 else { return }
        let interval = Interval.seconds(Int64(site.keepAliveSeconds))
        keepAliveTimer = loop.schedule(after: interval) {
            let now = self.loop.now
            for connection in self.streams.values
            where connection.outbound && connection.connected && now - connection.lastActivity >= interval - .milliseconds(500) {
                self.queue(KeepAliveMethod.crlfBytes, on: connection)
            }
            for entry in self.registrations where entry.registration.settings.transport != "tcp" {
                let bytes = self.site.keepAliveWithOptions
                    ? KeepAliveMethod.optionsRequest(entry.registration.settings, token: RandomToken.hex(bytes: 6))
                    : KeepAliveMethod.crlfBytes
                self.send(bytes, to: entry.destination)
                self.keepAlivesSent += 1
            }
            self.scheduleKeepAlive()
        }
    }
}
