import SIPMessage

/// How RFC 3263 names each transport in DNS.
extension SIPTransport {
    /// The NAPTR service field that leads to SIP over this transport (§4.1).
    var naptrService: String {
        switch self {
        case .udp: return "SIP+D2U"
        case .tcp: return "SIP+D2T"
        }
    }

    /// The SRV name prefix used when there are no NAPTR records (§4.1).
    var srvPrefix: String {
        switch self {
        case .udp: return "_sip._udp."
        case .tcp: return "_sip._tcp."
        }
    }
}
