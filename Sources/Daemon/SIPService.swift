import Config
import EventLoop
import Platform
import SIPMessage
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
    private let profile = SIPUASProfile()
    private(set) var droppedMessages = 0
    private(set) var receivedMessages = 0
    private var userAgent: String { site.userAgent ?? "atad/\(Version.number)" }
    static let allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"

    init(site: SiteConfig, loop: EventLoop, log: Logger) {
        self.site = site
        self.loop = loop
        self.log = log
    }

    func start() throws(StartupError) {
        guard let address = SocketAddress(ip: site.sipListenAddress, port: UInt16(site.sipListenPort)) else {
            throw StartupError(message: "sip listen_address \(site.sipListenAddress) is not an IP address")
        }
        let socket: UDPSocket
        do throws(Errno) {
            socket = try UDPSocket(binding: address)
        } catch {
            throw StartupError(message: "cannot listen for SIP on \(address.description)/udp: \(error.message)")
        }
        self.socket = socket
        loop.register(socket.descriptor, for: .readable) { _ in self.receive() }
        let bound = (try? socket.localAddress())?.description ?? address.description
        log.info("SIP listening on \(bound)/udp")
        for account in site.accounts where account.register {
            startRegistration(account, localPort: (try? socket.localAddress())?.port ?? address.port)
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
        if let socket {
            loop.unregister(socket.descriptor)
            socket.close()
        }
        socket = nil
    }

    /// `sip: ADDRESS/udp`, then `account NAME: STATE` lines, for `status`.
    var statusLines: [String] {
        let now = loop.now
        var lines: [String] = []
        if let socket, let bound = try? socket.localAddress() { lines.append("sip: \(bound.description)/udp") }
        lines += registrations.map { "account \($0.registration.settings.accountName): \($0.registration.statusText(at: now))" }
        for account in site.accounts where !account.register {
            lines.append("account \(account.name): not registering (register = no)")
        }
        return lines
    }

    // MARK: Registration

    private func startRegistration(_ account: SiteConfig.Account, localPort: UInt16) {
        guard account.transport == "udp" else {
            log.error("account \(account.name): transport \(account.transport) is not supported yet; not registering")
            return
        }
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
            case .send(let bytes): send(bytes, to: registrations[index].destination)
            case .logInfo(let text): log.info(text)
            case .logWarning(let text): log.warn(text)
            case .logDebug(let text): log.debug(text)
            }
        }
    }

    // MARK: Transport

    private func send(_ bytes: [UInt8], to destination: SocketAddress) {
        guard let socket else { return }
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

    private func handle(_ bytes: [UInt8], from source: SocketAddress) {
        switch SIPParseOutcome.evaluate(bytes, framing: .datagram, uas: profile) {
        case .request(let request):
            answer(request, from: source)
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
    /// support; calls are not taken until call control lands.
    private func answer(_ request: SIPMessage, from source: SocketAddress) {
        guard let method = request.method else { return }
        let toTag = RandomToken.hex(bytes: 4)
        var reply: SIPMessageBuilder
        switch method {
        case .ack:
            return
        case .options:
            reply = .response(to: request, status: 200, reason: "OK", toTag: toTag)
            reply.add(.allow, SIPService.allowedMethods)
            reply.add(.accept, "application/sdp")
            reply.add(.acceptEncoding, "identity")
            reply.add(.supported, "")
        case .invite:
            reply = .response(to: request, status: 480, reason: "Temporarily Unavailable", toTag: toTag)
        case .bye, .cancel, .info:
            reply = .response(to: request, status: 481, reason: "Call/Transaction Does Not Exist", toTag: toTag)
        default:
            reply = .response(to: request, status: 405, reason: "Method Not Allowed", toTag: toTag)
            reply.add(.allow, SIPService.allowedMethods)
        }
        reply.add(.server, userAgent)
        send(reply.serialize(), to: source)
    }
}
