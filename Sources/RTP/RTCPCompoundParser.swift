/// What atad needs from a received compound RTCP packet, read in place
/// without allocating: who sent it, the timestamp of its sender report (to
/// echo as LSR in our next report), its report block about us (loss,
/// jitter, round-trip time), and whether it says goodbye.
public struct RTCPCompoundSummary: Equatable, Sendable {
    /// SSRC of the first (SR or RR) packet's sender.
    public var senderSSRC: UInt32
    /// Middle 32 bits of the SR's NTP timestamp; nil for an RR.
    public var senderReportNTPMiddle: UInt32?
    /// The report block whose SSRC is ours, if any packet carried one.
    public var reportAboutUs: RTCPReportBlock?
    /// A BYE packet was present.
    public var hasGoodbye: Bool

    public init(senderSSRC: UInt32, senderReportNTPMiddle: UInt32?, reportAboutUs: RTCPReportBlock?, hasGoodbye: Bool) {
        self.senderSSRC = senderSSRC
        self.senderReportNTPMiddle = senderReportNTPMiddle
        self.reportAboutUs = reportAboutUs
        self.hasGoodbye = hasGoodbye
    }

    /// Validates `bytes` as a compound packet (RFC 3550 A.2: every packet
    /// version 2, the first an SR or RR without padding, only the last one
    /// padded, the lengths adding up to the datagram) and extracts the
    /// summary. `ourSSRC` selects the report block to return.
    public init(parsing bytes: UnsafeRawBufferPointer, ourSSRC: UInt32) throws(RTCPParseError) {
        guard bytes.count >= 8 else { throw .tooShort }
        guard bytes[0] >> 6 == 2 else { throw .badVersion }
        guard bytes[1] == RTCPPacketType.senderReport || bytes[1] == RTCPPacketType.receiverReport else {
            throw .notReportFirst
        }
        guard bytes[0] & 0x20 == 0 else { throw .badPadding }
        senderSSRC = BigEndian.load32(bytes, at: 4)
        senderReportNTPMiddle = nil
        reportAboutUs = nil
        hasGoodbye = false

        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else { throw .tooShort }
            let first = bytes[offset]
            guard first >> 6 == 2 else { throw .badVersion }
            let count = Int(first & 0x1f)
            let type = bytes[offset + 1]
            let length = (Int(BigEndian.load16(bytes, at: offset + 2)) + 1) * 4
            guard length <= bytes.count - offset else { throw .lengthPastEnd }
            var contentEnd = offset + length
            if first & 0x20 != 0 {
                // Padding is allowed only on the last packet; its last byte
                // counts the padding bytes, itself included.
                guard contentEnd == bytes.count else { throw .badPadding }
                let padding = Int(bytes[contentEnd - 1])
                guard padding > 0, padding <= length - 4 else { throw .badPadding }
                contentEnd -= padding
            }
            switch type {
            case RTCPPacketType.senderReport:
                try readReport(bytes, from: offset, to: contentEnd, blocks: count,
                               senderInfoLength: RTCPSenderInfo.size, ourSSRC: ourSSRC)
                if offset == 0 {
                    senderReportNTPMiddle = BigEndian.load32(bytes, at: offset + 8) << 16
                        | UInt32(BigEndian.load16(bytes, at: offset + 12))
                }
            case RTCPPacketType.receiverReport:
                try readReport(bytes, from: offset, to: contentEnd, blocks: count,
                               senderInfoLength: 0, ourSSRC: ourSSRC)
            case RTCPPacketType.goodbye:
                hasGoodbye = true
            default:
                break  // SDES, APP, feedback: nothing atad acts on.
            }
            offset += length
        }
    }

    /// Checks that an SR/RR's declared blocks fit its length and picks out
    /// the one about us.
    private mutating func readReport(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, blocks: Int,
                                     senderInfoLength: Int, ourSSRC: UInt32) throws(RTCPParseError) {
        let firstBlock = start + 8 + senderInfoLength
        guard firstBlock + blocks * RTCPReportBlock.size <= end else { throw .blocksPastEnd }
        for index in 0..<blocks {
            let blockOffset = firstBlock + index * RTCPReportBlock.size
            if reportAboutUs == nil, BigEndian.load32(bytes, at: blockOffset) == ourSSRC {
                reportAboutUs = RTCPReportBlock(reading: bytes, at: blockOffset)
            }
        }
    }
}

/// Why a datagram is not a valid compound RTCP packet.
public enum RTCPParseError: Error, Equatable, Sendable {
    /// Fewer bytes than a header needs.
    case tooShort
    /// A packet's version is not 2.
    case badVersion
    /// The compound packet does not start with an SR or RR.
    case notReportFirst
    /// Padding on a packet other than the last, or a bad padding count.
    case badPadding
    /// A packet's length field runs past the datagram.
    case lengthPastEnd
    /// An SR/RR declares more report blocks than its length holds.
    case blocksPastEnd
}
