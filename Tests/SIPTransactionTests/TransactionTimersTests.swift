import SIPTransaction
import Timebase
import XCTest

final class TransactionTimersTests: XCTestCase {
    func testDefaultsOverUDP() {
        let timers = TransactionTimers.unreliable
        XCTAssertEqual(timers.t1, .milliseconds(500))
        XCTAssertEqual(timers.t2, .seconds(4))
        XCTAssertEqual(timers.t4, .seconds(5))
        XCTAssertFalse(timers.reliableTransport)
        XCTAssertEqual(timers.tryingDelay, .milliseconds(200))
        XCTAssertEqual(timers.timerA, .milliseconds(500))
        XCTAssertEqual(timers.timerB, .seconds(32))
        XCTAssertEqual(timers.timerD, .seconds(32))
        XCTAssertEqual(timers.timerE, .milliseconds(500))
        XCTAssertEqual(timers.timerF, .seconds(32))
        XCTAssertEqual(timers.timerG, .milliseconds(500))
        XCTAssertEqual(timers.timerH, .seconds(32))
        XCTAssertEqual(timers.timerI, .seconds(5))
        XCTAssertEqual(timers.timerJ, .seconds(32))
        XCTAssertEqual(timers.timerK, .seconds(5))
        XCTAssertEqual(timers.timerL, .seconds(32))
        XCTAssertEqual(timers.timerM, .seconds(32))
    }

    func testReliableTransportHasNoRetransmissionsAndZeroWaits() {
        let timers = TransactionTimers.reliable
        XCTAssertTrue(timers.reliableTransport)
        XCTAssertNil(timers.timerA)
        XCTAssertNil(timers.timerE)
        XCTAssertNil(timers.timerG)
        XCTAssertEqual(timers.timerB, .seconds(32))
        XCTAssertEqual(timers.timerF, .seconds(32))
        XCTAssertEqual(timers.timerH, .seconds(32))
        XCTAssertEqual(timers.timerD, .zero)
        XCTAssertEqual(timers.timerI, .zero)
        XCTAssertEqual(timers.timerJ, .zero)
        XCTAssertEqual(timers.timerK, .zero)
        // RFC 6026 L and M do not depend on the transport.
        XCTAssertEqual(timers.timerL, .seconds(32))
        XCTAssertEqual(timers.timerM, .seconds(32))
        XCTAssertEqual(TransactionTimers.unreliable.with(reliableTransport: true), timers)
    }

    func testCustomValuesDeriveEveryTimer() {
        let timers = TransactionTimers(t1: .milliseconds(100), t2: .seconds(2), t4: .seconds(3))
        XCTAssertEqual(timers.timerA, .milliseconds(100))
        XCTAssertEqual(timers.timerB, .milliseconds(6_400))
        XCTAssertEqual(timers.timerF, .milliseconds(6_400))
        XCTAssertEqual(timers.timerH, .milliseconds(6_400))
        XCTAssertEqual(timers.timerJ, .milliseconds(6_400))
        XCTAssertEqual(timers.timerI, .seconds(3))
        XCTAssertEqual(timers.timerK, .seconds(3))
        // Timer D never drops below 32 s on UDP ...
        XCTAssertEqual(timers.timerD, .seconds(32))
        // ... and grows with T1 to cover the server's Timer H.
        XCTAssertEqual(TransactionTimers(t1: .seconds(1)).timerD, .seconds(64))
    }

    func testOutOfRangeValuesAreClamped() {
        let timers = TransactionTimers(t1: .zero, t2: .milliseconds(-5), t4: .seconds(-1), tryingDelay: .seconds(-1))
        XCTAssertEqual(timers.t1, .milliseconds(1))
        XCTAssertEqual(timers.t2, .milliseconds(1))
        XCTAssertEqual(timers.t4, .zero)
        XCTAssertEqual(timers.tryingDelay, .zero)
        let small = TransactionTimers(t1: .seconds(2), t2: .seconds(1))
        XCTAssertEqual(small.t2, .seconds(2), "T2 is at least T1")
    }
}
