import SIPMessage
import SIPTransaction
import Timebase

/// Our 18x sent reliably (RFC 3262) to an INVITE that requires `100rel`:
/// it carries `RSeq` and is repeated, T1 doubling each time, until the
/// caller's PRACK names it in `RAck`; one never acknowledged for 64×T1
/// means the caller cannot hear us, and the INVITE is refused. One at a
/// time: we send a single 180 per call.
struct ReliableProvisional {
    let response: [UInt8]
    let rseq: UInt32
    private let inviteCSeq: UInt32
    private var interval: Interval
    private(set) var nextSend: Instant?
    private let giveUpAt: Instant

    init(response: [UInt8], rseq: UInt32, inviteCSeq: UInt32, timers: TransactionTimers, at now: Instant) {
        self.response = response
        self.rseq = rseq
        self.inviteCSeq = inviteCSeq
        interval = timers.t1
        nextSend = now + timers.t1
        giveUpAt = now + timers.t1 * 64
    }

    /// Whether `RAck: RSEQ CSEQ INVITE` names this response; a match stops
    /// the repeats.
    mutating func acknowledge(_ rack: SIPBytes?) -> Bool {
        guard let rack else { return false }
        let words = rack.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        guard words.count == 3, SIPScalar.deltaSeconds(words[0]) == rseq, SIPScalar.deltaSeconds(words[1]) == inviteCSeq,
              words[2].equalsIgnoringCase("INVITE") else { return false }
        nextSend = nil
        return true
    }

    /// The answer (or the call's end) makes the repeats moot.
    mutating func stop() { nextSend = nil }

    var nextDeadline: Instant? { nextSend }

    enum Due: Equatable { case nothing, send([UInt8]), gaveUp }

    mutating func advance(to now: Instant) -> Due {
        guard let due = nextSend, due <= now else { return .nothing }
        guard now < giveUpAt else {
            nextSend = nil
            return .gaveUp
        }
        interval = interval * 2
        nextSend = now + interval
        return .send(response)
    }
}
