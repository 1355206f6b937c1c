@testable import CallControl
import Config
import Line
import SDP
import SIPMessage
import SIPUserAgent
import Timebase
import XCTest

/// Hold and a second call on one line by hook flash (issue 16), driven
/// the way the daemon drives call control: a flash holds the call (our
/// re-INVITE with a=sendonly, the line off its audio, recall dial tone),
/// a second call is placed, flashes swap or take back, a hang-up rings
/// back for the held call. Manual clock; routes are plain strings.
final class HoldTests: XCTestCase {
    typealias Action = CallControlAction<String>

    var now = Instant.zero + .seconds(100)
    var counter = 0

    static let site: SiteConfig = {
        let files: [String: String] = [
            "/c/site.conf": """
                [general]
                board = board.conf
                [account home]
                user = 1001
                domain = atad.test
                password = secret
                register = no
                [line 1]
                transfer_on_hang_up = no
                three_way_calling = no
                """,
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n[line 2]\n",
        ]
        let result = ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }
        return result.site!
    }()

    /// Hanging up with a call held and a second call rings back, and a
    /// flash in the second call swaps (line 1 has transfer_on_hang_up = no
    /// and three_way_calling = no); `TransferTests` and `ConferenceTests`
    /// turn them on.
    func makeControl(lines: [Int] = [1, 2], site: SiteConfig = HoldTests.site) -> CallControl<String> {
        let control = CallControl<String>(site: site, lines: lines, defaultUserAgent: "atad/test",
                                          makeToken: { [unowned self] in
                                              self.counter += 1
                                              return "k\(self.counter)"
                                          }, random: { 7 })
        control.sipPort = 5060
        return control
    }

    var account: SIPAccount {
        SIPAccount(accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: "secret",
                   displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
                   expires: 600, localHost: "127.0.0.1", localPort: 5060, userAgent: "atad/test")
    }

    /// The far end's SDP on `port`, with a direction attribute.
    static func sdp(port: Int, version: Int = 1, _ direction: String = "sendrecv") -> String {
        "v=0\r\no=- 1 \(version) IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio \(port) RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=\(direction)\r\n"
    }

    // MARK: Messages

    func message(_ lines: [String], body: String = "") throws -> SIPMessage {
        var all = lines
        if !body.isEmpty { all.append("Content-Type: application/sdp") }
        let text = (all + ["Content-Length: \(body.utf8.count)"]).joined(separator: "\r\n") + "\r\n\r\n" + body
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    /// A request from the caller of an incoming call (Call-ID `callID`, From tag f1).
    func request(_ method: String, callID: String = "c1", toTag: String?, cseq: Int,
                         branch: String? = nil, body: String = "") throws -> SIPMessage {
        try message(["\(method) sip:atad@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch ?? "z9hG4bK\(method)\(callID)\(cseq)")",
                     "Max-Forwards: 70",
                     "From: <sip:2000@atad.test>;tag=f1",
                     "To: <sip:1001@atad.test>" + (toTag.map { ";tag=\($0)" } ?? ""),
                     "Call-ID: \(callID)", "CSeq: \(cseq) \(method)",
                     "Contact: <sip:2000@127.0.0.1:5070>"], body: body)
    }

    /// A request the far end of a call we placed sends in it.
    func farEndRequest(_ method: String, to invite: String, cseq: Int, body: String = "") throws -> SIPMessage {
        let fromTag = try XCTUnwrap(header("From", in: invite)?.components(separatedBy: "tag=").last)
        return try message(["\(method) sip:1001@127.0.0.1:5060 SIP/2.0",
                            "Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKfar\(method)\(cseq)", "Max-Forwards: 70",
                            "From: <sip:2000@atad.test>;tag=far", "To: <sip:1001@atad.test>;tag=\(fromTag)",
                            "Call-ID: \(header("Call-ID", in: invite)!)", "CSeq: \(cseq) \(method)",
                            "Contact: <sip:2000@127.0.0.1:6000>"], body: body)
    }

    /// A response to `request`; `toTag` is added to a To that has none.
    func response(to request: String, _ status: String, toTag: String = "far", extra: [String] = [],
                          body: String = "") throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        let to = header("To", in: request)!
        lines.append("To: " + (to.contains(";tag=") ? to : to + ";tag=\(toTag)"))
        return try message(lines + extra, body: body)
    }

    func origin() -> RequestOrigin<String> { RequestOrigin(route: "caller", reliable: false, trusted: true) }

    func header(_ name: String, in text: String) -> String? {
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    // MARK: What came out

    func sent(_ actions: [Action]) -> [(text: String, route: String)] {
        actions.compactMap { if case .sip(let bytes, let route) = $0 { return (String(decoding: bytes, as: UTF8.self), route) } else { return nil } }
    }

    /// The first line of every message sent.
    func firstLines(_ actions: [Action]) -> [String] {
        sent(actions).map { String($0.text.split(separator: "\r\n").first ?? "") }
    }

    /// The re-INVITEs among `actions`: their text and route.
    func invites(_ actions: [Action]) -> [(text: String, route: String)] {
        sent(actions).filter { $0.text.hasPrefix("INVITE ") }
    }

    func lineCommands(_ actions: [Action]) -> [LineCommand] {
        actions.compactMap { if case .line(_, let command) = $0 { return command } else { return nil } }
    }

    /// Media commands as "CALL-ID start|hold|close LINE".
    func mediaCommands(_ actions: [Action]) -> [String] {
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

    func heldMedia(_ actions: [Action]) -> [NegotiatedMedia?] {
        actions.compactMap { if case .media(_, .hold(_, let media, _)) = $0 { return media } else { return nil } }
    }

    func startedMedia(_ actions: [Action]) -> [NegotiatedMedia] {
        actions.compactMap { if case .media(_, .start(_, let media, _)) = $0 { return media } else { return nil } }
    }

    // MARK: Calls

    /// A step of a scenario went otherwise: the test fails (not skips).
    struct Unexpected: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A call from 2000 (Call-ID `callID`) answered on a line and ACKed;
    /// returns our To tag.
    @discardableResult
    func answeredIncoming(_ control: CallControl<String>, callID: String = "c1") throws -> String {
        let asked = try XCTUnwrap(control.receive(request: try request("INVITE", callID: callID, toTag: nil, cseq: 1,
                                                                       body: Self.sdp(port: 4000)), from: origin(), at: now))
        guard case .openMedia? = asked.first else { throw Unexpected("expected openMedia, got \(asked)") }
        let rung = control.mediaOpened(callID, host: "127.0.0.1", port: 40_000, at: now)
        let ringing = try XCTUnwrap(sent(rung).last?.text)
        let toTag = try XCTUnwrap(header("To", in: ringing)?.components(separatedBy: "tag=").last)
        let line = try XCTUnwrap(control.line(ofCall: callID))
        control.lineStateChanged(line, to: .ringing)
        XCTAssertEqual(firstLines(control.lineAnswered(line, at: now)), ["SIP/2.0 200 OK"])
        control.lineStateChanged(line, to: .talking)
        _ = control.receive(request: try request("ACK", callID: callID, toTag: toTag, cseq: 1), from: origin(), at: now)
        return toTag
    }

    /// `line` dials 2000 through the account: the Call-ID and the INVITE.
    func placed(_ control: CallControl<String>, line: Int = 1) throws -> (callID: String, invite: String) {
        let asked = control.lineDialed(line, number: "2000", through: (account, "proxy"), at: now)
        guard case .openMedia(let callID, _, _)? = asked.first else { throw Unexpected("expected openMedia, got \(asked)") }
        let invite = try XCTUnwrap(invites(control.mediaOpened(callID, host: "127.0.0.1", port: 41_000, at: now)).first)
        XCTAssertEqual(invite.route, "proxy")
        control.lineStateChanged(line, to: .calling)
        return (callID, invite.text)
    }

    /// A placed call rung (180) and answered (200 with the far end's SDP on
    /// port 6000), ACKed; the line talks.
    func answeredOutgoing(_ control: CallControl<String>, line: Int = 1) throws -> (callID: String, invite: String) {
        let call = try placed(control, line: line)
        _ = control.receive(response: try response(to: call.invite, "180 Ringing"), at: now)
        control.lineStateChanged(line, to: .ringback)
        let ok = try XCTUnwrap(control.receive(response: try response(to: call.invite, "200 OK",
                                                                      extra: ["Contact: <sip:2000@127.0.0.1:6000>"],
                                                                      body: Self.sdp(port: 6000)), at: now))
        XCTAssertEqual(lineCommands(ok), [.input(.remoteAnswered)])
        XCTAssertTrue(firstLines(ok).first?.hasPrefix("ACK ") ?? false)
        control.lineStateChanged(line, to: .talking)
        return call
    }

    /// A flash on line 1 that holds its call: the re-INVITE it sent. The
    /// line then gives recall dial tone.
    func hold(_ control: CallControl<String>) throws -> (actions: [Action], reinvite: String) {
        let actions = control.lineFlashed(1, at: now)
        let reinvite = try XCTUnwrap(invites(actions).first?.text, "no re-INVITE: \(actions)")
        control.lineStateChanged(1, to: .dialTone)
        return (actions, reinvite)
    }

    /// The far end's 200 to our re-INVITE, with its answer on `port`.
    func answerReoffer(_ control: CallControl<String>, _ reinvite: String, port: Int, direction: String,
                               version: Int = 2) throws -> [Action] {
        try XCTUnwrap(control.receive(response: try response(to: reinvite, "200 OK",
                                                             extra: ["Contact: <sip:2000@127.0.0.1:5070>"],
                                                             body: Self.sdp(port: port, version: version, direction)),
                                      at: now))
    }

    // MARK: Hold and take back

    func testAFlashInACallHoldsItWithASendonlyReinviteAndRecallDialTone() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let (actions, reinvite) = try hold(control)
        XCTAssertEqual(invites(actions).count, 1)
        XCTAssertEqual(invites(actions).first?.route, "caller", "the way the call's messages go")
        XCTAssertTrue(reinvite.hasPrefix("INVITE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), reinvite)
        XCTAssertEqual(header("Call-ID", in: reinvite), "c1")
        XCTAssertEqual(header("From", in: reinvite), "<sip:1001@atad.test>;tag=\(toTag)")
        XCTAssertEqual(header("To", in: reinvite), "<sip:2000@atad.test>;tag=f1")
        XCTAssertEqual(header("Content-Type", in: reinvite), "application/sdp")
        XCTAssertTrue(reinvite.contains("m=audio 40000 RTP/AVP"), reinvite)
        XCTAssertTrue(reinvite.contains("a=sendonly\r\n"), reinvite)
        XCTAssertFalse(reinvite.contains("a=sendrecv"), reinvite)
        XCTAssertEqual(mediaCommands(actions), ["c1 hold 1"], "the line leaves the call's audio at once")
        XCTAssertNotNil(heldMedia(actions).first ?? nil, "the media in force stays pointed where it was")
        XCTAssertEqual(lineCommands(actions), [.input(.callHeld)])
        guard case .line(1, .input(.callHeld))? = actions.first(where: { if case .line = $0 { return true } else { return false } }) else {
            return XCTFail("the line told is line 1: \(actions)")
        }
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
        XCTAssertNil(control.heldStatus(ofLine: 2))
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertEqual(control.lines[1]?.held, "c1")
    }

    func testTheHoldAnswerRepointsTheHeldMediaAndDoesNotConnectTheLine() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        let answered = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        XCTAssertEqual(firstLines(answered), ["ACK sip:2000@127.0.0.1:5070 SIP/2.0"])
        XCTAssertEqual(sent(answered).first.flatMap { header("CSeq", in: $0.text) },
                       header("CSeq", in: reinvite)?.replacingOccurrences(of: "INVITE", with: "ACK"))
        XCTAssertEqual(mediaCommands(answered), ["c1 hold 1"], "held: not .start")
        let media = try XCTUnwrap(heldMedia(answered).first ?? nil)
        XCTAssertEqual(media.remoteRTPPort, 4002, "the answer's media")
        XCTAssertEqual(media.direction, .sendonly)
        XCTAssertEqual(lineCommands(answered), [])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
        XCTAssertTrue(invites(answered).isEmpty, "the far end has what we want: no more re-INVITEs")
    }

    func testAFlashFromRecallDialToneTakesTheCallBackWithSendrecv() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let back = control.lineFlashed(1, at: now)
        let resume = try XCTUnwrap(invites(back).first)
        XCTAssertEqual(invites(back).count, 1)
        XCTAssertEqual(resume.route, "caller")
        XCTAssertTrue(resume.text.contains("a=sendrecv\r\n"), resume.text)
        XCTAssertFalse(resume.text.contains("a=sendonly"), resume.text)
        XCTAssertGreaterThan(cseqNumber(resume.text), cseqNumber(reinvite))
        XCTAssertEqual(mediaCommands(back), ["c1 start 1"], "the line hears the call again at once")
        XCTAssertEqual(lineCommands(back), [.input(.callResumed)])
        XCTAssertNil(control.heldStatus(ofLine: 1))
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.lines[1]?.held)
        control.lineStateChanged(1, to: .talking)

        // Its answer re-points the media, connected to the line.
        let answered = try answerReoffer(control, resume.text, port: 4004, direction: "sendrecv", version: 3)
        XCTAssertEqual(mediaCommands(answered), ["c1 start 1"])
        XCTAssertEqual(startedMedia(answered).first?.remoteRTPPort, 4004)
        XCTAssertEqual(startedMedia(answered).first?.direction, .sendrecv)
        XCTAssertTrue(invites(answered).isEmpty)
    }

    func testAPlacedCallIsHeldAndTakenBackTheSameWay() throws {
        let control = makeControl()
        let (callID, invite) = try answeredOutgoing(control)
        let (actions, reinvite) = try hold(control)
        XCTAssertEqual(invites(actions).first?.route, "proxy")
        XCTAssertTrue(reinvite.hasPrefix("INVITE sip:2000@127.0.0.1:6000 SIP/2.0\r\n"), reinvite)
        XCTAssertEqual(header("CSeq", in: reinvite), "\(cseqNumber(invite) + 1) INVITE")
        XCTAssertEqual(header("Call-ID", in: reinvite), callID)
        XCTAssertTrue(reinvite.contains("a=sendonly\r\n"))
        XCTAssertEqual(mediaCommands(actions), ["\(callID) hold 1"])
        XCTAssertEqual(lineCommands(actions), [.input(.callHeld)])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: \(callID)")
        let answered = try XCTUnwrap(control.receive(response: try response(to: reinvite, "200 OK",
                                                                            body: Self.sdp(port: 6002, version: 2, "recvonly")),
                                                     at: now))
        XCTAssertEqual(mediaCommands(answered), ["\(callID) hold 1"])
        XCTAssertEqual(heldMedia(answered).first??.remoteRTPPort, 6002)
        let back = control.lineFlashed(1, at: now)
        XCTAssertTrue(invites(back).first?.text.contains("a=sendrecv\r\n") ?? false, "\(back)")
        XCTAssertEqual(mediaCommands(back), ["\(callID) start 1"])
        XCTAssertEqual(lineCommands(back), [.input(.callResumed)])
    }

    private func cseqNumber(_ text: String) -> Int {
        Int(header("CSeq", in: text)?.split(separator: " ").first ?? "") ?? -1
    }

    /// A refused hold leaves the session as it was; the line keeps the
    /// call off its audio anyway.
    func testARefusedHoldKeepsTheCallHeldOnTheLine() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        let refused = try XCTUnwrap(control.receive(response: try response(to: reinvite, "488 Not Acceptable Here"), at: now))
        XCTAssertEqual(firstLines(refused), ["ACK sip:2000@127.0.0.1:5070 SIP/2.0"])
        XCTAssertEqual(mediaCommands(refused), [])
        XCTAssertEqual(lineCommands(refused), [])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    // MARK: A second call

    func testASecondCallIsPlacedWhileTheFirstIsHeld() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, invite) = try placed(control)
        XCTAssertTrue(invite.hasPrefix("INVITE sip:2000@atad.test SIP/2.0\r\n"), invite)
        XCTAssertTrue(invite.contains("a=sendrecv\r\n"), "a normal offer: \(invite)")
        XCTAssertEqual(control.lines[1]?.active, second)
        XCTAssertEqual(control.lines[1]?.held, "c1")
        XCTAssertEqual(control.line(ofCall: second), 1)
    }

    func testAFlashInTheSecondCallSwapsTheTwo() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, _) = try answeredOutgoing(control)

        let swapped = control.lineFlashed(1, at: now)
        let offers = invites(swapped)
        XCTAssertEqual(offers.count, 2, "\(offers.map(\.text))")
        let toSecond = try XCTUnwrap(offers.first { header("Call-ID", in: $0.text) == second })
        let toFirst = try XCTUnwrap(offers.first { header("Call-ID", in: $0.text) == "c1" })
        XCTAssertEqual(toSecond.route, "proxy")
        XCTAssertTrue(toSecond.text.contains("a=sendonly\r\n"), toSecond.text)
        XCTAssertEqual(toFirst.route, "caller")
        XCTAssertTrue(toFirst.text.contains("a=sendrecv\r\n"), toFirst.text)
        XCTAssertEqual(mediaCommands(swapped).sorted(), ["\(second) hold 1", "c1 start 1"].sorted())
        XCTAssertEqual(lineCommands(swapped), [], "the line goes on talking")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertEqual(control.lines[1]?.held, second)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: \(second)")

        // And back again, once both answered.
        _ = try answerReoffer(control, toFirst.text, port: 4004, direction: "sendrecv", version: 3)
        _ = try XCTUnwrap(control.receive(response: try response(to: toSecond.text, "200 OK",
                                                                 body: Self.sdp(port: 6002, version: 2, "recvonly")), at: now))
        let again = control.lineFlashed(1, at: now)
        XCTAssertEqual(mediaCommands(again).sorted(), ["\(second) start 1", "c1 hold 1"].sorted())
        XCTAssertEqual(control.lines[1]?.active, second)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    func testAFlashBeforeTheSecondCallIsAnsweredCancelsItAndTakesTheFirstBack() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, invite) = try placed(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        control.lineStateChanged(1, to: .ringback)

        let back = control.lineFlashed(1, at: now)
        let cancel = try XCTUnwrap(sent(back).first { $0.text.hasPrefix("CANCEL ") })
        XCTAssertEqual(cancel.route, "proxy")
        XCTAssertEqual(header("Call-ID", in: cancel.text), second)
        let resume = try XCTUnwrap(invites(back).first)
        XCTAssertEqual(header("Call-ID", in: resume.text), "c1")
        XCTAssertTrue(resume.text.contains("a=sendrecv\r\n"))
        XCTAssertEqual(mediaCommands(back), ["c1 start 1"])
        XCTAssertEqual(lineCommands(back), [.input(.callResumed)])
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.lines[1]?.held)
        control.lineStateChanged(1, to: .talking)

        // The cancelled call's 487 closes its ports and tells the line nothing.
        let terminated = try XCTUnwrap(control.receive(response: try response(to: invite, "487 Request Terminated"), at: now))
        XCTAssertEqual(mediaCommands(terminated), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(terminated), [])
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    func testTheSecondCallsFarEndHangingUpIsHeardAndAFlashTakesTheHeldOneBack() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, invite) = try answeredOutgoing(control)
        let bye = try XCTUnwrap(control.receive(request: try farEndRequest("BYE", to: invite, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.remoteHangUp)], "the handset hears the second call end")
        XCTAssertEqual(mediaCommands(bye), ["\(second) close 1"])
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
        control.lineStateChanged(1, to: .busy)
        let back = control.lineFlashed(1, at: now)
        XCTAssertEqual(mediaCommands(back), ["c1 start 1"])
        XCTAssertEqual(lineCommands(back), [.input(.callResumed)])
        XCTAssertTrue(invites(back).first?.text.contains("a=sendrecv\r\n") ?? false)
    }

    // MARK: *70

    /// *70, then a call: a new INVITE while it talks gets 486, not the
    /// call-waiting tone; the line's next idle ends that.
    func testStarSeventyGivesTheCallItDialsNoWaitingCall() throws {
        let control = makeControl(lines: [1])
        control.lineStateChanged(1, to: .dialTone)
        let said = control.lineFeature(1, .cancelCallWaiting)
        XCTAssertEqual(said.count, 1, "a log line, nothing kept: \(said)")
        XCTAssertNil(control.featureStatus(ofLine: 1))
        let (placed, _) = try answeredOutgoing(control)
        XCTAssertEqual(control.lines[1]?.callWithoutWaiting, placed)
        let refused = try XCTUnwrap(control.receive(request: try request("INVITE", callID: "c2", toTag: nil, cseq: 1,
                                                                         body: Self.sdp(port: 4020)),
                                                    from: origin(), at: now))
        XCTAssertEqual(firstLines(refused), ["SIP/2.0 486 Busy Here"])
        XCTAssertNil(control.lines[1]?.waiting)
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        XCTAssertNil(control.lines[1]?.callWithoutWaiting)
        XCTAssertEqual(control.lines[1]?.callWaitingCancelled, false)
    }

    /// *70 dialed from recall dial tone takes call waiting from the second
    /// call only: back on the first (no idle in between), a new INVITE waits.
    func testStarSeventyForASecondCallLeavesTheHeldOneItsCallWaiting() throws {
        let control = makeControl(lines: [1])
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        _ = control.lineFeature(1, .cancelCallWaiting)
        let (second, invite) = try answeredOutgoing(control)
        XCTAssertEqual(control.lines[1]?.callWithoutWaiting, second)
        _ = control.receive(request: try farEndRequest("BYE", to: invite, cseq: 2), from: origin(), at: now)
        control.lineStateChanged(1, to: .busy)
        _ = control.lineFlashed(1, at: now)
        control.lineStateChanged(1, to: .talking)
        XCTAssertEqual(control.lines[1]?.active, "c1")
        let waits = try XCTUnwrap(control.receive(request: try request("INVITE", callID: "c2", toTag: nil, cseq: 1,
                                                                       body: Self.sdp(port: 4020)),
                                                  from: origin(), at: now))
        XCTAssertFalse(firstLines(waits).contains("SIP/2.0 486 Busy Here"), "\(firstLines(waits))")
        guard case .openMedia? = waits.first else { return XCTFail("the call should wait: \(firstLines(waits))") }
    }

    // MARK: Hanging up with a call held

    func testHangingUpOnTheSecondCallEndsItAndRingsBackForTheHeldOne() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, _) = try answeredOutgoing(control)
        let hungUp = control.lineHungUp(1, at: now)
        let bye = try XCTUnwrap(sent(hungUp).first)
        XCTAssertTrue(bye.text.hasPrefix("BYE sip:2000@127.0.0.1:6000 SIP/2.0\r\n"), bye.text)
        XCTAssertEqual(header("Call-ID", in: bye.text), second)
        XCTAssertEqual(sent(hungUp).count, 1, "nothing to the held call")
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    func testHangingUpWhileTheSecondCallRingsCancelsItAndRingsBack() throws {
        let control = makeControl()
        try answeredIncoming(control)
        _ = try hold(control)
        let (second, invite) = try placed(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        let hungUp = control.lineHungUp(1, at: now)
        let cancel = try XCTUnwrap(sent(hungUp).first)
        XCTAssertTrue(cancel.text.hasPrefix("CANCEL sip:2000@atad.test SIP/2.0\r\n"), cancel.text)
        XCTAssertEqual(header("Call-ID", in: cancel.text), second)
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])

        // Answered before the cancelled INVITE's 487: the held call is back,
        // and the 487 changes nothing on the line.
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let answered = control.lineAnswered(1, at: now)
        XCTAssertEqual(mediaCommands(answered), ["c1 start 1"])
        control.lineStateChanged(1, to: .talking)
        let terminated = try XCTUnwrap(control.receive(response: try response(to: invite, "487 Request Terminated"), at: now))
        XCTAssertEqual(mediaCommands(terminated), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(terminated), [])
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    func testHangingUpOnRecallDialToneRingsBackAndAnsweringTakesTheCallBack() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(sent(hungUp).count, 0, "no call to end but the held one, which stays")
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
        XCTAssertEqual(mediaCommands(hungUp), [])
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)

        let answered = control.lineAnswered(1, at: now)
        let resume = try XCTUnwrap(invites(answered).first)
        XCTAssertEqual(resume.route, "caller")
        XCTAssertTrue(resume.text.contains("a=sendrecv\r\n"), resume.text)
        XCTAssertEqual(mediaCommands(answered), ["c1 start 1"])
        XCTAssertEqual(firstLines(answered).filter { $0.hasPrefix("SIP/2.0") }, [], "no response to anything")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    /// The second call's BYE is answered while the line already rings back
    /// for the held one: that ring must go on.
    func testTheSecondCallsByeAnsweredDuringTheRingBackLeavesTheRingAlone() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, _) = try answeredOutgoing(control)
        let bye = try XCTUnwrap(sent(control.lineHungUp(1, at: now)).first?.text)
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let done = try XCTUnwrap(control.receive(response: try response(to: bye, "200 OK"), at: now))
        XCTAssertEqual(mediaCommands(done), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(done), [], "the ring-back is for the held call")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    /// The handset answers the ring-back before the second call's BYE has
    /// its 200: the held call comes back all the same.
    func testAnsweringTheRingBackBeforeTheSecondCallsByeIsAnsweredTakesTheHeldCallBack() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        _ = try answeredOutgoing(control)
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let answered = control.lineAnswered(1, at: now)
        XCTAssertEqual(mediaCommands(answered), ["c1 start 1"])
        XCTAssertTrue(invites(answered).first?.text.contains("a=sendrecv\r\n") ?? false)
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    /// c1 answered, held (its hold answered), the handset hung up: the
    /// line rings back for it.
    private func ringingBackForAHeldCall() throws -> CallControl<String> {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        return control
    }

    /// Nobody takes the held call back: after `hold_recall_seconds`
    /// (default 60) it gets our BYE and the ring stops.
    func testARingBackNotAnsweredInTheRecallTimeEndsTheHeldCall() throws {
        XCTAssertEqual(Self.site.lineSettings(1).holdRecallSeconds, 60)
        let control = try ringingBackForAHeldCall()
        XCTAssertLessThanOrEqual(try XCTUnwrap(control.nextDeadline), now + .seconds(60))
        XCTAssertEqual(sent(control.advance(to: now + .seconds(59))).count, 0)
        let ended = control.advance(to: now + .seconds(60))
        XCTAssertEqual(firstLines(ended).filter { $0.hasPrefix("BYE ") }.count, 1, "\(firstLines(ended))")
        XCTAssertEqual(lineCommands(ended), [.input(.incomingCallEnded)])
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    func testARingBackAnsweredInTimeIsNotEndedLater() throws {
        let control = try ringingBackForAHeldCall()
        _ = control.lineAnswered(1, at: now + .seconds(30))
        control.lineStateChanged(1, to: .talking)
        let later = control.advance(to: now + .seconds(61))
        XCTAssertFalse(firstLines(later).contains { $0.hasPrefix("BYE ") }, "\(firstLines(later))")
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    // MARK: The held call's far end

    func testTheHeldCallsByeGets200AndTheLineIsToldItsHeldCallEnded() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let bye = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.heldCallEnded)], "not remoteHangUp: the handset is on recall dial tone")
        XCTAssertEqual(mediaCommands(bye), ["c1 close 1"])
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    func testTheHeldCallsByeDuringASecondCallLeavesTheSecondAlone() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, _) = try answeredOutgoing(control)
        let bye = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.heldCallEnded)])
        XCTAssertEqual(mediaCommands(bye), ["c1 close 1"])
        XCTAssertEqual(control.lines[1]?.active, second)
        XCTAssertNil(control.lines[1]?.held)
    }

    func testTheHeldCallsByeWhileTheLineRingsBackStopsTheRing() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        _ = try hold(control)
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)
        let bye = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertTrue(firstLines(bye).contains("SIP/2.0 200 OK"), "\(firstLines(bye))")
        XCTAssertEqual(lineCommands(bye), [.input(.incomingCallEnded)])
        XCTAssertNil(control.lines[1]?.held)
    }

    func testAHeldPlacedCallsByeTellsTheLineItsHeldCallEnded() throws {
        let control = makeControl()
        let (callID, invite) = try answeredOutgoing(control)
        let (_, reinvite) = try hold(control)
        _ = control.receive(response: try response(to: reinvite, "200 OK", body: Self.sdp(port: 6002, version: 2, "recvonly")),
                            at: now)
        let bye = try XCTUnwrap(control.receive(request: try farEndRequest("BYE", to: invite, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.heldCallEnded)])
        XCTAssertEqual(mediaCommands(bye), ["\(callID) close 1"])
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    // MARK: Glare and a busy line

    /// §14.2: a re-INVITE from the far end while ours waits for its answer.
    func testAFarEndReinviteWhileOursIsPendingGets491() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        _ = try hold(control)
        let glare = try XCTUnwrap(control.receive(request: try request("INVITE", toTag: toTag, cseq: 2,
                                                                       body: Self.sdp(port: 4010, version: 2)),
                                                  from: origin(), at: now))
        XCTAssertEqual(firstLines(glare), ["SIP/2.0 491 Request Pending"])
        XCTAssertEqual(mediaCommands(glare), [], "the media does not move")
    }

    /// §14.1-14.2: after our re-INVITE got 491, ours is no longer in
    /// progress while we wait to try again: the far end's own re-INVITE
    /// (sent after its shorter wait, which is the point of the two ranges)
    /// must be answered, not refused with 491 once more.
    func testAFarEndReinviteWhileWeWaitAfterA491IsAnswered() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        let glare = try XCTUnwrap(control.receive(response: try response(to: reinvite, "491 Request Pending"), at: now))
        XCTAssertEqual(firstLines(glare), ["ACK sip:2000@127.0.0.1:5070 SIP/2.0"])
        XCTAssertEqual(mediaCommands(glare), [])
        let theirs = try XCTUnwrap(control.receive(request: try request("INVITE", toTag: toTag, cseq: 2,
                                                                        body: Self.sdp(port: 4010, version: 2)),
                                                   from: origin(), at: now + .milliseconds(500)))
        XCTAssertEqual(firstLines(theirs), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(theirs), ["c1 hold 1"], "answered, still held on the line")
        XCTAssertTrue(try XCTUnwrap(sent(theirs).first?.text).contains("a=sendonly\r\n"), "our answer holds it")
        // Their offer settled the session: our stale one is not sent.
        XCTAssertEqual(sent(control.advance(to: now + .seconds(5))).filter { $0.text.hasPrefix("INVITE ") }.count, 0)
    }

    func testAFarEndReinviteAfterOursWasAnsweredIsAnswered() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let later = try XCTUnwrap(control.receive(request: try request("INVITE", toTag: toTag, cseq: 2,
                                                                       body: Self.sdp(port: 4010, version: 3)),
                                                  from: origin(), at: now))
        XCTAssertEqual(firstLines(later), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(later), ["c1 hold 1"], "still held on the line")
        let ours = try XCTUnwrap(sent(later).first?.text)
        XCTAssertTrue(ours.contains("a=sendonly\r\n"), "our answer keeps it held: \(ours)")
    }

    func testANewCallToAOneLineBoardWithACallHeldIsBusy() throws {
        let control = makeControl(lines: [1])
        try answeredIncoming(control)
        _ = try hold(control)
        let onDialTone = try XCTUnwrap(control.receive(request: try request("INVITE", callID: "c2", toTag: nil, cseq: 1,
                                                                            body: Self.sdp(port: 4020)),
                                                       from: origin(), at: now))
        XCTAssertEqual(firstLines(onDialTone), ["SIP/2.0 486 Busy Here"])
        // Hung up: the line is idle for a moment before it rings back.
        _ = control.lineHungUp(1, at: now)
        control.lineStateChanged(1, to: .idle)
        let onIdle = try XCTUnwrap(control.receive(request: try request("INVITE", callID: "c3", toTag: nil, cseq: 1,
                                                                        body: Self.sdp(port: 4020)),
                                                   from: origin(), at: now))
        XCTAssertEqual(firstLines(onIdle), ["SIP/2.0 486 Busy Here"])
        XCTAssertEqual(control.lines[1]?.held, "c1")
    }

    // MARK: Quick flashes

    /// Hold, then back before the hold's 200: the second offer waits for
    /// the first to be answered (§14.1), then goes with sendrecv.
    func testTwoQuickFlashesEndWithASendrecvReinviteAfterTheFirstsAnswer() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, first) = try hold(control)
        XCTAssertTrue(first.contains("a=sendonly\r\n"))
        let back = control.lineFlashed(1, at: now)
        XCTAssertTrue(invites(back).isEmpty, "one re-INVITE at a time: \(invites(back).map(\.text))")
        XCTAssertEqual(mediaCommands(back), ["c1 start 1"], "the line has the call back at once")
        XCTAssertEqual(lineCommands(back), [.input(.callResumed)])
        control.lineStateChanged(1, to: .talking)

        let answered = try answerReoffer(control, first, port: 4002, direction: "recvonly")
        XCTAssertTrue(firstLines(answered).first?.hasPrefix("ACK ") ?? false, "\(firstLines(answered))")
        XCTAssertEqual(mediaCommands(answered), ["c1 start 1"], "not held on the line any more")
        let second = try XCTUnwrap(invites(answered).first?.text, "the resume goes once the hold is answered")
        XCTAssertEqual(invites(answered).count, 1)
        XCTAssertTrue(second.contains("a=sendrecv\r\n"), second)
        XCTAssertGreaterThan(cseqNumber(second), cseqNumber(first))

        // Its answer settles it: nothing more goes.
        let settled = try answerReoffer(control, second, port: 4004, direction: "sendrecv", version: 3)
        XCTAssertEqual(mediaCommands(settled), ["c1 start 1"])
        XCTAssertTrue(invites(settled).isEmpty)
    }

    /// Three quick flashes (hold, back, hold) before any answer: the call
    /// should end held, and the far end asked for sendonly no more than once.
    func testHoldBackHoldBeforeAnyAnswerSendsNoSecondReinvite() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, first) = try hold(control)
        _ = control.lineFlashed(1, at: now)
        control.lineStateChanged(1, to: .talking)
        let again = control.lineFlashed(1, at: now)
        XCTAssertTrue(invites(again).isEmpty)
        XCTAssertEqual(lineCommands(again), [.input(.callHeld)])
        let answered = try answerReoffer(control, first, port: 4002, direction: "recvonly")
        XCTAssertEqual(mediaCommands(answered), ["c1 hold 1"])
        XCTAssertTrue(invites(answered).isEmpty, "the far end already has sendonly: \(invites(answered).map(\.text))")
    }

    // MARK: Review fixes

    /// The text of every warning logged.
    private func warnings(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .log(.warn, let text) = $0 { return text } else { return nil } }
    }

    /// A resume the far end refuses is asked for again 4 s later, up to
    /// three times in a row; then no more.
    func testARefusedResumeIsTriedAgainEveryFourSecondsThreeTimesAtMost() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        var resume = try XCTUnwrap(invites(control.lineFlashed(1, at: now)).first?.text)
        control.lineStateChanged(1, to: .talking)
        XCTAssertTrue(resume.contains("a=sendrecv\r\n"), resume)
        for attempt in 0...3 {
            let refused = try XCTUnwrap(control.receive(response: try response(to: resume, "500 Server Internal Error"), at: now))
            XCTAssertEqual(firstLines(refused), ["ACK sip:2000@127.0.0.1:5070 SIP/2.0"], "attempt \(attempt)")
            let warning = try XCTUnwrap(warnings(refused).first, "attempt \(attempt): \(refused)")
            if attempt == 3 {
                XCTAssertFalse(warning.contains("trying again"), warning)
                XCTAssertTrue(invites(control.advance(to: now + .seconds(30))).isEmpty, "no fourth retry")
                break
            }
            XCTAssertTrue(warning.contains("trying again in 4 s"), warning)
            XCTAssertTrue(invites(refused).isEmpty, "not at once")
            XCTAssertTrue(invites(control.advance(to: now + .milliseconds(3900))).isEmpty, "not before 4 s")
            now = now + .seconds(4)
            let again = control.advance(to: now)
            let next = try XCTUnwrap(invites(again).first?.text, "retry \(attempt + 1): \(again)")
            XCTAssertEqual(invites(again).count, 1)
            XCTAssertTrue(next.contains("a=sendrecv\r\n"), next)
            XCTAssertGreaterThan(cseqNumber(next), cseqNumber(resume))
            resume = next
        }
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    /// RFC 3311 §5.2: an UPDATE with an offer while our re-INVITE is out
    /// gets 491; one without a body (a session refresh) is still answered.
    func testAnUpdateWithAnOfferWhileOurReinviteIsPendingGets491() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        _ = try hold(control)
        let offer = try XCTUnwrap(control.receive(request: try request("UPDATE", toTag: toTag, cseq: 2,
                                                                       body: Self.sdp(port: 4010, version: 2)),
                                                  from: origin(), at: now))
        XCTAssertEqual(firstLines(offer), ["SIP/2.0 491 Request Pending"])
        XCTAssertEqual(mediaCommands(offer), [], "the media does not move")
        let refresh = try XCTUnwrap(control.receive(request: try request("UPDATE", toTag: toTag, cseq: 3),
                                                    from: origin(), at: now))
        XCTAssertEqual(firstLines(refresh), ["SIP/2.0 200 OK"])
    }

    /// Quick flashes: the first re-INVITE's 200 sends the second; a copy
    /// of that 200 coming after gets the first ACK again.
    func testACopyOfTheFirstReinvites200AfterTheSecondWentGetsTheFirstAckAgain() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, first) = try hold(control)
        _ = control.lineFlashed(1, at: now)
        control.lineStateChanged(1, to: .talking)
        let answered = try answerReoffer(control, first, port: 4002, direction: "recvonly")
        let ack = try XCTUnwrap(sent(answered).first { $0.text.hasPrefix("ACK ") }?.text)
        let second = try XCTUnwrap(invites(answered).first?.text, "the resume goes once the hold is answered")
        XCTAssertNotEqual(cseqNumber(second), cseqNumber(first))

        let copy = try answerReoffer(control, first, port: 4002, direction: "recvonly")
        XCTAssertEqual(sent(copy).map(\.text), [ack], "the first ACK, same bytes")
        XCTAssertEqual(header("CSeq", in: ack), "\(cseqNumber(first)) ACK")
        XCTAssertEqual(mediaCommands(copy), [])
    }

    /// A call the line has let go (our BYE out, the line ringing back for
    /// the held one) answers its far end's re-INVITE off the line's audio.
    func testAReinviteToACallLetGoBeforeItsByeIsAnsweredKeepsItOffTheLine() throws {
        let control = makeControl()
        try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        let (second, invite) = try answeredOutgoing(control)
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertTrue(sent(hungUp).first?.text.hasPrefix("BYE ") ?? false, "\(firstLines(hungUp))")
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
        control.lineStateChanged(1, to: .idle)
        control.lineStateChanged(1, to: .ringing)

        let theirs = try XCTUnwrap(control.receive(request: try farEndRequest("INVITE", to: invite, cseq: 2,
                                                                              body: Self.sdp(port: 6010, version: 2)),
                                                   from: origin(), at: now))
        XCTAssertEqual(firstLines(theirs), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(theirs), ["\(second) hold 1"], "not .start: the line is not the call's")
        XCTAssertEqual(lineCommands(theirs), [])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    /// A flash while our 200 to the far end's re-INVITE waits for its
    /// ACK: the hold's re-INVITE waits for that offer/answer to close.
    func testAHoldWaitsForTheAckOfOurTwoHundredToTheFarEndsReinvite() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let theirs = try XCTUnwrap(control.receive(request: try request("INVITE", toTag: toTag, cseq: 2,
                                                                        body: Self.sdp(port: 4010, version: 2)),
                                                   from: origin(), at: now))
        XCTAssertEqual(firstLines(theirs), ["SIP/2.0 200 OK"])
        let flash = control.lineFlashed(1, at: now)
        XCTAssertTrue(invites(flash).isEmpty, "not before the ACK: \(invites(flash).map(\.text))")
        XCTAssertEqual(mediaCommands(flash), ["c1 hold 1"], "the line leaves the call at once")
        XCTAssertEqual(lineCommands(flash), [.input(.callHeld)])
        control.lineStateChanged(1, to: .dialTone)

        let acked = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 2),
                                                  from: origin(), at: now))
        let hold = try XCTUnwrap(invites(acked).first?.text, "the hold goes with the ACK: \(acked)")
        XCTAssertEqual(invites(acked).count, 1)
        XCTAssertTrue(hold.contains("a=sendonly\r\n"), hold)
    }

    /// A copy of the far end's re-INVITE we answered, coming while ours is
    /// out: our 200 again, not 491 (it is no new offer).
    func testACopyOfAnAnsweredFarEndReinviteWhileOursIsPendingGetsOurTwoHundredAgain() throws {
        let control = makeControl()
        let toTag = try answeredIncoming(control)
        let theirs = try request("INVITE", toTag: toTag, cseq: 2, body: Self.sdp(port: 4010, version: 2))
        let ok = try XCTUnwrap(sent(try XCTUnwrap(control.receive(request: theirs, from: origin(), at: now))).first?.text)
        XCTAssertTrue(ok.hasPrefix("SIP/2.0 200 OK\r\n"), ok)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 2), from: origin(), at: now)
        _ = try hold(control)

        let copy = try XCTUnwrap(control.receive(request: theirs, from: origin(), at: now))
        XCTAssertEqual(sent(copy).map(\.text), [ok], "our earlier 200, same bytes")
        XCTAssertEqual(mediaCommands(copy), [])
    }
}
