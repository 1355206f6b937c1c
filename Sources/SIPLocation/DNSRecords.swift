/// A NAPTR record as far as RFC 3263 needs it: the regular-expression field
/// is never used for SIP, so it is left out.
public struct NAPTRRecord: Sendable, Equatable {
    public var order: UInt16
    public var preference: UInt16
    /// "S" (or "s") when the replacement is an SRV name, the only kind followed.
    public var flags: String
    /// E.g. "SIP+D2U" (SIP over UDP) or "SIP+D2T" (TCP), compared ignoring case.
    public var service: String
    public var replacement: String

    public init(order: UInt16, preference: UInt16, flags: String, service: String, replacement: String) {
        self.order = order
        self.preference = preference
        self.flags = flags
        self.service = service
        self.replacement = replacement
    }
}

/// An SRV record (RFC 2782).
public struct SRVRecord: Sendable, Equatable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    /// A host name; "." alone means the service is decidedly not offered.
    public var target: String

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}
