import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// The UAC side of a call, with hand-written responses and explicit times.
final class OutgoingCallTests: XCTestCase {
    private let now = Instant.zero + .seconds(70)
    private var counter = 0

    private func makeCall() -> OutgoingCall {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: "secret",
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        return OutgoingCall(settings: settings, number: "9123", offer: Array("v=0\r\n".utf8), makeToken: { [unowned self] in
            self.counter += 1
            return "k\(self.counter)"
        })
    }

    private func sent(_ actions: [OutgoingCallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func header(_ name: String, in message: String) -> String? {
        for line in message.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private func response(to request: String, _ status: String, toTag: String? = nil, _ extra: [String] = [],
                          body: String = "") throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        lines.append("To: \(header("To", in: request)!)" + (toTag.map { ";tag=\($0)" } ?? ""))
        lines += extra
        lines.append("Content-Length: \(body.utf8.count)")
        return try SIPParser().parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8), framing: .datagram)
    }

    func testChallengedInviteIsSentAgainWithCredentialsThenAnsweredAndAcked() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        XCTAssertTrue(invite.hasPrefix("INVITE sip:9123@atad.test SIP/2.0\r\n"), invite)
        XCTAssertEqual(header("Content-Type", in: invite), "application/sdp")
        XCTAssertEqual(header("Contact", in: invite), "<sip:1001@127.0.0.1:5070;transport=udp>")
        XCTAssertEqual(header("Max-Forwards", in: invite), "70")
        XCTAssertEqual(header("User-Agent", in: invite), "atad/test")
        XCTAssertEqual(header("Allow", in: invite), "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, UPDATE, NOTIFY, REFER")
        XCTAssertEqual(header("Supported", in: invite), "100rel, timer")
        let challenge = try response(to: invite, "407 Proxy Authentication Required", toTag: "p1",
                                     ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n\", qop=\"auth\""])
        let afterChallenge = sent(call.handle(response: challenge, at: now))
        XCTAssertEqual(afterChallenge.count, 2, "ACK for the 407, then the new INVITE")
        XCTAssertTrue(afterChallenge[0].hasPrefix("ACK sip:9123@atad.test SIP/2.0\r\n"))
        XCTAssertEqual(header("CSeq", in: afterChallenge[0]), "1 ACK")
        let second = afterChallenge[1]
        XCTAssertEqual(header("CSeq", in: second), "2 INVITE")
        XCTAssertTrue(header("Proxy-Authorization", in: second)?.hasPrefix("Digest ") ?? false, second)

        let ringing = try response(to: second, "180 Ringing", toTag: "far")
        XCTAssertEqual(call.handle(response: ringing, at: now), [.event(.ringing)])
        let ok = try response(to: second, "200 OK", toTag: "far",
                              ["Contact: <sip:far@127.0.0.1:6000>", "Record-Route: <sip:p1.test;lr>", "Record-Route: <sip:p2.test;lr>"])
        let answered = call.handle(response: ok, at: now)
        XCTAssertEqual(answered.last, .event(.answered))
        let ack = try XCTUnwrap(sent(answered).first)
        XCTAssertTrue(ack.hasPrefix("ACK sip:far@127.0.0.1:6000 SIP/2.0\r\n"), ack)
        XCTAssertEqual(header("CSeq", in: ack), "2 ACK")
        XCTAssertTrue(ack.contains("Route: <sip:p2.test;lr>\r\nRoute: <sip:p1.test;lr>\r\n"), "the UAC's route set is reversed")
        XCTAssertEqual(call.state, .confirmed)
        // A retransmitted 200 gets the same ACK again.
        XCTAssertEqual(sent(call.handle(response: ok, at: now)), [ack])
    }

    func testEarlyMediaKeepsTheFirstSDPAnswer() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        let progress = try response(to: invite, "183 Session Progress", toTag: "far", ["Content-Type: application/sdp"], body: sdp)
        XCTAssertEqual(call.handle(response: progress, at: now), [.event(.ringing), .event(.earlyMedia)])
        XCTAssertEqual(call.remoteSDP.map { String(decoding: $0, as: UTF8.self) }, sdp)
        // A later 180 without SDP changes nothing; the 200 may repeat the answer.
        XCTAssertEqual(call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now), [])
        let ok = try response(to: invite, "200 OK", toTag: "far", ["Contact: <sip:far@127.0.0.1:6000>",
                                                                   "Content-Type: application/sdp"], body: sdp)
        XCTAssertEqual(call.handle(response: ok, at: now).last, .event(.answered))
        XCTAssertEqual(call.remoteSDP.map { String(decoding: $0, as: UTF8.self) }, sdp)
    }

    func testADomainWithAPortStaysOneURIHost() {
        XCTAssertEqual(SIPAccount.uriHost("127.0.0.1:5070"), "127.0.0.1:5070")
        XCTAssertEqual(SIPAccount.uriHost("atad.test"), "atad.test")
        XCTAssertEqual(SIPAccount.uriHost("2001:db8::1"), "[2001:db8::1]")
        XCTAssertEqual(SIPAccount.uriHost("[2001:db8::1]:5070"), "[2001:db8::1]:5070")
    }

    func testAHashInTheNumberIsEscaped() throws {
        var counter = 0
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: nil,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        var call = OutgoingCall(settings: settings, number: "*72#5551234", offer: Array("v=0\r\n".utf8),
                                makeToken: { counter += 1; return "t\(counter)" })
        let bytes = try XCTUnwrap(call.start(at: .zero).compactMap { action -> [UInt8]? in
            if case .send(let bytes) = action { return bytes } else { return nil }
        }.first)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("INVITE sip:*72%235551234@atad.test SIP/2.0\r\n"), text)
        // What we send, our own parser takes: the responses are then matched.
        XCTAssertNoThrow(try SIPParser().parse(bytes, framing: .datagram))
    }

    func testBusyFarEndFailsAsBusy() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let busy = try response(to: invite, "486 Busy Here", toTag: "far")
        let actions = call.handle(response: busy, at: now)
        XCTAssertEqual(actions.last, .event(.failed(busy: true, reason: "486 Busy Here")))
        XCTAssertEqual(call.state, .ended)
    }

    func testHangingUpWhileItRingsSendsCancel() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now)
        let cancel = try XCTUnwrap(sent(call.hangUp(at: now)).first)
        XCTAssertTrue(cancel.hasPrefix("CANCEL sip:9123@atad.test SIP/2.0\r\n"))
        XCTAssertEqual(header("Via", in: cancel), header("Via", in: invite), "CANCEL reuses the INVITE's branch")
        XCTAssertEqual(header("CSeq", in: cancel), "1 CANCEL")
        let terminated = try response(to: invite, "487 Request Terminated", toTag: "far")
        let actions = call.handle(response: terminated, at: now)
        XCTAssertTrue(sent(actions).first?.hasPrefix("ACK ") ?? false)
        XCTAssertEqual(call.state, .ended)
    }

    func testCancelWaitsForAProvisionalResponse() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        XCTAssertTrue(sent(call.hangUp(at: now)).isEmpty, "no CANCEL before any provisional response (RFC 3261 §9.1)")
        let trying = try response(to: invite, "100 Trying")
        XCTAssertTrue(sent(call.handle(response: trying, at: now)).first?.hasPrefix("CANCEL ") ?? false)
    }

    func testUnansweredInviteFailsAfterTimerB() throws {
        var call = makeCall()
        _ = call.start(at: now)
        var failed: Instant?
        var retransmits = 0
        while failed == nil, let due = call.nextDeadline, due < now + .seconds(40) {
            for action in call.advance(to: due) {
                if case .send = action { retransmits += 1 }
                if case .event(.failed(false, _)) = action { failed = due }
                // Call control knows no other server: the INVITE runs on.
                if case .event(.serverFailed) = action { XCTAssertEqual(call.noOtherServer(), []) }
            }
        }
        XCTAssertEqual(failed, now + .seconds(32), "Timer B, 64*T1")
        XCTAssertEqual(retransmits, 6, "Timer A: 0.5, 1, 2, 4, 8, 16 s")
    }

    /// Runs the call's timers until it reports its server failed; returns
    /// when, and what was sent meanwhile.
    private func untilServerFails(_ call: inout OutgoingCall, from start: Instant) -> (Instant?, [String]) {
        var sentMeanwhile: [String] = []
        while let due = call.nextDeadline, due < start + .seconds(40) {
            let actions = call.advance(to: due)
            sentMeanwhile += sent(actions)
            if actions.contains(where: { if case .event(.serverFailed) = $0 { return true } else { return false } }) {
                return (due, sentMeanwhile)
            }
        }
        return (nil, sentMeanwhile)
    }

    /// RFC 3263 §4.3 with a shorter fuse: no response at all, not even 100
    /// Trying, for 8*T1 (4 s) and the server is taken for down; the INVITE
    /// goes to the next one as a new transaction of the same call.
    func testASilentServerIsGivenUpAfter8T1AndTheInviteGoesToTheNext() throws {
        var call = makeCall()
        let first = try XCTUnwrap(sent(call.start(at: now)).first)
        let (failedAt, repeats) = untilServerFails(&call, from: now)
        XCTAssertEqual(failedAt, now + .seconds(4))
        XCTAssertEqual(repeats.count, 3, "Timer A at 0.5, 1.5 and 3.5 s")
        XCTAssertEqual(call.state, .seekingServer)
        let second = try XCTUnwrap(sent(call.tryOtherServer(at: now + .seconds(4))).first)
        XCTAssertTrue(second.hasPrefix("INVITE sip:9123@atad.test SIP/2.0\r\n"), second)
        XCTAssertNotEqual(header("Via", in: second), header("Via", in: first), "a new branch: a new transaction")
        XCTAssertEqual(header("CSeq", in: second), "2 INVITE")
        XCTAssertEqual(header("Call-ID", in: second), header("Call-ID", in: first))
        XCTAssertEqual(header("From", in: second), header("From", in: first))
        // The first server's INVITE is not repeated any more.
        XCTAssertEqual(call.nextDeadline, now + .seconds(4) + .milliseconds(500))
        let answered = call.handle(response: try response(to: second, "200 OK", toTag: "b",
                                                          ["Contact: <sip:far@127.0.0.2:6000>"]), at: now + .seconds(5))
        XCTAssertEqual(answered.last, .event(.answered))
        XCTAssertEqual(call.state, .confirmed)
    }

    func testA503FailsOverAndWithNoOtherServerTheCallFails() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let unavailable = try response(to: invite, "503 Service Unavailable", toTag: "p", ["Retry-After: 60"])
        let actions = call.handle(response: unavailable, at: now)
        XCTAssertTrue(sent(actions).first?.hasPrefix("ACK ") ?? false, "the 503 is acknowledged")
        XCTAssertEqual(actions.last, .event(.serverFailed(reason: "503 Service Unavailable")))
        // Its copy gets an ACK again and is not a second failure.
        let again = call.handle(response: unavailable, at: now + .milliseconds(100))
        XCTAssertEqual(sent(again).count, 1)
        XCTAssertEqual(again.count, 1)
        XCTAssertEqual(call.noOtherServer(), [.event(.failed(busy: false, reason: "503 Service Unavailable"))])
        XCTAssertEqual(call.state, .ended)
    }

    func testNothingFailsOverOnceTheFarEndRang() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now)
        let actions = call.handle(response: try response(to: invite, "503 Service Unavailable", toTag: "far"), at: now)
        XCTAssertEqual(actions.last, .event(.failed(busy: false, reason: "503 Service Unavailable")))
        // And a server that answered 100 is not silent.
        var other = makeCall()
        let second = try XCTUnwrap(sent(other.start(at: now)).first)
        _ = other.handle(response: try response(to: second, "100 Trying"), at: now + .milliseconds(100))
        XCTAssertNil(untilServerFails(&other, from: now).0)
    }

    func testASilentServerThatSpeaksAfterAllKeepsTheCall() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = untilServerFails(&call, from: now)
        let ringing = call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now + .seconds(5))
        XCTAssertEqual(ringing, [.event(.ringing)])
        XCTAssertEqual(call.tryOtherServer(at: now + .seconds(5)), [], "the route found too late is not taken")
        XCTAssertEqual(call.state, .ringing)
    }

    func testHangingUpWhileASilentServerIsReplacedCancelsOnlyIfItSpeaks() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = untilServerFails(&call, from: now)
        XCTAssertEqual(call.hangUp(at: now + .seconds(4)), [], "no CANCEL before a provisional response")
        XCTAssertEqual(call.state, .cancelling)
        XCTAssertEqual(call.tryOtherServer(at: now + .seconds(4)), [])
        let late = call.handle(response: try response(to: invite, "100 Trying"), at: now + .seconds(5))
        XCTAssertTrue(sent(late).first?.hasPrefix("CANCEL ") ?? false)
    }

    /// The silent first server speaks after the INVITE went to the next:
    /// its 1xx gets a CANCEL and its 2xx an ACK and a BYE, all sent to it
    /// (`sendToServer` 0), and neither is taken for the call.
    func testAnAbandonedServerThatAnswersLateIsCancelledOrHungUpThere() throws {
        var call = makeCall()
        let first = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = untilServerFails(&call, from: now)
        let second = try XCTUnwrap(sent(call.tryOtherServer(at: now + .seconds(4))).first)
        let late = call.handle(response: try response(to: first, "180 Ringing", toTag: "a"), at: now + .seconds(5))
        guard case .sendToServer(let cancelBytes, 0)? = late.first, late.count == 1 else { return XCTFail("\(late)") }
        let cancel = String(decoding: cancelBytes, as: UTF8.self)
        XCTAssertTrue(cancel.hasPrefix("CANCEL sip:9123@atad.test SIP/2.0\r\n"), cancel)
        XCTAssertEqual(header("Via", in: cancel), header("Via", in: first), "the first INVITE's branch")
        XCTAssertEqual(header("CSeq", in: cancel), "1 CANCEL")
        XCTAssertEqual(call.state, .calling, "the late ringing is not the call's")
        XCTAssertEqual(call.handle(response: try response(to: first, "183 Progress", toTag: "a"), at: now + .seconds(5)), [],
                       "one CANCEL")

        let answeredThere = call.handle(response: try response(to: first, "200 OK", toTag: "a",
                                                               ["Contact: <sip:far@127.0.0.9:6000>"]), at: now + .seconds(6))
        let there = answeredThere.compactMap { action -> String? in
            if case .sendToServer(let bytes, 0) = action { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }
        XCTAssertEqual(there.count, 2, "\(answeredThere)")
        XCTAssertTrue(there[0].hasPrefix("ACK sip:far@127.0.0.9:6000 SIP/2.0\r\n"), there[0])
        XCTAssertEqual(header("CSeq", in: there[0]), "1 ACK")
        XCTAssertTrue(there[1].hasPrefix("BYE sip:far@127.0.0.9:6000 SIP/2.0\r\n"), there[1])
        XCTAssertEqual(call.state, .calling)

        let answered = call.handle(response: try response(to: second, "200 OK", toTag: "b",
                                                          ["Contact: <sip:far@127.0.0.2:6000>"]), at: now + .seconds(7))
        XCTAssertEqual(answered.last, .event(.answered), "the next server's answer is the call's")
        XCTAssertTrue(sent(answered).first?.hasPrefix("ACK sip:far@127.0.0.2:6000 ") ?? false)
    }

    /// A proxy that challenged the INVITE, then failed: the next server
    /// gets no stale credentials and its own challenge is answered.
    func testFailoverAfterAChallengeStartsTheNextServerWithoutOldCredentials() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let challenge = try response(to: invite, "407 Proxy Authentication Required", toTag: "p1",
                                     ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"a\", qop=\"auth\""])
        let retried = try XCTUnwrap(sent(call.handle(response: challenge, at: now)).last)
        XCTAssertNotNil(header("Proxy-Authorization", in: retried))
        _ = call.handle(response: try response(to: retried, "503 Service Unavailable", toTag: "p1"), at: now)
        let next = try XCTUnwrap(sent(call.tryOtherServer(at: now)).first)
        XCTAssertNil(header("Proxy-Authorization", in: next), "the first server's nonce is not shown to the next")
        let nextChallenge = try response(to: next, "407 Proxy Authentication Required", toTag: "p2",
                                         ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"b\", qop=\"auth\""])
        let answeredChallenge = try XCTUnwrap(sent(call.handle(response: nextChallenge, at: now)).last)
        XCTAssertTrue(header("Proxy-Authorization", in: answeredChallenge)?.contains("nonce=\"b\"") ?? false,
                      answeredChallenge)
    }

    func testAConnectionThatCannotBeMadeFailsTheServerAtOnce() throws {
        var call = makeCall()
        _ = call.start(at: now)
        XCTAssertEqual(call.transportFailed(at: now + .milliseconds(3)),
                       [.event(.serverFailed(reason: "cannot connect to the server"))])
        XCTAssertEqual(call.state, .seekingServer)
        XCTAssertNil(call.nextDeadline, "the dead server's INVITE is not repeated")
        XCTAssertEqual(call.noOtherServer(), [.event(.failed(busy: false, reason: "cannot connect to the server"))])
        // Once the server answered, a lost connection is not a failover.
        var answered = makeCall()
        let invite = try XCTUnwrap(sent(answered.start(at: now)).first)
        _ = answered.handle(response: try response(to: invite, "100 Trying"), at: now)
        XCTAssertEqual(answered.transportFailed(at: now), [])
    }

    func testARedirectedCallDoesNotFailOverToTheAccountsServers() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "302 Moved", toTag: "r", ["Contact: <sip:9123@other.test>"]), at: now)
        let second = try XCTUnwrap(sent(call.followRedirect(at: now)).first)
        let actions = call.handle(response: try response(to: second, "503 Service Unavailable", toTag: "o"), at: now)
        XCTAssertEqual(actions.last, .event(.failed(busy: false, reason: "503 Service Unavailable")))
    }

    /// RFC 3261 §9.1: the CANCEL is its own transaction, repeated over UDP;
    /// a far end that never ends the INVITE frees the call after 64*T1.
    func testACancelNobodyAnswersIsRepeatedAndTheCallEndsAfter64T1() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now)
        let hangUp = now + .seconds(2)
        XCTAssertTrue(sent(call.hangUp(at: hangUp)).first?.hasPrefix("CANCEL ") ?? false)
        var cancels = 0
        var ended = false
        while !ended, let due = call.nextDeadline, due <= hangUp + .seconds(40) {
            for action in call.advance(to: due) {
                if case .send(let bytes) = action, String(decoding: bytes, as: UTF8.self).hasPrefix("CANCEL ") { cancels += 1 }
                if case .event(.ended(remote: false)) = action {
                    ended = true
                    XCTAssertEqual(due, hangUp + .seconds(32))
                }
            }
        }
        XCTAssertTrue(ended, "the call is given up")
        XCTAssertEqual(call.state, .ended)
        XCTAssertNil(call.nextDeadline)
        XCTAssertGreaterThanOrEqual(cancels, 9, "Timer E repeats the CANCEL until Timer F")
    }

    func testACancelAnsweredButNoFinalResponseStillEndsAfter64T1() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "180 Ringing", toTag: "far"), at: now)
        let cancel = try XCTUnwrap(sent(call.hangUp(at: now)).first)
        XCTAssertEqual(call.handle(response: try response(to: cancel, "200 OK", toTag: "far"), at: now), [])
        var last = now
        while call.state != .ended, let due = call.nextDeadline, due <= now + .seconds(40) {
            last = due
            _ = call.advance(to: due)
        }
        XCTAssertEqual(call.state, .ended)
        XCTAssertEqual(last, now + .seconds(32))
    }

    /// §22.1: the ACK for a 2xx carries the credentials the INVITE had.
    func testTheACKForA2xxCarriesTheINVITEsCredentials() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let challenge = try response(to: invite, "407 Proxy Authentication Required", toTag: "p1",
                                     ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n\", qop=\"auth\""])
        let second = sent(call.handle(response: challenge, at: now))[1]
        let ok = try response(to: second, "200 OK", toTag: "far", ["Contact: <sip:far@127.0.0.1:6000>"])
        let ack = try XCTUnwrap(sent(call.handle(response: ok, at: now)).first)
        XCTAssertTrue(ack.hasPrefix("ACK "))
        XCTAssertTrue(header("Proxy-Authorization", in: ack)?.hasPrefix("Digest ") ?? false, ack)
    }

    /// Requests from the far end must carry both tags of the dialog.
    func testOnlyTheDialogsTagsAreAdmitted() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let ok = try response(to: invite, "200 OK", toTag: "far", ["Contact: <sip:far@127.0.0.1:6000>"])
        _ = call.handle(response: ok, at: now)
        let ourTag = try XCTUnwrap(header("From", in: invite)?.components(separatedBy: "tag=").last)
        func bye(from: String, to: String) throws -> SIPMessage {
            try SIPParser().parse(Array("""
            BYE sip:1001@127.0.0.1:5070 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bKfar1\r
            From: <sip:9123@atad.test>;tag=\(from)\r
            To: <sip:1001@atad.test>;tag=\(to)\r
            Call-ID: \(call.callID)\r
            CSeq: 1 BYE\r
            Content-Length: 0\r
            \r

            """.utf8), framing: .datagram)
        }
        XCTAssertEqual(call.admit(try bye(from: "intruder", to: ourTag)), .unknownDialog)
        XCTAssertEqual(call.admit(try bye(from: "far", to: "notours")), .unknownDialog)
        XCTAssertEqual(call.admit(try bye(from: "far", to: ourTag)), .accepted)
    }

    // MARK: 3xx (RFC 3261 §8.1.3.4)

    func testA302IsAckedThenTheInviteGoesToItsContact() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let moved = try response(to: invite, "302 Moved Temporarily", toTag: "r1",
                                 ["Contact: <sip:2001@127.0.0.1:5072>;q=0.5, <sip:2002@127.0.0.1:5073?Subject=x>;q=0.9, <tel:+15551234>"])
        let actions = call.handle(response: moved, at: now)
        let ack = try XCTUnwrap(sent(actions).first)
        XCTAssertTrue(ack.hasPrefix("ACK sip:9123@atad.test SIP/2.0\r\n"), "the ACK goes with the old Request-URI: \(ack)")
        XCTAssertEqual(actions.last, .event(.redirected(to: "sip:2002@127.0.0.1:5073")), "the highest q, its URI headers dropped")
        XCTAssertEqual(call.state, .redirecting)
        let again = try XCTUnwrap(sent(call.followRedirect(at: now)).first)
        XCTAssertTrue(again.hasPrefix("INVITE sip:2002@127.0.0.1:5073 SIP/2.0\r\n"), again)
        XCTAssertEqual(header("CSeq", in: again), "2 INVITE")
        XCTAssertEqual(header("Call-ID", in: again), header("Call-ID", in: invite))
        XCTAssertEqual(header("From", in: again), header("From", in: invite))
        XCTAssertEqual(header("To", in: again), "<sip:9123@atad.test>", "To stays as it was")
        XCTAssertNotEqual(header("Via", in: again), header("Via", in: invite), "a new branch")
        let ok = try response(to: again, "200 OK", toTag: "b", ["Contact: <sip:2002@127.0.0.1:5073>"])
        XCTAssertEqual(call.handle(response: ok, at: now).last, .event(.answered))
    }

    func testRedirectsAreBoundedAndNeverLoop() throws {
        var call = makeCall()
        var request = try XCTUnwrap(sent(call.start(at: now)).first)
        var followed = 0
        for hop in 1...8 {
            let actions = call.handle(response: try response(to: request, "302 Moved Temporarily", toTag: "r\(hop)",
                                                             ["Contact: <sip:2000@127.0.0.1:\(6000 + hop)>"]), at: now)
            guard case .event(.redirected)? = actions.last else {
                XCTAssertEqual(actions.last, .event(.failed(busy: false, reason: "302 Moved Temporarily (no new place to call)")))
                break
            }
            followed += 1
            request = try XCTUnwrap(sent(call.followRedirect(at: now)).first)
        }
        XCTAssertEqual(followed, OutgoingCall.maximumRedirects)
        XCTAssertEqual(call.state, .ended)

        var looping = makeCall()
        let first = try XCTUnwrap(sent(looping.start(at: now)).first)
        let back = looping.handle(response: try response(to: first, "301 Moved Permanently", toTag: "x",
                                                         ["Contact: <sip:9123@atad.test>"]), at: now)
        XCTAssertEqual(back.last, .event(.failed(busy: false, reason: "301 Moved Permanently (no new place to call)")),
                       "a 3xx back to where we called is no new place")
    }

    func testHangingUpWhileARedirectWaitsForItsRouteEndsTheCall() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "302 Moved Temporarily", toTag: "r",
                                               ["Contact: <sip:2001@127.0.0.1:5072>"]), at: now)
        XCTAssertEqual(call.hangUp(at: now), [.event(.ended(remote: false))])
        XCTAssertEqual(call.followRedirect(at: now), [], "too late")
    }

    func testQValues() {
        XCTAssertEqual(OutgoingCall.thousandths(ArraySlice("1".utf8)), 1000)
        XCTAssertEqual(OutgoingCall.thousandths(ArraySlice("0.5".utf8)), 500)
        XCTAssertEqual(OutgoingCall.thousandths(ArraySlice("0.125".utf8)), 125)
        XCTAssertEqual(OutgoingCall.thousandths(ArraySlice("1.000".utf8)), 1000)
        XCTAssertNil(OutgoingCall.thousandths(ArraySlice("1.5".utf8)))
        XCTAssertNil(OutgoingCall.thousandths(ArraySlice("0.12345".utf8)))
        XCTAssertNil(OutgoingCall.thousandths(ArraySlice("2".utf8)))
    }

    // MARK: Forking (RFC 3261 §13.2.2.4)

    func testTheAnswerOfAnotherForkThanTheEarlyMediasIsTheOneInForce() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let early = try response(to: invite, "183 Session Progress", toTag: "a", ["Content-Type: application/sdp"], body: "v=0 a\r\n")
        _ = call.handle(response: early, at: now)
        _ = call.handle(response: try response(to: invite, "180 Ringing", toTag: "b"), at: now)
        XCTAssertEqual(call.remoteSDP.map { String(decoding: $0, as: UTF8.self) }, "v=0 a\r\n")
        XCTAssertEqual(call.answerRevision, 1)
        let ok = try response(to: invite, "200 OK", toTag: "b", ["Contact: <sip:b@127.0.0.1:6002>", "Content-Type: application/sdp"],
                              body: "v=0 b\r\n")
        XCTAssertEqual(call.handle(response: ok, at: now).last, .event(.answered))
        XCTAssertEqual(call.remoteSDP.map { String(decoding: $0, as: UTF8.self) }, "v=0 b\r\n")
        XCTAssertEqual(call.answerRevision, 2)
    }

    func testASecondForksAnswerIsAckedAndHungUp() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let first = try response(to: invite, "200 OK", toTag: "b", ["Contact: <sip:b@127.0.0.1:6002>"])
        let ack = try XCTUnwrap(sent(call.handle(response: first, at: now)).first)
        let second = try response(to: invite, "200 OK", toTag: "c", ["Contact: <sip:c@127.0.0.1:6003>"])
        let hungUp = sent(call.handle(response: second, at: now))
        XCTAssertEqual(hungUp.count, 2, "\(hungUp)")
        XCTAssertTrue(hungUp[0].hasPrefix("ACK sip:c@127.0.0.1:6003 SIP/2.0\r\n"), hungUp[0])
        XCTAssertEqual(header("To", in: hungUp[0]), "<sip:9123@atad.test>;tag=c")
        XCTAssertTrue(hungUp[1].hasPrefix("BYE sip:c@127.0.0.1:6003 SIP/2.0\r\n"), hungUp[1])
        XCTAssertEqual(header("CSeq", in: hungUp[1]), "2 BYE")
        XCTAssertEqual(header("To", in: hungUp[1]), "<sip:9123@atad.test>;tag=c")
        XCTAssertEqual(call.state, .confirmed, "the call goes on with the first fork")
        XCTAssertEqual(sent(call.handle(response: first, at: now)), [ack], "the first fork's 2xx again: its own ACK")
        XCTAssertEqual(sent(call.handle(response: second, at: now)), [hungUp[0]], "the second's again: its ACK only")
        // The BYE is repeated until answered.
        XCTAssertEqual(sent(call.advance(to: now + .milliseconds(500))), [hungUp[1]])
        let byeOK = try response(to: hungUp[1], "200 OK", toTag: "c")
        XCTAssertEqual(call.handle(response: byeOK, at: now + .milliseconds(600)), [])
        XCTAssertEqual(sent(call.advance(to: now + .seconds(2))), [], "answered: not sent again")
        XCTAssertEqual(call.state, .confirmed)
    }

    func testAReliableProvisionalGetsAPRACKInItsEarlyDialog() throws {
        var call = makeCall()
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let ringing = try response(to: invite, "180 Ringing", toTag: "far",
                                   ["Require: 100rel", "RSeq: 5", "Contact: <sip:far@127.0.0.1:6000>"])
        let actions = call.handle(response: ringing, at: now)
        let prack = try XCTUnwrap(sent(actions).first)
        XCTAssertTrue(prack.hasPrefix("PRACK sip:far@127.0.0.1:6000 SIP/2.0\r\n"), prack)
        XCTAssertEqual(header("RAck", in: prack), "5 1 INVITE")
        XCTAssertEqual(header("CSeq", in: prack), "2 PRACK")
        XCTAssertEqual(header("To", in: prack), "<sip:9123@atad.test>;tag=far")
        XCTAssertTrue(actions.contains(.event(.ringing)))
        XCTAssertEqual(sent(call.handle(response: ringing, at: now)), [prack], "a copy of the 180: the same PRACK")
        let next = try response(to: invite, "183 Session Progress", toTag: "far",
                                ["Require: 100rel", "RSeq: 6", "Contact: <sip:far@127.0.0.1:6000>"])
        XCTAssertEqual(header("CSeq", in: try XCTUnwrap(sent(call.handle(response: next, at: now)).first)), "3 PRACK")
        XCTAssertEqual(sent(call.handle(response: ringing, at: now)), [], "an older one: nothing")
        let plain = try response(to: invite, "180 Ringing", toTag: "other")
        XCTAssertEqual(sent(call.handle(response: plain, at: now)), [], "unreliable: no PRACK")
    }
}
