import Timebase

/// One Binding transaction over UDP (RFC 5389 §7.2.1), cut short for call
/// setup: a call waits on it before its SDP goes out, so it is sent at
/// 0, 250 and 750 ms and given up at 1.5 s (the RFC's 39.5 s would hold
/// the caller in silence; a STUN server that slow is of no use to a call).
/// Takes the time and the datagrams received; returns what to send. No I/O.
public struct STUNBinding {
    public enum Output: Equatable, Sendable {
        case send([UInt8])
        /// No answer in time, or the server refused: go without.
        case gaveUp
    }

    /// When each transmission is due, after the first.
    static let retransmissions: [Interval] = [.milliseconds(250), .milliseconds(750)]
    public static let giveUpAfter = Interval.milliseconds(1500)

    public let transactionID: [UInt8]
    private let request: [UInt8]
    private var startedAt = Instant.zero
    private var sent = 0
    public private(set) var result: STUNMappedAddress?
    public private(set) var isOver = false

    /// `transactionID`: 12 random bytes (§6: cryptographically random).
    public init(transactionID: [UInt8]) {
        self.transactionID = transactionID
        request = STUNBindingRequest.bytes(transactionID: transactionID)
    }

    public mutating func start(at now: Instant) -> [UInt8] {
        startedAt = now
        sent = 1
        return request
    }

    public var nextDeadline: Instant? {
        guard !isOver else { return nil }
        let index = sent - 1
        return startedAt + (index < Self.retransmissions.count ? Self.retransmissions[index] : Self.giveUpAfter)
    }

    public mutating func advance(to now: Instant) -> Output? {
        guard let due = nextDeadline, due <= now else { return nil }
        if sent - 1 < Self.retransmissions.count {
            sent += 1
            return .send(request)
        }
        isOver = true
        return .gaveUp
    }

    /// A datagram from the server: true when it answered this request
    /// (`result` then holds the mapped address, or nil if refused).
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !isOver, let response = STUNBindingResponse.parse(bytes, transactionID: transactionID) else { return false }
        isOver = true
        if case .mapped(let address) = response { result = address }
        return true
    }
}
