import SIPTransaction
import Timebase
import XCTest

final class NonInviteClientTransactionTests: XCTestCase {
    private func start(_ timers: TransactionTimers = .unreliable, at time: Int64 = 0) -> NonInviteClientTransaction {
        let (transaction, actions) = NonInviteClientTransaction.start(timers: timers, at: ms(time))
        XCTAssertEqual(actions, [.sendRequest])
        XCTAssertEqual(transaction.state, .trying)
        return transaction
    }

    // MARK: Trying

    func testUDPRetransmitsOnTimerECappedAtT2AndTimesOutOnTimerF() {
        var request = start()
        let log = runTimers(&request, until: ms(100_000))
        XCTAssertEqual(log, [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
            .map { Timed($0, .sendRequest) } + at(32_000, [.timeout, .terminated]))
        XCTAssertTrue(request.isTerminated)
        XCTAssertNil(request.nextDeadline)
    }

    func testCustomT2CapsTimerE() {
        var request = start(TransactionTimers(t1: .milliseconds(500), t2: .seconds(1)))
        let sends = runTimers(&request, until: ms(6_000)).map(\.ms)
        XCTAssertEqual(sends, [500, 1_500, 2_500, 3_500, 4_500, 5_500])
    }

    func testReliableTransportNeverRetransmitsButStillTimesOut() {
        var request = start(.reliable)
        XCTAssertEqual(request.nextDeadline, ms(32_000))
        XCTAssertEqual(runTimers(&request, until: ms(100_000)), at(32_000, [.timeout, .terminated]))
    }

    func testLateAdvanceSendsOnce() {
        var request = start()
        XCTAssertEqual(request.advance(to: ms(9_000)), [.sendRequest])
        XCTAssertEqual(request.nextDeadline, ms(11_500))
    }

    // MARK: Proceeding

    func testProvisionalMovesToProceedingWhereTimerERepeatsEveryT2() {
        var request = start()
        XCTAssertEqual(runTimers(&request, until: ms(600)), [Timed(500, .sendRequest)])
        XCTAssertEqual(request.handle(.response(statusCode: 100), at: ms(600)), [.passResponseToTU(statusCode: 100)])
        XCTAssertEqual(request.state, .proceeding)
        XCTAssertEqual(request.nextDeadline, ms(1_500), "the retransmission already scheduled stays")
        // In Trying the next ones would be 3.5 and 7.5 s; in Proceeding they come every T2.
        XCTAssertEqual(runTimers(&request, until: ms(100_000)),
                       [1_500, 5_500, 9_500, 13_500, 17_500, 21_500, 25_500, 29_500].map { Timed($0, .sendRequest) }
                       + at(32_000, [.timeout, .terminated]))
    }

    func testMoreProvisionalsArePassedUp() {
        var request = start()
        _ = request.handle(.response(statusCode: 100), at: ms(100))
        XCTAssertEqual(request.handle(.response(statusCode: 100), at: ms(200)), [.passResponseToTU(statusCode: 100)])
        XCTAssertEqual(request.handle(.response(statusCode: 183), at: ms(300)), [.passResponseToTU(statusCode: 183)])
        XCTAssertEqual(request.state, .proceeding)
    }

    func testFinalInProceeding() {
        var request = start()
        _ = request.handle(.response(statusCode: 100), at: ms(100))
        XCTAssertEqual(request.handle(.response(statusCode: 404), at: ms(400)), [.passResponseToTU(statusCode: 404)])
        XCTAssertEqual(request.state, .completed)
        XCTAssertEqual(request.nextDeadline, ms(5_400))
    }

    // MARK: Completed

    func testFinalStopsTimersAndRetransmissionsAreAbsorbedUntilTimerK() {
        var request = start()
        XCTAssertEqual(request.handle(.response(statusCode: 200), at: ms(300)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(request.state, .completed)
        XCTAssertTrue(request.isLingering)
        XCTAssertEqual(request.nextDeadline, ms(5_300), "Timer K = T4; E and F stopped")
        XCTAssertEqual(request.handle(.response(statusCode: 200), at: ms(800)), [])
        XCTAssertEqual(request.handle(.response(statusCode: 100), at: ms(900)), [])
        XCTAssertEqual(request.handle(.response(statusCode: 500), at: ms(1_000)), [])
        XCTAssertEqual(request.handle(.transportError, at: ms(1_100)), [], "Completed sends nothing")
        XCTAssertEqual(runTimers(&request, until: ms(100_000)), at(5_300, [.terminated]))
    }

    func testEveryFinalClassCompletes() {
        for code in [200, 202, 301, 401, 407, 481, 500, 603] {
            var request = start()
            XCTAssertEqual(request.handle(.response(statusCode: code), at: ms(10)), [.passResponseToTU(statusCode: code)])
            XCTAssertEqual(request.state, .completed, "\(code)")
        }
    }

    func testFinalOverReliableTransportTerminatesAtOnce() {
        var request = start(.reliable)
        XCTAssertEqual(request.handle(.response(statusCode: 401), at: ms(50)),
                       [.passResponseToTU(statusCode: 401), .terminated])
    }

    func testFarEndIgnoresTheFirstCopies() {
        var request = start()
        XCTAssertEqual(runTimers(&request, until: ms(3_600)).map(\.ms), [500, 1_500, 3_500])
        XCTAssertEqual(request.handle(.response(statusCode: 200), at: ms(3_600)), [.passResponseToTU(statusCode: 200)])
        XCTAssertEqual(runTimers(&request, until: ms(100_000)), at(8_600, [.terminated]), "no send after the answer")
    }

    // MARK: Errors

    func testTransportErrorInTryingAndProceeding() {
        var trying = start()
        XCTAssertEqual(trying.handle(.transportError, at: ms(1)), [.transportError, .terminated])
        var proceeding = start()
        _ = proceeding.handle(.response(statusCode: 100), at: ms(1))
        XCTAssertEqual(proceeding.handle(.transportError, at: ms(2)), [.transportError, .terminated])
        XCTAssertEqual(proceeding.handle(.response(statusCode: 200), at: ms(3)), [])
    }

    func testInvalidStatusCodesAreIgnored() {
        var request = start()
        XCTAssertEqual(request.handle(.response(statusCode: 42), at: ms(1)), [])
        XCTAssertEqual(request.handle(.response(statusCode: 700), at: ms(1)), [])
        XCTAssertEqual(request.state, .trying)
    }
}
