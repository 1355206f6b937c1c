/// The RFC 4733 §2.3 telephone-event payload: which event, whether it has
/// ended, its volume and how long it has lasted so far.
///
///     event (8) | E (1) | R (1) | volume (6) | duration (16)
public struct TelephoneEventPayload: Equatable, Sendable {
    /// Bytes on the wire.
    public static let size = 4

    /// Event code (0-15 are the DTMF keys, see `TelephoneEventCode`).
    public var event: UInt8
    /// Set on the last (three) packets of an event.
    public var isEnd: Bool
    /// Power level, 0-63 meaning 0 to −63 dBm0.
    public var volume: UInt8
    /// Length so far, in RTP timestamp units, from the event's (segment's)
    /// timestamp.
    public var duration: UInt16

    public init(event: UInt8, isEnd: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = min(volume, 63)
        self.duration = duration
    }

    /// Reads the first 4 bytes of an RTP payload; any bytes after them
    /// (there should be none without RFC 2198 redundancy) are ignored.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(TelephoneEventParseError) {
        guard bytes.count >= TelephoneEventPayload.size else { throw .tooShort }
        self.init(event: bytes[0], isEnd: bytes[1] & 0x80 != 0, volume: bytes[1] & 0x3f,
                  duration: BigEndian.load16(bytes, at: 2))
    }

    /// Writes the 4 bytes at the start of `buffer` and returns 4.
    @discardableResult
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= TelephoneEventPayload.size, "telephone-event payload needs 4 bytes")
        buffer[0] = event
        buffer[1] = (isEnd ? 0x80 : 0) | (volume & 0x3f)
        BigEndian.store(duration, into: buffer, at: 2)
        return TelephoneEventPayload.size
    }
}

/// Why an RTP payload is not a telephone event.
public enum TelephoneEventParseError: Error, Equatable, Sendable {
    case tooShort
}

/// One telephone-event RTP packet to send: the header fields that differ
/// from audio packets, and the payload.
public struct TelephoneEventPacket: Equatable, Sendable {
    /// Set on the first packet of an event only.
    public var marker: Bool
    /// The event's (segment's) start, constant over its packets.
    public var timestamp: UInt32
    public var payload: TelephoneEventPayload

    public init(marker: Bool, timestamp: UInt32, payload: TelephoneEventPayload) {
        self.marker = marker
        self.timestamp = timestamp
        self.payload = payload
    }
}
