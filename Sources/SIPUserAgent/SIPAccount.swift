import CompactText
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
    /// Where the registrar saw our requests come from, when a NAT on the
    /// way made that differ from `localHost:localPort` (RFC 3581
    /// `received`/`rport`): the address our Contact gives, so requests for
    /// us come back through the NAT's binding.
    public var publicAddress: HostAndPort?
    /// `public_address`: the user forwards our ports on their router, so
    /// the Contact always gives this host (with our port), and what a
    /// registrar reports of a NAT does not move it.
    public let fixedPublicHost: String?
    public var userAgent: String

    public init(accountName: String, user: String, domain: String, authUser: String?, password: String?,
                displayName: String?, registrarHost: String, registrarPort: UInt16, transport: SIPTransport,
                expires: Int, localHost: String, localPort: UInt16, userAgent: String, fixedPublicHost: String? = nil) {
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
        self.fixedPublicHost = fixedPublicHost
        publicAddress = fixedPublicHost.map { HostAndPort(host: $0, port: localPort) }
    }

    /// "sip:user@domain".
    public var addressOfRecord: String { "sip:\(user)@\(domain)" }

    /// A host for a SIP URI: a bare IPv6 address (two colons or more) gets
    /// brackets; "host" and "host:port" stay as they are.
    public static func uriHost(_ host: String) -> String {
        let colons = host.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ":") ? 1 : 0) }
        return colons >= 2 && host.utf8.first != UInt8(ascii: "[") ? "[\(host)]" : host
    }

    /// The address the Contact names: the public one when a NAT was seen.
    public var contactAddress: HostAndPort { publicAddress ?? HostAndPort(host: localHost, port: localPort) }

    public var contactURI: String {
        let address = contactAddress
        return "sip:\(user)@\(SIPAccount.uriHost(address.host)):\(address.port);transport=\(transport.rawValue)"
    }
}

/// A host (an address) and a port.
public struct HostAndPort: Equatable, Sendable {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Where the top Via of a response says the server saw our request
    /// come from: `received` (else the sent-by host) and `rport` (else the
    /// sent-by port). Nil when the server reported neither.
    public static func observed(in response: SIPMessage) -> HostAndPort? {
        guard let via = response.topVia, via.received != nil || via.rport != nil else { return nil }
        let host = via.received.map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: via.host, as: UTF8.self)
        return HostAndPort(host: host, port: via.rport ?? via.port ?? 5060)
    }
}
