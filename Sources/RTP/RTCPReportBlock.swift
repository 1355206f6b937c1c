/// One reception report block (RFC 3550 §6.4.1): what a receiver says about
/// one source. atad sends one about the far end and reads the far end's
/// block about us for loss, jitter and round-trip time.
public struct RTCPReportBlock: Equatable, Sendable {
    /// Bytes on the wire.
    public static let size = 24

    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, in 1/256.
    public var fractionLost: UInt8
    /// Packets lost since reception began; a 24-bit signed field, so it
    /// lies in -0x800000...0x7fffff (see `clampedCumulativeLost`).
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    /// Interarrival jitter, timestamp units.
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received from the
    /// source (0 if none).
    public var lastSenderReport: UInt32
    /// Time since that SR was received, in 1/65536 s (0 if none).
    public var delaySinceLastSenderReport: UInt32

    public init(ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, extendedHighestSequence: UInt32,
                jitter: UInt32, lastSenderReport: UInt32, delaySinceLastSenderReport: UInt32) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = RTCPReportBlock.clampedCumulativeLost(Int64(cumulativeLost))
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    /// Clamps a loss count into the 24-bit signed field, as RFC 3550 A.3 asks
    /// (saturate rather than wrap).
    public static func clampedCumulativeLost(_ lost: Int64) -> Int32 {
        Int32(max(-0x80_0000, min(0x7f_ffff, lost)))
    }

    /// Writes the 24 bytes at `offset` (the caller checked the room).
    func write(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        BigEndian.store(ssrc, into: buffer, at: offset)
        let lost = UInt32(bitPattern: cumulativeLost) & 0x00ff_ffff
        BigEndian.store(UInt32(fractionLost) << 24 | lost, into: buffer, at: offset + 4)
        BigEndian.store(extendedHighestSequence, into: buffer, at: offset + 8)
        BigEndian.store(jitter, into: buffer, at: offset + 12)
        BigEndian.store(lastSenderReport, into: buffer, at: offset + 16)
        BigEndian.store(delaySinceLastSenderReport, into: buffer, at: offset + 20)
    }

    /// Reads 24 bytes at `offset` (the caller checked they are there).
    init(reading buffer: UnsafeRawBufferPointer, at offset: Int) {
        let lossWord = BigEndian.load32(buffer, at: offset + 4)
        // Sign-extend the 24-bit count.
        let lost = Int32(bitPattern: lossWord << 8) >> 8
        self.init(ssrc: BigEndian.load32(buffer, at: offset), fractionLost: UInt8(truncatingIfNeeded: lossWord >> 24),
                  cumulativeLost: lost, extendedHighestSequence: BigEndian.load32(buffer, at: offset + 8),
                  jitter: BigEndian.load32(buffer, at: offset + 12),
                  lastSenderReport: BigEndian.load32(buffer, at: offset + 16),
                  delaySinceLastSenderReport: BigEndian.load32(buffer, at: offset + 20))
    }
}
