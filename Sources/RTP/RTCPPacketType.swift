/// RTCP packet types atad writes or looks at (RFC 3550 §12.1).
enum RTCPPacketType {
    static let senderReport: UInt8 = 200
    static let receiverReport: UInt8 = 201
    static let sourceDescription: UInt8 = 202
    static let goodbye: UInt8 = 203
    /// SDES item type of the canonical name.
    static let cnameItem: UInt8 = 1
}
