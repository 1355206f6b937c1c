/// What the locator asks of DNS. The daemon maps each kind onto its
/// resolver's queries; the locator never sees record types it cannot use.
public enum DNSRecordType: Sendable, Equatable {
    /// NAPTR records (RFC 3403), to find which SRV names serve SIP.
    case naptr
    /// SRV records (RFC 2782), to find the hosts and ports behind a service.
    case srv
    /// A and AAAA records together: one question so the daemon may use a
    /// single getaddrinfo-style lookup for both families.
    case addresses
}

/// One DNS question the daemon runs for the locator, and hands back with its
/// answer so the locator can tell which of several outstanding questions it
/// answers.
public struct DNSQuery: Sendable, Equatable {
    /// The name to look up, lower case and without a trailing dot.
    public let name: String
    public let type: DNSRecordType

    public init(name: String, type: DNSRecordType) {
        self.name = name
        self.type = type
    }
}
