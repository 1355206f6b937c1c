import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// Polarity reversal while connected and the disconnect pulse (CPC) on the
/// far end's hang-up, driven with explicit times.
final class LineSignalsTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    private func makeLine(outgoing: Bool = true, answering: Bool = false, pulse: Interval? = .milliseconds(600)) throws {
        let preset = try XCTUnwrap(CountryPresets.preset(code: "us"))
        var timings = LineTimings()
        timings.flashMinimum = .milliseconds(Int64(preset.flashMinimumMs))
        timings.flashMaximum = .milliseconds(Int64(preset.flashMaximumMs))
        timings.hangUp = .milliseconds(Int64(preset.hangUpMs))
        machine = LineMachine(lineNumber: 1, preset: preset, timings: timings, digitMap: try DigitMap.parse("(xxx)"))
        machine.reversesPolarityOnAnswer = outgoing
        machine.reversesPolarityWhenAnswering = answering
        machine.disconnectPulse = pulse
    }

    private var signals: [LineAction] {
        actions.filter {
            switch $0 {
            case .polarity, .loopCurrent: return true
            default: return false
            }
        }
    }

    /// Off hook, dials 123, the far end answers.
    private func placeAnsweredCall() {
        send(.hook(offHook: true))
        for digit in "123" { send(.dtmf(digit)) }
        send(.remoteAnswered)
    }

    func testAnAnsweredCallReversesThePolarityUntilTheHandsetHangsUp() throws {
        try makeLine()
        placeAnsweredCall()
        XCTAssertEqual(signals, [.polarity(reversed: true)])
        send(.hook(offHook: false))
        wait(.seconds(2))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(signals, [.polarity(reversed: true), .polarity(reversed: false)])
    }

    func testAnIncomingCallAnsweredReversesOnlyWhenAskedFor() throws {
        try makeLine()
        send(.incomingCall(callerID: false))
        send(.hook(offHook: true))
        XCTAssertEqual(machine.state, .talking)
        XCTAssertEqual(signals, [])
        try makeLine(answering: true)
        actions = []
        send(.incomingCall(callerID: false))
        send(.hook(offHook: true))
        XCTAssertEqual(signals, [.polarity(reversed: true)])
    }

    func testAnsweringDuringTheCallerIDReversalStaysReversedWithoutAGlitch() throws {
        try makeLine(answering: true)
        machine.callerIDAlerting = .lineReversal
        send(.incomingCall(callerID: true))
        XCTAssertEqual(signals, [.polarity(reversed: true)])
        wait(.milliseconds(100))
        send(.hook(offHook: true))
        XCTAssertEqual(machine.state, .talking)
        XCTAssertEqual(signals, [.polarity(reversed: true)])
        send(.hook(offHook: false))
        wait(.seconds(2))
        XCTAssertEqual(signals, [.polarity(reversed: true), .polarity(reversed: false)])
    }

    func testTheFarEndHangingUpRestoresThePolarityAndPulsesTheLoop() throws {
        try makeLine()
        placeAnsweredCall()
        actions = []
        send(.remoteHangUp)
        XCTAssertEqual(signals, [.loopCurrent(on: false), .polarity(reversed: false)])
        wait(.milliseconds(599))
        XCTAssertFalse(signals.contains(.loopCurrent(on: true)))
        wait(.milliseconds(1))
        XCTAssertEqual(signals.last, .loopCurrent(on: true))
        XCTAssertEqual(machine.state, .busy)
    }

    func testHookEdgesDuringThePulseAreThePulsesOwn() throws {
        // Longer than the 1100 ms hang-up time: were the open loop's
        // on-hook taken, the line would hang up.
        try makeLine(pulse: .milliseconds(1500))
        placeAnsweredCall()
        send(.remoteHangUp)
        // The SLIC reads the open loop as on hook, then off hook again.
        send(.hook(offHook: false))
        wait(.milliseconds(1500))
        send(.hook(offHook: true))
        wait(.seconds(1))
        XCTAssertEqual(machine.state, .busy, "the handset never moved")
        XCTAssertTrue(machine.physicallyOffHook)
    }

    func testAHandsetHungUpDuringThePulseCountsFromWhenTheLoopCloses() throws {
        try makeLine(pulse: .milliseconds(1500))
        placeAnsweredCall()
        let start = now
        send(.remoteHangUp)
        send(.hook(offHook: false))
        wait(.milliseconds(1600))
        XCTAssertFalse(machine.physicallyOffHook)
        XCTAssertEqual(machine.state, .busy)
        // The break began when the loop closed (1500 ms): the hang-up is
        // 1100 ms after that.
        wait(start + .milliseconds(2599) - now)
        XCTAssertEqual(machine.state, .busy)
        wait(.milliseconds(1))
        XCTAssertEqual(machine.state, .idle)
    }

    func testAFarEndHangingUpWhileTheHandsetGoesDownGetsNoPulse() throws {
        try makeLine()
        placeAnsweredCall()
        send(.hook(offHook: false))
        wait(.milliseconds(300))
        send(.remoteHangUp)
        wait(.seconds(2))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertFalse(signals.contains(.loopCurrent(on: false)))
        XCTAssertTrue(machine.canAcceptIncomingCall)
    }

    func testAConnectedCallThatFailsPulsesTheLoopToo() throws {
        try makeLine()
        placeAnsweredCall()
        actions = []
        send(.callFailed(busy: false))
        XCTAssertEqual(signals.first, .loopCurrent(on: false))
        XCTAssertFalse(machine.canAcceptIncomingCall)
        wait(.milliseconds(700))
        XCTAssertEqual(signals.last, .loopCurrent(on: true))
    }

    func testNothingHappensWhenNotAskedFor() throws {
        try makeLine(outgoing: false, pulse: nil)
        placeAnsweredCall()
        send(.remoteHangUp)
        wait(.seconds(1))
        XCTAssertEqual(signals, [])
    }

    func testAFarEndThatHangsUpBeforeAnsweringGetsNoPulse() throws {
        try makeLine()
        send(.hook(offHook: true))
        for digit in "123" { send(.dtmf(digit)) }
        send(.remoteRinging)
        send(.remoteHangUp)
        XCTAssertEqual(signals, [])
    }
}
