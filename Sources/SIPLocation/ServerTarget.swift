import SIPMessage

/// One place to send SIP requests to, as the locator found it.
public struct ServerTarget: Sendable, Equatable {
    /// An IP text: "192.0.2.1" or "2001:db8::1" (never bracketed).
    public let address: String
    public let port: UInt16
    public let transport: SIPTransport
    /// The SRV target or configured host the address came from, for logs.
    public let hostName: String

    public init(address: String, port: UInt16, transport: SIPTransport, hostName: String) {
        self.address = address
        self.port = port
        self.transport = transport
        self.hostName = hostName
    }
}
