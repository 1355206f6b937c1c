import CountryPresets
import DialPlan
@testable import Line
import Timebase
import XCTest

/// Feature codes (`[features]`) dialed on the line, matched before the
/// dial plan: the request, the confirmation tone, then dial tone again.
final class FeatureCodeTests: XCTestCase, LineMachineDriving {
    var now = Instant.zero + .seconds(100)
    var machine: LineMachine!
    var actions: [LineAction] = []

    private func makeLine(map: String = "(911|[2-9]xxxxxx|*xx|x.T)", codes: FeatureCodes = FeatureCodes()) throws {
        let preset = try XCTUnwrap(CountryPresets.preset(code: "us"))
        var timings = LineTimings()
        timings.flashMinimum = .milliseconds(Int64(preset.flashMinimumMs))
        timings.flashMaximum = .milliseconds(Int64(preset.flashMaximumMs))
        timings.hangUp = .milliseconds(Int64(preset.hangUpMs))
        machine = LineMachine(lineNumber: 1, preset: preset, timings: timings, digitMap: try DigitMap.parse(map))
        machine.featureCodes = codes
        actions = []
    }

    private func dial(_ digits: String) {
        for digit in digits { send(.dtmf(digit)) }
    }

    private var requests: [FeatureRequest] {
        actions.compactMap { if case .feature(let request) = $0 { return request } else { return nil } }
    }

    private var dialed: [String] {
        actions.compactMap { if case .dial(let number) = $0 { return number } else { return nil } }
    }

    // MARK: Matching

    func testDefaultCodesMatchAsTheyAreDialed() {
        let codes = FeatureCodes()
        XCTAssertEqual(codes.codes, ["*78", "*79", "*72", "*73", "*90", "*91", "*92", "*93", "*70"])
        XCTAssertEqual(codes.match("*"), .partial)
        XCTAssertEqual(codes.match("*7"), .partial)
        XCTAssertEqual(codes.match("*9"), .partial)
        XCTAssertEqual(codes.match("*78"), .request(.doNotDisturb(true)))
        XCTAssertEqual(codes.match("*79"), .request(.doNotDisturb(false)))
        XCTAssertEqual(codes.match("*73"), .request(.forward(.always, to: nil)))
        XCTAssertEqual(codes.match("*91"), .request(.forward(.busy, to: nil)))
        XCTAssertEqual(codes.match("*93"), .request(.forward(.noAnswer, to: nil)))
        XCTAssertEqual(codes.match("*70"), .request(.cancelCallWaiting))
        XCTAssertEqual(codes.match("*72"), .number(.always, dialed: ""))
        XCTAssertEqual(codes.match("*725551"), .number(.always, dialed: "5551"))
        XCTAssertEqual(codes.match("*90123"), .number(.busy, dialed: "123"))
        XCTAssertEqual(codes.match("*92#4"), .number(.noAnswer, dialed: "#4"))
        XCTAssertEqual(codes.match("*69"), .none)
        XCTAssertEqual(codes.match("*780"), .none, "a code that needs no number takes no more digits")
        XCTAssertEqual(codes.match("5"), .none)
        XCTAssertEqual(codes.match("#"), .none)
    }

    func testNoCodesMatchNothing() {
        XCTAssertEqual(FeatureCodes.none.codes, [String?](repeating: nil, count: 9))
        for digits in ["*", "*7", "*78", "*725551", "5"] {
            XCTAssertEqual(FeatureCodes.none.match(digits), .none, digits)
        }
        var codes = FeatureCodes()
        codes.codes[0] = nil
        XCTAssertEqual(codes.match("*78"), .none, "dnd_on = off")
        XCTAssertEqual(codes.match("*79"), .request(.doNotDisturb(false)))
    }

    func testConflictsAreFound() {
        XCTAssertNil(FeatureCodes().conflict?.message)
        XCTAssertNil(FeatureCodes.none.conflict?.message)

        var prefix = FeatureCodes()
        prefix.codes[0] = "*7"
        XCTAssertEqual(prefix.conflict?.message, "'dnd_on = *7' and 'dnd_off = *79': one code is the start of the other")

        var same = FeatureCodes()
        same.codes[5] = "*90"
        XCTAssertEqual(same.conflict?.message, "'forward_busy = *90' and 'forward_busy_off = *90': the same code twice")

        // A forwarding code that starts another code would swallow it as
        // the start of a number.
        var swallowing = FeatureCodes()
        swallowing.codes[2] = "*7"
        XCTAssertEqual(swallowing.conflict?.message, "'forward_all = *7' and 'dnd_on = *78': one code is the start of the other")

        // With dnd_off turned off, *7 still starts forward_all's *72.
        prefix.codes[1] = nil
        XCTAssertEqual(prefix.conflict?.message, "'dnd_on = *7' and 'forward_all = *72': one code is the start of the other")
        // Turning one of the two off removes the conflict.
        same.codes[4] = nil
        XCTAssertNil(same.conflict?.message)
    }

    func testLineFeaturesApplyAndSummarize() {
        var features = LineFeatures()
        XCTAssertTrue(features.isEmpty)
        XCTAssertEqual(features.summary(noAnswerSeconds: 20), "")
        features.apply(.doNotDisturb(true))
        features.apply(.forward(.noAnswer, to: "5553"))
        features.apply(.forward(.always, to: "5551"))
        XCTAssertFalse(features.isEmpty)
        XCTAssertEqual(features.target(.always), "5551")
        XCTAssertNil(features.target(.busy))
        XCTAssertEqual(features.summary(noAnswerSeconds: 30),
                       "do-not-disturb, forward all to 5551, forward no answer to 5553 after 30 s")
        features.apply(.doNotDisturb(false))
        features.apply(.forward(.always, to: nil))
        features.apply(.forward(.noAnswer, to: nil))
        XCTAssertTrue(features.isEmpty)
        XCTAssertEqual(features, LineFeatures())
    }

    // MARK: On the line

    func testDoNotDisturbCodeConfirmsThenGivesDialToneAgain() throws {
        try makeLine()
        send(.hook(offHook: true))
        actions = []
        dial("*7")
        XCTAssertEqual(machine.state, .dialing)
        XCTAssertEqual(requests, [])
        send(.dtmf("8"))
        XCTAssertEqual(actions, [.stopTone, .stateChanged(.dialing),
                                 .feature(.doNotDisturb(true)), .stateChanged(.confirmation), .playTone(.confirmation)])
        XCTAssertEqual(machine.state, .confirmation)
        XCTAssertEqual(machine.tone, .confirmation)
        XCTAssertEqual(machine.digits, "")
        XCTAssertEqual(dialed, [], "a feature code is never dialed")

        actions = []
        wait(.milliseconds(599))
        XCTAssertEqual(actions, [])
        XCTAssertEqual(machine.state, .confirmation)
        wait(.milliseconds(1))
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.dial)])
        XCTAssertEqual(machine.state, .dialTone)

        // The next call is dialed as usual.
        actions = []
        dial("911")
        wait(.seconds(3))
        XCTAssertEqual(dialed, ["911"])
        XCTAssertEqual(requests, [])
    }

    func testDialToneAfterTheConfirmationTimesOutLikeAnyDialTone() throws {
        try makeLine()
        send(.hook(offHook: true))
        dial("*79")
        XCTAssertEqual(requests, [.doNotDisturb(false)])
        wait(.milliseconds(600))
        XCTAssertEqual(machine.state, .dialTone)
        wait(machine.timings.dialToneTimeout - .milliseconds(1))
        XCTAssertEqual(machine.state, .dialTone)
        wait(.milliseconds(1))
        XCTAssertEqual(machine.state, .howler)
    }

    func testWithFeaturesActiveTheDialToneAfterTheConfirmationStutters() throws {
        try makeLine()
        send(.hook(offHook: true))
        XCTAssertEqual(actions.last, .playTone(.dial))
        dial("*78")
        // Call control answers the request with the line's new state.
        send(.featuresActive(true))
        XCTAssertTrue(machine.featuresActive)
        actions = []
        wait(.milliseconds(600))
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.stutterDial)])
        XCTAssertEqual(machine.tone, .stutterDial)

        // Later off-hooks stutter too, until it is turned off.
        send(.hook(offHook: false))
        wait(.seconds(2))
        XCTAssertEqual(machine.state, .idle)
        actions = []
        send(.hook(offHook: true))
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.stutterDial)])
        dial("*79")
        send(.featuresActive(false))
        actions = []
        wait(.milliseconds(600))
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.dial)])
    }

    func testMessageWaitingAlsoMakesTheConfirmationsDialToneStutter() throws {
        try makeLine()
        send(.messageWaiting(true))
        send(.messageWaitingIndicatorSent)
        send(.hook(offHook: true))
        dial("*78")
        actions = []
        wait(.milliseconds(600))
        XCTAssertEqual(actions, [.stateChanged(.dialTone), .playTone(.stutterDial)])
    }

    func testForwardingCodeTakesTheNumberTheDigitMapCompletes() throws {
        try makeLine(map: "(xxxx)")
        send(.hook(offHook: true))
        dial("*72")
        XCTAssertEqual(machine.state, .dialing)
        dial("555")
        XCTAssertEqual(requests, [], "three digits: (xxxx) wants four")
        XCTAssertEqual(machine.state, .dialing)
        actions = []
        send(.dtmf("1"))
        XCTAssertEqual(actions, [.feature(.forward(.always, to: "5551")),
                                 .stateChanged(.confirmation), .playTone(.confirmation)])
        XCTAssertEqual(dialed, [])
        XCTAssertNil(machine.lastNumber)
        wait(.milliseconds(600))
        XCTAssertEqual(machine.state, .dialTone)
    }

    func testEachForwardingCodeNamesItsCondition() throws {
        try makeLine(map: "(xxxx)")
        for (code, condition) in [("*90", ForwardingCondition.busy), ("*92", .noAnswer), ("*72", .always)] {
            send(.hook(offHook: true))
            dial(code + "5552")
            wait(.milliseconds(600))
            XCTAssertEqual(machine.state, .dialTone, code)
            send(.hook(offHook: false))
            wait(.seconds(2))
            XCTAssertEqual(machine.state, .idle, code)
            XCTAssertEqual(requests.last, .forward(condition, to: "5552"), code)
        }
        for code in ["*73", "*91", "*93"] {
            send(.hook(offHook: true))
            dial(code)
            send(.hook(offHook: false))
            wait(.seconds(2))
        }
        XCTAssertEqual(Array(requests.suffix(3)),
                       [.forward(.always, to: nil), .forward(.busy, to: nil), .forward(.noAnswer, to: nil)])
    }

    func testAForwardingNumberWithATimerMatchIsTakenWhenTheTimerRuns() throws {
        try makeLine(map: "(911|x.T)")
        send(.hook(offHook: true))
        dial("*92555")
        XCTAssertEqual(requests, [])
        // x.T matches once the (long) interdigit timer has run out.
        wait(machine.timings.interdigitLong - .milliseconds(1))
        XCTAssertEqual(requests, [])
        XCTAssertEqual(machine.state, .dialing)
        wait(.milliseconds(1))
        XCTAssertEqual(requests, [.forward(.noAnswer, to: "555")])
        XCTAssertEqual(machine.state, .confirmation)
    }

    func testAForwardingCodeWithNoNumberIsRejectedAfterTheLongTimer() throws {
        try makeLine(map: "(xxxx)")
        send(.hook(offHook: true))
        dial("*72")
        wait(machine.timings.interdigitLong - .milliseconds(1))
        XCTAssertEqual(machine.state, .dialing)
        wait(.milliseconds(1))
        XCTAssertEqual(actions.filter { if case .numberRejected = $0 { return true } else { return false } },
                       [.numberRejected("*72")])
        XCTAssertEqual(machine.state, .congestion)
        XCTAssertEqual(requests, [])
    }

    func testAForwardingNumberTheDigitMapRejectsIsRejected() throws {
        try makeLine(map: "(xxxx)")
        send(.hook(offHook: true))
        dial("*72*")
        XCTAssertTrue(actions.contains(.numberRejected("*72*")), "\(actions)")
        XCTAssertEqual(machine.state, .congestion)
        XCTAssertEqual(requests, [])
    }

    func testAPartialCodeWaitsTheLongTimerInsteadOfBeingRejected() throws {
        try makeLine(map: "(xxxx)")
        send(.hook(offHook: true))
        dial("*7")
        XCTAssertEqual(machine.state, .dialing, "(xxxx) alone would reject '*' at once")
        XCTAssertFalse(actions.contains { if case .numberRejected = $0 { return true } else { return false } })
        XCTAssertEqual(machine.nextDeadline, now + machine.timings.interdigitLong)
        wait(machine.timings.interdigitLong - .milliseconds(1))
        XCTAssertEqual(machine.state, .dialing)
        wait(.milliseconds(1))
        XCTAssertTrue(actions.contains(.numberRejected("*7")), "\(actions)")
        XCTAssertEqual(machine.state, .congestion)
        XCTAssertEqual(requests, [])
    }

    func testAPartialCodeCompletedLateStillCounts() throws {
        try makeLine(map: "(xxxx)")
        send(.hook(offHook: true))
        dial("*")
        wait(.seconds(9))
        dial("7")
        wait(.seconds(9))
        dial("8")
        XCTAssertEqual(requests, [.doNotDisturb(true)], "each digit restarts the long timer")
    }

    func testWithoutFeatureCodesTheDialPlanSeesEveryDigit() throws {
        try makeLine(map: "(xxxx)", codes: .none)
        send(.hook(offHook: true))
        send(.dtmf("*"))
        XCTAssertTrue(actions.contains(.numberRejected("*")), "\(actions)")
        XCTAssertEqual(machine.state, .congestion)

        try makeLine(codes: .none)
        send(.hook(offHook: true))
        dial("*78")
        XCTAssertEqual(dialed, ["*78"], "*xx in the map: dialed as a number")
        XCTAssertEqual(requests, [])
        XCTAssertEqual(machine.state, .calling)
    }

    func testOtherStarCodesStillGoToTheDialPlan() throws {
        try makeLine()
        send(.hook(offHook: true))
        dial("*69")
        XCTAssertEqual(dialed, ["*69"])
        XCTAssertEqual(requests, [])
        XCTAssertEqual(machine.state, .calling)
    }

    func testCustomCodesReplaceTheDefaults() throws {
        var codes = FeatureCodes.none
        codes.codes[0] = "#1"
        try makeLine(map: "(xxxx)", codes: codes)
        send(.hook(offHook: true))
        dial("#1")
        XCTAssertEqual(requests, [.doNotDisturb(true)])
        XCTAssertEqual(machine.state, .confirmation)
    }

    func testHangingUpDuringTheConfirmationGoesIdleWithoutAHangUp() throws {
        try makeLine()
        send(.hook(offHook: true))
        dial("*78")
        XCTAssertEqual(machine.state, .confirmation)
        send(.hook(offHook: false))
        wait(.seconds(2))
        XCTAssertEqual(machine.state, .idle)
        XCTAssertNil(machine.tone)
        XCTAssertFalse(actions.contains(.hangUp), "\(actions)")
        XCTAssertEqual(actions.last, .stateChanged(.idle))
        XCTAssertEqual(requests, [.doNotDisturb(true)])
        XCTAssertNil(machine.nextDeadline)
        XCTAssertTrue(machine.canAcceptIncomingCall)
    }

    func testHangingUpRightAfterTheCodeBeforeTheToneEndsStaysIdle() throws {
        try makeLine()
        send(.hook(offHook: true))
        dial("*78")
        wait(.milliseconds(100))
        send(.hook(offHook: false))
        wait(.milliseconds(1100))
        XCTAssertEqual(machine.state, .idle)
        actions = []
        wait(.seconds(30))
        XCTAssertEqual(actions, [], "no dial tone or howler on an idle line")
    }

    /// A forwarding number longer than the state file keeps is refused
    /// (congestion), not set and then lost at the next start.
    func testAForwardingNumberTooLongToKeepIsRejected() throws {
        try makeLine(map: "(x.T)")
        send(.hook(offHook: true))
        dial("*72" + String(repeating: "5", count: FeatureCodes.longestNumber + 1))
        wait(.seconds(30))
        XCTAssertEqual(requests, [])
        XCTAssertTrue(actions.contains(.numberRejected("*72" + String(repeating: "5", count: FeatureCodes.longestNumber + 1))))
        XCTAssertTrue(actions.contains(.playTone(.congestion)), "\(actions)")
    }

    /// On a warmline, the dial tone after a confirmation waits the
    /// warmline's delay before dialing the hotline, as the first one did.
    func testAWarmlineDialsItsHotlineAfterItsDelayFollowingAConfirmation() throws {
        try makeLine()
        machine.hotline = "5550"
        machine.timings.warmlineDelay = .seconds(5)
        send(.hook(offHook: true))
        dial("*78")
        wait(.milliseconds(600))
        XCTAssertEqual(machine.state, .dialTone)
        actions = []
        wait(.milliseconds(4_999))
        XCTAssertFalse(actions.contains(.dial("5550")))
        wait(.milliseconds(1))
        XCTAssertTrue(actions.contains(.dial("5550")), "\(actions)")
    }

    /// Settings restored while the handset is already up with dial tone:
    /// the tone turns to the stutter at once, and back.
    func testFeaturesTurningOnDuringDialToneChangeTheTone() throws {
        try makeLine()
        send(.hook(offHook: true))
        XCTAssertEqual(machine.tone, .dial)
        XCTAssertEqual(send(.featuresActive(true)), [.playTone(.stutterDial)])
        XCTAssertEqual(send(.featuresActive(false)), [.playTone(.dial)])
        XCTAssertEqual(send(.featuresActive(false)), [])
    }
}
