@testable import CallControl
import CallerID
import Config
import Line
import SIPMessage
import SIPUserAgent
import Timebase
import XCTest

/// Do-not-disturb and call forwarding as calls come in: 486, 302 with the
/// forwarding number, the no-answer timer; and the settings themselves.
final class FeatureCallTests: XCTestCase {
    typealias Action = CallControlAction<String>

    private var now = Instant.zero + .seconds(100)
    private var counter = 0

    private static func loadSite(_ extra: String = "") -> SiteConfig {
        let files: [String: String] = [
            "/c/site.conf": """
                [general]
                board = board.conf
                [account home]
                user = 1001
                domain = atad.test
                register = no
                [account office]
                user = 1002
                domain = office.test
                register = no
                [line 2]
                account = office
                """ + extra,
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n[line 2]\n",
        ]
        let result = ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }
        XCTAssertEqual(result.diagnostics.map(\.text), [])
        return result.site!
    }

    private func makeControl(lines: [Int] = [1, 2], site: SiteConfig = FeatureCallTests.loadSite()) -> CallControl<String> {
        let control = CallControl<String>(site: site, lines: lines, defaultUserAgent: "atad/test",
                                          makeToken: { [unowned self] in
                                              self.counter += 1
                                              return "k\(self.counter)"
                                          }, random: { 7 })
        control.sipPort = 5060
        return control
    }

    private static let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

    private func invite(callID: String = "c1", branch: String = "z9hG4bKb1") throws -> SIPMessage {
        let body = Self.offer
        let text = ["INVITE sip:1001@127.0.0.1:5060 SIP/2.0",
                    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch)",
                    "Max-Forwards: 70",
                    "From: <sip:2000@atad.test>;tag=f1",
                    "To: <sip:1001@atad.test>",
                    "Call-ID: \(callID)", "CSeq: 1 INVITE",
                    "Contact: <sip:2000@127.0.0.1:5070>",
                    "Content-Type: application/sdp",
                    "Content-Length: \(body.utf8.count)"].joined(separator: "\r\n") + "\r\n\r\n" + body
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    private func origin() -> RequestOrigin<String> { RequestOrigin(route: "caller", reliable: false, trusted: true) }

    private func sent(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .sip(let bytes, _) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func statuses(_ actions: [Action]) -> [String] {
        sent(actions).map { String($0.split(separator: "\r\n").first ?? "") }
    }

    private func lineCommands(_ actions: [Action]) -> [(Int, LineCommand)] {
        actions.compactMap { if case .line(let line, let command) = $0 { return (line, command) } else { return nil } }
    }

    private func logs(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .log(_, let text) = $0 { return text } else { return nil } }
    }

    private func featuresChangedCount(_ actions: [Action]) -> Int {
        actions.filter { if case .featuresChanged = $0 { return true } else { return false } }.count
    }

    private func opensMedia(_ actions: [Action]) -> Bool {
        actions.contains { if case .openMedia = $0 { return true } else { return false } }
    }

    private func header(_ name: String, in text: String) -> String? {
        for line in text.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// A new INVITE: what call control does with it at once.
    private func receiveInvite(_ control: CallControl<String>, callID: String = "c1") throws -> [Action] {
        try XCTUnwrap(control.receive(request: try invite(callID: callID, branch: "z9hG4bK\(callID)"), from: origin(), at: now))
    }

    /// A call rung on a line (INVITE, media ports, 180); the line reports ringing.
    private func ring(_ control: CallControl<String>, callID: String = "c1") throws -> [Action] {
        let asked = try receiveInvite(control, callID: callID)
        XCTAssertTrue(opensMedia(asked), "\(asked)")
        let actions = control.mediaOpened(callID, host: "127.0.0.1", port: 40_000, at: now)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"])
        if let line = control.line(ofCall: callID) { control.lineStateChanged(line, to: .ringing) }
        return actions
    }

    // MARK: Setting features

    func testAFeatureRequestIsKeptAndTheLineToldItsFeaturesAreActive() {
        let control = makeControl()
        let on = control.lineFeature(1, .doNotDisturb(true))
        XCTAssertTrue(control.lines[1]?.features.doNotDisturb ?? false)
        XCTAssertEqual(lineCommands(on).map(\.0), [1])
        XCTAssertEqual(lineCommands(on).map(\.1), [.input(.featuresActive(true))])
        XCTAssertEqual(featuresChangedCount(on), 1)
        XCTAssertEqual(logs(on), ["line 1: do-not-disturb on"])

        let forward = control.lineFeature(1, .forward(.busy, to: "5552"))
        XCTAssertEqual(control.lines[1]?.features.target(.busy), "5552")
        XCTAssertEqual(lineCommands(forward).map(\.1), [.input(.featuresActive(true))])
        XCTAssertEqual(logs(forward), ["line 1: forwarding when busy to 5552"])

        _ = control.lineFeature(1, .doNotDisturb(false))
        let off = control.lineFeature(1, .forward(.busy, to: nil))
        XCTAssertEqual(lineCommands(off).map(\.1), [.input(.featuresActive(false))], "nothing left set")
        XCTAssertEqual(featuresChangedCount(off), 1)
        XCTAssertEqual(logs(off), ["line 1: forwarding when busy off"])
        XCTAssertEqual(control.lines[1]?.features, LineFeatures())
        XCTAssertEqual(control.lines[2]?.features, LineFeatures(), "line 2 untouched")
        XCTAssertNil(control.featureStatus(ofLine: 1))
    }

    func testAFeatureForALineNotOnTheBoardDoesNothing() {
        let control = makeControl()
        let actions = control.lineFeature(7, .doNotDisturb(true))
        XCTAssertEqual(actions.count, 0)
        XCTAssertEqual(featuresChangedCount(actions), 0)
    }

    func testFeatureSettingsListEveryLine() {
        let control = makeControl()
        _ = control.lineFeature(2, .forward(.always, to: "5551"))
        let settings = control.featureSettings
        XCTAssertEqual(settings.map(\.line), [1, 2])
        XCTAssertEqual(settings.map { $0.1.target(.always) }, [nil, "5551"])
    }

    func testRestoredFeaturesAreInForceAndTheLinesTold() throws {
        let control = makeControl()
        var dnd = LineFeatures()
        dnd.doNotDisturb = true
        var forward = LineFeatures()
        forward.apply(.forward(.noAnswer, to: "5553"))
        let actions = control.restoreFeatures([(1, dnd), (2, LineFeatures()), (9, forward)])
        let commands = lineCommands(actions)
        XCTAssertEqual(commands.map(\.0), [1, 2], "line 9 is not on the board")
        XCTAssertEqual(commands.map(\.1), [.input(.featuresActive(true)), .input(.featuresActive(false))])
        XCTAssertEqual(featuresChangedCount(actions), 0, "nothing to write back")
        XCTAssertEqual(control.lines[1]?.features, dnd)
        XCTAssertEqual(control.lines[2]?.features, LineFeatures())
        // In force: line 1 is passed over, line 2 rings.
        _ = try ring(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 2)
    }

    func testStatusNamesEachFeatureAndTheNoAnswerDelay() {
        let control = makeControl()
        XCTAssertNil(control.featureStatus(ofLine: 1))
        _ = control.lineFeature(1, .doNotDisturb(true))
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        XCTAssertEqual(control.featureStatus(ofLine: 1),
                       "line 1 features: do-not-disturb, forward all to 5551, forward no answer to 5553 after 20 s")
        XCTAssertNil(control.featureStatus(ofLine: 2))
        XCTAssertNil(control.featureStatus(ofLine: 3))

        let slow = makeControl(site: Self.loadSite("\nforward_no_answer_seconds = 45\n"))
        _ = slow.lineFeature(2, .forward(.noAnswer, to: "5553"))
        XCTAssertEqual(slow.featureStatus(ofLine: 2), "line 2 features: forward no answer to 5553 after 45 s")
    }

    // MARK: Calls that come in

    func testDoNotDisturbOnTheOnlyLineGets486AndNothingRings() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .doNotDisturb(true))
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 486 Busy Here"])
        XCTAssertFalse(opensMedia(actions))
        XCTAssertEqual(lineCommands(actions).count, 0, "no ring")
        XCTAssertEqual(logs(actions), ["call c1 refused: do-not-disturb"])
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertNil(control.line(ofCall: "c1"))
        XCTAssertNil(control.nextDeadline)
    }

    func testDoNotDisturbOnEveryLineGets486() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .doNotDisturb(true))
        _ = control.lineFeature(2, .doNotDisturb(true))
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 486 Busy Here"])
        XCTAssertFalse(opensMedia(actions))
    }

    func testALineInDoNotDisturbIsPassedOverForTheNext() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .doNotDisturb(true))
        let actions = try ring(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 2)
        XCTAssertEqual(lineCommands(actions).map(\.0), [2])
    }

    func testDoNotDisturbOffRingsAgain() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .doNotDisturb(true))
        _ = control.lineFeature(1, .doNotDisturb(false))
        _ = try ring(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 1)
    }

    func testForwardAllGets302ToTheNumberAtTheAccountsDomain() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 302 Moved Temporarily"])
        let response = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(header("Contact", in: response), "<sip:5551@atad.test>")
        XCTAssertEqual(header("Call-ID", in: response), "c1")
        XCTAssertEqual(header("CSeq", in: response), "1 INVITE")
        XCTAssertTrue(header("To", in: response)?.contains(";tag=") ?? false)
        XCTAssertFalse(opensMedia(actions))
        XCTAssertEqual(lineCommands(actions).count, 0, "no ring, on any line")
        XCTAssertEqual(logs(actions), ["line 1: call c1 forwarded to sip:5551@atad.test"])
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertNil(control.lines[2]?.active)
    }

    func testForwardAllOnTheSecondLineUsesItsOwnAccountsDomain() throws {
        let control = makeControl()
        control.lineStateChanged(1, to: .talking)
        _ = control.lineFeature(2, .forward(.always, to: "*98"))
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 302 Moved Temporarily"])
        XCTAssertEqual(header("Contact", in: try XCTUnwrap(sent(actions).first)), "<sip:*98@office.test>")
    }

    /// Without an account the only host a 302 could name is our own: the
    /// caller would come straight back. Forwarding is then not applied
    /// (the call rings), and setting it warns.
    func testWithNoAccountForwardingIsNotAppliedAndTheCallRings() throws {
        let files: [String: String] = [
            "/c/site.conf": "[general]\nboard = board.conf\n",
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n",
        ]
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }.site)
        let control = makeControl(lines: [1], site: site)
        let set = control.lineFeature(1, .forward(.always, to: "5551"))
        XCTAssertTrue(logs(set).contains("line 1: no account to forward calls through: they ring as usual"), "\(logs(set))")
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        let actions = try ring(control)
        XCTAssertFalse(sent(actions).contains { $0.hasPrefix("SIP/2.0 302") })
        now = now + .seconds(60)
        XCTAssertEqual(statuses(control.advance(to: now)).filter { $0.hasPrefix("SIP/2.0 302") }, [])
    }

    /// `#` may not stand bare in a SIP URI's user part (RFC 3261 §25.1):
    /// a placed call escapes it (`SIPPercent.encodeUser`), and so should
    /// the forwarding's Contact.
    func testAForwardingNumberWithAHashIsEscapedInTheContact() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.always, to: "*98#"))
        let actions = try receiveInvite(control)
        let contact = try XCTUnwrap(header("Contact", in: try XCTUnwrap(sent(actions).first)))
        XCTAssertEqual(contact, "<sip:*98%23@atad.test>")
    }

    /// An account whose domain is an IPv6 address: the URI needs brackets
    /// (`SIPAccount.uriHost`), as in a placed call's Request-URI.
    func testAnIPv6AccountDomainIsBracketedInTheContact() throws {
        let control = makeControl(lines: [1], site: Self.loadSite("\n[account v6]\nuser = 1003\ndomain = 2001:db8::1\nregister = no\n[line 1]\naccount = v6\n"))
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        let actions = try receiveInvite(control)
        let contact = try XCTUnwrap(header("Contact", in: try XCTUnwrap(sent(actions).first)))
        XCTAssertEqual(contact, "<sip:5551@[2001:db8::1]>")
    }

    func testForwardAllOffRingsAgain() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        _ = control.lineFeature(1, .forward(.always, to: nil))
        _ = try ring(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 1)
    }

    func testBusyForwardingTakesTheCallOnlyWhileTheLineIsOffHook() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.busy, to: "5552"))

        // On hook: it rings as usual.
        _ = try ring(control, callID: "c1")
        XCTAssertEqual(control.line(ofCall: "c1"), 1)
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        XCTAssertNil(control.lines[1]?.active)

        // Off hook: the call goes to the busy number.
        control.lineStateChanged(1, to: .dialTone)
        let actions = try receiveInvite(control, callID: "c2")
        XCTAssertEqual(statuses(actions), ["SIP/2.0 302 Moved Temporarily"])
        XCTAssertEqual(header("Contact", in: try XCTUnwrap(sent(actions).first)), "<sip:5552@atad.test>")
        XCTAssertFalse(opensMedia(actions))
        XCTAssertEqual(logs(actions), ["line 1: call c2 forwarded to sip:5552@atad.test"])
    }

    func testBusyForwardingWaitsUntilNoLineCanRing() throws {
        // Line 2 without call waiting: no line can take the call at all.
        let control = makeControl(site: FeatureCallTests.loadSite("\ncall_waiting = no\n"))
        _ = control.lineFeature(1, .forward(.busy, to: "5552"))
        control.lineStateChanged(1, to: .talking)
        _ = try ring(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 2, "line 2 is free")

        control.lineStateChanged(2, to: .talking)
        let actions = try receiveInvite(control, callID: "c2")
        XCTAssertEqual(statuses(actions), ["SIP/2.0 302 Moved Temporarily"])
        XCTAssertEqual(header("Contact", in: try XCTUnwrap(sent(actions).first)), "<sip:5552@atad.test>")
    }

    /// A line in a call that lets a call wait is not busy: call waiting
    /// comes before a busy forwarding.
    func testCallWaitingComesBeforeTheBusyForwarding() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .forward(.busy, to: "5552"))
        control.lineStateChanged(1, to: .talking)
        _ = try ring(control)
        control.lineStateChanged(2, to: .talking)
        let actions = try receiveInvite(control, callID: "c2")
        XCTAssertEqual(statuses(actions), [], "no 302, no 486: it waits for its media ports")
        XCTAssertEqual(control.lines[2]?.waiting, "c2")
    }

    func testEveryLineBusyWithoutForwardingStillGets486() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        control.lineStateChanged(1, to: .talking)
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 486 Busy Here"])
        XCTAssertEqual(logs(actions), [], "not do-not-disturb")
    }

    func testAnUnansweredCallIsForwardedAfterTheDelay() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        let start = now
        let rung = try ring(control)
        XCTAssertEqual(lineCommands(rung).map(\.1), [.ring(caller: CallerIdentity(number: .shown("2000"), name: .unavailable))])
        XCTAssertEqual(control.nextDeadline, start + .seconds(20))

        XCTAssertEqual(statuses(control.advance(to: start + .seconds(19))), [])
        XCTAssertEqual(control.line(ofCall: "c1"), 1, "still ringing")

        let actions = control.advance(to: start + .seconds(20))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 302 Moved Temporarily"])
        let response = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(header("Contact", in: response), "<sip:5553@atad.test>")
        XCTAssertEqual(header("To", in: response), "<sip:1001@atad.test>;tag=k1", "the tag of our 180")
        XCTAssertEqual(lineCommands(actions).map(\.0), [1])
        XCTAssertEqual(lineCommands(actions).map(\.1), [.input(.incomingCallEnded)])
        XCTAssertTrue(actions.contains { if case .media(callID: "c1", .close(line: 1)) = $0 { return true } else { return false } })
        XCTAssertEqual(logs(actions).first, "line 1: call c1 not answered; forwarded to sip:5553@atad.test")
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertNil(control.line(ofCall: "c1"))
        XCTAssertNil(control.nextDeadline)
        XCTAssertEqual(control.advance(to: start + .seconds(60)).count, 0)
    }

    func testTheNoAnswerDelayComesFromTheLinesSettings() throws {
        let control = makeControl(lines: [1], site: Self.loadSite("\n[line 1]\nforward_no_answer_seconds = 5\n"))
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        let start = now
        _ = try ring(control)
        XCTAssertEqual(control.nextDeadline, start + .seconds(5))
        XCTAssertEqual(statuses(control.advance(to: start + .seconds(5))), ["SIP/2.0 302 Moved Temporarily"])
    }

    func testAnAnsweredCallIsNotForwarded() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        let start = now
        _ = try ring(control)
        now = start + .seconds(10)
        let answered = control.lineAnswered(1, at: now)
        XCTAssertEqual(statuses(answered), ["SIP/2.0 200 OK"])
        control.lineStateChanged(1, to: .talking)
        var later: [Action] = []
        // Run every timer up to well past the forwarding delay.
        while let due = control.nextDeadline, due <= start + .seconds(30) {
            later += control.advance(to: due)
        }
        later += control.advance(to: start + .seconds(30))
        XCTAssertFalse(statuses(later).contains("SIP/2.0 302 Moved Temporarily"), "\(statuses(later))")
        XCTAssertEqual(lineCommands(later).count, 0, "the call goes on")
        XCTAssertEqual(control.line(ofCall: "c1"), 1)
    }

    func testACallCancelledBeforeTheDelayLeavesNoTimer() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        _ = try ring(control)
        let cancelText = ["CANCEL sip:1001@127.0.0.1:5060 SIP/2.0",
                          "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1", "Max-Forwards: 70",
                          "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>",
                          "Call-ID: c1", "CSeq: 1 CANCEL", "Content-Length: 0"].joined(separator: "\r\n") + "\r\n\r\n"
        let cancel = try SIPParser().parse(Array(cancelText.utf8), framing: .datagram)
        let actions = try XCTUnwrap(control.receive(request: cancel, from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"])
        XCTAssertNil(control.nextDeadline)
        XCTAssertEqual(control.advance(to: now + .seconds(60)).count, 0)
    }

    func testForwardAllWinsOverNoAnswerForwarding() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        let actions = try receiveInvite(control)
        XCTAssertEqual(header("Contact", in: try XCTUnwrap(sent(actions).first)), "<sip:5551@atad.test>")
    }

    func testDoNotDisturbWinsOverForwardAll() throws {
        let control = makeControl(lines: [1])
        _ = control.lineFeature(1, .forward(.always, to: "5551"))
        _ = control.lineFeature(1, .doNotDisturb(true))
        let actions = try receiveInvite(control)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 486 Busy Here"])
    }
}
