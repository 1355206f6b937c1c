import SIPDigest
import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// Our re-INVITE inside a call (RFC 3261 §14.1), for calls we place and
/// calls we answer: the request's dialog fields and body, one at a time,
/// the ACK of its 2xx (and of every copy) and of a refusal, credentials
/// after 401/407, the wait after 491, and the call lost on 408/481 or
/// silence. Manual clock, hand-written responses.
final class ReinviteTests: XCTestCase {
    private let now = Instant.zero + .seconds(300)
    private var counter = 0

    private func token() -> String {
        counter += 1
        return "k\(counter)"
    }

    /// Our hold offer, and the far end's answer to it.
    private static let holdOffer = "v=0\r\no=atad 1 2 IN IP4 127.0.0.1\r\ns=atad\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        + "m=audio 41000 RTP/AVP 0\r\na=sendonly\r\n"
    private static let holdAnswer = "v=0\r\no=far 7 8 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        + "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n"
    private var offer: [UInt8] { Array(Self.holdOffer.utf8) }

    private func header(_ name: String, in message: String) -> String? {
        headers(name, in: message).first
    }

    private func headers(_ name: String, in message: String) -> [String] {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        return head.components(separatedBy: "\r\n").compactMap { line in
            guard line.lowercased().hasPrefix(name.lowercased() + ":") else { return nil }
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }

    private func body(of message: String) -> String {
        message.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    private func requestLine(_ message: String) -> String {
        message.components(separatedBy: "\r\n")[0]
    }

    /// A response to `request`, echoing its Via, From, To, Call-ID and CSeq
    /// (`toTag` added to a To that has none).
    private func response(to request: String, _ status: String, toTag: String? = nil, _ extra: [String] = [],
                          body: String = "") throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        if let toTag { lines[3] += ";tag=\(toTag)" }
        lines += extra
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return try SIPParser().parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8), framing: .datagram)
    }

    // MARK: Calls we place

    private func sent(_ actions: [OutgoingCallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func outcomes(_ actions: [OutgoingCallAction]) -> [ReofferOutcome] {
        actions.compactMap { if case .reoffer(let outcome) = $0 { return outcome } else { return nil } }
    }

    /// A call to 9123 answered (200, ACKed) by sip:far@127.0.0.1:6000
    /// through two record-routing proxies. Tokens: k1 Call-ID, k2 From
    /// tag, k3 the INVITE's branch, k4 the ACK's.
    private func confirmedOutgoing(password: String? = "secret") throws -> OutgoingCall {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: password,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        var call = OutgoingCall(settings: settings, number: "9123", offer: Array("v=0\r\n".utf8),
                                makeToken: { [unowned self] in self.token() })
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        XCTAssertEqual(header("CSeq", in: invite), "1 INVITE")
        let ok = try response(to: invite, "200 OK", toTag: "far",
                              ["Contact: <sip:far@127.0.0.1:6000>", "Record-Route: <sip:p1.test;lr>",
                               "Record-Route: <sip:p2.test;lr>"])
        XCTAssertEqual(call.handle(response: ok, at: now).last, .event(.answered))
        XCTAssertEqual(call.state, .confirmed)
        return call
    }

    /// Runs the call's timers up to `limit`, with the time of each action.
    private func drain(_ call: inout OutgoingCall, until limit: Instant) -> [(Instant, OutgoingCallAction)] {
        var actions: [(Instant, OutgoingCallAction)] = []
        for _ in 0..<100 {
            guard let due = call.nextDeadline, due <= limit else { break }
            actions += call.advance(to: due).map { (due, $0) }
        }
        return actions
    }

    /// Runs the call's timers, deadline by deadline up to `limit`, until
    /// it sends a new INVITE: when, and the INVITE.
    private func untilInvite(_ call: inout OutgoingCall, limit: Instant) -> (Instant, String)? {
        for _ in 0..<100 {
            guard let due = call.nextDeadline, due <= limit else { return nil }
            if let invite = sent(call.advance(to: due)).first(where: { $0.hasPrefix("INVITE ") }) { return (due, invite) }
        }
        return nil
    }

    func testAReofferIsAnInviteInTheDialogWithAHigherCSeqAndTheOffer() throws {
        var call = try confirmedOutgoing()
        XCTAssertFalse(call.isReoffering)
        let actions = call.reoffer(offer, at: now)
        XCTAssertEqual(outcomes(actions), [])
        let invite = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(sent(actions).count, 1)
        XCTAssertEqual(requestLine(invite), "INVITE sip:far@127.0.0.1:6000 SIP/2.0", "to the remote target")
        XCTAssertEqual(headers("Route", in: invite), ["<sip:p2.test;lr>", "<sip:p1.test;lr>"], "the route set")
        XCTAssertEqual(header("Call-ID", in: invite), "k1@atad")
        XCTAssertEqual(header("From", in: invite), "<sip:1001@atad.test>;tag=k2")
        XCTAssertEqual(header("To", in: invite), "<sip:9123@atad.test>;tag=far")
        XCTAssertEqual(header("CSeq", in: invite), "2 INVITE", "above the INVITE's 1")
        XCTAssertEqual(header("Via", in: invite), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk5;rport", "a new branch")
        XCTAssertEqual(header("Contact", in: invite), "<sip:1001@127.0.0.1:5070;transport=udp>")
        XCTAssertEqual(header("Content-Type", in: invite), "application/sdp")
        XCTAssertEqual(header("Content-Length", in: invite), "\(Self.holdOffer.utf8.count)")
        XCTAssertEqual(body(of: invite), Self.holdOffer)
        XCTAssertNil(header("Proxy-Authorization", in: invite), "no credentials before a challenge")
        XCTAssertTrue(call.isReoffering)
        XCTAssertEqual(call.nextDeadline, now + .milliseconds(500), "Timer A")

        // One at a time (§14.1): a second offer while the first is out sends nothing.
        XCTAssertEqual(call.reoffer(Array("v=0\r\nsecond\r\n".utf8), at: now), [])
        XCTAssertTrue(call.isReoffering)
        // The Timer A copy is the first re-INVITE, unchanged.
        XCTAssertEqual(sent(call.advance(to: now + .milliseconds(500))), [invite])
    }

    func testTheAnswersTwoHundredIsAckedOnceAndEveryCopyGetsTheSameAck() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let ok = try response(to: invite, "200 OK", ["Contact: <sip:far@127.0.0.1:6000>"], body: Self.holdAnswer)
        let actions = call.handle(response: ok, at: now + .milliseconds(100))
        XCTAssertEqual(outcomes(actions), [.answered(body: Array(Self.holdAnswer.utf8))])
        let ack = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(sent(actions).count, 1)
        guard case .send = actions.first, case .reoffer = actions.last else { return XCTFail("ACK, then the outcome: \(actions)") }
        XCTAssertEqual(requestLine(ack), "ACK sip:far@127.0.0.1:6000 SIP/2.0")
        XCTAssertEqual(header("CSeq", in: ack), "2 ACK", "the re-INVITE's CSeq number")
        XCTAssertEqual(headers("Route", in: ack), ["<sip:p2.test;lr>", "<sip:p1.test;lr>"])
        XCTAssertEqual(header("Call-ID", in: ack), "k1@atad")
        XCTAssertEqual(header("To", in: ack), "<sip:9123@atad.test>;tag=far")
        XCTAssertNotEqual(header("Via", in: ack), header("Via", in: invite), "the ACK of a 2xx is its own transaction")
        XCTAssertFalse(call.isReoffering)
        XCTAssertEqual(call.state, .confirmed)

        // A copy of the 200 (our ACK was lost): the same ACK, no second outcome.
        XCTAssertEqual(call.handle(response: ok, at: now + .seconds(1)), [.send(Array(ack.utf8))])
        // Still after the transaction is gone (Timer M, 64×T1).
        _ = drain(&call, until: now + .seconds(40))
        XCTAssertEqual(call.handle(response: ok, at: now + .seconds(40)), [.send(Array(ack.utf8))])
        XCTAssertEqual(call.state, .confirmed)

        // The next offer may go, with the next CSeq.
        let next = try XCTUnwrap(sent(call.reoffer(offer, at: now + .seconds(41))).first)
        XCTAssertEqual(header("CSeq", in: next), "3 INVITE")
    }

    /// A re-INVITE is a target refresh (§12.2.1.2): the Contact of its 2xx
    /// is where the ACK and every later request in the dialog go.
    func testTheTwoHundredsContactIsTheNewRemoteTarget() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let ok = try response(to: invite, "200 OK", ["Contact: <sip:far@127.0.0.1:6001>"], body: Self.holdAnswer)
        let ack = try XCTUnwrap(sent(call.handle(response: ok, at: now)).first)
        let bye = try XCTUnwrap(sent(call.hangUp(at: now)).first)
        XCTAssertEqual(requestLine(bye), "BYE sip:far@127.0.0.1:6001 SIP/2.0")
        XCTAssertEqual(requestLine(ack), "ACK sip:far@127.0.0.1:6001 SIP/2.0")
        XCTAssertEqual(headers("Route", in: bye), ["<sip:p2.test;lr>", "<sip:p1.test;lr>"], "the route set stays")
    }

    func testNoRetransmissionsAfterTheTwoHundred() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        _ = call.handle(response: try response(to: invite, "200 OK", body: Self.holdAnswer), at: now)
        XCTAssertEqual(drain(&call, until: now + .seconds(60)).count, 0, "no copy of the INVITE, no BYE")
        XCTAssertEqual(call.state, .confirmed)
    }

    func testARefusalIsAckedOnTheInvitesBranchAndTheCallGoesOn() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        XCTAssertEqual(call.handle(response: try response(to: invite, "100 Trying"), at: now), [], "a 100 reports nothing")
        XCTAssertTrue(call.isReoffering)
        let refusal = try response(to: invite, "488 Not Acceptable Here")
        let actions = call.handle(response: refusal, at: now)
        XCTAssertEqual(outcomes(actions), [.refused(status: 488)])
        let ack = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(sent(actions).count, 1)
        // §17.1.1.3: the INVITE's Request-URI, top Via (same branch) and CSeq number.
        XCTAssertEqual(requestLine(ack), "ACK sip:far@127.0.0.1:6000 SIP/2.0")
        XCTAssertEqual(header("Via", in: ack), header("Via", in: invite))
        XCTAssertEqual(header("CSeq", in: ack), "2 ACK")
        XCTAssertEqual(header("To", in: ack), "<sip:9123@atad.test>;tag=far")
        XCTAssertEqual(headers("Route", in: ack), headers("Route", in: invite), "the INVITE's Route headers")
        XCTAssertFalse(call.isReoffering)
        XCTAssertEqual(call.state, .confirmed, "the session stays as it was")

        // A copy of the 488: the ACK again, no second outcome.
        XCTAssertEqual(call.handle(response: refusal, at: now + .seconds(1)), [.send(Array(ack.utf8))])
        // The call still sends in its dialog: a new offer, a BYE.
        XCTAssertEqual(header("CSeq", in: try XCTUnwrap(sent(call.reoffer(offer, at: now + .seconds(2))).first)), "3 INVITE")
    }

    /// §14.1: 491 from a far end that re-offered at the same time; we
    /// placed the call (own its Call-ID), so the wait is 2.1-4 s.
    func testA491IsTriedAgainAfterAWaitOfAtMostFourSecondsWithANewCSeq() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let pending = call.handle(response: try response(to: invite, "491 Request Pending"), at: now)
        XCTAssertEqual(outcomes(pending), [], "not an outcome yet")
        XCTAssertEqual(sent(pending).map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0"], "only the 491's ACK")
        XCTAssertEqual(call.reoffer(offer, at: now), [], "ours is to be tried again: another offer waits")

        let (at, retry) = try XCTUnwrap(untilInvite(&call, limit: now + .seconds(4)), "a new re-INVITE within 4 s")
        XCTAssertGreaterThanOrEqual(at, now + .milliseconds(2100))
        XCTAssertLessThanOrEqual(at, now + .seconds(4))
        XCTAssertEqual(header("CSeq", in: retry), "3 INVITE", "a new request")
        XCTAssertNotEqual(header("Via", in: retry), header("Via", in: invite), "a new transaction")
        XCTAssertEqual(body(of: retry), Self.holdOffer, "the same offer")
        XCTAssertEqual(header("To", in: retry), "<sip:9123@atad.test>;tag=far")

        let done = call.handle(response: try response(to: retry, "200 OK", body: Self.holdAnswer), at: at)
        XCTAssertEqual(outcomes(done), [.answered(body: Array(Self.holdAnswer.utf8))])
        XCTAssertEqual(header("CSeq", in: try XCTUnwrap(sent(done).first)), "3 ACK")
    }

    func testA491ThreeTimesOverIsTriedNoMoreAndIsARefusal() throws {
        var call = try confirmedOutgoing()
        var invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        var time = now
        for retry in 1...3 {
            _ = call.handle(response: try response(to: invite, "491 Request Pending"), at: time)
            guard let (at, again) = untilInvite(&call, limit: time + .seconds(4)) else { return XCTFail("retry \(retry): no new INVITE") }
            invite = again
            XCTAssertEqual(header("CSeq", in: invite), "\(2 + retry) INVITE")
            time = at
        }
        let last = call.handle(response: try response(to: invite, "491 Request Pending"), at: time)
        XCTAssertEqual(outcomes(last), [.refused(status: 491)])
        XCTAssertFalse(call.isReoffering)
        XCTAssertEqual(call.state, .confirmed)
        XCTAssertFalse(sent(drain(&call, until: time + .seconds(10)).map(\.1)).contains { $0.hasPrefix("INVITE ") })
    }

    /// §14.1: 481 or 408 to a re-INVITE: the dialog is gone; the call ends
    /// with our BYE, as if the far end had hung up.
    func testA481Or408EndsTheCallWithABye() throws {
        for status in ["481 Call/Transaction Does Not Exist", "408 Request Timeout"] {
            var call = try confirmedOutgoing()
            let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
            let actions = call.handle(response: try response(to: invite, status), at: now)
            XCTAssertEqual(sent(actions).map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0", "BYE sip:far@127.0.0.1:6000 SIP/2.0"],
                           status)
            XCTAssertEqual(sent(actions).dropFirst().first.flatMap { header("CSeq", in: $0) }, "3 BYE", status)
            XCTAssertEqual(actions.last, .event(.ended(remote: true)), status)
            XCTAssertEqual(outcomes(actions), [], "no outcome: the call is over")
            XCTAssertEqual(call.state, .ended, status)
            XCTAssertNil(call.nextDeadline, status)
        }
    }

    /// Over UDP the re-INVITE is resent on Timer A; nothing at all by
    /// Timer B (64×T1, 32 s) and the far end is taken for gone.
    func testNoAnswerAtAllEndsTheCallAtTimerBWithABye() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        var copies: [Instant] = []
        var bye: (Instant, String)?
        var ended: Instant?
        for (at, action) in drain(&call, until: now + .seconds(40)) {
            switch action {
            case .send(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                if text == invite { copies.append(at) } else if text.hasPrefix("BYE ") { bye = (at, text) } else { XCTFail(text) }
            case .event(.ended(remote: true)): ended = at
            default: XCTFail("\(action)")
            }
        }
        XCTAssertEqual(copies.map { ($0 - now).milliseconds }, [500, 1500, 3500, 7500, 15_500, 31_500], "Timer A doubling")
        XCTAssertEqual(bye?.0, now + .seconds(32), "Timer B")
        XCTAssertEqual(bye.map { requestLine($0.1) }, "BYE sip:far@127.0.0.1:6000 SIP/2.0")
        XCTAssertEqual(ended, now + .seconds(32))
        XCTAssertEqual(call.state, .ended)
    }

    func testA407IsAnsweredWithCredentialsOnANewCSeq() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let challenge = try response(to: invite, "407 Proxy Authentication Required",
                                     ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", qop=\"auth\""])
        let actions = call.handle(response: challenge, at: now)
        XCTAssertEqual(outcomes(actions), [])
        let requests = sent(actions)
        XCTAssertEqual(requests.map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0", "INVITE sip:far@127.0.0.1:6000 SIP/2.0"])
        guard requests.count == 2 else { return }
        XCTAssertEqual(header("Via", in: requests[0]), header("Via", in: invite), "the 407's ACK")
        XCTAssertEqual(header("CSeq", in: requests[0]), "2 ACK")
        let again = requests[1]
        XCTAssertEqual(header("CSeq", in: again), "3 INVITE")
        let credentials = try XCTUnwrap(header("Proxy-Authorization", in: again))
        XCTAssertTrue(credentials.hasPrefix("Digest "), credentials)
        XCTAssertTrue(credentials.contains("username=\"1001\""), credentials)
        XCTAssertTrue(credentials.contains("realm=\"atad.test\""), credentials)
        XCTAssertTrue(credentials.contains("uri=\"sip:far@127.0.0.1:6000\""), credentials)
        XCTAssertEqual(body(of: again), Self.holdOffer)
        XCTAssertTrue(call.isReoffering)

        // The 2xx's ACK carries the same credentials (§22.1 lets a proxy check it).
        let done = call.handle(response: try response(to: again, "200 OK", body: Self.holdAnswer), at: now)
        XCTAssertEqual(outcomes(done), [.answered(body: Array(Self.holdAnswer.utf8))])
        let ack = try XCTUnwrap(sent(done).first)
        XCTAssertEqual(header("CSeq", in: ack), "3 ACK")
        XCTAssertEqual(header("Proxy-Authorization", in: ack), credentials)
    }

    func testCredentialsChallengedAgainAreARefusalNotALoop() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let challenge = ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", qop=\"auth\""]
        let again = try XCTUnwrap(sent(call.handle(response: try response(to: invite, "407 Proxy Authentication Required",
                                                                          challenge), at: now)).last)
        let refused = call.handle(response: try response(to: again, "407 Proxy Authentication Required", challenge), at: now)
        XCTAssertEqual(outcomes(refused), [.refused(status: 407)])
        XCTAssertEqual(sent(refused).map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0"])
        XCTAssertEqual(call.state, .confirmed)
    }

    func testWithoutAPasswordAChallengeIsARefusal() throws {
        var call = try confirmedOutgoing(password: nil)
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let actions = call.handle(response: try response(to: invite, "401 Unauthorized",
                                                         ["WWW-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\""]), at: now)
        XCTAssertEqual(outcomes(actions), [.refused(status: 401)])
        XCTAssertEqual(sent(actions).map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0"])
    }

    func testNoReofferBeforeTheCallIsUpOrAfterItEnds() throws {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: nil,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        var ringing = OutgoingCall(settings: settings, number: "9123", offer: Array("v=0\r\n".utf8),
                                   makeToken: { [unowned self] in self.token() })
        _ = ringing.start(at: now)
        XCTAssertEqual(ringing.reoffer(offer, at: now), [], "not before the answer")

        var call = try confirmedOutgoing()
        XCTAssertTrue(sent(call.hangUp(at: now)).first?.hasPrefix("BYE ") ?? false)
        XCTAssertEqual(call.reoffer(offer, at: now), [], "not after our BYE")
    }

    /// Our BYE crossed the re-INVITE's 200: the 200 still gets its ACK
    /// (§13.2.2.4), and nothing more comes of it.
    func testATwoHundredAfterOurByeIsStillAcked() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        _ = call.hangUp(at: now)
        XCTAssertEqual(call.state, .ending)
        let actions = call.handle(response: try response(to: invite, "200 OK", body: Self.holdAnswer), at: now)
        XCTAssertEqual(sent(actions).map(requestLine), ["ACK sip:far@127.0.0.1:6000 SIP/2.0"])
        XCTAssertEqual(outcomes(actions), [])
    }

    /// §15: our BYE while a 491's wait runs: the waiting re-INVITE never goes.
    func testHangingUpDuringA491WaitSendsTheByeAndNoReinvite() throws {
        var call = try confirmedOutgoing()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        _ = call.handle(response: try response(to: invite, "491 Request Pending"), at: now)
        let hungUp = call.hangUp(at: now + .milliseconds(100))
        XCTAssertEqual(sent(hungUp).map(requestLine), ["BYE sip:far@127.0.0.1:6000 SIP/2.0"])
        let later = sent(drain(&call, until: now + .seconds(20)).map(\.1))
        XCTAssertFalse(later.contains { $0.hasPrefix("INVITE ") }, "\(later.map(requestLine))")
    }

    // MARK: Calls we answer

    private func sent(_ actions: [CallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func outcomes(_ actions: [CallAction]) -> [ReofferOutcome] {
        actions.compactMap { if case .reoffer(let outcome) = $0 { return outcome } else { return nil } }
    }

    /// The caller's INVITE (`IncomingCallTests.invite`, one more Record-Route)
    /// answered; `ack` makes the call up.
    private func answeredIncoming(ack: Bool = true) throws -> IncomingCall {
        let invite = try IncomingCallTests.invite(extraHeaders: ["Record-Route: <sip:127.0.0.1:5090;lr>"],
                                                  contact: "<sip:2000@127.0.0.1:5070;transport=udp>")
        var call = IncomingCall(invite: invite, toTag: "to1", contact: "sip:atad@127.0.0.1:5060", userAgent: "atad/test",
                                answerSDP: Array("v=0\r\n".utf8), localHost: "127.0.0.1", localPort: 5060,
                                digest: DigestSession(credentials: DigestCredentials(username: "1001", password: "secret")),
                                makeToken: { [unowned self] in self.token() })
        _ = call.start(at: now)
        _ = call.answer(at: now)
        if ack { call.ackReceived(cseq: 1, at: now) }
        return call
    }

    /// Our re-INVITE in a call we answered goes to the caller's Contact,
    /// along its Record-Route in order, with From and To the other way
    /// round from its INVITE, and our own CSeq count.
    func testAnAnsweredCallsReofferGoesToTheCallersContactWithFromAndToSwapped() throws {
        var call = try answeredIncoming(ack: false)
        XCTAssertEqual(call.reoffer(offer, at: now), [], "not before the ACK")
        call.ackReceived(cseq: 1, at: now)
        XCTAssertEqual(call.state, .confirmed)

        let actions = call.reoffer(offer, at: now)
        let invite = try XCTUnwrap(sent(actions).first)
        XCTAssertEqual(requestLine(invite), "INVITE sip:2000@127.0.0.1:5070;transport=udp SIP/2.0")
        XCTAssertEqual(headers("Route", in: invite), ["<sip:127.0.0.1:5080;lr>", "<sip:127.0.0.1:5090;lr>"])
        XCTAssertEqual(header("From", in: invite), "<sip:1001@atad.test>;tag=to1", "the INVITE's To, with our tag")
        XCTAssertEqual(header("To", in: invite), "\"Caller\" <sip:2000@atad.test>;tag=from1", "the INVITE's From")
        XCTAssertEqual(header("Call-ID", in: invite), "call-1")
        XCTAssertEqual(header("CSeq", in: invite), "1 INVITE", "our own count, not the caller's")
        XCTAssertEqual(header("Contact", in: invite), "<sip:atad@127.0.0.1:5060>")
        XCTAssertEqual(header("Content-Type", in: invite), "application/sdp")
        XCTAssertEqual(body(of: invite), Self.holdOffer)
        XCTAssertTrue(call.isReoffering)
        XCTAssertEqual(call.reoffer(offer, at: now), [], "one at a time")

        let ok = try response(to: invite, "200 OK", ["Contact: <sip:2000@127.0.0.1:5070;transport=udp>"], body: Self.holdAnswer)
        let done = call.handle(response: ok, at: now)
        XCTAssertEqual(outcomes(done), [.answered(body: Array(Self.holdAnswer.utf8))])
        let ack = try XCTUnwrap(sent(done).first)
        XCTAssertEqual(requestLine(ack), "ACK sip:2000@127.0.0.1:5070;transport=udp SIP/2.0")
        XCTAssertEqual(header("CSeq", in: ack), "1 ACK")
        XCTAssertEqual(header("From", in: ack), "<sip:1001@atad.test>;tag=to1")
        XCTAssertEqual(header("To", in: ack), "\"Caller\" <sip:2000@atad.test>;tag=from1")
        XCTAssertEqual(call.handle(response: ok, at: now + .seconds(1)), [.send(Array(ack.utf8))], "a copy: the same ACK")
        XCTAssertFalse(call.isReoffering)
        XCTAssertEqual(call.state, .confirmed)
    }

    /// §14.1: we did not choose the Call-ID, so the wait after 491 is 0-2 s.
    func testAnAnsweredCallTriesA491AgainWithinTwoSeconds() throws {
        var call = try answeredIncoming()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let pending = call.handle(response: try response(to: invite, "491 Request Pending"), at: now)
        XCTAssertEqual(sent(pending).map(requestLine), ["ACK sip:2000@127.0.0.1:5070;transport=udp SIP/2.0"])
        XCTAssertEqual(outcomes(pending), [])
        XCTAssertFalse(call.isReoffering, "waiting to try again is not in progress (§14.2: no 491 for the far end's)")
        var retry: (Instant, String)?
        for _ in 0..<20 {
            guard retry == nil, let due = call.nextDeadline, due <= now + .seconds(2) else { break }
            if let text = sent(call.advance(to: due)).first(where: { $0.hasPrefix("INVITE ") }) { retry = (due, text) }
        }
        let (at, again) = try XCTUnwrap(retry, "a new re-INVITE within 2 s")
        XCTAssertLessThanOrEqual(at, now + .seconds(2))
        XCTAssertEqual(header("CSeq", in: again), "2 INVITE")
        XCTAssertNotEqual(header("Via", in: again), header("Via", in: invite))
        XCTAssertEqual(body(of: again), Self.holdOffer)
    }

    func testAnAnsweredCallAnswersA401WithAuthorization() throws {
        var call = try answeredIncoming()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let actions = call.handle(response: try response(to: invite, "401 Unauthorized",
                                                         ["WWW-Authenticate: Digest realm=\"pbx\", nonce=\"n9\""]), at: now)
        XCTAssertEqual(sent(actions).map(requestLine), ["ACK sip:2000@127.0.0.1:5070;transport=udp SIP/2.0",
                                                        "INVITE sip:2000@127.0.0.1:5070;transport=udp SIP/2.0"])
        let again = try XCTUnwrap(sent(actions).dropFirst().first)
        XCTAssertEqual(header("CSeq", in: again), "2 INVITE")
        XCTAssertTrue(header("Authorization", in: again)?.contains("uri=\"sip:2000@127.0.0.1:5070;transport=udp\"") ?? false, again)
    }

    func testAnAnsweredCallEndsOn481ToItsReoffer() throws {
        var call = try answeredIncoming()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        let actions = call.handle(response: try response(to: invite, "481 Call/Transaction Does Not Exist"), at: now)
        XCTAssertEqual(sent(actions).map(requestLine), ["ACK sip:2000@127.0.0.1:5070;transport=udp SIP/2.0",
                                                        "BYE sip:2000@127.0.0.1:5070;transport=udp SIP/2.0"])
        guard case .ended(_, remote: true)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertEqual(call.state, .ended)
    }

    func testAnAnsweredCallEndsAtTimerBWhenItsReofferGetsNoAnswer() throws {
        var call = try answeredIncoming()
        let invite = try XCTUnwrap(sent(call.reoffer(offer, at: now)).first)
        var copies = 0
        var ending: [CallAction] = []
        var endedAt: Instant?
        for _ in 0..<40 {
            guard endedAt == nil, let due = call.nextDeadline, due <= now + .seconds(40) else { break }
            let actions = call.advance(to: due)
            copies += sent(actions).filter { $0 == invite }.count
            if actions.contains(where: { if case .ended = $0 { return true } else { return false } }) {
                endedAt = due
                ending = actions
            }
        }
        XCTAssertEqual(copies, 6)
        XCTAssertEqual(endedAt, now + .seconds(32))
        XCTAssertEqual(sent(ending).map(requestLine), ["BYE sip:2000@127.0.0.1:5070;transport=udp SIP/2.0"])
        guard case .ended(_, remote: true)? = ending.last else { return XCTFail("\(ending)") }
    }
}
