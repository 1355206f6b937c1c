import LineHardware
import Timebase
import XCTest

final class RingSignalTests: XCTestCase {
    private func ms(_ value: Int64) -> Instant { Instant.zero + .milliseconds(value) }
    private let idle = RingOutputs(ringMode: false, polarity: .forward)

    /// Runs `ring` from `start` to `end` waking exactly at each deadline;
    /// returns the times F/R changed and the polarity it changed to.
    private func toggles(_ ring: inout RingSignal, until end: Instant) -> [(Instant, LinePolarity)] {
        var result: [(Instant, LinePolarity)] = []
        while let deadline = ring.nextDeadline, deadline <= end {
            if let outputs = ring.advance(to: deadline) {
                XCTAssertTrue(outputs.ringMode)
                result.append((deadline, outputs.polarity))
            }
        }
        return result
    }

    func testTwentyHertzTogglesEveryTwentyFiveMilliseconds() {
        var ring = RingSignal(frequencyHz: 20)
        XCTAssertEqual(ring.outputs, idle)
        XCTAssertNil(ring.nextDeadline)
        XCTAssertEqual(ring.halfPeriod, .milliseconds(25))
        XCTAssertEqual(ring.set(.burst, at: ms(1000)), RingOutputs(ringMode: true, polarity: .forward))
        XCTAssertEqual(ring.nextDeadline, ms(1025))
        XCTAssertNil(ring.advance(to: ms(1025) - .microseconds(1)))
        let seen = toggles(&ring, until: ms(2000))
        XCTAssertEqual(seen.count, 40, "two toggles per ring cycle, 20 cycles in a second")
        for (index, (time, polarity)) in seen.enumerated() {
            XCTAssertEqual(time, ms(1025 + 25 * Int64(index)))
            XCTAssertEqual(polarity, index % 2 == 0 ? .reverse : .forward)
        }
    }

    func testTwentyFiveHertzTogglesEveryTwentyMilliseconds() {
        var ring = RingSignal(frequencyHz: 25)
        XCTAssertEqual(ring.halfPeriod, .milliseconds(20))
        _ = ring.set(.burst, at: ms(0))
        let seen = toggles(&ring, until: ms(1000))
        XCTAssertEqual(seen.count, 50)
        XCTAssertEqual(seen.first?.0, ms(20))
        XCTAssertEqual(seen.last?.0, ms(1000))
        XCTAssertEqual(seen.last?.1, .forward)
    }

    func testFrequenciesWithoutWholeMillisecondHalfPeriodsDoNotDrift() {
        var ring = RingSignal(frequencyHz: 17)  // half period 29.41... ms
        _ = ring.set(.burst, at: ms(0))
        let seen = toggles(&ring, until: Instant.zero + .seconds(10))
        XCTAssertEqual(seen.count, 340)
        XCTAssertEqual(seen.last?.0, Instant.zero + .seconds(10))
    }

    func testALateWakeUpKeepsThePhase() {
        var ring = RingSignal(frequencyHz: 20)
        _ = ring.set(.burst, at: ms(0))
        XCTAssertEqual(ring.advance(to: ms(30)), RingOutputs(ringMode: true, polarity: .reverse))
        // Woken 30 ms late for the toggle due at 75 ms: three half periods
        // have passed, so F/R stays reversed; the next toggle keeps the phase.
        XCTAssertNil(ring.advance(to: ms(90)))
        XCTAssertEqual(ring.nextDeadline, ms(100))
        XCTAssertEqual(ring.advance(to: ms(105)), RingOutputs(ringMode: true, polarity: .forward))
        XCTAssertEqual(ring.nextDeadline, ms(125))
        XCTAssertNil(ring.advance(to: ms(110)))
    }

    func testCadenceEdgesDriveRingModeAndForwardReverse() {
        var ring = RingSignal(frequencyHz: 20)
        // 2 s on, 4 s off.
        XCTAssertEqual(ring.set(.burst, at: ms(0)), RingOutputs(ringMode: true, polarity: .forward),
                       "RM rises, F/R stays at the idle polarity")
        XCTAssertEqual(ring.advance(to: ms(1990)), RingOutputs(ringMode: true, polarity: .reverse))
        XCTAssertEqual(ring.set(.pause, at: ms(2000)), idle, "RM low and F/R at rest between bursts")
        XCTAssertNil(ring.nextDeadline, "nothing toggles in a pause")
        XCTAssertNil(ring.advance(to: ms(4000)))
        XCTAssertEqual(ring.outputs, idle)
        // The next burst raises RM again with F/R still forward; toggling
        // resumes half a period later.
        XCTAssertEqual(ring.set(.burst, at: ms(6000)), RingOutputs(ringMode: true, polarity: .forward))
        XCTAssertEqual(ring.nextDeadline, ms(6025))
        XCTAssertNil(ring.set(.burst, at: ms(6010)), "entering a burst twice does not restart it")
        XCTAssertEqual(ring.nextDeadline, ms(6025))
        XCTAssertEqual(ring.advance(to: ms(6025)), RingOutputs(ringMode: true, polarity: .reverse))
        // Answered mid-burst (ring trip): everything off at once.
        XCTAssertEqual(ring.set(.idle, at: ms(6030)), idle)
        XCTAssertNil(ring.nextDeadline)
        XCTAssertNil(ring.set(.idle, at: ms(6040)))
    }

    func testRingModeIsLowInEveryPause() {
        var ring = RingSignal(frequencyHz: 25)
        // A double ring: 400 ms on, 200 off, 400 on, 2000 off, twice over.
        var at: Int64 = 0
        for _ in 0..<2 {
            for (on, off) in [(Int64(400), Int64(200)), (400, 2000)] {
                XCTAssertEqual(ring.set(.burst, at: ms(at))?.ringMode, true)
                _ = toggles(&ring, until: ms(at + on - 1))
                XCTAssertTrue(ring.outputs.ringMode)
                XCTAssertEqual(ring.set(.pause, at: ms(at + on)), idle, "RM low in the pause at \(at + on) ms")
                XCTAssertNil(ring.advance(to: ms(at + on + off - 1)))
                at += on + off
            }
        }
    }

    func testAPauseRestsAtTheIdlePolarity() {
        var ring = RingSignal(frequencyHz: 20, idlePolarity: .reverse)
        let reversedIdle = RingOutputs(ringMode: false, polarity: .reverse)
        XCTAssertEqual(ring.set(.burst, at: ms(0)), RingOutputs(ringMode: true, polarity: .reverse),
                       "a burst starts at the idle polarity: F/R does not move as RM rises")
        XCTAssertEqual(ring.advance(to: ms(25)), RingOutputs(ringMode: true, polarity: .forward))
        XCTAssertEqual(ring.set(.pause, at: ms(30)), reversedIdle)
        // Changed in a pause: applies at once.
        XCTAssertEqual(ring.setIdlePolarity(.forward, at: ms(100)), idle)
    }

    func testIdlePolarityReversal() {
        var ring = RingSignal(frequencyHz: 20)
        // Caller ID alerting by line reversal, or disconnect signalling.
        XCTAssertEqual(ring.setIdlePolarity(.reverse, at: ms(0)), RingOutputs(ringMode: false, polarity: .reverse))
        XCTAssertNil(ring.setIdlePolarity(.reverse, at: ms(5)))
        XCTAssertEqual(ring.set(.burst, at: ms(100)), RingOutputs(ringMode: true, polarity: .reverse))
        // Asked for during a burst: applies when the burst ends; the burst's
        // waveform keeps its phase meanwhile.
        XCTAssertNil(ring.setIdlePolarity(.forward, at: ms(110)))
        XCTAssertEqual(ring.setIdlePolarity(.forward, at: ms(125)), RingOutputs(ringMode: true, polarity: .forward),
                       "still toggling meanwhile")
        XCTAssertEqual(ring.advance(to: ms(150)), RingOutputs(ringMode: true, polarity: .reverse))
        XCTAssertEqual(ring.set(.idle, at: ms(160)), idle)
        XCTAssertEqual(ring.setIdlePolarity(.reverse, at: ms(200)), RingOutputs(ringMode: false, polarity: .reverse))
    }
}
