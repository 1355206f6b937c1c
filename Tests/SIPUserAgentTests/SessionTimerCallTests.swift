import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// Session timers (RFC 4028) in calls both ways: what we answer to the
/// fields of a request, the 422 and its retry, our UPDATE refreshes, and
/// the BYE when a session runs out.
final class SessionTimerCallTests: XCTestCase {
    private let now = Instant.zero + .seconds(200)
    private var counter = 0

    private func token() -> String {
        counter += 1
        return "s\(counter)"
    }

    private func parse(_ lines: [String], body: String = "") throws -> SIPMessage {
        let text = (lines + ["Content-Length: \(body.utf8.count)"]).joined(separator: "\r\n") + "\r\n\r\n" + body
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    private func invite(_ extra: [String]) throws -> SIPMessage {
        try parse(["INVITE sip:1001@127.0.0.1:5060 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKst1",
                   "Max-Forwards: 70", "From: <sip:2000@atad.test>;tag=far", "To: <sip:1001@atad.test>",
                   "Call-ID: st-1", "CSeq: 1 INVITE", "Contact: <sip:2000@127.0.0.1:5070>"] + extra)
    }

    private func header(_ name: String, in message: String) -> String? {
        for line in message.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// A response to `request` (a text we sent), with the far end's tag.
    private func response(to request: String, _ status: String, _ extra: [String] = []) throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        let to = header("To", in: request)!
        lines.append(to.contains("tag=") ? "To: \(to)" : "To: \(to);tag=far")
        return try parse(lines + extra)
    }

    private func sent(_ actions: [CallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func sent(_ actions: [OutgoingCallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func incoming(_ extra: [String]) throws -> IncomingCall {
        var call = IncomingCall(invite: try invite(extra), toTag: "near", contact: "sip:atad@127.0.0.1:5060",
                                userAgent: "atad/test", answerSDP: Array("v=0\r\n".utf8), localHost: "127.0.0.1",
                                localPort: 5060, makeToken: { [unowned self] in self.token() })
        _ = call.start(at: now)
        return call
    }

    // MARK: What we answer

    func testTermsFollowTheRequest() throws {
        XCTAssertEqual(SessionTimerTerms.answering(try invite([])), .none, "no timer asked, none run")
        XCTAssertEqual(SessionTimerTerms.answering(try invite(["Supported: timer", "Session-Expires: 60"])), .tooSmall)
        XCTAssertEqual(SessionTimerTerms.answering(try invite(["Supported: timer", "Allow: INVITE, UPDATE",
                                                               "Session-Expires: 1800"])),
                       .agreed(SessionExpires(seconds: 1800, refresher: .uac), requireTimer: true),
                       "a caller that knows timers refreshes")
        XCTAssertEqual(SessionTimerTerms.answering(try invite(["Allow: INVITE, BYE, UPDATE", "Session-Expires: 60",
                                                               "Min-SE: 120"])),
                       .agreed(SessionExpires(seconds: 120, refresher: .uas), requireTimer: false),
                       "a caller without timer gets no 422: the interval is raised and we refresh")
        XCTAssertEqual(SessionTimerTerms.answering(try invite(["Allow: INVITE, BYE", "Session-Expires: 1800;refresher=uas"])),
                       .none, "we cannot refresh a peer that takes no UPDATE")
        XCTAssertEqual(SessionTimerTerms.answering(try invite(["Session-Expires: 1800"])), .none,
                       "neither side could refresh")
    }

    // MARK: Calls that come in

    func testWeRefreshAnIncomingCallWithUpdateAndTheTimerStartsAgain() throws {
        var call = try incoming(["Supported: timer", "Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 90;refresher=uas"])
        let ok = try XCTUnwrap(sent(call.answer(at: now)).first)
        XCTAssertEqual(header("Session-Expires", in: ok), "90;refresher=uas")
        XCTAssertEqual(header("Require", in: ok), "timer")
        call.ackReceived(cseq: 1, at: now)
        XCTAssertEqual(call.nextDeadline, now + .seconds(45), "the refresh is due at half the interval")
        let update = try XCTUnwrap(sent(call.advance(to: now + .seconds(45))).first)
        XCTAssertTrue(update.hasPrefix("UPDATE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), update)
        XCTAssertEqual(header("Session-Expires", in: update), "90;refresher=uac")
        XCTAssertEqual(header("Contact", in: update), "<sip:atad@127.0.0.1:5060>")
        XCTAssertEqual(header("CSeq", in: update), "1 UPDATE")
        let accepted = try response(to: update, "200 OK", ["Session-Expires: 90;refresher=uac", "Require: timer"])
        XCTAssertEqual(sent(call.handle(response: accepted, at: now + .seconds(46))), [])
        XCTAssertEqual(call.dialog.session?.nextDeadline, now + .seconds(46 + 45), "the next refresh")
        XCTAssertEqual(call.state, .confirmed)
    }

    func testACallerThatNeverRefreshesIsHungUpBeforeTheSessionEnds() throws {
        var call = try incoming(["Supported: timer", "Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 90"])
        let ok = try XCTUnwrap(sent(call.answer(at: now)).first)
        XCTAssertEqual(header("Session-Expires", in: ok), "90;refresher=uac")
        call.ackReceived(cseq: 1, at: now)
        XCTAssertEqual(call.advance(to: now + .seconds(59)), [])
        let actions = call.advance(to: now + .seconds(60))
        XCTAssertTrue(try XCTUnwrap(sent(actions).first).hasPrefix("BYE "), "90 - min(32, 90/3) = 60 s")
        XCTAssertTrue(actions.contains(.ended(reason: "the session expired: no refresh in 90 s", remote: true)))
    }

    func testAFailedRefreshEndsTheCall() throws {
        var call = try incoming(["Supported: timer", "Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 90;refresher=uas"])
        _ = call.answer(at: now)
        call.ackReceived(cseq: 1, at: now)
        let update = try XCTUnwrap(sent(call.advance(to: now + .seconds(45))).first)
        let actions = call.handle(response: try response(to: update, "481 Call/Transaction Does Not Exist"),
                                  at: now + .seconds(46))
        XCTAssertTrue(try XCTUnwrap(sent(actions).first).hasPrefix("BYE "))
        XCTAssertEqual(call.state, .ended)
    }

    func testARefusedRefreshLetsTheSessionRunOut() throws {
        var call = try incoming(["Supported: timer", "Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 90;refresher=uas"])
        _ = call.answer(at: now)
        call.ackReceived(cseq: 1, at: now)
        let update = try XCTUnwrap(sent(call.advance(to: now + .seconds(45))).first)
        XCTAssertEqual(sent(call.handle(response: try response(to: update, "501 Not Implemented"), at: now + .seconds(46))), [])
        XCTAssertEqual(call.state, .confirmed, "not refreshed, not over yet")
        XCTAssertTrue(try XCTUnwrap(sent(call.advance(to: now + .seconds(60))).first).hasPrefix("BYE "))
    }

    func testA422ToOurRefreshIsAnsweredWithItsInterval() throws {
        var call = try incoming(["Supported: timer", "Allow: INVITE, ACK, BYE, UPDATE", "Session-Expires: 90;refresher=uas"])
        _ = call.answer(at: now)
        call.ackReceived(cseq: 1, at: now)
        let update = try XCTUnwrap(sent(call.advance(to: now + .seconds(45))).first)
        let again = try XCTUnwrap(sent(call.handle(response: try response(to: update, "422 Session Interval Too Small",
                                                                          ["Min-SE: 300"]), at: now + .seconds(46))).first)
        XCTAssertEqual(header("Session-Expires", in: again), "300;refresher=uac")
        XCTAssertEqual(header("CSeq", in: again), "2 UPDATE")
    }

    // MARK: Calls we place

    private func outgoing(sessionSeconds: UInt32) -> OutgoingCall {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: nil,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        return OutgoingCall(settings: settings, number: "9123", offer: Array("v=0\r\n".utf8), sessionSeconds: sessionSeconds,
                            makeToken: { [unowned self] in self.token() })
    }

    func testOurInviteAsksForATimerAndA422RaisesIt() throws {
        var call = outgoing(sessionSeconds: 1800)
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        XCTAssertEqual(header("Session-Expires", in: invite), "1800")
        XCTAssertEqual(header("Min-SE", in: invite), "90")
        XCTAssertEqual(header("Supported", in: invite), "100rel, timer")
        let tooSmall = try response(to: invite, "422 Session Interval Too Small", ["Min-SE: 3600"])
        let retry = sent(call.handle(response: tooSmall, at: now))
        XCTAssertEqual(retry.count, 2, "the ACK of the 422, then the INVITE again")
        XCTAssertTrue(retry[0].hasPrefix("ACK "))
        XCTAssertEqual(header("Session-Expires", in: retry[1]), "3600")
        XCTAssertEqual(header("Min-SE", in: retry[1]), "3600")
        XCTAssertEqual(header("CSeq", in: retry[1]), "2 INVITE")
        let answered = try response(to: retry[1], "200 OK", ["Contact: <sip:9123@127.0.0.1:5090>",
                                                              "Session-Expires: 3600;refresher=uac", "Require: timer"])
        _ = call.handle(response: answered, at: now)
        XCTAssertEqual(call.dialog.session?.nextDeadline, now + .seconds(1800))
        let update = try XCTUnwrap(sent(call.advance(to: now + .seconds(1800))).first)
        XCTAssertTrue(update.hasPrefix("UPDATE sip:9123@127.0.0.1:5090 SIP/2.0\r\n"), update)
        XCTAssertEqual(header("Contact", in: update), "<sip:1001@127.0.0.1:5070;transport=udp>")
    }

    func testA422WithNoHigherIntervalFailsTheCall() throws {
        var call = outgoing(sessionSeconds: 1800)
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        let actions = call.handle(response: try response(to: invite, "422 Session Interval Too Small", ["Min-SE: 90"]), at: now)
        XCTAssertTrue(actions.contains { if case .event(.failed) = $0 { return true } else { return false } })
    }

    func testNoTimerAskedNoneGivenNoneRun() throws {
        var call = outgoing(sessionSeconds: 0)
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        XCTAssertNil(header("Session-Expires", in: invite))
        _ = call.handle(response: try response(to: invite, "200 OK", ["Contact: <sip:9123@127.0.0.1:5090>"]), at: now)
        XCTAssertNil(call.dialog.session)
    }

    func testTheFarEndsTimerOnACallWePlacedHasUsRefresh() throws {
        var call = outgoing(sessionSeconds: 0)
        let invite = try XCTUnwrap(sent(call.start(at: now)).first)
        _ = call.handle(response: try response(to: invite, "200 OK", ["Contact: <sip:9123@127.0.0.1:5090>",
                                                                       "Session-Expires: 600"]), at: now)
        XCTAssertEqual(call.dialog.session?.weRefresh, true, "a 2xx that names no refresher leaves it to the UAC")
    }
}
