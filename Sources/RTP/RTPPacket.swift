/// A received RTP packet, parsed in place (RFC 3550 §5.1): the header, and
/// where the payload lies in the datagram once CSRCs, the header extension
/// and padding are skipped. Nothing is copied.
public struct RTPPacket: Equatable, Sendable {
    public var header: RTPHeader
    /// Offset of the payload from the start of the datagram.
    public var payloadOffset: Int
    /// Payload bytes (padding removed).
    public var payloadCount: Int

    /// Parses one datagram; throws for anything that is not valid RTP.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPParseError) {
        guard bytes.count >= RTPHeader.size else { throw .tooShort }
        let first = bytes[0]
        guard first >> 6 == 2 else { throw .badVersion }
        let hasPadding = first & 0x20 != 0
        let hasExtension = first & 0x10 != 0
        let csrcCount = Int(first & 0x0f)
        var offset = RTPHeader.size + 4 * csrcCount
        guard bytes.count >= offset else { throw .tooShort }
        if hasExtension {
            guard bytes.count >= offset + 4 else { throw .tooShort }
            let words = Int(BigEndian.load16(bytes, at: offset + 2))
            offset += 4 + 4 * words
            guard bytes.count >= offset else { throw .tooShort }
        }
        var end = bytes.count
        if hasPadding {
            let padding = Int(bytes[end - 1])
            guard padding > 0, end - padding >= offset else { throw .badPadding }
            end -= padding
        }
        let second = bytes[1]
        header = RTPHeader(marker: second & 0x80 != 0, payloadType: second & 0x7f,
                           sequenceNumber: BigEndian.load16(bytes, at: 2),
                           timestamp: BigEndian.load32(bytes, at: 4), ssrc: BigEndian.load32(bytes, at: 8))
        payloadOffset = offset
        payloadCount = end - offset
    }

    /// RTCP shares the port when rtcp-mux is used; its packet types 200-204
    /// land on RTP payload types 72-76 with the marker set (RFC 5761 §4).
    public static func looksLikeRTCP(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[1] >= 192 && bytes[1] <= 223
    }
}

/// Why a datagram is not RTP.
public enum RTPParseError: Error, Equatable, Sendable {
    case tooShort
    case badVersion
    case badPadding
}
