/// Where a STUN server saw a request come from: the public side of the
/// NAT binding of the socket that sent it.
public struct STUNMappedAddress: Equatable, Sendable {
    /// 4 bytes (IPv4) or 16 (IPv6), in network order.
    public let addressBytes: [UInt8]
    public let port: UInt16

    public init(addressBytes: [UInt8], port: UInt16) {
        self.addressBytes = addressBytes
        self.port = port
    }
}
