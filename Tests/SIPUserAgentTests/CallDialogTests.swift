import SIPDigest
import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// Who may act on a call (both tags, CSeq order), and our requests in it:
/// BYE with credentials when challenged, our 2xx repeated until its ACK.
final class CallDialogTests: XCTestCase {
    private let now = Instant.zero + .seconds(200)
    private var tokens = 0

    private func parse(_ text: String) throws -> SIPMessage {
        try SIPParser().parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), framing: .datagram)
    }

    private func farEnd(_ method: String, fromTag: String = "far", toTag: String? = "near", cseq: Int) throws -> SIPMessage {
        try parse("""
        \(method) sip:atad@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK\(method)\(cseq)
        From: <sip:2000@atad.test>;tag=\(fromTag)
        To: <sip:1001@atad.test>\(toTag.map { ";tag=\($0)" } ?? "")
        Call-ID: call-9
        CSeq: \(cseq) \(method)
        Content-Length: 0


        """)
    }

    private func makeDialog(password: String? = "secret") -> CallDialog {
        let requests = DialogRequests(callID: "call-9", local: "<sip:1001@atad.test>;tag=near",
                                      remote: "<sip:2000@atad.test>;tag=far", remoteTarget: "sip:2000@127.0.0.1:5070",
                                      host: "127.0.0.1", port: 5060, transport: .udp, userAgent: "atad/test", localCSeq: 4)
        let digest = password.map { DigestSession(credentials: DigestCredentials(username: "1001", password: $0)) }
        return CallDialog(requests: requests, identity: DialogIdentity(callID: "call-9", localTag: "near", remoteTag: "far",
                                                                       remoteCSeq: 1),
                          timers: .unreliable, digest: digest, makeToken: { [unowned self] in
                              self.tokens += 1
                              return "d\(self.tokens)"
                          })
    }

    private func sent(_ outputs: [DialogOutput]) -> [String] {
        outputs.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func answer(_ request: String, _ status: String, _ extra: [String] = []) throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for line in request.components(separatedBy: "\r\n") {
            for name in ["Via:", "From:", "To:", "Call-ID:", "CSeq:"] where line.hasPrefix(name) { lines.append(line) }
        }
        lines += extra
        lines.append("Content-Length: 0")
        return try parse(lines.joined(separator: "\n") + "\n\n")
    }

    func testOnlyTheFarEndsTagsMayActOnTheCall() throws {
        var dialog = makeDialog()
        XCTAssertEqual(dialog.admit(try farEnd("BYE", fromTag: "stranger", cseq: 2)), .unknownDialog)
        XCTAssertEqual(dialog.admit(try farEnd("BYE", toTag: "other", cseq: 2)), .unknownDialog)
        XCTAssertEqual(dialog.admit(try farEnd("BYE", toTag: nil, cseq: 2)), .unknownDialog)
        XCTAssertEqual(dialog.admit(try farEnd("INVITE", fromTag: "stranger", cseq: 2)), .unknownDialog)
        XCTAssertEqual(dialog.identity.remoteCSeq, 1, "a refused request notes no CSeq")
        XCTAssertEqual(dialog.admit(try farEnd("BYE", cseq: 2)), .accepted)
    }

    /// An RFC 2543 caller sends no From tag; its BYE carries none either.
    func testACallerWithoutAFromTagIsMatchedWithoutOne() throws {
        var identity = DialogIdentity(callID: "call-9", localTag: "near", remoteTag: "")
        let untagged = try parse("""
        BYE sip:atad@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKold
        From: <sip:2000@atad.test>
        To: <sip:1001@atad.test>;tag=near
        Call-ID: call-9
        CSeq: 2 BYE
        Content-Length: 0


        """)
        XCTAssertEqual(identity.admit(untagged), .accepted)
        XCTAssertEqual(identity.admit(try farEnd("BYE", fromTag: "some", cseq: 3)), .unknownDialog)
    }

    func testACSeqThatGoesBackIsOutOfOrderButAnACKIsNot() throws {
        var dialog = makeDialog()
        XCTAssertEqual(dialog.admit(try farEnd("INVITE", cseq: 5)), .accepted)
        XCTAssertEqual(dialog.admit(try farEnd("ACK", cseq: 5)), .accepted)
        XCTAssertEqual(dialog.admit(try farEnd("INFO", cseq: 3)), .outOfOrder)
        XCTAssertEqual(dialog.admit(try farEnd("INFO", cseq: 6)), .accepted)
    }

    func testAChallengedBYEIsSentAgainWithCredentials() throws {
        var dialog = makeDialog()
        let bye = try XCTUnwrap(sent(dialog.hangUp(at: now)).first)
        XCTAssertTrue(bye.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye)
        XCTAssertTrue(bye.contains("CSeq: 5 BYE\r\n"))
        let challenge = try answer(bye, "407 Proxy Authentication Required",
                                   ["Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", qop=\"auth\""])
        let again = try XCTUnwrap(sent(dialog.handle(response: challenge, at: now)).first)
        XCTAssertTrue(again.contains("CSeq: 6 BYE\r\n"), again)
        XCTAssertTrue(again.contains("Proxy-Authorization: Digest "), again)
        XCTAssertTrue(again.contains("uri=\"sip:2000@127.0.0.1:5070\""), again)
        XCTAssertFalse(dialog.isOver)
        XCTAssertEqual(dialog.handle(response: try answer(again, "200 OK"), at: now), [.ended(reason: "hung up", remote: false)])
        XCTAssertTrue(dialog.isOver)
    }

    func testABYEChallengedAgainAfterOurCredentialsEnds() throws {
        var dialog = makeDialog()
        let bye = try XCTUnwrap(sent(dialog.hangUp(at: now)).first)
        let header = "Proxy-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", qop=\"auth\""
        let again = try XCTUnwrap(sent(dialog.handle(response: try answer(bye, "407 Proxy Authentication Required", [header]), at: now)).first)
        let refused = dialog.handle(response: try answer(again, "407 Proxy Authentication Required", [header]), at: now)
        XCTAssertEqual(refused, [.ended(reason: "hung up", remote: false)], "the same challenge again: the password is wrong")
    }

    func testWithoutCredentialsAChallengedBYEEnds() throws {
        var dialog = makeDialog(password: nil)
        let bye = try XCTUnwrap(sent(dialog.hangUp(at: now)).first)
        let challenge = try answer(bye, "401 Unauthorized", ["WWW-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\""])
        XCTAssertEqual(dialog.handle(response: challenge, at: now), [.ended(reason: "hung up", remote: false)])
    }

    func testAnUnansweredBYEIsRepeatedThenGivenUp() throws {
        var dialog = makeDialog()
        XCTAssertEqual(sent(dialog.hangUp(at: now)).count, 1)
        var copies = 0
        var ended: DialogOutput?
        while ended == nil, let due = dialog.nextDeadline, due <= now + .seconds(40) {
            for output in dialog.advance(to: due) {
                if case .send = output { copies += 1 }
                if case .ended = output { ended = output }
            }
        }
        XCTAssertEqual(ended, .ended(reason: "no answer to our BYE", remote: false))
        XCTAssertEqual(copies, 10, "Timer E: 0.5, 1, 2, 4, then every 4 s until Timer F at 32 s")
    }

    func testOurOKToAReinviteIsRepeatedUntilItsACK() throws {
        var dialog = makeDialog()
        let ok = Array("SIP/2.0 200 OK\r\nCSeq: 7 INVITE\r\n\r\n".utf8)
        dialog.answered(ok, cseq: 7, at: now)
        XCTAssertEqual(dialog.nextDeadline, now + .milliseconds(500))
        XCTAssertEqual(dialog.advance(to: now + .milliseconds(500)), [.send(ok)])
        XCTAssertEqual(dialog.nextDeadline, now + .milliseconds(1500))
        XCTAssertFalse(dialog.ackReceived(cseq: 6), "an ACK for an older INVITE does not stop it")
        XCTAssertTrue(dialog.ackReceived(cseq: 7))
        XCTAssertNil(dialog.nextDeadline)
    }

    func testAReinviteAnswerNeverAcknowledgedEndsTheCallWithABYE() throws {
        var dialog = makeDialog()
        dialog.answered(Array("SIP/2.0 200 OK\r\n\r\n".utf8), cseq: 7, at: now)
        var outputs: [DialogOutput] = []
        while !dialog.isOver, let due = dialog.nextDeadline, due <= now + .seconds(40) {
            outputs += dialog.advance(to: due)
        }
        XCTAssertEqual(outputs.last, .ended(reason: "no ACK for our answer to a re-INVITE", remote: true))
        XCTAssertTrue(sent(outputs).last?.hasPrefix("BYE ") ?? false)
    }
}
