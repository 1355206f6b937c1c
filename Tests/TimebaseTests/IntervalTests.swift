import Timebase
import XCTest

final class IntervalTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(Interval.seconds(2).nanoseconds, 2_000_000_000)
        XCTAssertEqual(Interval.milliseconds(15).nanoseconds, 15_000_000)
        XCTAssertEqual(Interval.microseconds(7).nanoseconds, 7_000)
        XCTAssertEqual(Interval.milliseconds(1500).milliseconds, 1500)
    }

    func testPollTimeoutsRoundUpSoTimersNeverFireEarly() {
        XCTAssertEqual(Interval(nanoseconds: 1).millisecondsRoundedUp, 1)
        XCTAssertEqual(Interval(nanoseconds: 1_000_000).millisecondsRoundedUp, 1)
        XCTAssertEqual(Interval(nanoseconds: 1_000_001).millisecondsRoundedUp, 2)
        XCTAssertEqual(Interval(nanoseconds: 0).millisecondsRoundedUp, 0)
        XCTAssertEqual(Interval(nanoseconds: -5).millisecondsRoundedUp, 0)
    }

    func testInstantArithmetic() {
        let start = Instant(nanoseconds: 1_000)
        let later = start + .milliseconds(3)
        XCTAssertEqual(later - start, .milliseconds(3))
        XCTAssertTrue(start < later)
        XCTAssertEqual(later - .milliseconds(3), start)
    }
}
