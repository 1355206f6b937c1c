@testable import HardwareLinux
import Timebase
import XCTest

final class HookEdgeInterpreterTests: XCTestCase {
    private func ms(_ value: Int64) -> Instant { Instant.zero + .milliseconds(value) }

    func testBouncesOfOneToFiveMillisecondsAreRejectedWithATwentyMillisecondDebounce() {
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertEqual(hook.state, .onHook)
        XCTAssertNil(hook.edge(.rising, at: ms(100)))
        XCTAssertEqual(hook.nextDeadline, ms(120))
        XCTAssertNil(hook.edge(.falling, at: ms(101)))
        XCTAssertNil(hook.nextDeadline, "back at the stable level: nothing pending")
        XCTAssertNil(hook.edge(.rising, at: ms(103)))
        XCTAssertNil(hook.edge(.falling, at: ms(105)))
        XCTAssertNil(hook.edge(.rising, at: ms(106)))
        XCTAssertNil(hook.edge(.falling, at: ms(111)), "a 5 ms pulse is a bounce")
        XCTAssertNil(hook.advance(to: ms(500)))
        XCTAssertEqual(hook.state, .onHook)
        XCTAssertNil(hook.nextDeadline)
    }

    func testALevelStableForTheDebounceTimeCommitsWithTheTimeItBegan() {
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.rising, at: ms(100)))
        XCTAssertNil(hook.edge(.falling, at: ms(101)))
        XCTAssertNil(hook.edge(.rising, at: ms(104)))
        XCTAssertEqual(hook.nextDeadline, ms(124))
        XCTAssertNil(hook.advance(to: ms(124) - .microseconds(1)), "not one microsecond early")
        XCTAssertEqual(hook.advance(to: ms(124)), HookEvent(state: .offHook, at: ms(104)))
        XCTAssertEqual(hook.state, .offHook)
        XCTAssertNil(hook.nextDeadline)
        XCTAssertNil(hook.advance(to: ms(200)), "reported once")

        XCTAssertNil(hook.edge(.falling, at: ms(300)))
        XCTAssertEqual(hook.advance(to: ms(330)), HookEvent(state: .onHook, at: ms(300)))
    }

    func testEdgesDeliveredLateAreJudgedByTheirOwnTimestamps() {
        // The loop was busy: both edges arrive in one read at 60 ms.
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.rising, at: ms(0)))
        XCTAssertEqual(hook.edge(.falling, at: ms(50)), HookEvent(state: .offHook, at: ms(0)),
                       "off hook for 50 ms before the falling edge: real")
        XCTAssertNil(hook.advance(to: ms(60)))
        XCTAssertEqual(hook.nextDeadline, ms(70))
        XCTAssertEqual(hook.advance(to: ms(70)), HookEvent(state: .onHook, at: ms(50)))
    }

    func testInvertedInSoftware() {
        // SHK low when off hook, the line not requested active-low.
        var hook = HookEdgeInterpreter(initialLevel: true, at: ms(0), debounce: .milliseconds(20), inverted: true)
        XCTAssertEqual(hook.state, .onHook)
        XCTAssertNil(hook.edge(.falling, at: ms(10)))
        XCTAssertEqual(hook.advance(to: ms(30)), HookEvent(state: .offHook, at: ms(10)))
        XCTAssertNil(hook.edge(.rising, at: ms(40)))
        XCTAssertEqual(hook.advance(to: ms(60)), HookEvent(state: .onHook, at: ms(40)))

        let offAtStart = HookEdgeInterpreter(initialLevel: false, at: ms(0), inverted: true)
        XCTAssertEqual(offAtStart.state, .offHook)
    }

    func testActiveLowIsAskedOfTheKernelWithTheRightFlags() {
        // With hook_active_low the kernel inverts values and edges, so the
        // interpreter sees logical levels and keeps `inverted` false.
        XCTAssertEqual(gpioRequestFlags(activeLow: false, bias: .asIs), 0)
        XCTAssertEqual(gpioRequestFlags(activeLow: true, bias: .asIs), 1 << 2)
        XCTAssertEqual(gpioRequestFlags(activeLow: true, bias: .pullUp), (1 << 2) | (1 << 5))
        XCTAssertEqual(gpioRequestFlags(activeLow: false, bias: .pullDown), 1 << 4)
        XCTAssertEqual(gpioRequestFlags(activeLow: false, bias: .disabled), 1 << 3)
    }

    func testRotaryDialPulsesSurviveBouncesAndKeepTheirTiming() {
        // Digit 3 at 10 pulses per second: 60 ms breaks, 40 ms makes, each
        // transition with 2 ms of contact bounce.
        var hook = HookEdgeInterpreter(initialLevel: true, at: ms(0), debounce: .milliseconds(20))
        XCTAssertEqual(hook.state, .offHook)
        var events: [HookEvent] = []
        func feed(_ edge: GPIOEdge, _ at: Int64) {
            if let deadline = hook.nextDeadline, deadline <= ms(at), let event = hook.advance(to: deadline) {
                events.append(event)
            }
            if let event = hook.edge(edge, at: ms(at)) { events.append(event) }
        }
        var t: Int64 = 1000
        for _ in 0..<3 {
            feed(.falling, t); feed(.rising, t + 1); feed(.falling, t + 2)  // break begins
            t += 60
            feed(.rising, t); feed(.falling, t + 1); feed(.rising, t + 2)  // make begins
            t += 40
        }
        if let event = hook.advance(to: ms(t + 100)) { events.append(event) }
        XCTAssertEqual(events, [
            HookEvent(state: .onHook, at: ms(1002)), HookEvent(state: .offHook, at: ms(1062)),
            HookEvent(state: .onHook, at: ms(1102)), HookEvent(state: .offHook, at: ms(1162)),
            HookEvent(state: .onHook, at: ms(1202)), HookEvent(state: .offHook, at: ms(1262)),
        ])
    }

    func testRepeatedEdgeKeepsThePendingStart() {
        // An edge lost in the kernel queue shows up as two rising edges.
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.rising, at: ms(0)))
        XCTAssertNil(hook.edge(.rising, at: ms(5)))
        XCTAssertEqual(hook.advance(to: ms(20)), HookEvent(state: .offHook, at: ms(0)))
    }

    func testZeroDebounceReportsEveryEdgeAtOnce() {
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .zero)
        XCTAssertEqual(hook.edge(.rising, at: ms(3)), HookEvent(state: .offHook, at: ms(3)))
        XCTAssertEqual(hook.edge(.falling, at: ms(4)), HookEvent(state: .onHook, at: ms(4)))
        XCTAssertNil(hook.edge(.falling, at: ms(5)))
        XCTAssertNil(hook.nextDeadline)
    }

    func testTimeNeverRunsBackwards() {
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.advance(to: ms(100)))
        // A stamp older than the last time seen counts as the last time seen.
        XCTAssertNil(hook.edge(.rising, at: ms(90)))
        XCTAssertEqual(hook.nextDeadline, ms(120))
        XCTAssertEqual(hook.advance(to: ms(120)), HookEvent(state: .offHook, at: ms(100)))
    }

    // MARK: The level read after a batch of edges

    /// The first 16 of 41 toggles from off hook: the kernel dropped the rest,
    /// so the queue ends off hook while the pin ends on hook.
    private func sixteenQueuedTogglesFromOffHook(_ hook: inout HookEdgeInterpreter) {
        for index in 0..<16 {
            XCTAssertNil(hook.edge(index % 2 == 0 ? .falling : .rising, at: ms(1000 + Int64(index) * 3)))
        }
    }

    func testALevelReadThatDisagreesWithTheLastEdgeWinsAfterTheDebounce() {
        var hook = HookEdgeInterpreter(initialLevel: true, at: ms(0), debounce: .milliseconds(20))
        sixteenQueuedTogglesFromOffHook(&hook)
        XCTAssertNil(hook.advance(to: ms(3000)), "the queued edges alone end where they began")
        XCTAssertEqual(hook.state, .offHook)
        let read = hook.levelRead(false, at: ms(3000))
        XCTAssertNil(read.event)
        XCTAssertTrue(read.lostEdge)
        XCTAssertEqual(hook.latestState, .onHook)
        XCTAssertEqual(hook.nextDeadline, ms(3020))
        XCTAssertEqual(hook.advance(to: ms(3020)), HookEvent(state: .onHook, at: ms(3000)))
        XCTAssertEqual(hook.state, .onHook)
    }

    func testALevelReadThatAgreesChangesNothing() {
        var hook = HookEdgeInterpreter(initialLevel: false, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.rising, at: ms(100)))
        let pending = hook.levelRead(true, at: ms(105))
        XCTAssertNil(pending.event)
        XCTAssertFalse(pending.lostEdge)
        XCTAssertEqual(hook.nextDeadline, ms(120), "the edge's own time still counts")
        XCTAssertEqual(hook.advance(to: ms(120)), HookEvent(state: .offHook, at: ms(100)))
        let stable = hook.levelRead(true, at: ms(500))
        XCTAssertNil(stable.event)
        XCTAssertFalse(stable.lostEdge)
        XCTAssertNil(hook.nextDeadline)
    }

    func testALevelReadBackAtTheStableStateCancelsAPendingEdge() {
        // The bounce back's edge was lost: the level read says the line never
        // left off hook for the debounce time.
        var hook = HookEdgeInterpreter(initialLevel: true, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.falling, at: ms(100)))
        let read = hook.levelRead(true, at: ms(110))
        XCTAssertTrue(read.lostEdge)
        XCTAssertNil(read.event)
        XCTAssertNil(hook.nextDeadline)
        XCTAssertNil(hook.advance(to: ms(500)))
        XCTAssertEqual(hook.state, .offHook)
    }

    func testALevelReadAfterALongStallCommitsWhatTheEdgesSaidFirst() {
        // The on-hook edge lasted through the stall, then the level read
        // says off hook again: the break really happened (it is as long as
        // the stall, as far as anyone can know), then the handset is up.
        var hook = HookEdgeInterpreter(initialLevel: true, at: ms(0), debounce: .milliseconds(20))
        XCTAssertNil(hook.edge(.falling, at: ms(100)))
        let read = hook.levelRead(true, at: ms(2000))
        XCTAssertTrue(read.lostEdge)
        XCTAssertEqual(read.event, HookEvent(state: .onHook, at: ms(100)))
        XCTAssertEqual(hook.advance(to: ms(2020)), HookEvent(state: .offHook, at: ms(2000)))
    }

    func testPlausibleInstantOfKernelTimestamps() {
        let now = Instant.zero + .seconds(500)
        let recent = (now - .milliseconds(3)).nanoseconds
        XCTAssertEqual(HookEdgeInterpreter.plausibleInstant(ofEventAt: recent, now: now), now - .milliseconds(3))
        // CLOCK_REALTIME stamps of old kernels are far in the future.
        XCTAssertEqual(HookEdgeInterpreter.plausibleInstant(ofEventAt: 1_700_000_000_000_000_000, now: now), now)
        XCTAssertEqual(HookEdgeInterpreter.plausibleInstant(ofEventAt: 0, now: now), now)
    }
}
