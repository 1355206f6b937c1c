/// The transports atad speaks SIP over (RFC 3261 §18): UDP, and TCP for
/// providers that ask for it or messages too big for a datagram. Parsed
/// once from the config; everything after switches on it.
public enum SIPTransport: String, Sendable, Equatable {
    case udp, tcp

    /// As Via names it (`SIP/2.0/UDP`).
    public var viaName: String {
        switch self {
        case .udp: return "UDP"
        case .tcp: return "TCP"
        }
    }

    /// Whether the transport delivers by itself: the transaction timers
    /// that only stand in for lost datagrams are then zero (§17).
    public var isReliable: Bool { self == .tcp }
}
