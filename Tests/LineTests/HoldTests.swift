import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// A call held by a hook flash (issue 16): recall dial tone, a second
/// call, every flash handed to call control, and the hang-up that rings
/// back for the held call.
final class LineHoldTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    /// A North American line: flash 100-900 ms, hang-up at 1100 ms, dial
    /// pulses up to 110 ms.
    private func makeLine(hotline: String? = nil, warmline: Interval? = nil, pulse: Interval? = nil) throws {
        let preset = try XCTUnwrap(CountryPresets.preset(code: "us"))
        var timings = LineTimings()
        timings.flashMinimum = .milliseconds(Int64(preset.flashMinimumMs))
        timings.flashMaximum = .milliseconds(Int64(preset.flashMaximumMs))
        timings.hangUp = .milliseconds(Int64(preset.hangUpMs))
        timings.warmlineDelay = warmline
        machine = LineMachine(lineNumber: 1, preset: preset, timings: timings,
                              digitMap: try DigitMap.parse("([2-9]xxxxxx|*xx)"), hotline: hotline)
        machine.disconnectPulse = pulse
        actions = []
    }

    private func hook(_ offHook: Bool) { send(.hook(offHook: offHook)) }

    /// An incoming call answered: talking.
    private func answerACall() {
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertEqual(machine.state, .talking)
    }

    /// The talking call put on hold: recall dial tone.
    private func holdACall() {
        answerACall()
        send(.callHeld)
        XCTAssertTrue(machine.holdingCall)
        actions = []
    }

    /// A break in the middle of the flash window; returns what the line did.
    private func flash() -> [LineAction] {
        actions = []
        hook(false)
        wait(.milliseconds(500))
        hook(true)
        return actions
    }

    /// Dials a digit on a rotary dial at 10 pulses/s.
    private func rotary(_ count: Int) {
        for _ in 0..<count {
            hook(false)
            wait(.milliseconds(60))
            hook(true)
            wait(.milliseconds(40))
        }
        wait(.milliseconds(700))
    }

    private var dialed: [String] {
        actions.compactMap { if case .dial(let number) = $0 { return number } else { return nil } }
    }

    // MARK: Holding

    func testCallHeldFromTalkingGivesRecallDialTone() throws {
        try makeLine()
        answerACall()
        actions = []
        send(.callHeld)
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.stutterDial)])
        XCTAssertEqual(machine.state, .dialTone)
        XCTAssertEqual(machine.tone, .stutterDial)
        XCTAssertTrue(machine.holdingCall)
        XCTAssertEqual(machine.nextDeadline, now + machine.timings.dialToneTimeout)
    }

    func testCallHeldIsIgnoredUnlessTalking() throws {
        try makeLine()
        send(.callHeld)
        XCTAssertEqual(machine.state, .idle)
        hook(true)
        actions = []
        send(.callHeld)
        XCTAssertEqual(actions, [])
        XCTAssertEqual(machine.tone, .dial)
        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteRinging)
        XCTAssertEqual(machine.state, .ringback)
        actions = []
        send(.callHeld)
        XCTAssertEqual(actions, [])
        XCTAssertEqual(machine.state, .ringback)
        XCTAssertFalse(machine.holdingCall)
    }

    // MARK: Flash while holding

    func testAFlashWhileHoldingGoesToCallControlInEveryOffHookState() throws {
        try makeLine()
        holdACall()
        XCTAssertEqual(flash(), [.flash], "in recall dial tone")
        XCTAssertEqual(machine.state, .dialTone)
        XCTAssertEqual(machine.tone, .stutterDial)
        send(.dtmf("5"))
        XCTAssertEqual(flash(), [.flash], "while dialing: the number is not started over")
        XCTAssertEqual(machine.state, .dialing)
        XCTAssertEqual(machine.digits, "5")
        for digit in "551234" { send(.dtmf(digit)) }
        send(.remoteRinging)
        XCTAssertEqual(flash(), [.flash], "in ringback")
        XCTAssertEqual(machine.state, .ringback)
        XCTAssertEqual(machine.tone, .ringback)
        send(.callFailed(busy: true))
        XCTAssertEqual(flash(), [.flash], "in busy")
        XCTAssertEqual(machine.state, .busy)
        wait(machine.timings.failureToneDuration)
        XCTAssertEqual(machine.state, .howler)
        XCTAssertEqual(flash(), [.flash], "in the howler")
        XCTAssertTrue(machine.holdingCall)
    }

    func testAFlashOnTheSecondCallSwapsThroughCallControl() throws {
        try makeLine()
        holdACall()
        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteAnswered)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertEqual(flash(), [.flash])
        XCTAssertEqual(machine.state, .talking)
    }

    func testPulseDigitsStillDecodeWhileHolding() throws {
        try makeLine()
        holdACall()
        rotary(5)
        XCTAssertEqual(machine.state, .dialing)
        XCTAssertEqual(machine.digits, "5")
        XCTAssertEqual(machine.pulseDigitsDecoded, 1)
        XCTAssertFalse(actions.contains(.flash))
        XCTAssertEqual(actions.first, .stopTone, "the first pulse stops recall dial tone")
    }

    func testASecondCallDialedWhileHoldingIsPlaced() throws {
        try makeLine()
        holdACall()
        for digit in "5551234" { send(.dtmf(digit)) }
        XCTAssertEqual(dialed, ["5551234"])
        XCTAssertEqual(machine.state, .calling)
        XCTAssertTrue(machine.holdingCall)
    }

    // MARK: Back to a call

    func testCallResumedTalksAndStopsTheTone() throws {
        try makeLine()
        holdACall()
        send(.callResumed)
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.talking)])
        XCTAssertEqual(machine.state, .talking)
        XCTAssertNil(machine.tone)
        XCTAssertFalse(machine.holdingCall)
        XCTAssertNil(machine.nextDeadline, "no howler waits under a call")
    }

    func testCallResumedWhileDialingDropsTheDigits() throws {
        try makeLine()
        holdACall()
        send(.dtmf("5"))
        send(.dtmf("5"))
        actions = []
        send(.callResumed)
        XCTAssertEqual(actions, [.stateChanged(.talking)])
        XCTAssertEqual(machine.digits, "")
        wait(.seconds(30))
        XCTAssertEqual(machine.state, .talking)
        XCTAssertEqual(dialed, [])
    }

    func testCallResumedWithNothingHeldIsIgnored() throws {
        try makeLine()
        hook(true)
        actions = []
        send(.callResumed)
        XCTAssertEqual(actions, [])
        XCTAssertEqual(machine.state, .dialTone)
    }

    func testHeldCallEndedClearsHoldingAndAFlashRestartsDialToneAgain() throws {
        try makeLine()
        holdACall()
        send(.dtmf("5"))
        actions = []
        send(.heldCallEnded)
        XCTAssertEqual(actions, [])
        XCTAssertFalse(machine.holdingCall)
        XCTAssertEqual(machine.state, .dialing)
        XCTAssertEqual(flash(), [.stateChanged(.dialTone), .playTone(.dial)])
        XCTAssertEqual(machine.digits, "")
    }

    // MARK: Endings

    func testHangUpWhileHoldingEndsTheCallsAndTheLineCanRingBack() throws {
        try makeLine()
        holdACall()
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.idle), .hangUp])
        XCTAssertFalse(machine.holdingCall)
        actions = []
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertTrue(actions.contains(.answer))
        XCTAssertEqual(machine.state, .talking)
    }

    func testHangUpWithNothingHeldInDialToneReportsNoCall() throws {
        try makeLine()
        holdACall()
        send(.heldCallEnded)
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.idle)])
    }

    func testGoingIdleClearsHolding() throws {
        try makeLine()
        holdACall()
        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteAnswered)
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(machine.state, .idle)
        XCTAssertFalse(machine.holdingCall)
        actions = []
        hook(true)
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.dial)], "plain dial tone again")
        XCTAssertEqual(flash(), [.playTone(.dial)], "a flash restarts dial tone again")
    }

    func testTheSecondCallEndingWhileHoldingSendsNoDisconnectPulse() throws {
        try makeLine(pulse: .milliseconds(600))
        holdACall()
        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteAnswered)
        actions = []
        send(.remoteHangUp)
        XCTAssertEqual(machine.state, .busy)
        XCTAssertEqual(machine.tone, .busy)
        XCTAssertFalse(actions.contains(.loopCurrent(on: false)), "\(actions)")
        XCTAssertFalse(machine.isSignalling)
        XCTAssertTrue(machine.holdingCall)

        send(.callResumed)
        XCTAssertEqual(machine.state, .talking)
        actions = []
        send(.remoteHangUp)
        XCTAssertEqual(actions.first, .loopCurrent(on: false), "with nothing held, the pulse as before")
    }

    func testTheSecondCallFailingWhileHoldingSendsNoDisconnectPulse() throws {
        try makeLine(pulse: .milliseconds(600))
        holdACall()
        for digit in "5551234" { send(.dtmf(digit)) }
        send(.remoteAnswered)
        actions = []
        send(.callFailed(busy: false))
        XCTAssertEqual(machine.state, .congestion)
        XCTAssertEqual(machine.tone, .congestion)
        XCTAssertFalse(actions.contains(.loopCurrent(on: false)), "\(actions)")
    }

    // MARK: Timers

    func testRecallDialToneTimesOutToTheHowlerAndNeverDialsTheWarmline() throws {
        try makeLine(hotline: "5550000", warmline: .seconds(5))
        holdACall()
        wait(.seconds(6))
        XCTAssertEqual(machine.state, .dialTone, "no warmline under a held call")
        wait(machine.timings.dialToneTimeout - .seconds(6))
        XCTAssertEqual(machine.state, .howler)
        XCTAssertEqual(dialed, [])
    }

    func testRecallDialToneAfterAFeatureCodeTimesOutToTheHowlerNotTheWarmline() throws {
        try makeLine(hotline: "5550000", warmline: .seconds(5))
        machine.featureCodes = FeatureCodes()
        holdACall()
        // Shorter than the warmline delay: the dial tone timer itself must
        // not dial the hotline.
        machine.timings.dialToneTimeout = .seconds(3)
        send(.dtmf("*"))
        send(.dtmf("7"))
        send(.dtmf("8"))
        XCTAssertEqual(machine.state, .confirmation)
        actions = []
        wait(LineMachine.confirmationLength)
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.stutterDial)],
                       "after a feature code, recall dial tone again")
        wait(.seconds(3))
        XCTAssertEqual(machine.state, .howler)
        XCTAssertEqual(dialed, [])
    }

    func testWithoutHoldingTheWarmlineStillDials() throws {
        try makeLine(hotline: "5550000", warmline: .seconds(5))
        hook(true)
        wait(.seconds(5))
        XCTAssertEqual(dialed, ["5550000"])
    }
}
