import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// Caller ID for a waiting call (type II) on a North American line: after
/// the call-waiting tone's first 300 ms burst the call is cut off and the
/// alerting signal plays for 80 ms; a D (or A) from the phone within
/// 260 ms (GR-30's 160 and this side's delays) brings the data, whose end brings the call back; no answer
/// brings the call back with no data.
final class WaitingCallerIDLineTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    private func talkWithACallWaiting(sendsCallerID: Bool = true, country: String = "us") throws {
        machine = try presetLine(country: country)
        machine.sendsCallerIDDuringCall = sendsCallerID
        send(.incomingCall(callerID: false))
        send(.hook(offHook: true))
        XCTAssertEqual(machine.state, .talking)
        actions = []
        XCTAssertEqual(send(.callWaiting(true)), [.playTone(.callWaiting)])
        actions = []
    }

    func testTheAlertFollowsTheFirstBurstAndAnAcknowledgementBringsTheData() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(299))
        XCTAssertEqual(actions, [], "the tone's burst first")
        wait(.milliseconds(1))
        XCTAssertEqual(actions, [.alertForCallerID])
        actions = []
        wait(.milliseconds(80 + 250))
        XCTAssertEqual(actions, [], "the phone may still answer (its D heard late)")
        XCTAssertEqual(send(.dtmf("D")), [.sendCallerIDDuringCall], "the D is the phone's answer, not a key")
        XCTAssertEqual(machine.digits, "")
        actions = []
        wait(.milliseconds(500))
        XCTAssertEqual(actions, [], "the data plays until its end is reported")
        XCTAssertEqual(send(.callerIDSent), [.callerIDDuringCallOver(acknowledged: true)])
        XCTAssertEqual(machine.tone, .callWaiting, "the tone goes on with its cadence")
        XCTAssertNil(machine.nextDeadline.flatMap { $0 < now + .seconds(1) ? $0 : nil }, "nothing more to do soon")
    }

    func testAnADSISetsAAlsoCountsAndOtherKeysDoNot() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(300 + 40))
        XCTAssertEqual(send(.dtmf("5")), [.digitInCall("5")], "a key in the call, not an acknowledgement")
        XCTAssertEqual(send(.dtmf("A")), [.sendCallerIDDuringCall], "during the alert itself")
    }

    func testWithoutAnAcknowledgementTheCallComesBackAfter260Milliseconds() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(300 + 80 + 259))
        XCTAssertEqual(actions, [.alertForCallerID])
        actions = []
        wait(.milliseconds(1))
        XCTAssertEqual(actions, [.callerIDDuringCallOver(acknowledged: false)])
        actions = []
        XCTAssertEqual(send(.dtmf("D")), [.digitInCall("D")], "too late: a key like any other")
    }

    func testDataThatIsNeverReportedDoneGivesTheCallBackAtTheLimit() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(300 + 50))
        send(.dtmf("D"))
        actions = []
        wait(.seconds(2))
        XCTAssertEqual(actions, [.callerIDDuringCallOver(acknowledged: true)])
    }

    func testTheWaitingCallGoingAwayOrAnsweredBringsTheCallBack() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(320))
        XCTAssertEqual(send(.callWaiting(false)), [.callerIDDuringCallOver(acknowledged: false), .stopTone])
        wait(.seconds(1))

        try talkWithACallWaiting()
        wait(.milliseconds(100))
        XCTAssertEqual(send(.waitingCallAnswered), [.stopTone], "before the alert: nothing was cut off")
        wait(.seconds(1))
        XCTAssertFalse(actions.contains(.alertForCallerID), "\(actions)")
    }

    func testHangingUpDuringTheDataEndsIt() throws {
        try talkWithACallWaiting()
        wait(.milliseconds(330))
        send(.dtmf("D"))
        actions = []
        send(.hook(offHook: false))
        wait(.seconds(2))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(actions.filter { $0 == .callerIDDuringCallOver(acknowledged: false) }.count, 1, "\(actions)")
        XCTAssertFalse(actions.contains(.callerIDDuringCallOver(acknowledged: true)), "\(actions)")
    }

    func testAGermanLineAlertsAfterTheWholeFirstBurstGroupAndALineWithoutFSKNever() throws {
        // de: 200 on, 200 off, 200 on, then the long pause.
        try talkWithACallWaiting(country: "de")
        wait(.milliseconds(599))
        XCTAssertEqual(actions, [])
        wait(.milliseconds(1))
        XCTAssertEqual(actions, [.alertForCallerID])

        try talkWithACallWaiting(sendsCallerID: false)
        wait(.seconds(2))
        XCTAssertEqual(actions, [], "the tone alone")
    }
}
