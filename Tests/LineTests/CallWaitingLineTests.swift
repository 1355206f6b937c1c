import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// Call waiting on the line: the tone over a call while a second call
/// waits, stopped when it goes or is answered; flash and hang-up as in any
/// call.
final class CallWaitingLineTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    /// A North American line: flash 100-900 ms, hang-up at 1100 ms.
    private func makeLine() throws {
        machine = try presetLine()
        actions = []
    }

    private func hook(_ offHook: Bool) { send(.hook(offHook: offHook)) }

    /// An incoming call answered: talking, no tone.
    private func talk() {
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.tone)
        actions = []
    }

    /// Talking, with the call-waiting tone playing.
    private func talkWithACallWaiting() {
        talk()
        send(.callWaiting(true))
        XCTAssertEqual(machine.tone, .callWaiting)
        actions = []
    }

    private func flash() -> [LineAction] {
        actions = []
        hook(false)
        wait(.milliseconds(500))
        hook(true)
        return actions
    }

    // MARK: Transferred by the far end

    func testATransferMakesTheLineWaitForTheNewCallAsForOneItPlaced() throws {
        try makeLine()
        talk()
        XCTAssertEqual(send(.transferred), [.stateChanged(.calling)])
        XCTAssertEqual(send(.remoteRinging), [.stateChanged(.ringback), .playTone(.ringback)])
        send(.remoteAnswered)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.tone)
    }

    func testATransferWhileACallWaitsStopsTheToneAndOnlyWhenTalking() throws {
        try makeLine()
        talkWithACallWaiting()
        XCTAssertEqual(send(.transferred), [.stopTone, .stateChanged(.calling)])
        try makeLine()
        XCTAssertEqual(send(.transferred), [], "idle: nothing to transfer")
        XCTAssertEqual(machine.state, .idle)
    }

    // MARK: The tone

    func testCallWaitingWhileTalkingPlaysTheTone() throws {
        try makeLine()
        talk()
        XCTAssertEqual(send(.callWaiting(true)), [.playTone(.callWaiting)])
        XCTAssertEqual(machine.tone, .callWaiting)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertFalse(machine.holdingCall)
    }

    func testCallWaitingIsIgnoredWhenNotTalking() throws {
        try makeLine()
        XCTAssertEqual(send(.callWaiting(true)), [], "idle")
        XCTAssertEqual(machine.state, .idle)
        XCTAssertNil(machine.tone)

        hook(true)
        XCTAssertEqual(machine.tone, .dial)
        XCTAssertEqual(send(.callWaiting(true)), [], "dial tone")
        XCTAssertEqual(machine.tone, .dial)

        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteRinging)
        XCTAssertEqual(machine.state, .ringback)
        XCTAssertEqual(send(.callWaiting(true)), [], "ringback")
        XCTAssertEqual(machine.tone, .ringback)

        send(.remoteAnswered)
        send(.callHeld)
        XCTAssertEqual(machine.state, .dialTone)
        XCTAssertEqual(send(.callWaiting(true)), [], "recall dial tone")
        XCTAssertEqual(machine.tone, .stutterDial)
    }

    func testCallWaitingIsIgnoredWhileRinging() throws {
        try makeLine()
        send(.incomingCall(callerID: false))
        XCTAssertEqual(machine.state, .ringing)
        XCTAssertEqual(send(.callWaiting(true)), [])
        XCTAssertNil(machine.tone)
    }

    func testCallWaitingEndedStopsTheTone() throws {
        try makeLine()
        talkWithACallWaiting()
        XCTAssertEqual(send(.callWaiting(false)), [.stopTone])
        XCTAssertNil(machine.tone)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertFalse(machine.holdingCall)
        XCTAssertEqual(send(.callWaiting(false)), [], "no tone to stop")
    }

    /// The far end hung up while a call waited: the busy tone replaced the
    /// beep, and the waiting call going does not stop it.
    func testCallWaitingEndedLeavesAnotherToneAlone() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        XCTAssertEqual(machine.tone, .busy)
        actions = []
        XCTAssertEqual(send(.callWaiting(false)), [])
        XCTAssertEqual(machine.tone, .busy)
    }

    // MARK: Answered by a flash

    func testWaitingCallAnsweredStopsTheToneAndHoldsTheFirst() throws {
        try makeLine()
        talkWithACallWaiting()
        XCTAssertEqual(send(.waitingCallAnswered), [.stopTone])
        XCTAssertNil(machine.tone)
        XCTAssertTrue(machine.holdingCall)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.nextDeadline, "no timer under a call")
    }

    func testAfterTheWaitingCallIsAnsweredAFlashSwapsAndAHangUpRingsBack() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.waitingCallAnswered)
        XCTAssertEqual(flash(), [.flash])
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertTrue(actions.contains(.hangUp), "\(actions)")
        XCTAssertEqual(machine.state, .idle)
        XCTAssertFalse(machine.holdingCall)
    }

    // MARK: Flash and hang-up while the tone plays

    func testAFlashWhileTheTonePlaysGoesToCallControl() throws {
        try makeLine()
        talkWithACallWaiting()
        XCTAssertEqual(flash(), [.flash])
        XCTAssertEqual(machine.state, .talking)
        XCTAssertEqual(machine.tone, .callWaiting, "call control answers with waitingCallAnswered")
    }

    func testHangUpWhileTheTonePlaysStopsItAndHangsUp() throws {
        try makeLine()
        talkWithACallWaiting()
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(actions.first, .stopTone, "\(actions)")
        XCTAssertTrue(actions.contains(.hangUp), "\(actions)")
        XCTAssertTrue(actions.contains(.stateChanged(.idle)), "\(actions)")
        XCTAssertNil(machine.tone)
        XCTAssertEqual(machine.state, .idle)
        // Call control then rings the line for the waiting call.
        actions = []
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertTrue(actions.contains(.answer))
        XCTAssertEqual(machine.state, .talking)
    }

    /// The first call's far end hung up while a call waits: the line gives
    /// busy tone (then the howler). Hanging up must still reach call
    /// control (`.hangUp`), which rings the line for the waiting call;
    /// with nothing held the line machine sends none from busy or howler.
    func testHangUpAfterTheFarEndHungUpWhileACallWaitsReportsTheHangUp() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        XCTAssertEqual(machine.state, .busy)
        actions = []
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(machine.state, .idle)
        XCTAssertTrue(actions.contains(.hangUp), "\(actions)")
    }

    /// The same, from the howler the busy tone turns into.
    func testHangUpFromTheHowlerWhileACallWaitsReportsTheHangUp() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        wait(machine.timings.failureToneDuration)
        XCTAssertEqual(machine.state, .howler)
        actions = []
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertTrue(actions.contains(.hangUp), "\(actions)")
    }

    /// Without a call waiting, a hang-up from busy tone reports nothing
    /// (no call left): the fix must not change that.
    func testHangUpFromBusyWithNoCallWaitingReportsNoCall() throws {
        try makeLine()
        talk()
        send(.remoteHangUp)
        actions = []
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertFalse(actions.contains(.hangUp), "\(actions)")
    }

    /// The waiting caller gave up while the handset heard busy tone: the
    /// hang-up then reports no call either.
    func testHangUpFromBusyAfterTheWaitingCallWentReportsNoCall() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        send(.callWaiting(false))
        actions = []
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertFalse(actions.contains(.hangUp), "\(actions)")
    }

    // MARK: A flash after the first call's far end hung up

    /// Busy tone after the far end hung up, a call still waiting: a flash
    /// goes to call control, whose answer takes the line to talking.
    func testAFlashOnBusyToneWhileACallWaitsAnswersIt() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        XCTAssertEqual(machine.state, .busy)
        XCTAssertEqual(flash(), [.flash])
        actions = []
        XCTAssertEqual(send(.waitingCallAnswered), [.stopTone, .stateChanged(.talking)])
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.tone)
        XCTAssertFalse(machine.holdingCall, "the first call is gone, not held")
        XCTAssertNil(machine.nextDeadline, "no howler under the call")
    }

    /// With `polarity_reversal = both`, the far end's hang-up put the
    /// polarity back; the waiting call answered from busy tone reverses
    /// it again, as any answered call does.
    func testAWaitingCallAnsweredFromBusyToneReversesThePolarityAgain() throws {
        try makeLine()
        machine.reversesPolarityOnAnswer = true
        machine.reversesPolarityWhenAnswering = true
        talkWithACallWaiting()
        send(.remoteHangUp)
        XCTAssertFalse(machine.polarityReversed)
        _ = flash()
        XCTAssertEqual(send(.waitingCallAnswered), [.stopTone, .stateChanged(.talking), .polarity(reversed: true)])
        XCTAssertTrue(machine.polarityReversed)
    }

    /// The same from the howler the busy tone turned into.
    func testAFlashOnTheHowlerWhileACallWaitsAnswersIt() throws {
        try makeLine()
        talkWithACallWaiting()
        send(.remoteHangUp)
        wait(machine.timings.failureToneDuration)
        XCTAssertEqual(machine.state, .howler)
        XCTAssertEqual(flash(), [.flash])
        send(.waitingCallAnswered)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.tone)
    }

    /// Busy tone with nothing waiting: a flash is nothing, as before.
    func testAFlashOnBusyToneWithNothingWaitingIsNothing() throws {
        try makeLine()
        talk()
        send(.remoteHangUp)
        XCTAssertEqual(flash(), [])
        XCTAssertEqual(send(.waitingCallAnswered), [], "no waiting call to take")
        XCTAssertEqual(machine.state, .busy)
    }
}
