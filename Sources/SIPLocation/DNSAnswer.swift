/// The daemon's answer to one `DNSQuery`. A definite "none" and a failure to
/// get any answer are kept apart so the status can say which one stopped
/// registration: a typo in the server name, or a broken network.
public enum DNSAnswer: Sendable, Equatable {
    case naptr([NAPTRRecord])
    case srv([SRVRecord])
    /// IP texts, IPv4 and/or IPv6, in the order the resolver gave them, and
    /// the smallest TTL among them.
    case addresses([String], ttlSeconds: Int)
    /// NXDOMAIN or NODATA: DNS said there is nothing.
    case noRecords
    /// No answer to be had (timeout, refused, server failure); the text goes
    /// to the status and logs, e.g. "DNS timeout".
    case failed(String)
}
