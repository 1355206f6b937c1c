import Foundation
import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// Keys sent as SIP INFO inside a call, both for calls we place and calls
/// we answer: the request's dialog fields, one INFO at a time, and what
/// each kind of answer (or none) does. Manual clock, hand-written responses.
final class DTMFInfoTests: XCTestCase {
    private let now = Instant.zero + .seconds(90)
    private var counter = 0

    private func token() -> String {
        counter += 1
        return "k\(counter)"
    }

    private func key(_ character: Character, _ milliseconds: Int = 160) -> DTMFRelayBody {
        DTMFRelayBody(key: character.asciiValue!, durationMilliseconds: milliseconds)
    }

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

    /// A response to `request`, echoing its Via, From, To, Call-ID and CSeq.
    private func response(to request: String, _ status: String, toTag: String? = nil, _ extra: [String] = []) throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        if let toTag { lines[3] += ";tag=\(toTag)" }
        lines += extra
        lines.append("Content-Length: 0")
        return try SIPParser().parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8), framing: .datagram)
    }

    /// The fields RFC 3261 §12.2.1.1 sets in a request inside a dialog.
    private func assertInDialog(_ request: String, method: String, target: String, routes: [String], from: String, to: String,
                                callID: String, cseq: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(request.hasPrefix("\(method) \(target) SIP/2.0\r\n"), "to the remote target: \(request)", file: file, line: line)
        XCTAssertEqual(headers("Route", in: request), routes, "the route set", file: file, line: line)
        let expected = ["From": from, "To": to, "Call-ID": callID, "CSeq": cseq, "Max-Forwards": "70", "User-Agent": "atad/test"]
        for (name, value) in expected { XCTAssertEqual(header(name, in: request), value, name, file: file, line: line) }
    }

    // MARK: Calls we place

    private func outgoingSent(_ actions: [OutgoingCallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    /// A call to 9123 answered by sip:far@127.0.0.1:6000 through two
    /// record-routing proxies; `transport` "udp" or "tcp".
    private func answeredCall(transport: SIPTransport = .udp, password: String? = "secret") throws -> OutgoingCall {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: password,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: transport,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        var call = OutgoingCall(settings: settings, number: "9123", offer: Array("v=0\r\n".utf8),
                                makeToken: { [unowned self] in self.token() })
        let invite = try XCTUnwrap(outgoingSent(call.start(at: now)).first)
        XCTAssertEqual(header("CSeq", in: invite), "1 INVITE")
        let ok = try response(to: invite, "200 OK", toTag: "far",
                              ["Contact: <sip:far@127.0.0.1:6000>", "Record-Route: <sip:p1.test;lr>",
                               "Record-Route: <sip:p2.test;lr>"])
        XCTAssertEqual(call.handle(response: ok, at: now).last, .event(.answered))
        return call
    }

    /// Every action of the call's timers up to `limit`.
    private func drain(_ call: inout OutgoingCall, until limit: Instant) -> [OutgoingCallAction] {
        var actions: [OutgoingCallAction] = []
        for _ in 0..<100 {
            guard let due = call.nextDeadline, due <= limit else { break }
            actions += call.advance(to: due)
        }
        return actions
    }

    func testTheInfoIsAProperInDialogRequest() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        // The UAC's route set is the 2xx's Record-Route reversed; CSeq the
        // next after the INVITE's 1.
        assertInDialog(info, method: "INFO", target: "sip:far@127.0.0.1:6000", routes: ["<sip:p2.test;lr>", "<sip:p1.test;lr>"],
                       from: "<sip:1001@atad.test>;tag=k2", to: "<sip:9123@atad.test>;tag=far", callID: "k1@atad",
                       cseq: "2 INFO")
        let via = try XCTUnwrap(header("Via", in: info))
        XCTAssertTrue(via.hasPrefix("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK"), via)
        XCTAssertEqual(header("Content-Type", in: info), "application/dtmf-relay")
        XCTAssertEqual(body(of: info), "Signal=5\r\nDuration=160\r\n")
        XCTAssertEqual(header("Content-Length", in: info), "\("Signal=5\r\nDuration=160\r\n".utf8.count)")
        XCTAssertNil(header("Proxy-Authorization", in: info), "no credentials until an INFO is challenged")
    }

    func testOneInfoAtATimeTheNextWhenTheFirstIsAnswered() throws {
        var call = try answeredCall()
        let first = try XCTUnwrap(outgoingSent(call.sendKey(key("1", 120), at: now)).first)
        XCTAssertEqual(call.sendKey(key("#", 90), at: now), [], "the second key waits for the first INFO's answer")
        XCTAssertEqual(call.sendKey(key("3"), at: now), [])
        // A provisional response sends nothing more.
        XCTAssertEqual(call.handle(response: try response(to: first, "100 Trying"), at: now), [])
        let second = try XCTUnwrap(outgoingSent(call.handle(response: try response(to: first, "200 OK"), at: now)).first)
        XCTAssertEqual(header("CSeq", in: second), "3 INFO")
        XCTAssertEqual(body(of: second), "Signal=#\r\nDuration=90\r\n")
        XCTAssertNotEqual(header("Via", in: second), header("Via", in: first), "a new branch per INFO")
        // A copy of the first 200 does not release the third key.
        XCTAssertEqual(call.handle(response: try response(to: first, "200 OK"), at: now), [])
        let third = try XCTUnwrap(outgoingSent(call.handle(response: try response(to: second, "200 OK"), at: now)).first)
        XCTAssertEqual(header("CSeq", in: third), "4 INFO")
        XCTAssertEqual(call.handle(response: try response(to: third, "200 OK"), at: now), [])
        XCTAssertEqual(drain(&call, until: now + .seconds(40)), [], "nothing left to send or retransmit")
        let bye = try XCTUnwrap(outgoingSent(call.hangUp(at: now)).first)
        XCTAssertEqual(header("CSeq", in: bye), "5 BYE", "BYE takes the next CSeq after the INFOs")
        XCTAssertEqual(headers("Route", in: bye), ["<sip:p2.test;lr>", "<sip:p1.test;lr>"])
    }

    func testTheQueueIsBoundedAndTheExcessDropped() throws {
        var call = try answeredCall()
        XCTAssertEqual(outgoingSent(call.sendKey(key("1"), at: now)).count, 1)
        for _ in 0..<DTMFInfoSender.queueLimit { XCTAssertEqual(call.sendKey(key("2"), at: now), []) }
        XCTAssertEqual(call.sendKey(key("9"), at: now), [.keys(.dropped(key: UInt8(ascii: "9")))])
        XCTAssertEqual(call.state, .confirmed)
    }

    func test481EndsTheCallAsIfTheFarEndHungUp() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        _ = call.sendKey(key("6"), at: now)
        let actions = call.handle(response: try response(to: info, "481 Call/Transaction Does Not Exist"), at: now)
        XCTAssertEqual(actions.last, .event(.ended(remote: true)))
        XCTAssertTrue(outgoingSent(actions).isEmpty, "no more INFO, and no BYE for a dialog the far end does not know")
        XCTAssertEqual(call.state, .ended)
        XCTAssertEqual(drain(&call, until: now + .seconds(40)), [])
    }

    func testTheInfoIsRetransmittedOnTimerEAndTheCallEndsOnTimerF() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        var copies: [Int64] = []
        var ended = false
        while !ended, let due = call.nextDeadline, due <= now + .seconds(40) {
            for action in call.advance(to: due) {
                if case .send(let bytes) = action {
                    XCTAssertEqual(String(decoding: bytes, as: UTF8.self), info, "the same bytes again")
                    copies.append((due - now).milliseconds)
                }
                if action == .event(.ended(remote: true)) { ended = true }
            }
        }
        XCTAssertEqual(Array(copies.prefix(4)), [500, 1500, 3500, 7500], "Timer E: T1, doubling up to T2")
        XCTAssertEqual(copies.count, 10, "then every T2 until Timer F (32 s)")
        XCTAssertTrue(ended, "no answer in 64*T1: the dialog is gone")
        XCTAssertEqual(call.state, .ended)
    }

    func testAnAnswerStopsTheRetransmissions() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        XCTAssertEqual(outgoingSent(call.advance(to: now + .milliseconds(500))), [info])
        _ = call.handle(response: try response(to: info, "200 OK"), at: now + .milliseconds(600))
        XCTAssertEqual(drain(&call, until: now + .seconds(40)), [])
        XCTAssertEqual(call.state, .confirmed)
    }

    func testOverTCPNothingIsRetransmitted() throws {
        var call = try answeredCall(transport: .tcp)
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        XCTAssertTrue(header("Via", in: info)?.hasPrefix("SIP/2.0/TCP ") ?? false)
        XCTAssertEqual(drain(&call, until: now + .seconds(31)), [], "no Timer E")
        XCTAssertEqual(drain(&call, until: now + .seconds(33)), [.keys(.dialogGone(reason: "no answer to a key's INFO")), .event(.ended(remote: true))], "Timer F")
    }

    func testAFarEndThatRefusesInfoGetsNoMore() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("5"), at: now)).first)
        _ = call.sendKey(key("6"), at: now)
        let actions = call.handle(response: try response(to: info, "415 Unsupported Media Type"), at: now)
        XCTAssertEqual(actions, [.keys(.refused(reason: "415 Unsupported Media Type", lost: 1))])
        XCTAssertTrue(call.keysRefused)
        XCTAssertEqual(call.state, .confirmed, "the call goes on")
        XCTAssertEqual(call.sendKey(key("7"), at: now), [])
        XCTAssertEqual(drain(&call, until: now + .seconds(40)), [])
        XCTAssertEqual(call.state, .confirmed)
    }

    func testAChallengedInfoIsSentAgainWithCredentials() throws {
        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("8"), at: now)).first)
        let challenge = try response(to: info, "407 Proxy Authentication Required",
                                     ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", qop=\"auth\""])
        let again = try XCTUnwrap(outgoingSent(call.handle(response: challenge, at: now)).first)
        XCTAssertEqual(header("CSeq", in: again), "3 INFO")
        XCTAssertNotEqual(header("Via", in: again), header("Via", in: info))
        let credentials = try XCTUnwrap(header("Proxy-Authorization", in: again))
        XCTAssertTrue(credentials.contains("uri=\"sip:far@127.0.0.1:6000\""), credentials)
        XCTAssertEqual(body(of: again), "Signal=8\r\nDuration=160\r\n")
        // The next key carries credentials at once.
        _ = call.handle(response: try response(to: again, "200 OK"), at: now)
        let next = try XCTUnwrap(outgoingSent(call.sendKey(key("9"), at: now)).first)
        XCTAssertTrue(header("Proxy-Authorization", in: next)?.contains("nc=00000002") ?? false, next)
        // A second challenge of credentials just sent is a refusal.
        let refused = call.handle(response: try response(to: next, "407 Proxy Authentication Required",
                                                         ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n2\", qop=\"auth\""]), at: now)
        XCTAssertEqual(refused, [.keys(.refused(reason: "407 Proxy Authentication Required", lost: 0))])
    }

    func testWithoutCredentialsAChallengeIsARefusal() throws {
        var call = try answeredCall(password: nil)
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("8"), at: now)).first)
        let challenge = try response(to: info, "401 Unauthorized",
                                     ["WWW-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\""])
        XCTAssertEqual(call.handle(response: challenge, at: now), [.keys(.refused(reason: "401 Unauthorized", lost: 0))])
    }

    func testKeysBeforeTheAnswerOrAfterTheHangUpAreNotSent() throws {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: nil,
            displayName: nil, registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test")
        var ringing = OutgoingCall(settings: settings, number: "9123", offer: [], makeToken: { [unowned self] in self.token() })
        _ = ringing.start(at: now)
        XCTAssertEqual(ringing.sendKey(key("1"), at: now), [])

        var call = try answeredCall()
        let info = try XCTUnwrap(outgoingSent(call.sendKey(key("1"), at: now)).first)
        _ = call.sendKey(key("2"), at: now)
        let bye = try XCTUnwrap(outgoingSent(call.hangUp(at: now)).first)
        XCTAssertTrue(bye.hasPrefix("BYE "))
        // The INFO's late answer sends nothing, and nothing is retransmitted.
        XCTAssertEqual(call.handle(response: try response(to: info, "200 OK"), at: now), [])
        XCTAssertEqual(outgoingSent(drain(&call, until: now + .seconds(40))).filter { $0.hasPrefix("INFO") }, [])
    }

    // MARK: Calls we answer

    private func incomingSent(_ actions: [CallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func answeredIncomingCall(ack: Bool = true) throws -> IncomingCall {
        let invite = try IncomingCallTests.invite(extraHeaders: ["Record-Route: <sip:127.0.0.1:5090;lr>"],
                                                  contact: "<sip:2000@127.0.0.1:5070;transport=udp>")
        var call = IncomingCall(invite: invite, toTag: "to1", contact: "sip:atad@127.0.0.1:5060", userAgent: "atad/test",
                                answerSDP: [], localHost: "::1", localPort: 5062,
                                makeToken: { [unowned self] in self.token() })
        _ = call.start(at: now)
        _ = call.answer(at: now)
        if ack { call.ackReceived(cseq: 1, at: now) }
        return call
    }

    func testAnAnsweredCallSendsItsInfoToTheCallersContact() throws {
        var call = try answeredIncomingCall()
        let info = try XCTUnwrap(incomingSent(call.sendKey(key("*", 200), at: now)).first)
        // The UAS's route set is the Record-Route in order; CSeq is our own
        // count, not the caller's.
        assertInDialog(info, method: "INFO", target: "sip:2000@127.0.0.1:5070;transport=udp",
                       routes: ["<sip:127.0.0.1:5080;lr>", "<sip:127.0.0.1:5090;lr>"], from: "<sip:1001@atad.test>;tag=to1",
                       to: "\"Caller\" <sip:2000@atad.test>;tag=from1", callID: "call-1", cseq: "1 INFO")
        XCTAssertEqual(header("Via", in: info), "SIP/2.0/UDP [::1]:5062;branch=z9hG4bKk1;rport")
        XCTAssertEqual(header("Content-Type", in: info), "application/dtmf-relay")
        XCTAssertEqual(body(of: info), "Signal=*\r\nDuration=200\r\n")
        XCTAssertEqual(call.sendKey(key("0"), at: now), [], "one at a time")
        let second = try XCTUnwrap(incomingSent(call.handle(response: try response(to: info, "200 OK"), at: now)).first)
        XCTAssertEqual(header("CSeq", in: second), "2 INFO")
        _ = call.handle(response: try response(to: second, "200 OK"), at: now)
        let bye = try XCTUnwrap(incomingSent(call.hangUp(at: now)).first)
        XCTAssertEqual(header("CSeq", in: bye), "3 BYE")
    }

    func testKeysPressedBeforeTheACKWaitForIt() throws {
        var call = try answeredIncomingCall(ack: false)
        XCTAssertTrue(incomingSent(call.sendKey(key("4"), at: now)).isEmpty)
        let info = try XCTUnwrap(incomingSent(call.ackReceived(cseq: 1, at: now)).first)
        XCTAssertEqual(body(of: info), "Signal=4\r\nDuration=160\r\n")
    }

    func testAnsweredCallEndsOn481AndRetransmitsOnTimerE() throws {
        var call = try answeredIncomingCall()
        let info = try XCTUnwrap(incomingSent(call.sendKey(key("2"), at: now)).first)
        XCTAssertEqual(call.nextDeadline, now + .milliseconds(500))
        XCTAssertEqual(incomingSent(call.advance(to: now + .milliseconds(500))), [info])
        XCTAssertEqual(call.nextDeadline, now + .milliseconds(1500))
        let actions = call.handle(response: try response(to: info, "481 Call/Transaction Does Not Exist"), at: now + .seconds(1))
        XCTAssertEqual(actions, [.ended(reason: "the far end answered a key's INFO with 481 Call/Transaction Does Not Exist",
                                        remote: true)])
        XCTAssertEqual(call.state, .ended)
    }

    func testAnsweredCallEndsOn408() throws {
        var call = try answeredIncomingCall()
        let info = try XCTUnwrap(incomingSent(call.sendKey(key("2"), at: now)).first)
        let actions = call.handle(response: try response(to: info, "408 Request Timeout"), at: now)
        XCTAssertEqual(actions.count, 1)
        guard case .ended(_, remote: true) = actions[0] else { return XCTFail("\(actions)") }
    }
}
