import SIPMessage

/// One account as the user agent uses it: who it is at its provider (the
/// address of record and credentials), where its requests go (registrar or
/// proxy, transport) and the address our Contact and Via give. Registration,
/// keep-alives and the calls it places all read it; it is built from the
/// config's `[account NAME]` and the address the route leaves from.
public struct SIPAccount: Sendable {
    public var accountName: String
    public var user: String
    public var domain: String
    public var authUser: String?
    public var password: String?
    public var displayName: String?
    /// Where REGISTER goes (host or IP literal) and its port.
    public var registrarHost: String
    public var registrarPort: UInt16
    /// How REGISTER and the account's calls travel.
    public var transport: SIPTransport
    /// Lifetime asked for, seconds.
    public var expires: Int
    /// The address and port our Contact and Via name.
    public var localHost: String
    public var localPort: UInt16
    public var userAgent: String

    public init(accountName: String, user: String, domain: String, authUser: String?, password: String?,
                displayName: String?, registrarHost: String, registrarPort: UInt16, transport: SIPTransport,
                expires: Int, localHost: String, localPort: UInt16, userAgent: String) {
        self.accountName = accountName
        self.user = user
        self.domain = domain
        self.authUser = authUser
        self.password = password
        self.displayName = displayName
        self.registrarHost = registrarHost
        self.registrarPort = registrarPort
        self.transport = transport
        self.expires = expires
        self.localHost = localHost
        self.localPort = localPort
        self.userAgent = userAgent
    }

    /// "sip:user@domain".
    public var addressOfRecord: String { "sip:\(user)@\(domain)" }

    /// A host for a SIP URI: a bare IPv6 address (two colons or more) gets
    /// brackets; "host" and "host:port" stay as they are.
    static func uriHost(_ host: String) -> String {
        let colons = host.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ":") ? 1 : 0) }
        return colons >= 2 && host.utf8.first != UInt8(ascii: "[") ? "[\(host)]" : host
    }

    public var contactURI: String {
        "sip:\(user)@\(SIPAccount.uriHost(localHost)):\(localPort);transport=\(transport.rawValue)"
    }
}
