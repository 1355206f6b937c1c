import Timebase

/// Turns received RFC 4733 telephone-event packets into "started" and
/// "ended" exactly once per event, however many updates, retransmitted
/// end packets or reordered packets arrive.
///
/// The RTP timestamp names an event (§2.5.2): packets repeating a known
/// timestamp update it, a new timestamp is a new event, and a new event
/// ends one still playing. An event cut into segments because it outlasted
/// the 16-bit duration (§2.5.1.3) arrives as a new timestamp without the
/// marker, for the same event code, right where the long previous segment
/// ends; it continues the event. If updates stop (the end packets were
/// lost) `expire` ends the event after `timeout`, so a tone never plays on.
public struct TelephoneEventReceiver: Sendable {
    /// An event that finished.
    public struct Ending: Equatable, Sendable {
        public var event: UInt8
        /// Total length in RTP timestamp units, over all segments.
        public var duration: UInt32

        public init(event: UInt8, duration: UInt32) {
            self.event = event
            self.duration = duration
        }
    }

    /// What one packet changed (most packets: nothing).
    public struct Changes: Equatable, Sendable {
        /// An event still playing that this packet's new event cut short.
        public var interrupted: Ending?
        /// The event this packet started.
        public var started: UInt8?
        /// The event this packet ended.
        public var ended: Ending?

        public init(interrupted: Ending? = nil, started: UInt8? = nil, ended: Ending? = nil) {
            self.interrupted = interrupted
            self.started = started
            self.ended = ended
        }
    }

    private struct ActiveEvent: Sendable {
        var event: UInt8
        var segmentTimestamp: UInt32
        /// Length of the segments before the current one.
        var earlierSegments: UInt32
        var duration: UInt16
        var lastUpdate: Instant

        var total: UInt32 { earlierSegments &+ UInt32(duration) }
    }

    /// How long an event may go without an update before `expire` ends it.
    public let timeout: Interval
    private var active: ActiveEvent?
    /// Timestamp of the last segment that ended; it and anything older is
    /// history.
    private var finishedTimestamp: UInt32?

    /// - Parameter timeout: senders update an event every packet period
    ///   (≤ 50 ms); three missed updates end it.
    public init(timeout: Interval = .milliseconds(150)) {
        self.timeout = timeout
    }

    /// The event currently playing, if any.
    public var activeEvent: UInt8? { active?.event }

    /// When `expire` should next be called; nil when nothing is playing.
    public var expiryDeadline: Instant? { active.map { $0.lastUpdate + timeout } }

    /// Feeds one received telephone-event packet.
    public mutating func receive(_ payload: TelephoneEventPayload, timestamp: UInt32, marker: Bool,
                                 arrival: Instant) -> Changes {
        if let finishedTimestamp, Int32(bitPattern: timestamp &- finishedTimestamp) <= 0 {
            return Changes()  // a retransmitted end packet, or a late one
        }
        var changes = Changes()
        if var current = active {
            let ahead = Int32(bitPattern: timestamp &- current.segmentTimestamp)
            if ahead < 0 { return changes }  // a late packet of an earlier segment
            if ahead == 0 || isNextSegment(of: current, payload: payload, marker: marker, ahead: ahead) {
                if ahead > 0 {
                    current.earlierSegments &+= UInt32(ahead)
                    current.segmentTimestamp = timestamp
                    current.duration = payload.duration
                } else {
                    current.duration = max(current.duration, payload.duration)
                }
                current.lastUpdate = arrival
                if payload.isEnd {
                    current.duration = payload.duration
                    changes.ended = finish(current)
                } else {
                    active = current
                }
                return changes
            }
            changes.interrupted = finish(current)
        }
        changes.started = payload.event
        let started = ActiveEvent(event: payload.event, segmentTimestamp: timestamp, earlierSegments: 0,
                                  duration: payload.duration, lastUpdate: arrival)
        if payload.isEnd {
            changes.ended = finish(started)
        } else {
            active = started
        }
        return changes
    }

    /// Ends the playing event if its updates stopped `timeout` ago.
    public mutating func expire(at now: Instant) -> Ending? {
        guard let current = active, now - current.lastUpdate >= timeout else { return nil }
        return finish(current)
    }

    /// A segment continues an event only if nothing marks it as new: same
    /// code, no marker, starting within reach of a previous segment that
    /// had run long enough to need splitting.
    private func isNextSegment(of current: ActiveEvent, payload: TelephoneEventPayload, marker: Bool,
                               ahead: Int32) -> Bool {
        !marker && payload.event == current.event && current.duration >= 0x8000 && ahead <= 0x1_0000
    }

    private mutating func finish(_ event: ActiveEvent) -> Ending {
        active = nil
        finishedTimestamp = event.segmentTimestamp
        return Ending(event: event.event, duration: event.total)
    }
}
