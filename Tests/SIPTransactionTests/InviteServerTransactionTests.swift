import SIPTransaction
import Timebase
import XCTest

final class InviteServerTransactionTests: XCTestCase {
    private func start(_ timers: TransactionTimers = .unreliable, at time: Int64 = 0) -> InviteServerTransaction {
        let (transaction, actions) = InviteServerTransaction.start(timers: timers, at: ms(time))
        XCTAssertEqual(actions, [.passRequestToTU])
        XCTAssertEqual(transaction.state, .proceeding)
        return transaction
    }

    // MARK: Proceeding and 100 Trying

    func testHundredTryingAfter200msWhenTheTUIsSilent() {
        var invite = start()
        XCTAssertEqual(invite.nextDeadline, ms(200))
        XCTAssertEqual(runTimers(&invite, until: ms(10_000)), [Timed(200, .sendTrying)])
        XCTAssertEqual(invite.lastStatusCode, 100)
        XCTAssertEqual(invite.handle(.request, at: ms(500)), [.sendTrying], "an INVITE copy gets the 100 again")
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 180), at: ms(900)), [.sendResponse(statusCode: 180)])
        XCTAssertEqual(invite.handle(.request, at: ms(1_500)), [.sendResponse(statusCode: 180)])
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 183), at: ms(2_000)), [.sendResponse(statusCode: 183)])
        XCTAssertEqual(invite.handle(.request, at: ms(3_500)), [.sendResponse(statusCode: 183)],
                       "the most recent provisional")
        XCTAssertEqual(invite.state, .proceeding)
        XCTAssertNil(invite.nextDeadline, "Proceeding has no timer once the 100 went")
    }

    func testNoHundredTryingWhenTheTUAnswersWithin200ms() {
        var invite = start()
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 180), at: ms(50)), [.sendResponse(statusCode: 180)])
        XCTAssertNil(invite.nextDeadline)
        XCTAssertEqual(runTimers(&invite, until: ms(10_000)), [])
    }

    func testZeroTryingDelaySendsHundredTryingAtOnce() {
        let timers = TransactionTimers(tryingDelay: .zero)
        let (invite, actions) = InviteServerTransaction.start(timers: timers, at: ms(0))
        XCTAssertEqual(actions, [.passRequestToTU, .sendTrying])
        XCTAssertNil(invite.nextDeadline)
    }

    func testRetransmissionBeforeTheTryingTimerGetsHundredTryingAtOnce() {
        var invite = start()
        XCTAssertEqual(invite.handle(.request, at: ms(100)), [.sendTrying])
        XCTAssertEqual(runTimers(&invite, until: ms(10_000)), [], "the 100 is not sent twice by timer")
    }

    func testAckInProceedingIsIgnored() {
        var invite = start()
        XCTAssertEqual(invite.handle(.ack, at: ms(10)), [])
        XCTAssertEqual(invite.state, .proceeding)
    }

    // MARK: Completed and Confirmed

    func testFailureIsRetransmittedOnTimerGUntilTheAckThenConfirmedUntilTimerI() {
        var invite = start()
        _ = invite.handle(.tuResponse(statusCode: 180), at: ms(100))
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 486), at: ms(1_000)), [.sendResponse(statusCode: 486)])
        XCTAssertEqual(invite.state, .completed)
        XCTAssertEqual(runTimers(&invite, until: ms(5_000)),
                       [1_500, 2_500, 4_500].map { Timed($0, .sendResponse(statusCode: 486)) })
        XCTAssertEqual(invite.handle(.request, at: ms(5_000)), [.sendResponse(statusCode: 486)],
                       "an INVITE copy gets the final response")
        XCTAssertEqual(invite.nextDeadline, ms(8_500), "and does not disturb Timer G")
        XCTAssertEqual(invite.handle(.ack, at: ms(6_000)), [])
        XCTAssertEqual(invite.state, .confirmed)
        XCTAssertTrue(invite.isLingering)
        XCTAssertEqual(invite.nextDeadline, ms(11_000), "Timer I = T4; G and H stopped")
        XCTAssertEqual(invite.handle(.ack, at: ms(7_000)), [], "ACK copies are absorbed")
        XCTAssertEqual(invite.handle(.request, at: ms(7_100)), [])
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 200), at: ms(7_200)), [])
        XCTAssertEqual(invite.handle(.transportError, at: ms(7_300)), [], "Confirmed sends nothing")
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(11_000, [.terminated]))
    }

    func testTimerHWithoutAck() {
        var invite = start()
        _ = invite.handle(.tuResponse(statusCode: 603), at: ms(0))
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)),
                       [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
                       .map { Timed($0, .sendResponse(statusCode: 603)) }
                       + at(32_000, [.timeout, .terminated]))
    }

    func testFailureOverReliableTransport() {
        var invite = start(.reliable)
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 486), at: ms(100)), [.sendResponse(statusCode: 486)])
        XCTAssertEqual(invite.nextDeadline, ms(32_100), "Timer H only, no Timer G")
        XCTAssertEqual(invite.handle(.ack, at: ms(1_100)), [.terminated], "Timer I is zero")
    }

    func testTimerHOverReliableTransport() {
        var invite = start(.reliable)
        _ = invite.handle(.tuResponse(statusCode: 486), at: ms(1_000))
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(33_000, [.timeout, .terminated]))
    }

    func testLateAdvanceSendsTheFinalResponseOnce() {
        var invite = start()
        _ = invite.handle(.tuResponse(statusCode: 500), at: ms(0))
        XCTAssertEqual(invite.advance(to: ms(9_000)), [.sendResponse(statusCode: 500)])
        XCTAssertEqual(invite.nextDeadline, ms(11_500))
    }

    // MARK: Accepted (RFC 6026)

    func testSuccessMovesToAcceptedUntilTimerL() {
        var invite = start()
        _ = invite.handle(.tuResponse(statusCode: 180), at: ms(100))
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 200), at: ms(1_000)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(invite.state, .accepted)
        XCTAssertFalse(invite.isLingering)
        XCTAssertEqual(invite.nextDeadline, ms(33_000), "Timer L; no retransmission timer")
        XCTAssertEqual(invite.handle(.request, at: ms(1_400)), [], "INVITE copies are absorbed, not new requests")
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 200), at: ms(1_500)), [.sendResponse(statusCode: 200)],
                       "the UA core's 2xx retransmissions go out through the transaction")
        XCTAssertEqual(invite.handle(.ack, at: ms(1_600)), [.passAckToTU])
        XCTAssertEqual(invite.handle(.ack, at: ms(1_700)), [.passAckToTU])
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 180), at: ms(1_800)), [])
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 486), at: ms(1_900)), [])
        XCTAssertEqual(invite.handle(.transportError, at: ms(2_000)), [.transportError])
        XCTAssertEqual(invite.state, .accepted, "keeps absorbing INVITE copies")
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(33_000, [.terminated]))
    }

    func testSuccessWithoutAnyProvisionalCancelsTheTrying() {
        var invite = start()
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 200), at: ms(10)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(32_010, [.terminated]))
    }

    func testAcceptedOverReliableTransportStillLastsTimerL() {
        var invite = start(.reliable)
        _ = invite.handle(.tuResponse(statusCode: 200), at: ms(1_000))
        XCTAssertEqual(runTimers(&invite, until: ms(100_000)), at(33_000, [.terminated]))
    }

    // MARK: Errors

    func testTransportErrorInProceedingAndCompleted() {
        var proceeding = start()
        XCTAssertEqual(proceeding.handle(.transportError, at: ms(10)), [.transportError, .terminated])
        XCTAssertNil(proceeding.nextDeadline)
        var completed = start()
        _ = completed.handle(.tuResponse(statusCode: 486), at: ms(10))
        XCTAssertEqual(completed.handle(.transportError, at: ms(20)), [.transportError, .terminated])
        XCTAssertEqual(completed.handle(.ack, at: ms(30)), [])
    }

    func testInvalidStatusCodesAreIgnored() {
        var invite = start()
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 99), at: ms(10)), [])
        XCTAssertEqual(invite.handle(.tuResponse(statusCode: 700), at: ms(10)), [])
        XCTAssertEqual(invite.state, .proceeding)
        XCTAssertNil(invite.lastStatusCode)
    }
}
