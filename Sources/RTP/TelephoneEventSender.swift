/// Sends a key press as RFC 4733 telephone-event packets, one per packet
/// period, in place of audio.
///
/// Per §2.5.1: every packet of an event carries the event's start
/// timestamp; the first has the marker bit; the duration grows by one
/// period per packet; after release the end packet goes out three times
/// with the final duration (§2.5.1.4) so one lost packet cannot leave the
/// far end's tone on. An event that outgrows the 16-bit duration is cut
/// into segments (§2.5.1.3): the next segment starts where the previous
/// one's reported duration ends, without the marker, and counts from zero.
/// `isActive` tells the caller to withhold audio packets meanwhile.
public struct TelephoneEventSender: Sendable {
    /// End packets sent per event.
    public static let endPacketCount = 3

    private struct Event: Sendable {
        var event: UInt8
        var segmentTimestamp: UInt32
        var duration: UInt32 = 0
        var sentFirst = false
        var released = false
        var endPacketsSent = 0
    }

    /// Power level of the events, 0-63 (−dBm0).
    public let volume: UInt8
    private var current: Event?
    /// A key pressed while the previous event was still being ended.
    private var pending: Event?

    public init(volume: UInt8 = 10) {
        self.volume = min(volume, 63)
    }

    /// True from `press` until the last end packet has been handed out.
    public var isActive: Bool { current != nil || pending != nil }

    /// Starts an event; `timestamp` is the RTP timestamp of the packet
    /// period about to be sent. A press while an event is playing releases
    /// that one; the new event follows its end packets (a third key pressed
    /// in that short window replaces the waiting one).
    public mutating func press(event: UInt8, at timestamp: UInt32) {
        if current == nil {
            current = Event(event: event, segmentTimestamp: timestamp)
        } else {
            current?.released = true
            pending = Event(event: event, segmentTimestamp: timestamp)
        }
    }

    /// Ends the latest pressed event (after at least one ordinary packet).
    public mutating func release() {
        if pending != nil {
            pending?.released = true
        } else {
            current?.released = true
        }
    }

    /// The packet for this packet period, or nil when no event is active.
    public mutating func nextPacket(periodSamples: UInt32) -> TelephoneEventPacket? {
        if current == nil, let waiting = pending {
            current = waiting
            pending = nil
        } else {
            // A waiting event starts one period later than pressed.
            pending?.segmentTimestamp &+= periodSamples
        }
        guard var event = current else { return nil }
        var marker = false
        if event.released && event.sentFirst {
            if event.endPacketsSent == 0 { grow(&event, by: periodSamples) }
            event.endPacketsSent += 1
        } else {
            marker = !event.sentFirst
            event.sentFirst = true
            grow(&event, by: periodSamples)
        }
        let isEnd = event.endPacketsSent > 0
        let packet = TelephoneEventPacket(
            marker: marker, timestamp: event.segmentTimestamp,
            payload: TelephoneEventPayload(event: event.event, isEnd: isEnd, volume: volume,
                                           duration: UInt16(event.duration)))
        current = event.endPacketsSent >= TelephoneEventSender.endPacketCount ? nil : event
        return packet
    }

    /// Adds one period, starting a new segment when the duration would no
    /// longer fit 16 bits.
    private func grow(_ event: inout Event, by period: UInt32) {
        let grown = event.duration + period
        if grown > UInt32(UInt16.max) {
            event.segmentTimestamp &+= event.duration
            event.duration = min(period, UInt32(UInt16.max))
        } else {
            event.duration = grown
        }
    }
}
