@testable import CallControl
import CallerID
import Config
import Line
import SIPMessage
import SIPUserAgent
import Timebase
import XCTest

/// Call control driven the way the daemon drives it, with a manual clock:
/// requests, responses and line events in, actions out. The route is a
/// plain string naming where a message goes.
final class CallControlTests: XCTestCase {
    typealias Action = CallControlAction<String>

    private var now = Instant.zero + .seconds(100)
    private var counter = 0

    private static let site: SiteConfig = {
        let files: [String: String] = [
            "/c/site.conf": """
                [general]
                board = board.conf
                [account home]
                user = 1001
                domain = atad.test
                password = secret
                register = no
                [account office]
                user = 1002
                domain = atad.test
                register = no
                codec = pcma
                ptime = 30
                [line 2]
                account = office
                """,
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n[line 2]\n",
        ]
        let result = ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }
        return result.site!
    }()

    private func makeControl() -> CallControl<String> {
        let control = CallControl<String>(site: Self.site, lines: [1, 2], defaultUserAgent: "atad/test",
                                          makeToken: { [unowned self] in
                                              self.counter += 1
                                              return "k\(self.counter)"
                                          }, random: { 7 })
        control.sipPort = 5060
        return control
    }

    private static let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

    private func message(_ lines: [String], body: String = "") throws -> SIPMessage {
        let text = (lines + ["Content-Length: \(body.utf8.count)"]).joined(separator: "\r\n") + "\r\n\r\n" + body
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    private func invite(callID: String = "c1", branch: String = "z9hG4bKb1", fromTag: String = "f1",
                        toTag: String? = nil, cseq: Int = 1, body: String = CallControlTests.offer) throws -> SIPMessage {
        try message(["INVITE sip:1001@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch)",
                     "Max-Forwards: 70",
                     "From: <sip:2000@atad.test>;tag=\(fromTag)",
                     "To: <sip:1001@atad.test>" + (toTag.map { ";tag=\($0)" } ?? ""),
                     "Call-ID: \(callID)", "CSeq: \(cseq) INVITE",
                     "Contact: <sip:2000@127.0.0.1:5070>",
                     "Content-Type: application/sdp"], body: body)
    }

    private func request(_ method: String, callID: String = "c1", fromTag: String = "f1", toTag: String?,
                         cseq: Int, extra: [String] = [], body: String = "") throws -> SIPMessage {
        try message(["\(method) sip:atad@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK\(method)\(cseq)",
                     "Max-Forwards: 70",
                     "From: <sip:2000@atad.test>;tag=\(fromTag)",
                     "To: <sip:1001@atad.test>" + (toTag.map { ";tag=\($0)" } ?? ""),
                     "Call-ID: \(callID)", "CSeq: \(cseq) \(method)"] + extra, body: body)
    }

    private func origin(trusted: Bool = true) -> RequestOrigin<String> {
        RequestOrigin(route: "caller", reliable: false, trusted: trusted)
    }

    /// The SIP messages among `actions`, as text, with their routes.
    private func sent(_ actions: [Action]) -> [(text: String, route: String)] {
        actions.compactMap { if case .sip(let bytes, let route) = $0 { return (String(decoding: bytes, as: UTF8.self), route) } else { return nil } }
    }

    private func statuses(_ actions: [Action]) -> [String] {
        sent(actions).map { String($0.text.split(separator: "\r\n").first ?? "") }
    }

    private func lineCommands(_ actions: [Action]) -> [LineCommand] {
        actions.compactMap { if case .line(_, let command) = $0 { return command } else { return nil } }
    }

    private func mediaCommands(_ actions: [Action]) -> [String] {
        actions.compactMap {
            guard case .media(_, let command) = $0 else { return nil }
            switch command {
            case .start(let line, _, _): return "start \(line)"
            case .hold(let line, _, _): return "hold \(line)"
            case .join(let line, _, _): return "join \(line)"
            case .playKey(let digit, let ms): return "key \(digit.character) \(ms)"
            case .sendKeysInBand: return "in band"
            case .close(let line): return "close \(line)"
            }
        }
    }

    private func header(_ name: String, in text: String) -> String? {
        for line in text.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// A call rung on a line: the INVITE, its media ports, the line told to ring.
    /// Returns the actions of the ringing and our To tag.
    @discardableResult
    private func ring(_ control: CallControl<String>, callID: String = "c1") throws -> (actions: [Action], toTag: String) {
        let asked = try XCTUnwrap(control.receive(request: try invite(callID: callID), from: origin(), at: now))
        guard case .openMedia(let id, let host, let toward)? = asked.first else {
            XCTFail("expected openMedia, got \(asked)")
            return ([], "")
        }
        XCTAssertEqual(id, callID)
        XCTAssertNil(host, "the address toward the caller")
        XCTAssertEqual(toward, "caller")
        let actions = control.mediaOpened(callID, host: "127.0.0.1", port: 40_000, at: now)
        let ringing = try XCTUnwrap(sent(actions).last?.text)
        let toTag = try XCTUnwrap(header("To", in: ringing)?.components(separatedBy: "tag=").last)
        return (actions, toTag)
    }

    // MARK: Incoming calls

    func testANewCallRingsTheFirstFreeLineThenAnswersAndTheFarEndHangsUp() throws {
        let control = makeControl()
        let (rung, toTag) = try ring(control)
        XCTAssertEqual(lineCommands(rung), [.ring(caller: CallerIdentity(number: .shown("2000"), name: .unavailable))])
        XCTAssertEqual(mediaCommands(rung), ["start 1"])
        XCTAssertEqual(statuses(rung), ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"])
        XCTAssertTrue(sent(rung).allSatisfy { $0.route == "caller" })
        XCTAssertEqual(control.lines[1]?.active, "c1")
        control.lineStateChanged(1, to: .ringing)

        let answered = control.lineAnswered(1, at: now)
        let ok = try XCTUnwrap(sent(answered).first?.text)
        XCTAssertTrue(ok.hasPrefix("SIP/2.0 200 OK\r\n"))
        XCTAssertTrue(ok.contains("m=audio 40000 RTP/AVP 0 101"), "the answer names the port opened")
        XCTAssertEqual(header("Contact", in: ok), "<sip:atad@127.0.0.1:5060>")
        control.lineStateChanged(1, to: .talking)
        XCTAssertEqual(control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now)?.count, 0)

        let bye = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(statuses(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [.input(.remoteHangUp)])
        XCTAssertEqual(mediaCommands(bye), ["close 1"])
        XCTAssertNil(control.lines[1]?.active, "the line is free")
        XCTAssertNil(control.nextDeadline)
    }

    /// A late offer: the INVITE has no SDP; ours goes in the 200, and the
    /// media starts when the ACK brings the answer.
    private func lateOffer(_ control: CallControl<String>) throws -> (ok: String, toTag: String) {
        let asked = try XCTUnwrap(control.receive(request: try invite(body: ""), from: origin(), at: now))
        guard case .openMedia? = asked.first else { throw XCTSkip("expected openMedia, got \(asked)") }
        let rung = control.mediaOpened("c1", host: "127.0.0.1", port: 40_000, at: now)
        XCTAssertEqual(statuses(rung), ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"])
        XCTAssertEqual(mediaCommands(rung), [], "no media before the answer")
        XCTAssertEqual(lineCommands(rung), [.ring(caller: CallerIdentity(number: .shown("2000"), name: .unavailable))])
        control.lineStateChanged(1, to: .ringing)
        let ok = try XCTUnwrap(sent(control.lineAnswered(1, at: now)).first?.text)
        control.lineStateChanged(1, to: .talking)
        let toTag = try XCTUnwrap(header("To", in: ok)?.components(separatedBy: "tag=").last)
        return (ok, toTag)
    }

    func testALateOfferIsAnsweredWithOurOfferAndTheAckBringsTheAnswer() throws {
        let control = makeControl()
        let (ok, toTag) = try lateOffer(control)
        XCTAssertTrue(ok.hasPrefix("SIP/2.0 200 OK\r\n"))
        XCTAssertTrue(ok.contains("m=audio 40000 RTP/AVP 0 8 13 101"), "our offer, both codecs: \(ok)")
        let answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n"
        let acked = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 1,
                                                                       extra: ["Content-Type: application/sdp"], body: answer),
                                                  from: origin(), at: now))
        XCTAssertEqual(mediaCommands(acked), ["start 1"])
        guard case .media(_, .start(_, let media, _))? = acked.first(where: { if case .media = $0 { return true } else { return false } }) else {
            return XCTFail("\(acked)")
        }
        XCTAssertEqual(media.codec, .pcma, "the codec the answer chose")
    }

    func testALateOfferWhoseAckHasNoAnswerIsHungUp() throws {
        let control = makeControl()
        let (_, toTag) = try lateOffer(control)
        let acked = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now))
        XCTAssertEqual(statuses(acked).first?.hasPrefix("BYE "), true, "\(statuses(acked))")
        XCTAssertEqual(lineCommands(acked), [.input(.remoteHangUp)])
        XCTAssertEqual(mediaCommands(acked), [])
    }

    func testACallFromAHostThatMayNotCallGets403AndRingsNothing() throws {
        let control = makeControl()
        let actions = try XCTUnwrap(control.receive(request: try invite(), from: origin(trusted: false), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 403 Forbidden"])
        XCTAssertTrue(actions.contains { if case .untrustedCallRefused("caller", "c1") = $0 { return true } else { return false } })
        XCTAssertNil(control.lines[1]?.active)
    }

    func testSDPThatDoesNotParseGets488() throws {
        let control = makeControl()
        let actions = try XCTUnwrap(control.receive(request: try invite(body: "v=9\r\nnonsense\r\n"), from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 488 Not Acceptable Here"])
    }

    func testAnOfferWithNoCodecOfOursGets488AndTheLineAndPortsAreFreed() throws {
        let control = makeControl()
        let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"
        _ = try XCTUnwrap(control.receive(request: try invite(body: offer), from: origin(), at: now))
        let actions = control.mediaOpened("c1", host: "127.0.0.1", port: 40_000, at: now)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 488 Not Acceptable Here"])
        XCTAssertEqual(mediaCommands(actions), ["close 1"])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testEveryLineBusyGets486() throws {
        let control = makeControl()
        control.lineStateChanged(1, to: .dialTone)
        control.lineStateChanged(2, to: .talking)
        let actions = try XCTUnwrap(control.receive(request: try invite(), from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 486 Busy Here"])
    }

    func testASecondCallRingsTheSecondLine() throws {
        let control = makeControl()
        try ring(control, callID: "c1")
        control.lineStateChanged(1, to: .ringing)
        let (second, _) = try ring(control, callID: "c2")
        XCTAssertTrue(second.contains { if case .line(2, .ring) = $0 { return true } else { return false } })
        XCTAssertEqual(control.line(ofCall: "c2"), 2)
    }

    func testACallIsAnsweredWithThePacketTimeOfItsLinesAccount() throws {
        let control = makeControl()
        for (callID, line, ptime) in [("c1", 1, "20"), ("c2", 2, "30")] {
            _ = control.receive(request: try invite(callID: callID), from: origin(), at: now)
            _ = control.mediaOpened(callID, host: "127.0.0.1", port: 40_000, at: now)
            control.lineStateChanged(line, to: .ringing)
            let ok = try XCTUnwrap(sent(control.lineAnswered(line, at: now)).first?.text)
            XCTAssertTrue(ok.contains("a=ptime:\(ptime)\r\n"), "line \(line): \(ok)")
        }
    }

    func testNoMediaPortsGets500AndFreesTheLine() throws {
        let control = makeControl()
        _ = control.receive(request: try invite(), from: origin(), at: now)
        let actions = control.mediaUnavailable("c1", at: .zero)
        XCTAssertEqual(statuses(actions), ["SIP/2.0 500 Server Internal Error"])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testTheSameInviteByAnotherPathGets482AndACopyGetsTheLastResponse() throws {
        let control = makeControl()
        try ring(control)
        let merged = try XCTUnwrap(control.receive(request: try invite(branch: "z9hG4bKother"), from: origin(), at: now))
        XCTAssertEqual(statuses(merged), ["SIP/2.0 482 Loop Detected"])
        let copy = try XCTUnwrap(control.receive(request: try invite(), from: origin(), at: now))
        XCTAssertEqual(statuses(copy), ["SIP/2.0 180 Ringing"])
    }

    func testRequestsOutsideTheDialogGet481AndTheCallGoesOn() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        let unknownTag = try XCTUnwrap(control.receive(request: try invite(toTag: "nobody", cseq: 2), from: origin(), at: now))
        XCTAssertEqual(statuses(unknownTag), ["SIP/2.0 481 Call/Transaction Does Not Exist"])
        let wrongFrom = try XCTUnwrap(control.receive(request: try request("BYE", fromTag: "stranger", toTag: toTag, cseq: 3),
                                                      from: origin(), at: now))
        XCTAssertEqual(statuses(wrongFrom), ["SIP/2.0 481 Call/Transaction Does Not Exist"])
        XCTAssertEqual(control.lines[1]?.active, "c1", "the call goes on")
        let noCall = try XCTUnwrap(control.receive(request: try request("BYE", callID: "none", toTag: "x", cseq: 3),
                                                   from: origin(), at: now))
        XCTAssertEqual(statuses(noCall), ["SIP/2.0 481 Call/Transaction Does Not Exist"])
    }

    func testACSeqThatGoesBackGets500() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        _ = control.receive(request: try request("INFO", toTag: toTag, cseq: 5, extra: ["Content-Type: text/plain"]),
                            from: origin(), at: now)
        let back = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 4), from: origin(), at: now))
        XCTAssertEqual(statuses(back), ["SIP/2.0 500 Server Internal Error"])
    }

    func testCancelWhileRingingGets487AndStopsTheBell() throws {
        let control = makeControl()
        try ring(control)
        control.lineStateChanged(1, to: .ringing)
        let cancel = try message(["CANCEL sip:1001@127.0.0.1:5060 SIP/2.0",
                                  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb1", "Max-Forwards: 70",
                                  "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>",
                                  "Call-ID: c1", "CSeq: 1 CANCEL"])
        let actions = try XCTUnwrap(control.receive(request: cancel, from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"])
        XCTAssertEqual(lineCommands(actions), [.input(.incomingCallEnded)])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testAReinviteBeforeTheAnswerGets500WithRetryAfter() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        let actions = try XCTUnwrap(control.receive(request: try invite(toTag: toTag, cseq: 2), from: origin(), at: now))
        let response = try XCTUnwrap(sent(actions).first?.text)
        XCTAssertTrue(response.hasPrefix("SIP/2.0 500 "))
        XCTAssertEqual(header("Retry-After", in: response), "7", "random 0-10 s")
    }

    func testAnAcceptedReinviteMovesTheMediaAndIsRepeatedUntilItsAck() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now)
        XCTAssertNil(control.nextDeadline)
        let hold = CallControlTests.offer.replacingOccurrences(of: "m=audio 4000", with: "m=audio 4002") + "a=sendonly\r\n"
        let actions = try XCTUnwrap(control.receive(request: try invite(toTag: toTag, cseq: 2, body: hold), from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(actions), ["start 1"])
        XCTAssertTrue(actions.contains { if case .log(.info, "line 1: the far end put the call on hold") = $0 { return true } else { return false } })
        XCTAssertTrue(sent(actions)[0].text.contains("a=recvonly"))
        // No ACK: the 200 is sent again on T1, then 2×T1.
        let first = try XCTUnwrap(control.nextDeadline)
        XCTAssertEqual(first, now + .milliseconds(500))
        XCTAssertEqual(statuses(control.advance(to: first)), ["SIP/2.0 200 OK"])
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 2), from: origin(), at: first)
        XCTAssertNil(control.nextDeadline, "the ACK stops it")
    }

    func testAnEmptyReinviteGetsOurOfferAndItsAckMovesTheMedia() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now)
        let asked = try XCTUnwrap(control.receive(request: try invite(toTag: toTag, cseq: 2, body: ""), from: origin(), at: now))
        XCTAssertEqual(statuses(asked), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(asked), [], "the media moves only with the answer")
        XCTAssertTrue(sent(asked)[0].text.contains("m=audio 40000 RTP/AVP 0 8 13 101"), "our offer: \(sent(asked)[0].text)")
        XCTAssertNotNil(control.nextDeadline, "the 200 repeats until its ACK")
        // A copy of the first ACK is no answer to it.
        let stale = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now))
        XCTAssertEqual(mediaCommands(stale), [])
        let hold = CallControlTests.offer.replacingOccurrences(of: "m=audio 4000 RTP/AVP 0 101", with: "m=audio 4002 RTP/AVP 8")
            + "a=sendonly\r\n"
        let acked = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 2,
                                                                       extra: ["Content-Type: application/sdp"], body: hold),
                                                  from: origin(), at: now))
        XCTAssertEqual(mediaCommands(acked), ["start 1"])
        guard case .media(_, .start(_, let media, _))? = acked.first(where: { if case .media = $0 { return true } else { return false } }) else {
            return XCTFail("\(acked)")
        }
        XCTAssertEqual(media.codec, .pcma)
        XCTAssertEqual(media.remoteRTPPort, 4002)
        XCTAssertTrue(acked.contains { if case .log(.info, "line 1: the far end put the call on hold") = $0 { return true } else { return false } })
        XCTAssertNil(control.nextDeadline, "the ACK stops the 200")
    }

    func testAnEmptyReinviteWhoseAckHasNoAnswerKeepsTheCall() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now)
        _ = control.receive(request: try invite(toTag: toTag, cseq: 2, body: ""), from: origin(), at: now)
        let acked = try XCTUnwrap(control.receive(request: try request("ACK", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertEqual(statuses(acked), [], "no BYE")
        XCTAssertEqual(lineCommands(acked), [])
        XCTAssertNotNil(control.lines[1]?.active, "the call goes on")
    }

    func testAFarEndSilentForTheRTPTimeoutIsHungUp() throws {
        let control = makeControl()
        let rang = now
        let (_, toTag) = try ring(control)
        XCTAssertTrue(control.mediaTimedOut("c1", lastHeard: rang, seconds: 60, at: now).isEmpty, "not before the answer")
        // It rang for 90 s, silent: the silence before the answer does not count.
        let answered = rang + .seconds(90)
        _ = control.lineAnswered(1, at: answered)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: answered)
        XCTAssertTrue(control.mediaTimedOut("c1", lastHeard: rang, seconds: 60, at: answered + .seconds(59)).isEmpty)
        let actions = control.mediaTimedOut("c1", lastHeard: rang, seconds: 60, at: answered + .seconds(60))
        XCTAssertEqual(statuses(actions).first?.hasPrefix("BYE "), true, "\(statuses(actions))")
        XCTAssertEqual(lineCommands(actions), [.input(.remoteHangUp)])
        XCTAssertTrue(control.mediaTimedOut("c1", lastHeard: rang, seconds: 60, at: answered + .seconds(61)).isEmpty, "once")
    }

    func testKeysByInfoArePlayedAndOtherInfoGets415() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        let key = try XCTUnwrap(control.receive(request: try request("INFO", toTag: toTag, cseq: 2,
                                                                     extra: ["Content-Type: application/dtmf-relay"],
                                                                     body: "Signal=5\r\nDuration=160\r\n"), from: origin(), at: now))
        XCTAssertEqual(statuses(key), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(key), ["key 5 160"])
        let other = try XCTUnwrap(control.receive(request: try request("INFO", toTag: toTag, cseq: 3,
                                                                       extra: ["Content-Type: application/foo"]), from: origin(), at: now))
        XCTAssertEqual(statuses(other), ["SIP/2.0 415 Unsupported Media Type"])
    }

    func testOptionsInsideACallIsLeftToTheDaemon() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        XCTAssertNil(control.receive(request: try request("OPTIONS", toTag: toTag, cseq: 2), from: origin(), at: now))
        XCTAssertNil(control.receive(request: try request("OPTIONS", callID: "x", toTag: nil, cseq: 1), from: origin(), at: now))
    }

    func testTheHandsetHangingUpSendsByeTheWayTheInviteCame() throws {
        let control = makeControl()
        let (_, toTag) = try ring(control)
        _ = control.lineAnswered(1, at: now)
        _ = control.receive(request: try request("ACK", toTag: toTag, cseq: 1), from: origin(), at: now)
        let actions = control.lineHungUp(1, at: now)
        let bye = try XCTUnwrap(sent(actions).first)
        XCTAssertTrue(bye.text.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye.text)
        XCTAssertEqual(bye.route, "caller")
    }

    func testALostConnectionEndsItsCalls() throws {
        let control = makeControl()
        try ring(control)
        control.lineStateChanged(1, to: .ringing)
        XCTAssertTrue(control.connectionLost { $0 == "elsewhere" }.isEmpty)
        let actions = control.connectionLost { $0 == "caller" }
        XCTAssertEqual(lineCommands(actions), [.input(.incomingCallEnded)])
        XCTAssertEqual(mediaCommands(actions), ["close 1"])
        XCTAssertNil(control.lines[1]?.active)
    }

    // MARK: Calls the lines place

    private var account: SIPAccount {
        SIPAccount(accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: "secret",
                   displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
                   expires: 600, localHost: "127.0.0.1", localPort: 5060, userAgent: "atad/test")
    }

    private func response(to request: String, _ status: String, toTag: String? = "far", extra: [String] = [],
                          body: String = "") throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        lines.append("To: \(header("To", in: request)!)" + (toTag.map { ";tag=\($0)" } ?? ""))
        return try message(lines + extra, body: body)
    }

    /// `line` dials 2000 through the account; returns the INVITE sent.
    private func dial(_ control: CallControl<String>, line: Int = 1) throws -> (callID: String, invite: String) {
        let asked = control.lineDialed(line, number: "2000", through: (account, "proxy"), at: now)
        guard case .openMedia(let callID, let host, _)? = asked.first else {
            XCTFail("expected openMedia, got \(asked)")
            return ("", "")
        }
        XCTAssertEqual(host, "127.0.0.1")
        let actions = control.mediaOpened(callID, host: "127.0.0.1", port: 41_000, at: now)
        let invite = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(invite.route, "proxy")
        XCTAssertTrue(invite.text.hasPrefix("INVITE sip:2000@atad.test SIP/2.0\r\n"))
        XCTAssertTrue(invite.text.contains("m=audio 41000 RTP/AVP"), "the offer names the port opened")
        return (callID, invite.text)
    }

    func testALineWithNoAccountPlaysCongestion() {
        let control = makeControl()
        let actions = control.lineDialed(1, number: "2000", through: nil, at: now)
        XCTAssertEqual(lineCommands(actions), [.input(.callFailed(busy: false))])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testAPlacedCallRingsHearsEarlyMediaIsAnsweredAndAcked() throws {
        let control = makeControl()
        let (callID, invite) = try dial(control)
        XCTAssertEqual(control.lines[1]?.active, callID)
        control.lineStateChanged(1, to: .calling)
        let ringing = try XCTUnwrap(control.receive(response: try response(to: invite, "180 Ringing"), at: now))
        XCTAssertEqual(lineCommands(ringing), [.input(.remoteRinging)])
        control.lineStateChanged(1, to: .ringback)
        let answer = CallControlTests.offer.replacingOccurrences(of: " 0 101", with: " 0")
        let early = try XCTUnwrap(control.receive(response: try response(to: invite, "183 Session Progress",
                                                                          extra: ["Content-Type: application/sdp"], body: answer), at: now))
        XCTAssertEqual(lineCommands(early), [.hearEarlyMedia], "already in ringback: no second ringing")
        XCTAssertEqual(mediaCommands(early), ["start 1"])
        let ok = try XCTUnwrap(control.receive(response: try response(to: invite, "200 OK",
                                                                       extra: ["Contact: <sip:2000@127.0.0.1:6000>"]), at: now))
        XCTAssertEqual(lineCommands(ok), [.input(.remoteAnswered)])
        XCTAssertEqual(mediaCommands(ok), [], "the media started with the 183's answer")
        XCTAssertTrue(sent(ok).first?.text.hasPrefix("ACK sip:2000@127.0.0.1:6000 SIP/2.0\r\n") ?? false)
    }

    func testAReinviteWhileOurInviteIsPendingGets491() throws {
        let control = makeControl()
        let (callID, invite) = try dial(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        let fromTag = try XCTUnwrap(header("From", in: invite)?.components(separatedBy: "tag=").last)
        let glare = try message(["INVITE sip:1001@127.0.0.1:5060 SIP/2.0",
                                 "Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKg", "Max-Forwards: 70",
                                 "From: <sip:2000@atad.test>;tag=far", "To: <sip:1001@atad.test>;tag=\(fromTag)",
                                 "Call-ID: \(callID)", "CSeq: 1 INVITE", "Contact: <sip:2000@127.0.0.1:6000>"])
        let actions = try XCTUnwrap(control.receive(request: glare, from: origin(), at: now))
        XCTAssertEqual(statuses(actions), ["SIP/2.0 491 Request Pending"])
    }

    func testAPlacedCallNobodyAnswersFailsOnTimerBAndFreesTheLine() throws {
        let control = makeControl()
        _ = try dial(control)
        var failed: [Action] = []
        for _ in 0..<20 {
            guard let due = control.nextDeadline else { break }
            now = due
            for action in control.advance(to: due) {
                failed.append(action)
                // The account has no other server.
                if case .findOtherServer(let callID, _, _) = action {
                    failed += control.otherServerFound(callID, route: nil, at: due)
                }
            }
        }
        XCTAssertEqual(lineCommands(failed), [.input(.callFailed(busy: false))])
        XCTAssertEqual(mediaCommands(failed), ["close 1"])
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertGreaterThanOrEqual(now, Instant.zero + .seconds(100) + .seconds(32), "64×T1")
    }

    /// RFC 3263 §4.3: a 503 (or a silent server) before anything rang
    /// sends the INVITE to the account's next server, at most four in all.
    func testAServerThatFailsHandsTheCallToTheNextUpToFour() throws {
        let control = makeControl()
        let (callID, firstInvite) = try dial(control)
        var invite = firstInvite
        var tried = ["proxy"]
        for next in ["proxy2", "proxy3", "proxy4"] {
            let failed = try XCTUnwrap(control.receive(response: try response(to: invite, "503 Service Unavailable"), at: now))
            XCTAssertEqual(lineCommands(failed), [], "the line hears nothing yet")
            guard case .findOtherServer(let id, let account, let triedSoFar)? = failed.last else {
                return XCTFail("no server sought: \(failed)")
            }
            XCTAssertEqual(id, callID)
            XCTAssertEqual(account, "home")
            XCTAssertEqual(triedSoFar, tried)
            let resent = control.otherServerFound(callID, route: next, at: now)
            let request = try XCTUnwrap(sent(resent).first)
            XCTAssertEqual(request.route, next)
            XCTAssertTrue(request.text.hasPrefix("INVITE "))
            invite = request.text
            tried.append(next)
        }
        let last = try XCTUnwrap(control.receive(response: try response(to: invite, "503 Service Unavailable"), at: now))
        let given = control.otherServerFound(callID, route: "proxy5", at: now)
        XCTAssertTrue(sent(given).isEmpty, "a fifth server is not tried: \(last)")
        XCTAssertEqual(lineCommands(given), [.input(.callFailed(busy: false))])
        XCTAssertEqual(mediaCommands(given), ["close 1"])
        XCTAssertNil(control.lines[1]?.active)
    }

    /// STUN's answer (`publicMedia`) is what the SDP gives, with `a=rtcp`
    /// when the router mapped RTCP's socket apart from RTP's (RFC 3605).
    func testWhereSTUNSawTheMediaGoesInTheOfferAndTheAnswer() throws {
        let control = makeControl()
        let asked = control.lineDialed(1, number: "2000", through: (account, "proxy"), at: now)
        guard case .openMedia(let callID, _, _)? = asked.first else { return XCTFail("\(asked)") }
        let seen = PublicMedia(host: "198.51.100.1", rtpPort: 40_200, rtcpPort: 40_731)
        let offer = try XCTUnwrap(sent(control.mediaOpened(callID, host: "10.0.0.2", port: 41_000, publicMedia: seen,
                                                           at: now)).first?.text)
        XCTAssertTrue(offer.contains("c=IN IP4 198.51.100.1\r\n"), offer)
        XCTAssertTrue(offer.contains("m=audio 40200 RTP/AVP"), offer)
        XCTAssertTrue(offer.contains("a=rtcp:40731\r\n"), offer)
        XCTAssertTrue(offer.contains("Contact: <sip:1001@127.0.0.1:"), "SIP's own address is not STUN's business")

        let incoming = makeControl()
        _ = try XCTUnwrap(incoming.receive(request: try invite(), from: origin(), at: now))
        let adjacent = PublicMedia(host: "198.51.100.1", rtpPort: 40_300, rtcpPort: 40_301)
        let ringing = incoming.mediaOpened("c1", host: "10.0.0.2", port: 40_000, publicMedia: adjacent, at: now)
        XCTAssertEqual(lineCommands(ringing), [.ring(caller: CallerIdentity(number: .shown("2000"), name: .unavailable))])
        let answered = try XCTUnwrap(sent(incoming.lineAnswered(1, at: now)).last?.text)
        XCTAssertTrue(answered.contains("c=IN IP4 198.51.100.1\r\n"), answered)
        XCTAssertTrue(answered.contains("m=audio 40300 RTP/AVP"), answered)
        XCTAssertFalse(answered.contains("a=rtcp:"), "RTCP on the port above RTP's needs no a=rtcp")
    }

    /// While STUN is asked, a call has its ports but has sent nothing: a
    /// hang-up just closes them; a CANCEL gets 200 and its INVITE 487.
    func testACallGoneBeforeItsMediaWasReadyClosesItsPorts() throws {
        let control = makeControl()
        let asked = control.lineDialed(1, number: "2000", through: (account, "proxy"), at: now)
        guard case .openMedia(let callID, _, _)? = asked.first else { return XCTFail("\(asked)") }
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(mediaCommands(hungUp), ["close 1"])
        XCTAssertTrue(sent(hungUp).isEmpty)
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertTrue(sent(control.mediaOpened(callID, host: "127.0.0.1", port: 41_000, at: now)).isEmpty,
                      "ports readied late place nothing")

        let incoming = makeControl()
        _ = try XCTUnwrap(incoming.receive(request: try invite(), from: origin(), at: now))
        let cancel = try message(["CANCEL sip:1001@127.0.0.1:5060 SIP/2.0",
                                  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb1", "Max-Forwards: 70",
                                  "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>",
                                  "Call-ID: c1", "CSeq: 1 CANCEL"])
        let cancelled = try XCTUnwrap(incoming.receive(request: cancel, from: origin(), at: now))
        XCTAssertEqual(statuses(cancelled), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"])
        let tags = sent(cancelled).map { header("To", in: $0.text) }
        XCTAssertEqual(tags[0], tags[1], "one To tag for the CANCEL's 200 and the INVITE's 487 (§9.2)")
        XCTAssertEqual(mediaCommands(cancelled), ["close 1"])
        XCTAssertNil(incoming.lines[1]?.active)
        XCTAssertTrue(lineCommands(incoming.mediaOpened("c1", host: "127.0.0.1", port: 40_000, at: now)).isEmpty,
                      "nothing rings")
    }

    func testABusyFarEndPlaysBusy() throws {
        let control = makeControl()
        let (_, invite) = try dial(control)
        let busy = try XCTUnwrap(control.receive(response: try response(to: invite, "486 Busy Here"), at: now))
        XCTAssertEqual(lineCommands(busy), [.input(.callFailed(busy: true))])
        XCTAssertEqual(mediaCommands(busy), ["close 1"])
    }

    func testNoMediaPortsForAPlacedCallPlaysCongestion() {
        let control = makeControl()
        guard case .openMedia(let callID, _, _)? = control.lineDialed(1, number: "2000", through: (account, "proxy"), at: now).first else {
            return XCTFail("expected openMedia")
        }
        XCTAssertEqual(lineCommands(control.mediaUnavailable(callID, at: .zero)), [.input(.callFailed(busy: false))])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testTheHandsetHangingUpBeforeTheAnswerCancels() throws {
        let control = makeControl()
        let (_, invite) = try dial(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        let actions = control.lineHungUp(1, at: now)
        XCTAssertTrue(sent(actions).first?.text.hasPrefix("CANCEL sip:2000@atad.test SIP/2.0\r\n") ?? false)
        XCTAssertEqual(sent(actions).first?.route, "proxy")
    }

    func testACancelNeverAnsweredFreesTheLineAfter64T1() throws {
        let control = makeControl()
        let (_, invite) = try dial(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        let hungUpAt = now
        _ = control.lineHungUp(1, at: now)
        var closed: [String] = []
        for _ in 0..<40 {
            guard let due = control.nextDeadline else { break }
            now = due
            closed += mediaCommands(control.advance(to: due))
        }
        XCTAssertEqual(closed, ["close 1"])
        XCTAssertNil(control.lines[1]?.active, "the line is free for the next call")
        XCTAssertGreaterThanOrEqual(now, hungUpAt + .seconds(32))
        XCTAssertLessThanOrEqual(now, hungUpAt + .seconds(33))
        _ = try dial(control)
    }

    func testEndAllClosesEveryCallsMedia() throws {
        let control = makeControl()
        try ring(control)
        _ = try dial(control, line: 2)
        XCTAssertEqual(mediaCommands(control.endAll()).sorted(), ["close 1", "close 2"])
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertNil(control.lines[2]?.active)
    }
}
