import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// The UAS side of a call, driven with explicit times.
final class IncomingCallTests: XCTestCase {
    private let now = Instant.zero + .seconds(50)

    private func parse(_ text: String) throws -> SIPMessage { try Self.parse(text) }

    private static func parse(_ text: String) throws -> SIPMessage {
        let normalized = text.replacingOccurrences(of: "\n", with: "\r\n")
        return try SIPParser().parse(Array(normalized.utf8), framing: .datagram)
    }

    /// The caller's INVITE; `extraHeaders` go after its one Record-Route.
    static func invite(extraHeaders: [String] = [], contact: String = "<sip:2000@127.0.0.1:5070>") throws -> SIPMessage {
        try parse("""
        INVITE sip:1001@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc
        Record-Route: <sip:127.0.0.1:5080;lr>
        \(extraHeaders.map { $0 + "\n" }.joined())Max-Forwards: 70
        From: "Caller" <sip:2000@atad.test>;tag=from1
        To: <sip:1001@atad.test>
        Call-ID: call-1
        CSeq: 1 INVITE
        Contact: \(contact)
        Content-Length: 0


        """)
    }

    private func invite() throws -> SIPMessage { try Self.invite() }

    private var tokens = 0

    private func makeCall() throws -> IncomingCall {
        IncomingCall(invite: try invite(), toTag: "to1", contact: "sip:atad@127.0.0.1:5060",
                     userAgent: "atad/test", answerSDP: Array("v=0\r\n".utf8), localHost: "127.0.0.1", localPort: 5060,
                     makeToken: { [unowned self] in
                         self.tokens += 1
                         return "t\(self.tokens)"
                     })
    }

    private func texts(_ actions: [CallAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    func testRingsThenAnswersWithSDPAndTheRouteSet() throws {
        var call = try makeCall()
        let first = texts(call.start(at: now))
        XCTAssertTrue(first[0].hasPrefix("SIP/2.0 100 Trying\r\n"))
        XCTAssertFalse(first[0].contains("tag=to1"), "100 carries no To tag")
        XCTAssertTrue(first[1].hasPrefix("SIP/2.0 180 Ringing\r\n"))
        XCTAssertTrue(first[1].contains("To: <sip:1001@atad.test>;tag=to1"))
        let ok = try XCTUnwrap(texts(call.answer(at: now)).first)
        XCTAssertTrue(ok.hasPrefix("SIP/2.0 200 OK\r\n"))
        XCTAssertTrue(ok.contains("Record-Route: <sip:127.0.0.1:5080;lr>\r\n"))
        XCTAssertTrue(ok.contains("Contact: <sip:atad@127.0.0.1:5060>\r\n"))
        XCTAssertTrue(ok.contains("Content-Type: application/sdp\r\n"))
        XCTAssertTrue(ok.hasSuffix("\r\n\r\nv=0\r\n"))
        XCTAssertEqual(call.state, .answered)
    }

    func testTheOKIsRepeatedUntilTheACKWithDoublingIntervals() throws {
        var call = try makeCall()
        _ = call.start(at: now)
        _ = call.answer(at: now)
        var sendTimes: [Int64] = []
        var time = now
        while let due = call.nextDeadline, due <= now + .seconds(10) {
            time = due
            if !texts(call.advance(to: time)).isEmpty { sendTimes.append((time - now).milliseconds) }
        }
        XCTAssertEqual(Array(sendTimes.prefix(5)), [500, 1500, 3500, 7500, 11500].filter { $0 <= 10_000 })
        call.ackReceived(cseq: 1, at: now)
        XCTAssertEqual(call.state, .confirmed)
        XCTAssertNil(call.nextDeadline, "no more retransmissions after the ACK")
    }

    func testNoACKEndsTheCallAfter64T1() throws {
        var call = try makeCall()
        _ = call.start(at: now)
        _ = call.answer(at: now)
        var ended: CallAction?
        while ended == nil, let due = call.nextDeadline {
            for action in call.advance(to: due) { if case .ended = action { ended = action } }
            if due > now + .seconds(40) { break }
        }
        XCTAssertEqual(ended, .ended(reason: "no ACK for our 200 OK", remote: true))
    }

    func testCancelBeforeAnswerGets487() throws {
        var call = try makeCall()
        _ = call.start(at: now)
        let cancel = try parse("""
        CANCEL sip:1001@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc
        Max-Forwards: 70
        From: "Caller" <sip:2000@atad.test>;tag=from1
        To: <sip:1001@atad.test>
        Call-ID: call-1
        CSeq: 1 CANCEL
        Content-Length: 0


        """)
        let actions = call.cancelReceived(cancel)
        let sent = texts(actions)
        XCTAssertTrue(sent[0].hasPrefix("SIP/2.0 200 OK\r\n") && sent[0].contains("CSeq: 1 CANCEL"))
        XCTAssertTrue(sent[1].hasPrefix("SIP/2.0 487 Request Terminated\r\n") && sent[1].contains("CSeq: 1 INVITE"))
        XCTAssertEqual(actions.last, .ended(reason: "cancelled by the caller", remote: true))
    }

    /// RFC 3261 §12.2.2: an accepted re-INVITE's Contact becomes the
    /// remote target; the route set stays.
    func testAnAcceptedReinviteMovesTheRemoteTarget() throws {
        var call = try makeCall()
        _ = call.start(at: now)
        _ = call.answer(at: now)
        call.ackReceived(cseq: 1, at: now)
        call.reinviteAccepted(try parse("""
        INVITE sip:atad@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKre
        From: "Caller" <sip:2000@atad.test>;tag=from1
        To: <sip:1001@atad.test>;tag=to1
        Call-ID: call-1
        CSeq: 2 INVITE
        Contact: <sip:2000@192.0.2.44:5099;transport=udp>
        Content-Length: 0


        """), answer: Array("SIP/2.0 200 OK\r\nCSeq: 2 INVITE\r\n\r\n".utf8), session: .none, at: now)
        let bye = try XCTUnwrap(texts(call.hangUp(at: now)).first)
        XCTAssertTrue(bye.hasPrefix("BYE sip:2000@192.0.2.44:5099;transport=udp SIP/2.0\r\n"), bye)
        XCTAssertTrue(bye.contains("Route: <sip:127.0.0.1:5080;lr>\r\n"))
    }

    func testOurBYEFollowsTheRouteSetToTheRemoteTarget() throws {
        var call = try makeCall()
        _ = call.start(at: now)
        _ = call.answer(at: now)
        call.ackReceived(cseq: 1, at: now)
        let bye = try XCTUnwrap(texts(call.hangUp(at: now)).first)
        XCTAssertTrue(bye.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye)
        XCTAssertTrue(bye.contains("Route: <sip:127.0.0.1:5080;lr>\r\n"))
        XCTAssertTrue(bye.contains("From: <sip:1001@atad.test>;tag=to1\r\n"))
        XCTAssertTrue(bye.contains("To: \"Caller\" <sip:2000@atad.test>;tag=from1\r\n"))
        XCTAssertTrue(bye.contains("Call-ID: call-1\r\n"))
        XCTAssertTrue(bye.contains("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKt1;rport\r\n"), bye)
        XCTAssertTrue(bye.contains("CSeq: 1 BYE\r\n"))
        XCTAssertEqual(call.state, .ending)
        let ok = try parse("""
        SIP/2.0 200 OK
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKt1;rport
        From: <sip:1001@atad.test>;tag=to1
        To: "Caller" <sip:2000@atad.test>;tag=from1
        Call-ID: call-1
        CSeq: 1 BYE
        Content-Length: 0


        """)
        XCTAssertEqual(call.handle(response: ok, at: now), [.ended(reason: "hung up", remote: false)])
    }

    // MARK: 100rel (RFC 3262)

    private func reliableCall() throws -> IncomingCall {
        IncomingCall(invite: try Self.invite(extraHeaders: ["Require: 100rel"]), toTag: "to1",
                     contact: "sip:atad@127.0.0.1:5060", userAgent: "atad/test", answerSDP: Array("v=0\r\n".utf8),
                     localHost: "127.0.0.1", localPort: 5060, makeToken: { "t" })
    }

    private func prack(_ rack: String, cseq: Int = 2) throws -> SIPMessage {
        try parse("""
        PRACK sip:atad@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKpr\(cseq)
        Max-Forwards: 70
        From: "Caller" <sip:2000@atad.test>;tag=from1
        To: <sip:1001@atad.test>;tag=to1
        Call-ID: call-1
        CSeq: \(cseq) PRACK
        RAck: \(rack)
        Content-Length: 0


        """)
    }

    func testARequired100relMakesThe180ReliableUntilItsPRACK() throws {
        var call = try reliableCall()
        let ringing = try XCTUnwrap(texts(call.start(at: now)).last)
        XCTAssertTrue(ringing.contains("Require: 100rel\r\n"), ringing)
        XCTAssertTrue(ringing.contains("RSeq: 1\r\n"), ringing)
        XCTAssertEqual(call.nextDeadline, now + .milliseconds(500))
        XCTAssertEqual(texts(call.advance(to: now + .milliseconds(500))), [ringing], "repeated on T1")
        XCTAssertEqual(call.nextDeadline, now + .milliseconds(1500), "then 2×T1 later")
        let wrong = try XCTUnwrap(texts(call.prackReceived(try prack("2 1 INVITE"))).first)
        XCTAssertTrue(wrong.hasPrefix("SIP/2.0 481 "), wrong)
        let ok = try XCTUnwrap(texts(call.prackReceived(try prack("1 1 INVITE", cseq: 3))).first)
        XCTAssertTrue(ok.hasPrefix("SIP/2.0 200 OK\r\n"), ok)
        XCTAssertNil(call.nextDeadline, "acknowledged: no more repeats")
        XCTAssertEqual(texts(call.advance(to: now + .seconds(5))), [])
    }

    func testAReliable180NeverAcknowledgedRefusesTheCall() throws {
        var call = try reliableCall()
        _ = call.start(at: now)
        var sent = 0
        var ended: [CallAction] = []
        for _ in 0..<20 {
            guard let due = call.nextDeadline else { break }
            let actions = call.advance(to: due)
            if actions.contains(where: { if case .ended = $0 { return true } else { return false } }) {
                ended = actions
                break
            }
            sent += texts(actions).count
        }
        XCTAssertEqual(sent, 6, "T1 doubling within 64×T1: 0.5, 1, 2, 4, 8, 16 s")
        XCTAssertTrue(texts(ended).first?.hasPrefix("SIP/2.0 500 ") ?? false, "\(ended)")
        XCTAssertEqual(call.state, .ended)
    }

    func testWithout100relThe180IsSentOnce() throws {
        var call = try makeCall()
        let ringing = try XCTUnwrap(texts(call.start(at: now)).last)
        XCTAssertFalse(ringing.contains("RSeq"))
        XCTAssertNil(call.nextDeadline)
    }
}
