import SIPTransaction
import Timebase

/// Our 2xx to an INVITE or a re-INVITE, sent again until its ACK comes
/// (RFC 3261 §13.3.1.4): after T1, then at doubling intervals up to T2,
/// over any transport, since the ACK for a 2xx is end to end and only the
/// UA knows it is missing. After 64*T1 without one, the call is dead.
public struct AnswerRetransmission: Sendable, Equatable {
    public enum Output: Equatable, Sendable {
        case send([UInt8])
        /// 64*T1 went by without the ACK.
        case unacknowledged
    }

    /// The CSeq number of the INVITE answered: its ACK carries the same.
    public let cseq: UInt32
    public let response: [UInt8]
    private var interval: Interval
    private var sendAt: Instant
    private let giveUpAt: Instant
    private let t2: Interval

    public init(response: [UInt8], cseq: UInt32, timers: TransactionTimers, at now: Instant) {
        self.response = response
        self.cseq = cseq
        interval = timers.t1
        sendAt = now + timers.t1
        giveUpAt = now + timers.t1 * 64
        t2 = timers.t2
    }

    public var nextDeadline: Instant { sendAt < giveUpAt ? sendAt : giveUpAt }

    public mutating func advance(to now: Instant) -> [Output] {
        if giveUpAt <= now { return [.unacknowledged] }
        guard sendAt <= now else { return [] }
        interval = min(interval * 2, t2)
        sendAt = now + interval
        return [.send(response)]
    }
}
