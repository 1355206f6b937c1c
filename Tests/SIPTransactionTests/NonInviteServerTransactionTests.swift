import SIPTransaction
import Timebase
import XCTest

final class NonInviteServerTransactionTests: XCTestCase {
    private func start(_ timers: TransactionTimers = .unreliable, at time: Int64 = 0) -> NonInviteServerTransaction {
        let (transaction, actions) = NonInviteServerTransaction.start(timers: timers, at: ms(time))
        XCTAssertEqual(actions, [.passRequestToTU])
        XCTAssertEqual(transaction.state, .trying)
        return transaction
    }

    func testTryingAbsorbsCopiesAndSendsNothingOnItsOwn() {
        var request = start()
        XCTAssertNil(request.nextDeadline, "no 100 Trying for non-INVITE, no timer")
        XCTAssertEqual(request.handle(.request, at: ms(500)), [])
        XCTAssertEqual(request.handle(.request, at: ms(1_500)), [])
        XCTAssertEqual(request.state, .trying)
        XCTAssertNil(request.lastStatusCode)
    }

    func testFinalFromTryingIsResentForCopiesUntilTimerJ() {
        var request = start()
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 200), at: ms(1_000)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(request.state, .completed)
        XCTAssertTrue(request.isLingering)
        XCTAssertEqual(request.nextDeadline, ms(33_000), "Timer J = 64*T1")
        XCTAssertEqual(request.handle(.request, at: ms(1_500)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(request.handle(.request, at: ms(3_500)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 500), at: ms(4_000)), [], "one final response only")
        XCTAssertEqual(request.handle(.request, at: ms(7_500)), [.sendResponse(statusCode: 200)])
        XCTAssertEqual(runTimers(&request, until: ms(100_000)), at(33_000, [.terminated]))
        XCTAssertEqual(request.handle(.request, at: ms(40_000)), [])
    }

    func testProceedingResendsTheLatestProvisional() {
        var request = start()
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 100), at: ms(100)), [.sendResponse(statusCode: 100)])
        XCTAssertEqual(request.state, .proceeding)
        XCTAssertEqual(request.handle(.request, at: ms(500)), [.sendResponse(statusCode: 100)])
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 183), at: ms(600)), [.sendResponse(statusCode: 183)])
        XCTAssertEqual(request.handle(.request, at: ms(1_500)), [.sendResponse(statusCode: 183)])
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 404), at: ms(2_000)), [.sendResponse(statusCode: 404)])
        XCTAssertEqual(request.state, .completed)
        XCTAssertEqual(request.handle(.request, at: ms(3_500)), [.sendResponse(statusCode: 404)])
        XCTAssertEqual(request.nextDeadline, ms(34_000))
    }

    func testReliableTransportTerminatesWithTheFinalResponse() {
        var request = start(.reliable)
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 200), at: ms(10)), [.sendResponse(statusCode: 200), .terminated])
    }

    func testTransportErrorInEveryLiveState() {
        var trying = start()
        XCTAssertEqual(trying.handle(.transportError, at: ms(1)), [.transportError, .terminated])
        var proceeding = start()
        _ = proceeding.handle(.tuResponse(statusCode: 100), at: ms(1))
        XCTAssertEqual(proceeding.handle(.transportError, at: ms(2)), [.transportError, .terminated])
        var completed = start()
        _ = completed.handle(.tuResponse(statusCode: 200), at: ms(1))
        XCTAssertEqual(completed.handle(.transportError, at: ms(2)), [.transportError, .terminated])
        XCTAssertNil(completed.nextDeadline)
    }

    func testAckAndInvalidCodesAreIgnored() {
        var request = start()
        XCTAssertEqual(request.handle(.ack, at: ms(1)), [])
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 0), at: ms(1)), [])
        XCTAssertEqual(request.handle(.tuResponse(statusCode: 800), at: ms(1)), [])
        XCTAssertEqual(request.state, .trying)
    }
}
