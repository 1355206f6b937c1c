import Platform

/// Which addresses may start a call. An ATA that registers behind a proxy
/// receives its calls from that proxy; an INVITE from anywhere else is a
/// scanner ringing phones at night or someone bypassing the provider's
/// billing and barring. So while an account registers (or names an
/// outbound proxy), new INVITEs are taken only from the hosts of the
/// accounts' registrars, outbound proxies and direct peers, compared by IP
/// address alone: a proxy may answer from another port, and over TCP always
/// does. Requests inside a call are not affected.
struct CallSourcePolicy {
    /// Empty with `enforced` false: anyone may call.
    private(set) var trusted: [SocketAddress]
    let enforced: Bool
    /// Calls refused so far (retransmitted INVITEs not counted again), for `status`.
    private(set) var refused = 0
    private var lastRefusedCallID = ""
    /// The last source logged, so a flood from one host is logged once.
    private var lastLogged: SocketAddress?

    init(trusted: [SocketAddress], enforced: Bool) {
        self.trusted = trusted
        self.enforced = enforced
    }

    /// Adds servers a lookup found; returns those whose host is new.
    mutating func trust(_ addresses: [SocketAddress]) -> [SocketAddress] {
        var added: [SocketAddress] = []
        for address in addresses where !trusted.contains(where: { $0.sameHost(as: address) }) {
            trusted.append(address)
            added.append(address)
        }
        return added
    }

    func admits(_ source: SocketAddress) -> Bool {
        !enforced || trusted.contains { $0.sameHost(as: source) }
    }

    /// Counts a refusal; true when it deserves a log line (a new source).
    mutating func noteRefusal(from source: SocketAddress, callID: String) -> Bool {
        if callID != lastRefusedCallID { refused += 1 }
        lastRefusedCallID = callID
        if let lastLogged, lastLogged.sameHost(as: source) { return false }
        lastLogged = source
        return true
    }
}
