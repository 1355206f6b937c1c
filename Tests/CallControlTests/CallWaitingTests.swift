@testable import CallControl
import CallerID
import Config
import Line
import SDP
import SIPMessage
import SIPUserAgent
import Timebase
import XCTest

/// Call waiting: a second INVITE while the line talks waits (100/180, the
/// call-waiting tone, its media kept off the line); a flash holds the first
/// call and answers it; a CANCEL or a no-answer forwarding stops the tone;
/// a hang-up rings the line for it. Manual clock; routes are plain strings.
final class CallWaitingTests: XCTestCase {
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
                password = secret
                register = no
                """ + extra,
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n[line 2]\n",
        ]
        let result = ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }
        XCTAssertEqual(result.diagnostics.map(\.text), [])
        return result.site!
    }

    private func makeControl(lines: [Int] = [1], site: SiteConfig = CallWaitingTests.loadSite()) -> CallControl<String> {
        let control = CallControl<String>(site: site, lines: lines, defaultUserAgent: "atad/test",
                                          makeToken: { [unowned self] in
                                              self.counter += 1
                                              return "k\(self.counter)"
                                          }, random: { 7 })
        control.sipPort = 5060
        return control
    }

    private static func sdp(port: Int, version: Int = 1, _ direction: String = "sendrecv") -> String {
        "v=0\r\no=- 1 \(version) IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio \(port) RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=\(direction)\r\n"
    }

    /// Who calls on each Call-ID: c2 gives a display name.
    private static let callers = [
        "c1": "<sip:2000@atad.test>;tag=f1",
        "c2": "\"Bob\" <sip:3000@atad.test>;tag=f2",
        "c3": "<sip:4000@atad.test>;tag=f3",
    ]
    private static let bob = CallerIdentity(number: .shown("3000"), name: .shown("Bob"))

    // MARK: Messages

    private func message(_ lines: [String], body: String = "") throws -> SIPMessage {
        var all = lines
        if !body.isEmpty { all.append("Content-Type: application/sdp") }
        let text = (all + ["Content-Length: \(body.utf8.count)"]).joined(separator: "\r\n") + "\r\n\r\n" + body
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    /// A request from the caller of incoming call `callID`.
    private func request(_ method: String, callID: String, toTag: String?, cseq: Int, cseqMethod: String? = nil,
                         branch: String? = nil, body: String = "") throws -> SIPMessage {
        try message(["\(method) sip:atad@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch ?? "z9hG4bK\(method)\(callID)\(cseq)")",
                     "Max-Forwards: 70",
                     "From: \(Self.callers[callID]!)",
                     "To: <sip:1001@atad.test>" + (toTag.map { ";tag=\($0)" } ?? ""),
                     "Call-ID: \(callID)", "CSeq: \(cseq) \(cseqMethod ?? method)",
                     "Contact: <sip:2000@127.0.0.1:5070>"], body: body)
    }

    /// A response to `request` (our re-INVITE or BYE).
    private func response(to request: String, _ status: String, body: String = "") throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        return try message(lines + ["Contact: <sip:2000@127.0.0.1:5070>"], body: body)
    }

    private func origin() -> RequestOrigin<String> { RequestOrigin(route: "caller", reliable: false, trusted: true) }

    private func header(_ name: String, in text: String) -> String? {
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    // MARK: What came out

    private func sent(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .sip(let bytes, _) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func firstLines(_ actions: [Action]) -> [String] {
        sent(actions).map { String($0.split(separator: "\r\n").first ?? "") }
    }

    private func invites(_ actions: [Action]) -> [String] {
        sent(actions).filter { $0.hasPrefix("INVITE ") }
    }

    private func lineCommands(_ actions: [Action], line: Int = 1) -> [LineCommand] {
        actions.compactMap { if case .line(line, let command) = $0 { return command } else { return nil } }
    }

    private func allLineCommands(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .line(let line, let command) = $0 { return "\(line) \(command)" } else { return nil } }
    }

    /// Media commands as "CALL-ID start|hold|close LINE".
    private func mediaCommands(_ actions: [Action]) -> [String] {
        actions.compactMap {
            guard case .media(let callID, let command) = $0 else { return nil }
            switch command {
            case .start(let line, _, _): return "\(callID) start \(line)"
            case .hold(let line, _, _): return "\(callID) hold \(line)"
            case .join(let line, _, _): return "\(callID) join \(line)"
            case .playKey: return "\(callID) key"
            case .sendKeysInBand: return "\(callID) in band"
            case .close(let line): return "\(callID) close \(line)"
            }
        }
    }

    private func opensMedia(_ actions: [Action]) -> Bool {
        actions.contains { if case .openMedia = $0 { return true } else { return false } }
    }

    private func cseqNumber(_ text: String) -> Int {
        Int(header("CSeq", in: text)?.split(separator: " ").first ?? "") ?? -1
    }

    // MARK: Calls

    private struct Unexpected: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A call (Call-ID `callID`) rung, answered on a line and ACKed;
    /// returns our To tag.
    @discardableResult
    private func answeredIncoming(_ control: CallControl<String>, callID: String = "c1") throws -> String {
        let asked = try XCTUnwrap(control.receive(request: try request("INVITE", callID: callID, toTag: nil, cseq: 1,
                                                                       body: Self.sdp(port: 4000)), from: origin(), at: now))
        guard case .openMedia? = asked.first else { throw Unexpected("expected openMedia, got \(asked)") }
        let rung = control.mediaOpened(callID, host: "127.0.0.1", port: 40_000, at: now)
        let ringing = try XCTUnwrap(sent(rung).last)
        let toTag = try XCTUnwrap(header("To", in: ringing)?.components(separatedBy: "tag=").last)
        let line = try XCTUnwrap(control.line(ofCall: callID))
        control.lineStateChanged(line, to: .ringing)
        XCTAssertEqual(firstLines(control.lineAnswered(line, at: now)), ["SIP/2.0 200 OK"])
        control.lineStateChanged(line, to: .talking)
        _ = control.receive(request: try request("ACK", callID: callID, toTag: toTag, cseq: 1), from: origin(), at: now)
        return toTag
    }

    /// A new INVITE (Call-ID `callID`, offer on port 4020): what call
    /// control does at once.
    private func newInvite(_ control: CallControl<String>, callID: String) throws -> [Action] {
        try XCTUnwrap(control.receive(request: try request("INVITE", callID: callID, toTag: nil, cseq: 1,
                                                           body: Self.sdp(port: 4020)), from: origin(), at: now))
    }

    /// c2 comes in while line 1 talks on c1: it waits. Returns what its
    /// media ports being opened gave, and our To tag for it.
    private func waitingCall(_ control: CallControl<String>) throws -> (actions: [Action], toTag: String) {
        let asked = try newInvite(control, callID: "c2")
        guard opensMedia(asked) else { throw Unexpected("expected openMedia, got \(firstLines(asked))") }
        XCTAssertEqual(firstLines(asked), [])
        let actions = control.mediaOpened("c2", host: "127.0.0.1", port: 40_002, at: now)
        let ringing = try XCTUnwrap(sent(actions).last)
        let toTag = try XCTUnwrap(header("To", in: ringing)?.components(separatedBy: "tag=").last)
        return (actions, toTag)
    }

    /// A flash that answers the waiting c2: the hold's re-INVITE to c1.
    private func flashToWaiting(_ control: CallControl<String>) throws -> (actions: [Action], hold: String) {
        let actions = control.lineFlashed(1, at: now)
        let hold = try XCTUnwrap(invites(actions).first, "no re-INVITE: \(firstLines(actions))")
        return (actions, hold)
    }

    // MARK: A call waits

    func testASecondCallWhileTheLineTalksWaitsWithRingingAndTheTone() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (actions, _) = try waitingCall(control)
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"])
        XCTAssertFalse(firstLines(actions).contains("SIP/2.0 486 Busy Here"))
        XCTAssertEqual(lineCommands(actions).map(\.isWaitingCall), [true], "the tone, not a ring: \(lineCommands(actions))")
        XCTAssertEqual(mediaCommands(actions), ["c2 hold 1"], "its media kept off the line: not start")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 waiting: c2")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertEqual(control.lines[1]?.waiting, "c2")
        XCTAssertEqual(control.line(ofCall: "c2"), 1)
    }

    func testWithCallWaitingOffASecondCallGetsBusy() throws {
        let control = makeControl(site: Self.loadSite("\n[line 1]\ncall_waiting = no\n"))
        XCTAssertFalse(control.site.lineSettings(1).callWaiting)
        try answeredIncoming(control)
        let actions = try newInvite(control, callID: "c2")
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 486 Busy Here"])
        XCTAssertFalse(opensMedia(actions))
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    func testCallWaitingIsOnByDefault() {
        XCTAssertTrue(Self.loadSite().lineSettings(1).callWaiting)
        XCTAssertTrue(Self.loadSite("\n[line 1]\ncall_waiting = yes\n").lineSettings(1).callWaiting)
    }

    func testAThirdCallWhileOneWaitsGetsBusy() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try waitingCall(control)
        let third = try newInvite(control, callID: "c3")
        XCTAssertEqual(firstLines(third), ["SIP/2.0 486 Busy Here"])
        XCTAssertFalse(opensMedia(third))
        XCTAssertEqual(control.lines[1]?.waiting, "c2")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 waiting: c2")
    }

    func testANewCallWhileACallIsHeldGetsBusy() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let held = control.lineFlashed(1, at: now)
        XCTAssertEqual(lineCommands(held), [.input(.callHeld)])
        control.lineStateChanged(1, to: .dialTone)
        XCTAssertEqual(firstLines(try newInvite(control, callID: "c2")), ["SIP/2.0 486 Busy Here"])
        XCTAssertNil(control.lines[1]?.waiting)
    }

    /// After a flash answered the waiting call, the line talks with c1
    /// held: a third call cannot wait on top of that.
    func testANewCallWhileTalkingWithACallHeldGetsBusy() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try waitingCall(control)
        _ = try flashToWaiting(control)
        XCTAssertEqual(firstLines(try newInvite(control, callID: "c3")), ["SIP/2.0 486 Busy Here"])
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    func testOnATwoLineBoardASecondCallRingsTheFreeLineInsteadOfWaiting() throws {
        let control = makeControl(lines: [1, 2])
        try answeredIncoming(control)
        XCTAssertEqual(control.line(ofCall: "c1"), 1)
        let asked = try newInvite(control, callID: "c2")
        XCTAssertTrue(opensMedia(asked))
        let actions = control.mediaOpened("c2", host: "127.0.0.1", port: 40_002, at: now)
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"])
        XCTAssertEqual(allLineCommands(actions), ["2 \(LineCommand.ring(caller: Self.bob))"])
        XCTAssertEqual(mediaCommands(actions), ["c2 start 2"])
        XCTAssertEqual(control.line(ofCall: "c2"), 2)
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    // MARK: A flash answers it

    func testAFlashHoldsTheFirstCallAndAnswersTheWaitingOne() throws {
        let control = makeControl()
        let firstTag = try answeredIncoming(control)
        _ = try waitingCall(control)
        let (actions, hold) = try flashToWaiting(control)

        XCTAssertEqual(invites(actions).count, 1)
        XCTAssertEqual(header("Call-ID", in: hold), "c1")
        XCTAssertEqual(header("From", in: hold), "<sip:1001@atad.test>;tag=\(firstTag)")
        XCTAssertTrue(hold.contains("a=sendonly\r\n"), hold)
        XCTAssertFalse(hold.contains("a=sendrecv"), hold)

        let ok = try XCTUnwrap(sent(actions).first { $0.hasPrefix("SIP/2.0 200 OK\r\n") }, "\(firstLines(actions))")
        XCTAssertEqual(header("Call-ID", in: ok), "c2")
        XCTAssertEqual(header("CSeq", in: ok), "1 INVITE")
        XCTAssertEqual(header("Content-Type", in: ok), "application/sdp")
        XCTAssertTrue(ok.contains("m=audio 40002 RTP/AVP"), ok)
        XCTAssertEqual(firstLines(actions).filter { $0.hasPrefix("SIP/2.0") }, ["SIP/2.0 200 OK"])

        XCTAssertEqual(mediaCommands(actions), ["c1 hold 1", "c2 start 1"])
        XCTAssertEqual(lineCommands(actions), [.input(.waitingCallAnswered)], "not callHeld: the line talks on")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
        XCTAssertEqual(control.lines[1]?.active, "c2")
        XCTAssertEqual(control.lines[1]?.held, "c1")
        XCTAssertNil(control.lines[1]?.waiting)
    }

    func testAfterAnsweringTheWaitingCallFlashesSwapTheTwo() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, secondTag) = try waitingCall(control)
        let (_, hold) = try flashToWaiting(control)
        _ = control.receive(request: try request("ACK", callID: "c2", toTag: secondTag, cseq: 1), from: origin(), at: now)
        let held = try XCTUnwrap(control.receive(response: try response(to: hold, "200 OK",
                                                                        body: Self.sdp(port: 4002, version: 2, "recvonly")),
                                                 at: now))
        XCTAssertEqual(mediaCommands(held), ["c1 hold 1"])
        XCTAssertTrue(invites(held).isEmpty)

        let swapped = control.lineFlashed(1, at: now)
        let offers = invites(swapped)
        XCTAssertEqual(offers.count, 2, "\(offers)")
        let toSecond = try XCTUnwrap(offers.first { header("Call-ID", in: $0) == "c2" })
        let toFirst = try XCTUnwrap(offers.first { header("Call-ID", in: $0) == "c1" })
        XCTAssertTrue(toSecond.contains("a=sendonly\r\n"), toSecond)
        XCTAssertTrue(toFirst.contains("a=sendrecv\r\n"), toFirst)
        XCTAssertGreaterThan(cseqNumber(toFirst), cseqNumber(hold))
        XCTAssertEqual(mediaCommands(swapped).sorted(), ["c1 start 1", "c2 hold 1"])
        XCTAssertEqual(lineCommands(swapped), [], "the line goes on talking")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c2")

        // Hanging up ends c1 and rings back for the held c2.
        let hungUp = control.lineHungUp(1, at: now)
        let bye = try XCTUnwrap(sent(hungUp).first)
        XCTAssertTrue(bye.hasPrefix("BYE "), bye)
        XCTAssertEqual(header("Call-ID", in: bye), "c1")
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c2")
    }

    // MARK: The waiting call goes

    func testACancelledWaitingCallStopsTheTone() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try waitingCall(control)
        let cancel = try request("CANCEL", callID: "c2", toTag: nil, cseq: 1, branch: "z9hG4bKINVITEc21")
        let actions = try XCTUnwrap(control.receive(request: cancel, from: origin(), at: now))
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"])
        XCTAssertEqual(lineCommands(actions), [.input(.callWaiting(false))])
        XCTAssertEqual(mediaCommands(actions), ["c2 close 1"])
        XCTAssertNil(control.heldStatus(ofLine: 1))
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertEqual(control.lines[1]?.active, "c1", "the first call goes on")
        // The line can take a waiting call again.
        let again = try newInvite(control, callID: "c3")
        XCTAssertTrue(opensMedia(again), "\(firstLines(again))")
    }

    func testAWaitingCallNotAnsweredIsForwardedAndTheToneStops() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        try answeredIncoming(control)
        let start = now
        _ = try waitingCall(control)
        XCTAssertEqual(control.nextDeadline, start + .seconds(20))
        XCTAssertEqual(firstLines(control.advance(to: start + .seconds(19))), [])
        XCTAssertEqual(control.lines[1]?.waiting, "c2")

        let actions = control.advance(to: start + .seconds(20))
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 302 Moved Temporarily"])
        XCTAssertEqual(sent(actions).first.flatMap { header("Contact", in: $0) }, "<sip:5553@atad.test>")
        XCTAssertEqual(lineCommands(actions), [.input(.callWaiting(false))])
        XCTAssertEqual(mediaCommands(actions), ["c2 close 1"])
        XCTAssertNil(control.heldStatus(ofLine: 1))
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    func testAWaitingCallAnsweredByAFlashIsNotForwardedLater() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        try answeredIncoming(control)
        let start = now
        let (_, secondTag) = try waitingCall(control)
        now = start + .seconds(5)
        _ = try flashToWaiting(control)
        _ = control.receive(request: try request("ACK", callID: "c2", toTag: secondTag, cseq: 1), from: origin(), at: now)
        var later: [Action] = []
        while let due = control.nextDeadline, due <= start + .seconds(30) { later += control.advance(to: due) }
        later += control.advance(to: start + .seconds(30))
        XCTAssertFalse(firstLines(later).contains("SIP/2.0 302 Moved Temporarily"), "\(firstLines(later))")
        XCTAssertEqual(control.lines[1]?.active, "c2")
    }

    /// The waiting call is answered (200 out) and the handset flashes
    /// again before its ACK: that is a swap back to the first call, not a
    /// flash on a call still being set up (which would end it).
    func testAFlashBeforeTheAnsweredWaitingCallsAckHoldsItAndGoesBack() throws {
        let control = makeControl()
        let firstTag = try answeredIncoming(control)
        let (_, secondTag) = try waitingCall(control)
        let (_, hold) = try flashToWaiting(control)
        let swapped = control.lineFlashed(1, at: now)
        XCTAssertFalse(firstLines(swapped).contains { $0.hasPrefix("BYE ") }, "\(firstLines(swapped))")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertEqual(control.lines[1]?.held, "c2")
        XCTAssertEqual(mediaCommands(swapped), ["c2 hold 1", "c1 start 1"])
        XCTAssertEqual(invites(swapped), [], "no re-INVITE before c2's ACK, nor while c1's hold is out")

        // c1 accepts the hold: resumed at once (the last flash asked so).
        let resumed = try XCTUnwrap(control.receive(response: try response(to: hold, "200 OK",
                                                                          body: Self.sdp(port: 4000, version: 2, "recvonly")), at: now))
        let resume = try XCTUnwrap(invites(resumed).first, "\(firstLines(resumed))")
        XCTAssertEqual(header("Call-ID", in: resume), "c1")
        XCTAssertEqual(header("From", in: resume), "<sip:1001@atad.test>;tag=\(firstTag)")
        XCTAssertTrue(resume.contains("a=sendrecv\r\n"), resume)

        // c2's ACK arrives: now c2 is told it is held.
        let acked = control.receive(request: try request("ACK", callID: "c2", toTag: secondTag, cseq: 1), from: origin(), at: now)
        let held = try XCTUnwrap(invites(acked ?? []).first, "\(firstLines(acked ?? []))")
        XCTAssertEqual(header("Call-ID", in: held), "c2")
        XCTAssertTrue(held.contains("a=sendonly\r\n"), held)
    }

    // MARK: The first call goes while the second's ports open

    /// The handset hangs up after a second INVITE came in but before its
    /// media ports were ready: the call no longer waits behind anything,
    /// so it rings the line, with its caller ID.
    func testHangingUpWhileTheSecondCallsPortsOpenRingsTheLineForIt() throws {
        let control = makeControl()
        try answeredIncoming(control)
        XCTAssertTrue(opensMedia(try newInvite(control, callID: "c2")))
        XCTAssertEqual(control.lines[1]?.waiting, "c2")
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertTrue(firstLines(hungUp).first?.hasPrefix("BYE ") == true, "\(firstLines(hungUp))")
        XCTAssertEqual(lineCommands(hungUp), [])
        control.lineStateChanged(1, to: .idle)

        let rung = control.mediaOpened("c2", host: "127.0.0.1", port: 40_002, at: now)
        XCTAssertEqual(lineCommands(rung), [.ring(caller: Self.bob)], "a ring, not the call-waiting tone")
        XCTAssertEqual(firstLines(rung).last, "SIP/2.0 180 Ringing")
        XCTAssertEqual(control.lines[1]?.active, "c2")
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    /// A flash holds the first call before the second's ports are ready:
    /// with a call held, a new one cannot wait, so it is refused busy as
    /// it would be arriving now.
    func testAFlashWhileTheSecondCallsPortsOpenHoldsTheFirstAndTheSecondIsBusy() throws {
        let control = makeControl()
        try answeredIncoming(control)
        XCTAssertTrue(opensMedia(try newInvite(control, callID: "c2")))
        let flashed = control.lineFlashed(1, at: now)
        XCTAssertEqual(lineCommands(flashed), [.input(.callHeld)])
        XCTAssertEqual(control.lines[1]?.held, "c1")

        let refused = control.mediaOpened("c2", host: "127.0.0.1", port: 40_002, at: now)
        XCTAssertEqual(firstLines(refused), ["SIP/2.0 486 Busy Here"])
        XCTAssertEqual(mediaCommands(refused), ["c2 close 1"])
        XCTAssertEqual(lineCommands(refused), [])
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    /// No-answer forwarding gives the phone its full time to ring for a
    /// waiting call once the first call is hung up, counted from the ring.
    func testAWaitingCallRungAfterAHangUpGetsTheWholeNoAnswerTime() throws {
        let control = makeControl()
        _ = control.lineFeature(1, .forward(.noAnswer, to: "5553"))
        try answeredIncoming(control)
        let start = now
        _ = try waitingCall(control)
        now = start + .seconds(15)
        XCTAssertEqual(lineCommands(control.lineHungUp(1, at: now)), [.ring(caller: Self.bob)])
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        XCTAssertEqual(firstLines(control.advance(to: start + .seconds(34))).filter { $0.hasPrefix("SIP/2.0 3") }, [])
        XCTAssertEqual(control.lines[1]?.active, "c2")
        let forwarded = control.advance(to: start + .seconds(35))
        XCTAssertEqual(firstLines(forwarded).filter { $0.hasPrefix("SIP/2.0") }, ["SIP/2.0 302 Moved Temporarily"])
        XCTAssertEqual(lineCommands(forwarded), [.input(.incomingCallEnded)])
    }

    // MARK: Hanging up while a call waits

    func testHangingUpWhileACallWaitsEndsTheFirstAndRingsForTheWaitingOne() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try waitingCall(control)
        let hungUp = control.lineHungUp(1, at: now)
        let bye = try XCTUnwrap(sent(hungUp).first)
        XCTAssertTrue(bye.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye)
        XCTAssertEqual(header("Call-ID", in: bye), "c1")
        XCTAssertEqual(sent(hungUp).count, 1, "nothing to the waiting call yet")
        XCTAssertEqual(lineCommands(hungUp), [.ring(caller: Self.bob)], "its caller ID with the ring")
        XCTAssertNil(control.heldStatus(ofLine: 1))
        XCTAssertEqual(control.lines[1]?.active, "c2")
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)

        // c1's BYE answered meanwhile: the ring goes on.
        let done = try XCTUnwrap(control.receive(response: try response(to: bye, "200 OK"), at: now))
        XCTAssertEqual(mediaCommands(done), ["c1 close 1"])
        XCTAssertEqual(lineCommands(done), [])

        let answered = control.lineAnswered(1, at: now)
        XCTAssertEqual(firstLines(answered), ["SIP/2.0 200 OK"])
        let ok = try XCTUnwrap(sent(answered).first)
        XCTAssertEqual(header("Call-ID", in: ok), "c2")
        XCTAssertTrue(ok.contains("m=audio 40002 RTP/AVP"), ok)
        XCTAssertEqual(mediaCommands(answered), ["c2 start 1"])
        XCTAssertEqual(control.lines[1]?.active, "c2")
        XCTAssertNil(control.lines[1]?.held)
    }

    /// Call control's side only: the line machine today sends no `.hangUp`
    /// from busy tone while a call waits (see CallWaitingLineTests).
    func testTheFirstCallsFarEndHangingUpWhileACallWaitsThenAHangUpRingsForIt() throws {
        let control = makeControl()
        let firstTag = try answeredIncoming(control)
        _ = try waitingCall(control)
        let bye = try XCTUnwrap(control.receive(request: try request("BYE", callID: "c1", toTag: firstTag, cseq: 2),
                                                from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.remoteHangUp)])
        XCTAssertEqual(mediaCommands(bye), ["c1 close 1"])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 waiting: c2")
        control.lineStateChanged(1, to: .busy)

        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(sent(hungUp), [])
        XCTAssertEqual(lineCommands(hungUp), [.ring(caller: Self.bob)])
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let answered = control.lineAnswered(1, at: now)
        XCTAssertEqual(firstLines(answered), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(answered), ["c2 start 1"])
    }

    /// The first call's far end hangs up while c2 waits; the handset,
    /// hearing busy tone, flashes: c2 is answered (200, its media on the
    /// line) and the line talks.
    func testTheFirstCallsFarEndHangingUpWhileACallWaitsThenAFlashAnswersIt() throws {
        let control = makeControl()
        let firstTag = try answeredIncoming(control)
        _ = try waitingCall(control)
        _ = control.receive(request: try request("BYE", callID: "c1", toTag: firstTag, cseq: 2), from: origin(), at: now)
        control.lineStateChanged(1, to: .busy)
        let flashed = control.lineFlashed(1, at: now)
        XCTAssertEqual(firstLines(flashed), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(flashed), ["c2 start 1"])
        XCTAssertEqual(lineCommands(flashed), [.input(.waitingCallAnswered)])
        XCTAssertEqual(control.lines[1]?.active, "c2")
        XCTAssertNil(control.lines[1]?.waiting)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    /// The waiting caller gives up while the line rings for it after the
    /// hang-up: the ring stops.
    func testACancelWhileTheLineRingsForTheWaitingCallStopsTheRing() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try waitingCall(control)
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let cancel = try request("CANCEL", callID: "c2", toTag: nil, cseq: 1, branch: "z9hG4bKINVITEc21")
        let actions = try XCTUnwrap(control.receive(request: cancel, from: origin(), at: now))
        XCTAssertEqual(firstLines(actions), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"])
        XCTAssertEqual(lineCommands(actions), [.input(.incomingCallEnded)])
        XCTAssertNil(control.lines[1]?.active)
    }

    /// A waiting INVITE without SDP: our offer goes in the 200 the flash
    /// sends, and the ACK's answer starts its media on the line.
    func testAWaitingCallWithoutAnOfferGetsOursWithTheFlashAndStartsWithTheAck() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let asked = try XCTUnwrap(control.receive(request: try request("INVITE", callID: "c2", toTag: nil, cseq: 1),
                                                  from: origin(), at: now))
        XCTAssertTrue(opensMedia(asked))
        let rung = control.mediaOpened("c2", host: "127.0.0.1", port: 40_002, at: now)
        XCTAssertEqual(lineCommands(rung).map(\.isWaitingCall), [true], "\(lineCommands(rung))")
        XCTAssertEqual(mediaCommands(rung), [], "no media settled yet")
        let toTag = try XCTUnwrap(sent(rung).last.flatMap { header("To", in: $0) }?.components(separatedBy: "tag=").last)

        let (flash, _) = try flashToWaiting(control)
        let ok = try XCTUnwrap(sent(flash).first { $0.hasPrefix("SIP/2.0 200 OK\r\n") })
        XCTAssertTrue(ok.contains("m=audio 40002 RTP/AVP"), ok)
        XCTAssertEqual(mediaCommands(flash), ["c1 hold 1"])
        let acked = try XCTUnwrap(control.receive(request: try request("ACK", callID: "c2", toTag: toTag, cseq: 1,
                                                                       body: Self.sdp(port: 4020)),
                                                  from: origin(), at: now))
        XCTAssertEqual(mediaCommands(acked), ["c2 start 1"])
    }
}

extension LineCommand {
    /// A call waits (whoever calls).
    var isWaitingCall: Bool {
        if case .waitingCall = self { return true }
        return false
    }
}
