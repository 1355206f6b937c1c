/// Builds the one compound RTCP packet atad sends per report interval
/// (RFC 3550 §6.1): a sender report if we sent media since the last one,
/// else a receiver report, with at most one report block (a call has one
/// far end); then SDES with our CNAME, which every compound packet must
/// carry; then BYE when the call ends. Written in place into the caller's
/// buffer, so sending allocates nothing.
public enum RTCPCompoundWriter {
    /// Longest CNAME an SDES item can carry.
    public static let maximumCNAMELength = 255

    /// Writes the compound packet at the start of `buffer` and returns its
    /// length in bytes (a multiple of 4).
    /// - Parameters:
    ///   - ssrc: our synchronization source.
    ///   - senderInfo: present → SR, absent → RR.
    ///   - reportBlock: our report about the far end, if we have one.
    ///   - cname: the CNAME text's bytes (UTF-8).
    ///   - goodbye: append a BYE for `ssrc`.
    public static func write(into buffer: UnsafeMutableRawBufferPointer, ssrc: UInt32,
                             senderInfo: RTCPSenderInfo?, reportBlock: RTCPReportBlock?,
                             cname: UnsafeRawBufferPointer, goodbye: Bool = false) throws(RTCPWriteError) -> Int {
        guard cname.count <= maximumCNAMELength else { throw .cnameTooLong }
        let blockCount = reportBlock == nil ? 0 : 1
        let reportLength = 8 + (senderInfo == nil ? 0 : RTCPSenderInfo.size) + blockCount * RTCPReportBlock.size
        // SDES chunk: SSRC, item type, item length, text, then 1...4 zero
        // bytes ending the item list on a 32-bit boundary.
        let chunkUnpadded = 4 + 2 + cname.count
        let chunkLength = (chunkUnpadded + 4) & ~3
        let sdesLength = 4 + chunkLength
        let byeLength = goodbye ? 8 : 0
        let total = reportLength + sdesLength + byeLength
        guard buffer.count >= total else { throw .bufferTooSmall(needed: total) }

        var offset = 0
        let reportType = senderInfo == nil ? RTCPPacketType.receiverReport : RTCPPacketType.senderReport
        writeCommonHeader(into: buffer, at: offset, count: UInt8(blockCount), type: reportType, length: reportLength)
        BigEndian.store(ssrc, into: buffer, at: offset + 4)
        offset += 8
        if let senderInfo {
            senderInfo.write(into: buffer, at: offset)
            offset += RTCPSenderInfo.size
        }
        if let reportBlock {
            reportBlock.write(into: buffer, at: offset)
            offset += RTCPReportBlock.size
        }

        writeCommonHeader(into: buffer, at: offset, count: 1, type: RTCPPacketType.sourceDescription, length: sdesLength)
        BigEndian.store(ssrc, into: buffer, at: offset + 4)
        buffer[offset + 8] = RTCPPacketType.cnameItem
        buffer[offset + 9] = UInt8(cname.count)
        for index in 0..<cname.count {
            buffer[offset + 10 + index] = cname[index]
        }
        for index in (offset + 4 + chunkUnpadded)..<(offset + sdesLength) {
            buffer[index] = 0
        }
        offset += sdesLength

        if goodbye {
            writeCommonHeader(into: buffer, at: offset, count: 1, type: RTCPPacketType.goodbye, length: byeLength)
            BigEndian.store(ssrc, into: buffer, at: offset + 4)
            offset += byeLength
        }
        return offset
    }

    /// Version 2, no padding, the count field, the type, and the length in
    /// 32-bit words minus one (§6.4.1).
    private static func writeCommonHeader(into buffer: UnsafeMutableRawBufferPointer, at offset: Int,
                                          count: UInt8, type: UInt8, length: Int) {
        buffer[offset] = 0x80 | (count & 0x1f)
        buffer[offset + 1] = type
        BigEndian.store(UInt16(length / 4 - 1), into: buffer, at: offset + 2)
    }
}

/// Why a compound RTCP packet could not be written.
public enum RTCPWriteError: Error, Equatable, Sendable {
    /// The buffer holds fewer bytes than the packet needs.
    case bufferTooSmall(needed: Int)
    /// SDES items carry at most 255 bytes.
    case cnameTooLong
}
