import CompactText
import Config
import EventLoop
import Platform
import SIPLocation
import SIPMessage
import SIPUserAgent
import Timebase

/// A direct (`register = no`) account's servers, as last looked up.
struct DirectRoute {
    let transport: SIPTransport
    /// Every server of the lookup, best first, with our address toward it.
    let targets: [RegistrarTarget]
    let addresses: [SocketAddress]
    /// When the lookup is to be made again (its records' TTL).
    let freshUntil: Instant
    /// Servers a call found down, and until when new calls pass them by.
    var down: [(address: SocketAddress, until: Instant)] = []

    /// Which server a new call goes to: the best one not found down lately
    /// (all down: the best one, which may be back).
    func choice(at now: Instant) -> Int {
        addresses.firstIndex { address in !down.contains { $0.address == address && $0.until > now } } ?? 0
    }
}

/// How a call a line places travels.
extension SIPService {
    /// The line's account (or the first one) with its settings and where
    /// its requests go: a registering account's server in use, or for a
    /// direct account the best server of its last lookup, looked up again
    /// once its TTL passed. `done` gets nil (logged) when there is none;
    /// it runs at once when nothing needs looking up, else later from the
    /// loop: never does the loop wait for DNS.
    func findRoute(forLine line: Int, then done: @escaping ((SIPAccount, SIPRoute)?) -> Void) {
        guard let name = site.lineSettings(line).account ?? site.accounts.first?.name,
              let account = site.accounts.first(where: { $0.name == name }) else { return done(nil) }
        if let entry = registration(of: account.name), let destination = entry.destination {
            return done((entry.registration.settings, .account(destination, entry.registration.settings.transport)))
        }
        if let cached = directRoutes[account.name], cached.freshUntil > loop.now, cached.transport == account.transport {
            return done(directCall(account, cached))
        }
        let (host, port) = SIPService.hostAndPort(SIPService.serverName(of: account))
        dns.locate(host, port: port, transport: account.transport) { locator in
            switch self.reachableTargets(of: locator, named: host) {
            case .failure(let failure):
                // A lookup that failed leaves the last servers in use.
                if let stale = self.directRoutes[account.name], stale.transport == account.transport {
                    let found = self.directCall(account, stale)
                    if case .account(let address, _) = found.1 {
                        self.log.warn("account \(account.name): \(failure.reason); calling \(address.description) as before")
                    }
                    return done(found)
                }
                self.log.warn("account \(account.name): \(failure.reason)")
                done(nil)
            case .success(let (targets, addresses)):
                self.trust(addresses)
                let ttl = Int64(min(max(locator.ttlSeconds ?? 60, 30), 3600))
                // Servers found down stay passed by through a new lookup.
                let route = DirectRoute(transport: account.transport, targets: targets, addresses: addresses,
                                        freshUntil: self.loop.now + .seconds(ttl),
                                        down: self.directRoutes[account.name]?.down ?? [])
                self.directRoutes[account.name] = route
                done(self.directCall(account, route))
            }
        }
    }

    /// A direct account's call: the settings toward the server it goes to
    /// (our address toward that one), and the way there.
    private func directCall(_ account: SiteConfig.Account, _ route: DirectRoute) -> (SIPAccount, SIPRoute) {
        let index = route.choice(at: loop.now)
        let target = route.targets[index]
        let settings = accountSettings(account, host: target.host, port: target.port, localHost: target.localHost,
                                       localPort: boundPort ?? UInt16(site.sipListenPort))
        return (settings, .account(route.addresses[index], route.transport))
    }

    /// The next server of an account for a call whose server failed
    /// (RFC 3263 §4.3): the first of its last lookup's servers, in their
    /// order, that the call has not tried; nil when none is left. Never
    /// looks up: the list is the one the call's route came from. The
    /// server that failed is passed by for `downServerSeconds` by the
    /// account's new calls (a registering account's follow its REGISTER).
    func otherServer(of account: String, excluding tried: [SIPRoute]) -> SIPRoute? {
        if case .account(let failed, _)? = tried.last, var direct = directRoutes[account] {
            direct.down.removeAll { $0.address == failed || $0.until <= loop.now }
            direct.down.append((failed, loop.now + .seconds(SIPService.downServerSeconds)))
            directRoutes[account] = direct
        }
        let candidates: [SocketAddress]
        let transport: SIPTransport
        if let entry = registration(of: account) {
            candidates = entry.addresses
            transport = entry.registration.settings.transport
        } else if let direct = directRoutes[account] {
            candidates = direct.addresses
            transport = direct.transport
        } else {
            return nil
        }
        let triedAddresses: [SocketAddress] = tried.compactMap {
            if case .account(let address, _) = $0 { return address }
            return nil
        }
        // Same family as the first: the call's Via, Contact and SDP
        // carry an address of that family.
        guard let first = triedAddresses.first,
              let next = candidates.first(where: { $0.family == first.family && !triedAddresses.contains($0) })
        else { return nil }
        return .account(next, transport)
    }

    /// How long new calls pass by a server a call found down.
    static let downServerSeconds: Int64 = 60

    /// Where a request's sender reaches our SIP port through a NAT: the
    /// public address a registration learned from that server, if the
    /// request came from one of an account's servers; nil otherwise (a
    /// configured `public_address` is call control's to apply).
    func publicContact(toward route: SIPRoute) -> HostAndPort? {
        let address: SocketAddress
        switch route {
        case .back(let back): address = back.source
        case .account(let server, _): address = server
        }
        for entry in registrations where entry.addresses.contains(address) {
            if let found = entry.registration.settings.publicAddress { return found }
        }
        return nil
    }

    /// The way to where a 3xx sent a call: through the account's proxy
    /// when the call went through one (it routes by the Request-URI), else
    /// straight to the target's host, looked up like any server (RFC 3263).
    /// `done` gets nil when there is none; it never waits in the loop.
    func findRoute(redirectedTo target: String, from route: SIPRoute, then done: @escaping (SIPRoute?) -> Void) {
        if case .account(let server, _) = route, registrations.contains(where: { $0.destination == server }) {
            return done(route)
        }
        guard let uri = try? SIPURI.parse(ArraySlice(target.utf8)) else { return done(nil) }
        let tcp = uri.parameters.value("transport").map { $0.elementsEqual("tcp".utf8) } ?? false
        let transport: SIPTransport = tcp ? .tcp : .udp
        let host = uri.hostText
        dns.locate(host, port: uri.port, transport: transport) { locator in
            switch self.reachableTargets(of: locator, named: host) {
            case .failure(let failure):
                self.log.warn("redirect to \(target): \(failure.reason)")
                done(nil)
            case .success(let (_, addresses)):
                // Not trusted for new calls: a 3xx must not open the door.
                done(.account(addresses[0], transport))
            }
        }
    }
}
