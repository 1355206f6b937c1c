import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// The line state machine driven with explicit times.
final class LineMachineTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    private func makeLine(country: String = "us", map: String = "(911|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|*xx|x.T)",
                          mapping: PulseMapping = .standard, hotline: String? = nil, warmline: Interval? = nil) throws {
        let preset = try XCTUnwrap(CountryPresets.preset(code: country))
        var timings = LineTimings()
        timings.flashMinimum = .milliseconds(Int64(preset.flashMinimumMs))
        timings.flashMaximum = .milliseconds(Int64(preset.flashMaximumMs))
        timings.hangUp = .milliseconds(Int64(preset.hangUpMs))
        timings.warmlineDelay = warmline
        machine = LineMachine(lineNumber: 1, preset: preset, timings: timings,
                              digitMap: try DigitMap.parse(map), pulseMapping: mapping, hotline: hotline)
    }

    private func hook(_ offHook: Bool) { send(.hook(offHook: offHook)) }

    /// Dials a digit on a rotary dial: `count` breaks at the given rate.
    private func rotary(_ count: Int, pps: Double = 10, breakRatio: Double = 0.6) {
        let period = 1000.0 / pps
        for _ in 0..<count {
            hook(false)
            wait(.milliseconds(Int64(period * breakRatio)))
            hook(true)
            wait(.milliseconds(Int64(period * (1 - breakRatio))))
        }
        wait(.milliseconds(700))
    }

    func testOffHookPlaysDialToneAndTheFirstDigitStopsIt() throws {
        try makeLine()
        hook(true)
        XCTAssertEqual(machine.state, .dialTone)
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.dial)])
        actions = []
        send(.dtmf("5"))
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.dialing)])
        XCTAssertEqual(machine.state, .dialing)
    }

    func testDialPlanDialsAsSoonAsTheNumberIsComplete() throws {
        try makeLine()
        hook(true)
        for digit in "5551234" { send(.dtmf(digit)) }
        XCTAssertEqual(machine.state, .calling)
        XCTAssertTrue(actions.contains(.dial("5551234")))
        XCTAssertEqual(machine.lastNumber, "5551234")
    }

    func testAShortMatchThatCouldGrowWaitsForTheShortTimer() throws {
        try makeLine()
        hook(true)
        for digit in "911" { send(.dtmf(digit)) }
        XCTAssertEqual(machine.state, .dialing, "[2-9]xxxxxx could still match")
        wait(machine.timings.interdigitShort - .milliseconds(1))
        XCTAssertEqual(machine.state, .dialing)
        wait(.milliseconds(2))
        XCTAssertTrue(actions.contains(.dial("911")))
    }

    func testInterdigitTimeoutDialsWhatTheMapAllowsOnTimeout() throws {
        try makeLine()
        hook(true)
        for digit in "12" { send(.dtmf(digit)) }
        XCTAssertEqual(machine.state, .dialing)
        wait(.seconds(9))
        XCTAssertEqual(machine.state, .dialing, "the long timer has not run out yet")
        wait(.seconds(2))
        XCTAssertTrue(actions.contains(.dial("12")), "x.T matches on timeout: \(actions)")
    }

    func testRotaryDigitsAt8And10And12PulsesPerSecond() throws {
        for (pps, ratio) in [(8.0, 0.66), (10.0, 0.6), (12.0, 0.55), (7.0, 0.70), (13.0, 0.55)] {
            try makeLine(map: "(xxxx)")
            actions = []
            hook(true)
            wait(.milliseconds(500))
            for count in [5, 10, 1, 2] { rotary(count, pps: pps, breakRatio: ratio) }
            XCTAssertTrue(actions.contains(.dial("5012")), "\(pps) pps \(ratio): \(actions)")
            XCTAssertEqual(machine.state, .calling, "\(pps) pps")
        }
    }

    func testSwedishAndNewZealandPulseMappings() throws {
        try makeLine(map: "(xxx)", mapping: .sweden)
        hook(true)
        rotary(1); rotary(2); rotary(10)
        XCTAssertTrue(actions.contains(.dial("019")), "\(actions)")
        actions = []
        try makeLine(map: "(xxx)", mapping: .newZealand)
        hook(true)
        rotary(10); rotary(9); rotary(1)
        XCTAssertTrue(actions.contains(.dial("019")), "\(actions)")
    }

    func testFlashVersusHangUpAtTheWindowEdges() throws {
        try makeLine()
        let preset = try XCTUnwrap(CountryPresets.preset(code: "us"))
        let flashMax = Int64(preset.flashMaximumMs)
        let flashMin = Int64(preset.flashMinimumMs)
        // In a call: just inside the window is a flash, just past it a hang-up.
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false); wait(.milliseconds(flashMax - 20)); hook(true)
        XCTAssertEqual(actions, [.flash])
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false); wait(.milliseconds(flashMin + 10)); hook(true)
        XCTAssertEqual(actions, [.flash])
        actions = []
        hook(false); wait(.milliseconds(flashMin / 2)); hook(true)
        XCTAssertEqual(actions, [], "a break shorter than the flash window is ignored in a call")
        hook(false); wait(.milliseconds(Int64(preset.hangUpMs) + 20))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(actions, [.stateChanged(.idle), .hangUp])
    }

    // MARK: Flash window and hang-up time, edge by edge

    /// A break of `milliseconds` on hook, then back off hook; returns what
    /// the line did.
    private func breakOf(_ milliseconds: Int64) -> [LineAction] {
        actions = []
        hook(false)
        wait(.milliseconds(milliseconds))
        hook(true)
        return actions
    }

    private func answerACall() {
        send(.incomingCall(callerID: false))
        hook(true)
        XCTAssertEqual(machine.state, .talking)
    }

    func testEuropeanWindowInACallFlashesOnlyInsideItAndHangsUpOnlyAt400Milliseconds() throws {
        try makeLine(country: "gb")
        let preset = try XCTUnwrap(CountryPresets.preset(code: "gb"))
        XCTAssertEqual([preset.flashMinimumMs, preset.flashMaximumMs, preset.hangUpMs], [55, 130, 400])
        answerACall()
        XCTAssertEqual(breakOf(54), [], "just under the flash window: a glitch")
        XCTAssertEqual(breakOf(55), [.flash], "the window's first millisecond")
        XCTAssertEqual(breakOf(130), [.flash], "the window's last millisecond")
        XCTAssertEqual(breakOf(131), [], "just past the window, far from a hang-up: nothing")
        XCTAssertEqual(breakOf(270), [], "a 270 ms R key is outside a 130 ms window, but no hang-up")
        XCTAssertEqual(breakOf(399), [], "one millisecond short of the hang-up time")
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false)
        wait(.milliseconds(399))
        XCTAssertEqual(actions, [])
        wait(.milliseconds(1))
        XCTAssertEqual(actions, [.stateChanged(.idle), .hangUp], "a break that reaches 400 ms hangs up")
        XCTAssertEqual(machine.state, .idle)
    }

    func testALongerFlashWindowOnTheLineKeepsLongRKeysInTheCall() throws {
        try makeLine(country: "gb")
        machine.timings.flashMaximum = .milliseconds(700)
        machine.timings.hangUp = .milliseconds(800)
        answerACall()
        XCTAssertEqual(breakOf(270), [.flash])
        XCTAssertEqual(breakOf(600), [.flash])
        XCTAssertEqual(breakOf(700), [.flash])
        XCTAssertEqual(breakOf(701), [])
        XCTAssertEqual(breakOf(799), [])
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false)
        wait(.milliseconds(800))
        XCTAssertEqual(actions, [.stateChanged(.idle), .hangUp])
    }

    func testDuringDialToneAFlashRestartsItAndOnlyTheHangUpTimeEndsIt() throws {
        try makeLine(country: "de")
        let preset = try XCTUnwrap(CountryPresets.preset(code: "de"))
        XCTAssertEqual([preset.flashMinimumMs, preset.flashMaximumMs, preset.hangUpMs], [60, 130, 400])
        hook(true)
        send(.dtmf("1"))
        XCTAssertEqual(machine.state, .dialing)
        XCTAssertEqual(breakOf(130), [.stateChanged(.dialTone), .playTone(.dial)], "a flash starts the number over")
        XCTAssertEqual(machine.digits, "")
        XCTAssertEqual(breakOf(131), [])
        XCTAssertEqual(breakOf(399), [])
        XCTAssertEqual(machine.state, .dialTone)
        actions = []
        hook(false)
        wait(.milliseconds(400))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.idle)])
    }

    func testNorthAmericaHangsUpOnlyPastTheLongestCentralOfficeFlash() throws {
        try makeLine(country: "us")
        answerACall()
        XCTAssertEqual(breakOf(99), [])
        XCTAssertEqual(breakOf(100), [.flash])
        XCTAssertEqual(breakOf(900), [.flash])
        XCTAssertEqual(breakOf(901), [])
        XCTAssertEqual(breakOf(1099), [])
        XCTAssertEqual(machine.state, .talking)
        actions = []
        hook(false)
        wait(.milliseconds(1100))
        XCTAssertEqual(actions, [.stateChanged(.idle), .hangUp])
    }

    func testInterdigitPauseIsNotAFlash() throws {
        try makeLine(map: "(xx)")
        hook(true)
        rotary(3)
        wait(.seconds(1))  // a long pause off hook between digits
        rotary(4)
        XCTAssertTrue(actions.contains(.dial("34")))
        XCTAssertFalse(actions.contains(.flash))
    }

    func testPermanentOffHookGoesDialToneThenHowlerThenSilence() throws {
        try makeLine()
        hook(true)
        wait(machine.timings.dialToneTimeout + .milliseconds(1))
        XCTAssertEqual(machine.state, .howler)
        XCTAssertEqual(machine.tone, .offHookWarning)
        wait(machine.timings.howlerDuration)
        XCTAssertEqual(machine.state, .lockout)
        XCTAssertNil(machine.tone)
        hook(false)
        wait(machine.timings.hangUp)
        XCTAssertEqual(machine.state, .idle)
    }

    func testRejectedNumberPlaysCongestionThenHowler() throws {
        try makeLine(map: "(911)")
        hook(true)
        send(.dtmf("8"))
        XCTAssertEqual(machine.state, .congestion)
        XCTAssertTrue(actions.contains(.numberRejected("8")))
        XCTAssertEqual(machine.tone, .congestion)
        wait(machine.timings.failureToneDuration + .milliseconds(1))
        XCTAssertEqual(machine.state, .howler)
    }

    func testIncomingCallRingsWithTheCountryCadenceAndAnswersOnOffHook() throws {
        try makeLine(country: "gb")
        let cadence = try XCTUnwrap(CountryPresets.preset(code: "gb")).ring.cadence
        send(.incomingCall(callerID: false))
        XCTAssertEqual(machine.state, .ringing)
        var switches: [(Bool, Instant)] = [(true, now)]
        let start = now
        actions = []
        while now < start + .seconds(6) {
            wait(.milliseconds(10))
            for action in actions { if case .ringer(let on) = action { switches.append((on, now)) } }
            actions = []
        }
        let durations = zip(switches, switches.dropFirst()).map { ($1.1 - $0.1).milliseconds }
        let expected = (0..<durations.count).map { Int64(cadence[$0 % cadence.count]) }
        XCTAssertEqual(durations, expected)
        hook(true)
        XCTAssertEqual(machine.state, .talking)
        XCTAssertTrue(actions.contains(.answer))
    }

    func testBusyLineDoesNotAcceptACall() throws {
        try makeLine()
        hook(true)
        XCTAssertFalse(machine.canAcceptIncomingCall)
        XCTAssertEqual(send(.incomingCall(callerID: false)), [])
    }

    func testHotlineAndWarmline() throws {
        try makeLine(hotline: "100")
        hook(true)
        XCTAssertTrue(actions.contains(.dial("100")))
        actions = []
        try makeLine(hotline: "100", warmline: .seconds(5))
        hook(true)
        XCTAssertEqual(machine.state, .dialTone)
        wait(.seconds(4))
        XCTAssertFalse(actions.contains(.dial("100")))
        wait(.seconds(2))
        XCTAssertTrue(actions.contains(.dial("100")))
    }

    func testMessageWaitingMakesDialToneStutter() throws {
        try makeLine()
        send(.messageWaiting(true))
        hook(true)
        XCTAssertEqual(machine.tone, .stutterDial)
    }
}
