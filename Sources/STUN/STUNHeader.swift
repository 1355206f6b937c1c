/// The 20-byte header every STUN message starts with (RFC 5389 §6):
/// type, attribute length, the magic cookie, a 96-bit transaction ID.
public enum STUNHeader {
    static let size = 20
    static let magicCookie: UInt32 = 0x2112_A442
    static let bindingRequest: UInt16 = 0x0001
    static let bindingSuccess: UInt16 = 0x0101
    static let bindingError: UInt16 = 0x0111
    static let transactionIDSize = 12

    /// Whether a datagram on a media socket is STUN rather than RTP or
    /// RTCP: its first two bits are zero (RFC 7983 §7; RTP's are 10) and
    /// it carries the magic cookie.
    public static func isSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= size && bytes[0] & 0xC0 == 0 && readUInt32(bytes, at: 4) == magicCookie
    }

    static func readUInt16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(readUInt16(bytes, at: offset)) << 16 | UInt32(readUInt16(bytes, at: offset + 2))
    }

    static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        append(UInt16(value >> 16), to: &bytes)
        append(UInt16(value & 0xFFFF), to: &bytes)
    }
}
