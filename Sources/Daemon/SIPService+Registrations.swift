import CompactText
import Config
import EventLoop
import Platform
import SIPLocation
import SIPMessage
import SIPUserAgent
import Timebase

/// One account's registration as the SIP service holds it.
final class RegistrationEntry {
    var registration: Registration
    /// The registrar (or outbound proxy) as the config names it, looked up
    /// before each attempt; no port: by NAPTR and SRV.
    let host: String
    let port: UInt16?
    /// The socket address of each of `registration.targets`.
    var addresses: [SocketAddress] = []
    var timer: TimerID?
    /// The keep-alive OPTIONS not answered yet, and how many in a row were not.
    var keepAliveToken: String?
    var keepAliveMisses = 0
    /// A reload removed or moved the account: this binding is being
    /// un-registered, then the entry goes.
    var retiring = false

    init(registration: Registration, host: String, port: UInt16?) {
        self.registration = registration
        self.host = host
        self.port = port
    }

    /// Where the REGISTER in use goes; nil before the first lookup.
    var destination: SocketAddress? {
        addresses.indices.contains(registration.currentTarget) ? addresses[registration.currentTarget] : nil
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
        let (host, port) = SIPService.hostAndPort(SIPService.serverName(of: account))
        let settings = accountSettings(account, host: host, port: port ?? 5060, localHost: site.sipListenAddress,
                                       localPort: localPort)
        let entry = RegistrationEntry(registration: Registration(settings: settings, makeToken: { RandomToken.hex() }),
                                      host: host, port: port)
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
                guard let destination = entry.destination else { continue }
                if entry.registration.settings.transport == .tcp {
                    sendOverStream(bytes, to: destination)
                } else {
                    send(bytes, to: destination)
                }
            case .locate:
                locateRegistrar(of: entry)
            case .logInfo(let text): log.info(text)
            case .logWarning(let text): log.warn(text)
            case .logDebug(let text): log.debug(text)
            }
        }
    }

    /// Looks the registrar up for a `.locate`, and hands the servers found
    /// (with our address toward each) or why none was to the registration.
    private func locateRegistrar(of entry: RegistrationEntry) {
        dns.locate(entry.host, port: entry.port, transport: entry.registration.settings.transport) { locator in
            guard self.registrations.contains(where: { $0 === entry }), entry.registration.isLocating else { return }
            let now = self.loop.now
            switch self.reachableTargets(of: locator, named: entry.host) {
            case .failure(let failure):
                self.perform(entry.registration.notLocated(failure.reason, at: now), on: entry)
            case .success(let (targets, addresses)):
                self.trust(addresses)
                entry.addresses = addresses
                self.perform(entry.registration.located(targets, at: now), on: entry)
            }
            self.rearm(entry)
        }
    }

    /// The servers a finished lookup found that this machine has a route
    /// to, with our address toward each; or why there are none.
    func reachableTargets(of locator: SIPServerLocator,
                          named host: String) -> Result<([RegistrarTarget], [SocketAddress]), LookupFailure> {
        if let failure = locator.failure { return .failure(LookupFailure(failure)) }
        var targets: [RegistrarTarget] = []
        var addresses: [SocketAddress] = []
        for found in locator.targets {
            guard let address = SocketAddress(ip: found.address, port: found.port),
                  let local = ownAddress(toward: address) else { continue }
            targets.append(RegistrarTarget(host: address.host, port: address.port, localHost: local))
            addresses.append(address)
        }
        return targets.isEmpty ? .failure(LookupFailure("no route to \(host)")) : .success((targets, addresses))
    }

    /// The address our Contact, Via and SDP give toward `peer`: the
    /// configured `listen_address` when it names one (we send from it),
    /// else the one the kernel would send from; nil when there is no route.
    func ownAddress(toward peer: SocketAddress) -> String? {
        if let listen = SocketAddress(ip: site.sipListenAddress, port: 0), !listen.isWildcard { return listen.host }
        return peer.localAddressToward()?.host
    }

    /// An account's settings for a given server and local address.
    func accountSettings(_ account: SiteConfig.Account, host: String, port: UInt16, localHost: String,
                         localPort: UInt16) -> SIPAccount {
        SIPAccount(accountName: account.name, user: account.user, domain: account.domain,
                   authUser: account.authUser, password: account.password, displayName: account.displayName,
                   registrarHost: host, registrarPort: port, transport: account.transport,
                   expires: account.expires, localHost: localHost, localPort: localPort, userAgent: userAgent,
                   fixedPublicHost: site.publicAddress)
    }

    /// Where an account's requests go: its outbound proxy, else its
    /// registrar, else its domain.
    static func serverName(of account: SiteConfig.Account) -> String {
        account.outboundProxy ?? account.registrar ?? account.domain
    }

    // MARK: Reload

    /// A reload's new config: accounts added, removed or changed register,
    /// un-register or register again at once; calls in progress keep the
    /// settings they started with. Returns one note per change.
    func reconfigure(_ fresh: SiteConfig) -> [String] {
        let old = site
        site = fresh
        var notes: [String] = []
        directRoutes.removeAll()
        if fresh.dnsServers != old.dnsServers {
            // Lookups under way end (their accounts retry after a back-off).
            dns.stop()
            dns = DNSService(servers: fresh.dnsServers, loop: loop, log: log)
            notes.append("sip dns_servers: applied")
        }
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
        notes += reconfigureSubscriptions(from: old, localPort: localPort)
        return notes
    }

    /// Whether two settings of an account name the same binding at the
    /// same registrar (only credentials, timers or media differ).
    private func sameBinding(_ a: SiteConfig.Account, _ b: SiteConfig.Account) -> Bool {
        a.user == b.user && a.domain == b.domain && a.registrar == b.registrar
            && a.outboundProxy == b.outboundProxy && a.transport == b.transport
    }

    /// The hosts new calls may come from: every address of every server
    /// the accounts' outbound proxies, registrars and direct peers lead to,
    /// added as their lookups finish (`trust`). Enforced while some account
    /// registers or names a proxy, unless `accept_calls_from = anyone`.
    func makeCallSourcePolicy() -> CallSourcePolicy {
        let enforced = site.acceptCallsOnlyFromProxies
            && site.accounts.contains { $0.register || $0.outboundProxy != nil }
        guard enforced else { return CallSourcePolicy(trusted: [], enforced: false) }
        for account in site.accounts {
            var names: [String] = []
            if let proxy = account.outboundProxy { names.append(proxy) }
            names.append(account.register ? (account.registrar ?? account.domain) : account.domain)
            for name in names {
                let (host, port) = SIPService.hostAndPort(name)
                dns.locate(host, port: port, transport: account.transport) { locator in
                    let addresses = locator.targets.compactMap { SocketAddress(ip: $0.address, port: $0.port) }
                    self.trust(addresses)
                }
            }
        }
        return CallSourcePolicy(trusted: [], enforced: true)
    }

    /// New calls may come from these servers (accept_calls_from = proxy).
    func trust(_ addresses: [SocketAddress]) {
        let added = callSources.trust(addresses)
        if callSources.enforced && !added.isEmpty {
            log.info("SIP: new calls are taken from " + added.map { $0.host }.joined(separator: ", ")
                     + " (accept_calls_from = proxy)")
        }
    }

    /// "host", "host:port", "[v6]:port" -> (host, port); no port: nil.
    static func hostAndPort(_ text: String) -> (String, UInt16?) {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            let host = String(decoding: bytes[1..<close], as: UTF8.self)
            let rest = bytes[(close + 1)...]
            if rest.first == UInt8(ascii: ":"), let port = UInt16(String(decoding: rest.dropFirst(), as: UTF8.self)) {
                return (host, port)
            }
            return (host, nil)
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.lastIndex(of: UInt8(ascii: ":")) == colon,
           let port = UInt16(String(decoding: bytes[(colon + 1)...], as: UTF8.self)) {
            return (String(decoding: bytes[..<colon], as: UTF8.self), port)
        }
        return (text, nil)
    }
}

/// Why a lookup gave no server to send to, for `status` and the log.
struct LookupFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
