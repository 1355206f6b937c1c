import Config
import EventLoop
import Platform
import SIPLocation
import SIPUserAgent
import Timebase

/// A direct (`register = no`) account's servers, as last looked up.
struct DirectRoute {
    let settings: SIPAccount
    let address: SocketAddress
    /// When the lookup is to be made again (its records' TTL).
    let freshUntil: Instant
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
        if let cached = directRoutes[account.name], cached.freshUntil > loop.now, cached.settings.transport == account.transport {
            return done((cached.settings, .account(cached.address, cached.settings.transport)))
        }
        let (host, port) = SIPService.hostAndPort(SIPService.serverName(of: account))
        let localPort = boundPort ?? UInt16(site.sipListenPort)
        dns.locate(host, port: port, transport: account.transport) { locator in
            switch self.reachableTargets(of: locator, named: host) {
            case .failure(let failure):
                // A lookup that failed leaves the last servers in use.
                if let stale = self.directRoutes[account.name] {
                    self.log.warn("account \(account.name): \(failure.reason); calling \(stale.address.description) as before")
                    return done((stale.settings, .account(stale.address, stale.settings.transport)))
                }
                self.log.warn("account \(account.name): \(failure.reason)")
                done(nil)
            case .success(let (targets, addresses)):
                self.trust(addresses)
                let settings = self.accountSettings(account, host: targets[0].host, port: targets[0].port,
                                                    localHost: targets[0].localHost, localPort: localPort)
                let ttl = Int64(min(max(locator.ttlSeconds ?? 60, 30), 3600))
                self.directRoutes[account.name] = DirectRoute(settings: settings, address: addresses[0],
                                                              freshUntil: self.loop.now + .seconds(ttl))
                done((settings, .account(addresses[0], settings.transport)))
            }
        }
    }

    /// Where a request's sender reaches our SIP port through a NAT: the
    /// public address a registration learned from that server, if the
    /// request came from one of an account's servers; nil otherwise.
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
}
