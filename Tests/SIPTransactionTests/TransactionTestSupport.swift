import SIPTransaction
import Timebase
import XCTest

/// Milliseconds since the manual clock's origin.
func ms(_ value: Int64) -> Instant { Instant.zero + .milliseconds(value) }

/// One action and the time (in ms) it came out.
struct Timed: Equatable, CustomStringConvertible {
    var ms: Int64
    var action: TransactionAction
    init(_ ms: Int64, _ action: TransactionAction) {
        self.ms = ms
        self.action = action
    }
    var description: String { "\(ms)ms \(action)" }
}

/// What the tests drive: the four machines share this shape.
protocol ClockedTransaction {
    var nextDeadline: Instant? { get }
    mutating func advance(to now: Instant) -> [TransactionAction]
}

extension InviteClientTransaction: ClockedTransaction {}
extension NonInviteClientTransaction: ClockedTransaction {}
extension InviteServerTransaction: ClockedTransaction {}
extension NonInviteServerTransaction: ClockedTransaction {}

/// Runs the machine's deadlines one at a time, the way the event loop does,
/// up to and including `end`, and records what each one produced.
func runTimers<T: ClockedTransaction>(_ transaction: inout T, until end: Instant) -> [Timed] {
    var log: [Timed] = []
    var steps = 0
    while let due = transaction.nextDeadline, due <= end {
        steps += 1
        if steps > 10_000 {
            XCTFail("deadline loop does not make progress")
            break
        }
        for action in transaction.advance(to: due) {
            log.append(Timed(due.nanoseconds / 1_000_000, action))
        }
    }
    return log
}

/// The same actions, each stamped with one time.
func at(_ time: Int64, _ actions: [TransactionAction]) -> [Timed] {
    actions.map { Timed(time, $0) }
}
