import EventLoop
import Timebase
import XCTest

final class TimerQueueTests: XCTestCase {
    private func at(_ ms: Int64) -> Instant { Instant.zero + .milliseconds(ms) }

    func testPopsInDeadlineOrderAndTiesInScheduleOrder() {
        var queue = TimerQueue()
        let c = queue.schedule(at: at(30))
        let a = queue.schedule(at: at(10))
        let b1 = queue.schedule(at: at(20))
        let b2 = queue.schedule(at: at(20))
        var fired: [TimerID] = []
        while let id = queue.popDue(now: at(100)) { fired.append(id) }
        XCTAssertEqual(fired, [a, b1, b2, c])
        XCTAssertEqual(queue.count, 0)
    }

    func testNothingIsDueBeforeItsDeadline() {
        var queue = TimerQueue()
        let id = queue.schedule(at: at(50))
        XCTAssertNil(queue.popDue(now: at(49)))
        XCTAssertEqual(queue.nextDeadline(), at(50))
        XCTAssertEqual(queue.popDue(now: at(50)), id)
    }

    func testCancelledTimersNeverFireAndDoNotHoldTheDeadline() {
        var queue = TimerQueue()
        let early = queue.schedule(at: at(5))
        let late = queue.schedule(at: at(10))
        queue.cancel(early)
        XCTAssertFalse(queue.isScheduled(early))
        XCTAssertEqual(queue.nextDeadline(), at(10))
        XCTAssertEqual(queue.popDue(now: at(100)), late)
        XCTAssertNil(queue.popDue(now: at(100)))
    }

    func testManyReschedulesKeepOrderAndStayCompact() {
        var queue = TimerQueue()
        var live: [(TimerID, Int64)] = []
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            let deadline = Int64.random(in: 0..<10_000, using: &generator)
            let id = queue.schedule(at: at(deadline))
            live.append((id, deadline))
            if round % 3 == 0, let victim = live.indices.randomElement(using: &generator) {
                queue.cancel(live[victim].0)
                live.remove(at: victim)
            }
        }
        XCTAssertEqual(queue.count, live.count)
        var last: Int64 = -1
        var popped = 0
        while let id = queue.popDue(now: at(10_000)) {
            let deadline = live.first { $0.0 == id }!.1
            XCTAssertGreaterThanOrEqual(deadline, last)
            last = deadline
            popped += 1
        }
        XCTAssertEqual(popped, live.count)
    }
}
