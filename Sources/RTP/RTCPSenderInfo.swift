/// The sender information of an RTCP sender report (RFC 3550 §6.4.1): what
/// we have sent, and when on our clock, so the far end can compute the
/// round-trip time from its reply (LSR/DLSR).
public struct RTCPSenderInfo: Equatable, Sendable {
    /// Bytes on the wire.
    public static let size = 20

    /// When the report was made, NTP format (seconds << 32 | fraction). See
    /// `NTPTimestamp` for why atad's monotonic clock is good enough.
    public var ntpTimestamp: UInt64
    /// The same instant on the RTP media clock.
    public var rtpTimestamp: UInt32
    /// RTP data packets sent since the start of transmission.
    public var packetCount: UInt32
    /// RTP payload octets sent (headers and padding excluded).
    public var octetCount: UInt32

    public init(ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32) {
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
    }

    func write(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        BigEndian.store(UInt32(truncatingIfNeeded: ntpTimestamp >> 32), into: buffer, at: offset)
        BigEndian.store(UInt32(truncatingIfNeeded: ntpTimestamp), into: buffer, at: offset + 4)
        BigEndian.store(rtpTimestamp, into: buffer, at: offset + 8)
        BigEndian.store(packetCount, into: buffer, at: offset + 12)
        BigEndian.store(octetCount, into: buffer, at: offset + 16)
    }
}
