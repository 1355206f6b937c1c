import SIPTransaction
import Timebase
import XCTest

final class InviteClientTransactionTests: XCTestCase {
    private func start(_ timers: TransactionTimers = .unreliable, at time: Int64 = 0) -> InviteClientTransaction {
        let (transaction, actions) = InviteClientTransaction.start(timers: timers, at: ms(time))
        XCTAssertEqual(actions, [.sendRequest])
        XCTAssertEqual(transaction.state, .calling)
        return transaction
    }

    // MARK: Calling

    func testUDPRetransmitsOnTimerADoublingAndTimesOutOnTimerB() {
        var invite = start()
        XCTAssertEqual(invite.nextDeadline, ms(500))
        let log = runTimers(&invite, until: ms(100_000))
        XCTAssertEqual(log, [
            Timed(500, .sendRequest), Timed(1_500, .sendRequest), Timed(3_500, .sendRequest),
            Timed(7_500, .sendRequest), Timed(15_500, .sendRequest), Timed(31_500, .sendRequest),
            Timed(32_000, .timeout), Timed(32_000, .terminated),
        ])
        XCTAssertEqual(invite.state, .terminated)
        XCTAssertNil(invite.nextDeadline)
    }

    func testScheduleIsRelativeToTheStartTime() {
        var invite = start(at: 1_000_000)
        let log = runTimers(&invite, until: ms(2_000_000))
        XCTAssertEqual(log.map(\.ms), [1_000_500, 1_001_500, 1_003_500, 1_007_500, 1_015_500, 1_031_500,
                                       1_032_000, 1_032_000])
    }

    func testCustomT1ScalesTheSchedule() {
        var invite = start(TransactionTimers(t1: .milliseconds(100)))
        let log = runTimers(&invite, until: ms(100_000))
        XCTAssertEqual(log, [
            Timed(100, .sendRequest), Timed(300, .sendRequest), Timed(700, .sendRequest),
            Timed(1_500, .sendRequest), Timed(3_100, .sendRequest), Timed(6_300, .sendRequest),
            Timed(6_400, .timeout), Timed(6_400, .terminated),
        ])
    }

    func testReliableTransportNeverRetransmitsButStillTimesOut() {
        var invite = start(.reliable)
        XCTAssertEqual(invite.nextDeadline, ms(32_000))
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(32_000, [.timeout, .terminated]))
    }

    func testLateAdvanceSendsOneRetransmissionNotABurst() {
        var invite = start()
        XCTAssertEqual(invite.advance(to: ms(10_000)), [.sendRequest])
        XCTAssertEqual(invite.nextDeadline, ms(15_500), "missed slots are skipped, the schedule is kept")
        XCTAssertEqual(invite.advance(to: ms(40_000)), [.sendRequest, .timeout, .terminated])
    }

    func testAdvanceBeforeADeadlineDoesNothing() {
        var invite = start()
        XCTAssertEqual(invite.advance(to: ms(499)), [])
        XCTAssertEqual(invite.advance(to: ms(500)), [.sendRequest])
        XCTAssertEqual(invite.advance(to: ms(500)), [])
    }

    func testTimersDueBeforeAnInputFireFirst() {
        var invite = start()
        _ = runTimers(&invite, until: ms(31_999))
        XCTAssertEqual(invite.handle(.response(statusCode: 180), at: ms(32_000)), [.timeout, .terminated])
    }

    // MARK: Proceeding

    func testProvisionalMovesToProceedingAndStopsTimersAAndB() {
        var invite = start()
        XCTAssertEqual(invite.handle(.response(statusCode: 100), at: ms(200)), [.passResponseToTU(statusCode: 100)])
        XCTAssertEqual(invite.state, .proceeding)
        XCTAssertNil(invite.nextDeadline)
        XCTAssertEqual(invite.handle(.response(statusCode: 180), at: ms(2_000)), [.passResponseToTU(statusCode: 180)])
        XCTAssertEqual(invite.handle(.response(statusCode: 183), at: ms(3_000)), [.passResponseToTU(statusCode: 183)])
        XCTAssertEqual(invite.state, .proceeding)
        XCTAssertEqual(runTimers(&invite, until: ms(600_000)), [], "a ringing call waits for the TU, not Timer B")
    }

    func testFarEndIgnoresTheFirstCopies() {
        var invite = start()
        XCTAssertEqual(runTimers(&invite, until: ms(4_000)),
                       [Timed(500, .sendRequest), Timed(1_500, .sendRequest), Timed(3_500, .sendRequest)])
        XCTAssertEqual(invite.handle(.response(statusCode: 180), at: ms(4_000)), [.passResponseToTU(statusCode: 180)])
        XCTAssertEqual(runTimers(&invite, until: ms(60_000)), [], "no retransmission after the 180")
        XCTAssertEqual(invite.handle(.response(statusCode: 486), at: ms(60_000)),
                       [.passResponseToTU(statusCode: 486), .sendAck])
        XCTAssertEqual(invite.state, .completed)
        XCTAssertEqual(invite.nextDeadline, ms(92_000))
    }

    // MARK: Completed

    func testFailureInCallingIsAckedAndItsRetransmissionsAbsorbedUntilTimerD() {
        var invite = start()
        XCTAssertEqual(invite.handle(.response(statusCode: 503), at: ms(400)),
                       [.passResponseToTU(statusCode: 503), .sendAck])
        XCTAssertEqual(invite.state, .completed)
        XCTAssertTrue(invite.isLingering)
        XCTAssertEqual(invite.nextDeadline, ms(32_400), "Timer A and B stopped, Timer D runs")
        XCTAssertEqual(invite.handle(.response(statusCode: 503), at: ms(1_200)), [.sendAck], "not passed up again")
        XCTAssertEqual(invite.handle(.response(statusCode: 503), at: ms(2_200)), [.sendAck])
        XCTAssertEqual(invite.handle(.response(statusCode: 180), at: ms(2_300)), [])
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(2_400)), [])
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(32_400, [.terminated]))
        XCTAssertTrue(invite.isTerminated)
    }

    func testFailureInProceeding() {
        var invite = start()
        _ = invite.handle(.response(statusCode: 180), at: ms(100))
        XCTAssertEqual(invite.handle(.response(statusCode: 404), at: ms(5_000)),
                       [.passResponseToTU(statusCode: 404), .sendAck])
        XCTAssertEqual(invite.nextDeadline, ms(37_000))
    }

    func testEveryFailureClassCompletes() {
        for code in [300, 302, 401, 407, 486, 500, 503, 600, 603, 699] {
            var invite = start()
            XCTAssertEqual(invite.handle(.response(statusCode: code), at: ms(10)),
                           [.passResponseToTU(statusCode: code), .sendAck], "\(code)")
            XCTAssertEqual(invite.state, .completed)
        }
    }

    func testFailureOverReliableTransportTerminatesAtOnce() {
        var invite = start(.reliable)
        XCTAssertEqual(invite.handle(.response(statusCode: 486), at: ms(1_000)),
                       [.passResponseToTU(statusCode: 486), .sendAck, .terminated])
        XCTAssertNil(invite.nextDeadline)
    }

    // MARK: Accepted (RFC 6026)

    func testSuccessMovesToAcceptedAndPassesEvery2xxUpUntilTimerM() {
        var invite = start()
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(400)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(invite.state, .accepted)
        XCTAssertFalse(invite.isLingering)
        XCTAssertEqual(invite.nextDeadline, ms(32_400), "Timer M; Timer A stopped, no ACK sent here")
        // Retransmitted 2xx, and a 2xx from another fork: both up to the TU, which ACKs them.
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(1_500)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(invite.handle(.response(statusCode: 202), at: ms(2_000)), [.passResponseToTU(statusCode: 202)])
        XCTAssertEqual(invite.handle(.response(statusCode: 180), at: ms(2_100)), [])
        XCTAssertEqual(invite.handle(.response(statusCode: 486), at: ms(2_200)), [])
        XCTAssertEqual(invite.handle(.transportError, at: ms(2_300)), [.transportError])
        XCTAssertEqual(invite.state, .accepted)
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(32_400, [.terminated]))
    }

    func testSuccessAfterProvisional() {
        var invite = start()
        _ = invite.handle(.response(statusCode: 180), at: ms(100))
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(9_000)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(invite.state, .accepted)
        XCTAssertEqual(invite.nextDeadline, ms(41_000))
    }

    func testAcceptedLastsTimerMOverReliableTransportToo() {
        var invite = start(.reliable)
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(1_000)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(33_000, [.terminated]))
    }

    // MARK: Transport errors and odd input

    func testTransportErrorInCalling() {
        var invite = start()
        XCTAssertEqual(invite.handle(.transportError, at: ms(10)), [.transportError, .terminated])
        XCTAssertNil(invite.nextDeadline)
    }

    func testTransportErrorInProceeding() {
        var invite = start()
        _ = invite.handle(.response(statusCode: 180), at: ms(10))
        XCTAssertEqual(invite.handle(.transportError, at: ms(20)), [.transportError, .terminated])
    }

    func testTransportErrorSendingTheAck() {
        var invite = start()
        _ = invite.handle(.response(statusCode: 486), at: ms(10))
        XCTAssertEqual(invite.handle(.transportError, at: ms(20)), [.transportError, .terminated])
    }

    func testStatusCodesOutsideSIPRangeAreIgnored() {
        var invite = start()
        for code in [-1, 0, 99, 700, 1_000] {
            XCTAssertEqual(invite.handle(.response(statusCode: code), at: ms(10)), [])
        }
        XCTAssertEqual(invite.state, .calling)
        XCTAssertEqual(invite.nextDeadline, ms(500))
    }

    func testTerminatedIgnoresEverything() {
        var invite = start()
        _ = invite.handle(.transportError, at: ms(10))
        XCTAssertEqual(invite.handle(.response(statusCode: 200), at: ms(20)), [])
        XCTAssertEqual(invite.handle(.response(statusCode: 486), at: ms(20)), [])
        XCTAssertEqual(invite.handle(.transportError, at: ms(20)), [])
        XCTAssertEqual(invite.advance(to: ms(100_000)), [])
    }
}
