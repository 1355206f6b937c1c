import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// When the line sends caller ID relative to the ringing, per alerting
/// method, with explicit times.
final class CallerIDAlertingTests: XCTestCase {
    private var now = Instant.zero + .seconds(100)
    private var machine: LineMachine!
    /// Every action with the time it came at.
    private var log: [(Instant, LineAction)] = []

    private func makeLine(country: String, alerting: CallerIDSignalling.Alerting?) throws {
        let preset = try XCTUnwrap(CountryPresets.preset(code: country))
        machine = LineMachine(lineNumber: 1, preset: preset, timings: LineTimings(), digitMap: .anything)
        machine.callerIDAlerting = alerting
    }

    private func send(_ input: LineInput) {
        log += machine.handle(input, at: now).map { (now, $0) }
    }

    private func wait(_ interval: Interval) {
        let end = now + interval
        while let due = machine.nextDeadline, due <= end {
            now = due
            log += machine.advance(to: now).map { (now, $0) }
        }
        now = end
    }

    private func time(of action: LineAction, after start: Instant) -> Int64? {
        log.first { $0.1 == action }.map { ($0.0 - start).nanoseconds / 1_000_000 }
    }

    func testAfterTheFirstRingTheDataGoesHalfASecondIntoTheLongPause() throws {
        try makeLine(country: "us", alerting: .afterFirstRing)
        let start = now
        send(.incomingCall(callerID: true))
        wait(.seconds(15))
        // us: 2 s on, 4 s off.
        XCTAssertEqual(time(of: .ringer(on: true), after: start), 0)
        XCTAssertEqual(time(of: .ringer(on: false), after: start), 2000)
        XCTAssertEqual(time(of: .sendCallerID, after: start), 2500)
        XCTAssertEqual(log.filter { $0.1 == .sendCallerID }.count, 1, "once per call")
        XCTAssertFalse(log.contains { if case .polarity = $0.1 { return true } else { return false } })
    }

    func testADoubleRingCadenceSendsInTheLongPauseNotTheShortOne() throws {
        // gb rings 400/200/400/2000: the 200 ms gap cannot hold the data.
        try makeLine(country: "gb", alerting: .afterFirstRing)
        let start = now
        send(.incomingCall(callerID: true))
        wait(.seconds(4))
        XCTAssertEqual(time(of: .sendCallerID, after: start), 1000 + 500)
    }

    func testLineReversalComesFirstAndTheRingFollowsTheData() throws {
        try makeLine(country: "se", alerting: .lineReversal)
        let start = now
        send(.incomingCall(callerID: true))
        XCTAssertEqual(machine.state, .ringing)
        XCTAssertEqual(log.map { $0.1 }, [.stateChanged(.ringing), .polarity(reversed: true)])
        wait(.milliseconds(250))
        XCTAssertEqual(time(of: .sendCallerID, after: start), 250)
        XCTAssertNil(time(of: .ringer(on: true), after: start), "no ring while the data is sent")
        wait(.milliseconds(1200))
        send(.callerIDSent)
        let sent = now
        wait(.milliseconds(300))
        XCTAssertEqual(time(of: .polarity(reversed: false), after: sent), 250)
        XCTAssertEqual(time(of: .ringer(on: true), after: sent), 250)
    }

    func testRingingStartsEvenIfTheEndOfTheDataIsNeverReported() throws {
        try makeLine(country: "gb", alerting: .lineReversalAndDualTone)
        let start = now
        send(.incomingCall(callerID: true))
        wait(.seconds(5))
        XCTAssertEqual(time(of: .ringer(on: true), after: start), 250 + 4000)
    }

    func testAnsweringDuringTheDataRestoresThePolarityAndStopsEverything() throws {
        try makeLine(country: "se", alerting: .lineReversal)
        send(.incomingCall(callerID: true))
        wait(.milliseconds(400))
        log = []
        send(.hook(offHook: true))
        XCTAssertEqual(machine.state, .talking)
        XCTAssertTrue(log.contains { $0.1 == .polarity(reversed: false) })
        wait(.seconds(5))
        XCTAssertFalse(log.contains { $0.1 == .ringer(on: true) || $0.1 == .sendCallerID })
    }

    func testACallerGoneBeforeTheDataLeavesTheLineAtRest() throws {
        try makeLine(country: "us", alerting: .afterFirstRing)
        send(.incomingCall(callerID: true))
        wait(.milliseconds(2100))
        send(.incomingCallEnded)
        wait(.seconds(5))
        XCTAssertFalse(log.contains { $0.1 == .sendCallerID })
        XCTAssertEqual(machine.state, .idle)
    }

    func testAStalledLoopSendsNoDataIntoTheRing() throws {
        // The loop wakes 7 s after the call came: the data due at 2.5 s
        // would run into the second ring.
        try makeLine(country: "us", alerting: .afterFirstRing)
        send(.incomingCall(callerID: true))
        now = now + .seconds(7)
        log += machine.advance(to: now).map { (now, $0) }
        XCTAssertFalse(log.contains { $0.1 == .sendCallerID })
        XCTAssertEqual(machine.ringer.isOn, true, "the cadence goes on")

        // Before the ring: a stall past the data's time rings at once.
        try makeLine(country: "se", alerting: .lineReversal)
        log = []
        send(.incomingCall(callerID: true))
        now = now + .seconds(2)
        log += machine.advance(to: now).map { (now, $0) }
        XCTAssertFalse(log.contains { $0.1 == .sendCallerID })
        let restored = try XCTUnwrap(log.firstIndex { $0.1 == .polarity(reversed: false) })
        let rung = try XCTUnwrap(log.firstIndex { $0.1 == .ringer(on: true) })
        XCTAssertLessThan(restored, rung, "the polarity is back before the ring")
    }

    func testACallerGoneDuringTheReversalRestoresThePolarity() throws {
        try makeLine(country: "se", alerting: .lineReversal)
        send(.incomingCall(callerID: true))
        wait(.milliseconds(100))
        send(.incomingCallEnded)
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(log.last?.1, .stateChanged(.idle))
        XCTAssertTrue(log.contains { $0.1 == .polarity(reversed: false) })
        wait(.seconds(5))
        XCTAssertFalse(log.contains { $0.1 == .sendCallerID || $0.1 == .ringer(on: true) })
    }

    func testTheEndOfDataCountsOnlyWhileItIsSent() throws {
        try makeLine(country: "se", alerting: .lineReversal)
        send(.incomingCall(callerID: true))
        send(.callerIDSent)
        wait(.milliseconds(249))
        XCTAssertNil(time(of: .sendCallerID, after: now - .milliseconds(249)))
        XCTAssertFalse(log.contains { $0.1 == .ringer(on: true) }, "an early report does not skip the data")
        wait(.milliseconds(2))
        XCTAssertTrue(log.contains { $0.1 == .sendCallerID })
    }

    func testNoCallerIDWithoutAnIdentityOrAMethod() throws {
        try makeLine(country: "se", alerting: .lineReversal)
        send(.incomingCall(callerID: false))
        XCTAssertTrue(log.contains { $0.1 == .ringer(on: true) }, "rings at once")
        try makeLine(country: "us", alerting: nil)
        log = []
        send(.incomingCall(callerID: true))
        wait(.seconds(7))
        XCTAssertFalse(log.contains { $0.1 == .sendCallerID })
    }
}

/// The phone's message-waiting indicator: told on hook, once per change.
final class MessageWaitingIndicatorTests: XCTestCase {
    private var machine: LineMachine!
    private let now = Instant.zero + .seconds(100)

    override func setUp() {
        machine = LineMachine(lineNumber: 1, preset: CountryPresets.preset(code: "us")!, timings: LineTimings(),
                              digitMap: .anything)
    }

    func testAnIdleLineTellsThePhoneAtOnceAndOnlyOnAChange() {
        XCTAssertEqual(machine.handle(.messageWaiting(true), at: now), [.sendMessageWaitingIndicator(true)])
        _ = machine.handle(.messageWaitingIndicatorSent, at: now)
        XCTAssertEqual(machine.handle(.messageWaiting(true), at: now), [])
        XCTAssertEqual(machine.handle(.messageWaiting(false), at: now), [.sendMessageWaitingIndicator(false)])
    }

    func testALineInUseTellsThePhoneWhenItIsHungUpAndTheDialToneStutters() {
        _ = machine.handle(.hook(offHook: true), at: now)
        XCTAssertEqual(machine.handle(.messageWaiting(true), at: now), [])
        _ = machine.handle(.hook(offHook: false), at: now)
        let hungUp = machine.advance(to: now + .seconds(2))
        XCTAssertEqual(hungUp.last, .sendMessageWaitingIndicator(true))
        let lifted = machine.handle(.hook(offHook: true), at: now + .seconds(3))
        XCTAssertTrue(lifted.contains(.playTone(.stutterDial)), "\(lifted)")
    }

    func testABurstCutShortIsSentAgainAtTheNextRest() {
        XCTAssertEqual(machine.handle(.messageWaiting(true), at: now), [.sendMessageWaitingIndicator(true)])
        // The handset is lifted during the burst: no report that it was sent.
        _ = machine.handle(.hook(offHook: true), at: now)
        _ = machine.handle(.hook(offHook: false), at: now + .seconds(1))
        XCTAssertEqual(machine.advance(to: now + .seconds(3)).last, .sendMessageWaitingIndicator(true))
        _ = machine.handle(.messageWaitingIndicatorSent, at: now + .seconds(4))
        _ = machine.handle(.hook(offHook: true), at: now + .seconds(5))
        _ = machine.handle(.hook(offHook: false), at: now + .seconds(6))
        XCTAssertFalse(machine.advance(to: now + .seconds(8)).contains(.sendMessageWaitingIndicator(true)),
                       "told once it went out")
    }
}
