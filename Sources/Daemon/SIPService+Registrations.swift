import Config
import EventLoop
import Platform
import SIPMessage
import SIPUserAgent
import Timebase

/// One account's registration as the SIP service holds it.
final class RegistrationEntry {
    var registration: Registration
    let destination: SocketAddress
    var timer: TimerID?
    /// A reload removed or moved the account: this binding is being
    /// un-registered, then the entry goes.
    var retiring = false

    init(registration: Registration, destination: SocketAddress) {
        self.registration = registration
        self.destination = destination
    }

    var accountName: String { registration.settings.accountName }

    var isUnregistering: Bool {
        if case .unregistering = registration.state { return true }
        return false
    }
}

/// Registering the accounts (RFC 3261 §10), un-registering at shutdown, and
/// what a reload changes in them.
extension SIPService {
    // MARK: Registration

    func startRegistration(_ account: SiteConfig.Account, localPort: UInt16) {
        let settings: SIPAccount
        let destination: SocketAddress
        switch resolveRoute(for: account, localPort: localPort) {
        case .success(let route): (settings, destination) = route
        case .failure(let error):
            log.error("account \(account.name): \(error.message); not registering")
            return
        }
        let entry = RegistrationEntry(registration: Registration(settings: settings, makeToken: { RandomToken.hex() }),
                                      destination: destination)
        registrations.append(entry)
        perform(entry.registration.start(at: loop.now), on: entry)
        rearm(entry)
    }

    /// Sends un-REGISTERs (at shutdown).
    func unregisterAll() {
        let now = loop.now
        for entry in registrations {
            perform(entry.registration.unregister(at: now), on: entry)
            rearm(entry)
        }
    }

    /// Whether an un-REGISTER still waits for its answer.
    var unregistrationPending: Bool { registrations.contains { $0.isUnregistering } }

    /// The live registration of an account (not one a reload retired).
    func registration(of account: String) -> RegistrationEntry? {
        registrations.first { !$0.retiring && $0.accountName == account }
    }

    func rearm(_ entry: RegistrationEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        if entry.retiring && !entry.isUnregistering {
            registrations.removeAll { $0 === entry }
            return
        }
        guard let deadline = entry.registration.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.registration.advance(to: self.loop.now), on: entry)
            self.rearm(entry)
        }
    }

    func perform(_ actions: [RegistrationAction], on entry: RegistrationEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                if entry.registration.settings.transport == .tcp {
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

    /// An account as the config gives it, made ready to send: its proxy,
    /// registrar or domain resolved now, and the local address toward it.
    func resolveRoute(for account: SiteConfig.Account,
                      localPort: UInt16) -> Result<(SIPAccount, SocketAddress), ResolveError> {
        let (host, port) = SIPService.hostAndPort(account.outboundProxy ?? account.registrar ?? account.domain)
        switch SocketAddress.resolve(host, port: port) {
        case .failure(let error): return .failure(error)
        case .success(let destination):
            let local = destination.localAddressToward()?.host ?? site.sipListenAddress
            let settings = SIPAccount(
                accountName: account.name, user: account.user, domain: account.domain,
                authUser: account.authUser, password: account.password, displayName: account.displayName,
                registrarHost: host, registrarPort: port, transport: account.transport,
                expires: account.expires, localHost: local, localPort: localPort, userAgent: userAgent)
            return .success((settings, destination))
        }
    }

    // MARK: Reload

    /// A reload's new config: accounts added, removed or changed register,
    /// un-register or register again at once; calls in progress keep the
    /// settings they started with. Returns one note per change.
    func reconfigure(_ fresh: SiteConfig) -> [String] {
        let old = site
        site = fresh
        var notes: [String] = []
        let localPort = (try? socket?.localAddress())?.port ?? UInt16(site.sipListenPort)
        for account in old.accounts where account.register {
            let kept = fresh.accounts.first { $0.name == account.name }
            guard kept != account else { continue }
            guard let entry = registration(of: account.name) else { continue }
            if let kept, kept.register, sameBinding(account, kept) {
                // The new REGISTER replaces this binding at the registrar
                // (RFC 3261 §10.3): an un-REGISTER of it would remove both.
                if let timer = entry.timer { loop.cancel(timer) }
                registrations.removeAll { $0 === entry }
            } else {
                entry.retiring = true
                perform(entry.registration.unregister(at: loop.now), on: entry)
                rearm(entry)
                if kept == nil || kept?.register == false {
                    notes.append("account \(account.name): " + (kept == nil ? "removed" : "register = no") + ": un-registering")
                }
            }
        }
        for account in fresh.accounts where account.register {
            let before = old.accounts.first { $0.name == account.name }
            guard before != account || registration(of: account.name) == nil else { continue }
            notes.append("account \(account.name): " + (before?.register == true ? "changed: registering again" : "registering"))
            startRegistration(account, localPort: localPort)
        }
        for account in fresh.accounts where !account.register {
            if let before = old.accounts.first(where: { $0.name == account.name }), before != account, !before.register {
                notes.append("account \(account.name): changed (new calls use it)")
            } else if old.accounts.first(where: { $0.name == account.name }) == nil {
                notes.append("account \(account.name): added (register = no)")
            }
        }
        if fresh.keepAliveSeconds != old.keepAliveSeconds || fresh.keepAliveWithOptions != old.keepAliveWithOptions {
            if let keepAliveTimer { loop.cancel(keepAliveTimer) }
            keepAliveTimer = nil
            scheduleKeepAlive()
            notes.append("sip keep_alive: applied")
        }
        if fresh.acceptCallsOnlyFromProxies != old.acceptCallsOnlyFromProxies || !notes.isEmpty {
            callSources = makeCallSourcePolicy()
        }
        if fresh.userAgent != old.userAgent { notes.append("sip user_agent: applied to new messages") }
        return notes
    }

    /// Whether two settings of an account name the same binding at the
    /// same registrar (only credentials, timers or media differ).
    private func sameBinding(_ a: SiteConfig.Account, _ b: SiteConfig.Account) -> Bool {
        a.user == b.user && a.domain == b.domain && a.registrar == b.registrar
            && a.outboundProxy == b.outboundProxy && a.transport == b.transport
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
}

extension SIPService {
    /// How a call `line` places travels: the line's account (or the first
    /// one), with its registration's settings and destination, or for an
    /// account that does not register (direct mode) the same built from
    /// its proxy, registrar or domain. Nil (logged) when there is none.
    func route(forLine line: Int) -> (SIPAccount, SIPRoute)? {
        guard let name = site.lineSettings(line).account ?? site.accounts.first?.name,
              let account = site.accounts.first(where: { $0.name == name }) else { return nil }
        if let entry = registration(of: account.name) {
            return (entry.registration.settings, .account(entry.destination, entry.registration.settings.transport))
        }
        let localPort = (try? socket?.localAddress())?.port ?? UInt16(site.sipListenPort)
        switch resolveRoute(for: account, localPort: localPort) {
        case .success(let (settings, destination)): return (settings, .account(destination, settings.transport))
        case .failure(let error):
            log.warn("account \(account.name): \(error.message)")
            return nil
        }
    }
}

