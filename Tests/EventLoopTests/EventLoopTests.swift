import EventLoop
import Foundation
import Platform
import Timebase
import XCTest

final class EventLoopTests: XCTestCase {
    func testTimersFireInOrderAndOnTimeUnderTheManualClock() {
        let clock = ManualClock()
        let loop = EventLoop(clock: clock)
        var log: [(String, Instant)] = []
        loop.schedule(after: .milliseconds(30)) { log.append(("c", clock.now)) }
        loop.schedule(after: .milliseconds(10)) { log.append(("a", clock.now)) }
        loop.schedule(after: .milliseconds(20)) { log.append(("b", clock.now)) }

        clock.advance(by: .milliseconds(9))
        XCTAssertEqual(loop.runDueTimers(), 0, "nothing may fire before its deadline")
        clock.advance(by: .milliseconds(1))
        XCTAssertEqual(loop.runDueTimers(), 1)
        XCTAssertEqual(log.map { $0.0 }, ["a"])
        XCTAssertEqual(log[0].1, Instant.zero + .milliseconds(10))

        clock.advance(by: .milliseconds(25))
        loop.runDueTimers()
        XCTAssertEqual(log.map { $0.0 }, ["a", "b", "c"])
        XCTAssertEqual(loop.scheduledTimerCount, 0)
    }

    func testHandlersMayScheduleAndCancelTimers() {
        let clock = ManualClock()
        let loop = EventLoop(clock: clock)
        var fired: [String] = []
        var victim: TimerID?
        loop.schedule(after: .milliseconds(5)) {
            fired.append("first")
            if let victim { loop.cancel(victim) }
            // Already due: runs in the same pass.
            loop.schedule(after: .zero) { fired.append("chained") }
        }
        victim = loop.schedule(after: .milliseconds(6)) { fired.append("cancelled") }
        clock.advance(by: .milliseconds(10))
        loop.runDueTimers()
        XCTAssertEqual(fired, ["first", "chained"])
    }

    func testPeriodicTimerKeepsItsCadence() {
        let clock = ManualClock()
        let loop = EventLoop(clock: clock)
        var ticks: [Int64] = []
        var next = Instant.zero + .milliseconds(20)
        func arm() {
            loop.schedule(at: next) {
                ticks.append(clock.now.nanoseconds / 1_000_000)
                next += .milliseconds(20)
                arm()
            }
        }
        arm()
        for _ in 0..<100 {
            clock.advance(by: .milliseconds(1))
            loop.runDueTimers()
        }
        XCTAssertEqual(ticks, [20, 40, 60, 80, 100])
    }

    func testReadinessOfARealDescriptorRunsItsHandler() throws {
        let clock = SystemClock()
        let loop = EventLoop(clock: clock)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let reader = FileDescriptor(rawValue: fds[0])
        let writer = FileDescriptor(rawValue: fds[1])
        defer { reader.close(); writer.close() }
        var received: [UInt8] = []
        loop.register(reader, for: .readable) { events in
            XCTAssertTrue(events.contains(.readable))
            var buffer = [UInt8](repeating: 0, count: 16)
            let count = try! reader.read(into: &buffer)
            received += buffer[0..<count]
            loop.unregister(reader)
        }
        try writer.writeAll("hi")
        try loop.runOnce(maximumWait: .seconds(2))
        XCTAssertEqual(received, Array("hi".utf8))
        XCTAssertEqual(loop.registeredDescriptorCount, 0)
    }

    func testRunOnceWaitsForTheNextTimerOnTheRealClock() throws {
        let clock = SystemClock()
        let loop = EventLoop(clock: clock)
        let start = clock.now
        var firedAt: Instant?
        loop.schedule(after: .milliseconds(15)) { firedAt = clock.now }
        var rounds = 0
        while firedAt == nil && rounds < 100 {
            try loop.runOnce(maximumWait: .seconds(1))
            rounds += 1
        }
        let fired = try XCTUnwrap(firedAt)
        XCTAssertGreaterThanOrEqual((fired - start).nanoseconds, Interval.milliseconds(15).nanoseconds,
                                    "a timer must never fire early")
    }
}
