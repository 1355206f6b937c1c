import SDP
import XCTest

/// Re-offers, hold and resume, o= versions (RFC 3264 section 8).
final class SessionTests: XCTestCase {
    private func remoteOffer(version: UInt64, address: String = "192.0.2.77", port: Int = 30000,
                             direction: String = "sendrecv") -> SessionDescription {
        try! SessionDescription(parsing: crlf("""
        v=0
        o=pbx 555 \(version) IN IP4 192.0.2.77
        s=-
        c=IN IP4 \(address)
        t=0 0
        m=audio \(port) RTP/AVP 0 8 101
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=\(direction)
        """))
    }

    func testRemoteHoldAndResume() throws {
        var session = SDPSession(sessionID: 5000)
        let first = try session.answer(to: remoteOffer(version: 1), ours: ours4).get()
        XCTAssertEqual(first.sdp.origin, Origin(username: "atad", sessionID: 5000, sessionVersion: 5000,
                                                address: .ip4("192.0.2.10")))
        XCTAssertFalse(first.remoteVersionUnchanged)
        XCTAssertFalse(first.media.heldByRemote)

        let hold = try session.answer(to: remoteOffer(version: 2, direction: "sendonly"), ours: ours4).get()
        XCTAssertEqual(hold.sdp.media[0].direction, .recvonly)
        XCTAssertEqual(hold.sdp.origin.sessionVersion, 5001, "our answer changed: version + 1")
        XCTAssertTrue(hold.media.heldByRemote)
        XCTAssertEqual(hold.media.changes(since: first.media), [.direction, .hold])

        let resume = try session.answer(to: remoteOffer(version: 3), ours: ours4).get()
        XCTAssertEqual(resume.sdp.media[0].direction, .sendrecv)
        XCTAssertEqual(resume.sdp.origin.sessionVersion, 5002)
        XCTAssertFalse(resume.media.heldByRemote)
        XCTAssertEqual(resume.media.changes(since: hold.media), [.direction, .hold])
        XCTAssertEqual(session.current, resume.media)

        // A session refresh with the same o= line: same answer, same version.
        let refresh = try session.answer(to: remoteOffer(version: 3), ours: ours4).get()
        XCTAssertTrue(refresh.remoteVersionUnchanged)
        XCTAssertEqual(refresh.sdp, resume.sdp)
        XCTAssertEqual(refresh.media.changes(since: resume.media), [])
    }

    func testLegacyHoldReOffer() throws {
        var session = SDPSession(sessionID: 1)
        let first = try session.answer(to: remoteOffer(version: 1), ours: ours4).get()
        let hold = try session.answer(to: remoteOffer(version: 2, address: "0.0.0.0"), ours: ours4).get()
        XCTAssertTrue(hold.media.heldByRemote)
        XCTAssertEqual(hold.media.changes(since: first.media), [.remoteAddress, .direction, .hold])
    }

    func testRemoteAddressChangeIsDetected() throws {
        var session = SDPSession(sessionID: 9, sessionVersion: 0)
        let first = try session.answer(to: remoteOffer(version: 1), ours: ours4).get()
        XCTAssertEqual(first.sdp.origin.sessionVersion, 0)
        let moved = try session.answer(to: remoteOffer(version: 2, address: "198.51.100.3", port: 31000),
                                       ours: ours4).get()
        XCTAssertEqual(moved.media.changes(since: first.media), [.remoteAddress])
        XCTAssertEqual(moved.media.remoteAddress, .ip4("198.51.100.3"))
        XCTAssertEqual(moved.media.remoteRTPPort, 31000)
        XCTAssertEqual(moved.media.remoteRTCPPort, 31001)
        XCTAssertFalse(moved.remoteVersionUnchanged)
        XCTAssertEqual(moved.sdp.origin.sessionVersion, 0, "our answer did not change: same version")
    }

    func testOurHoldAndResumeReOffers() throws {
        var session = SDPSession(sessionID: 7000)
        var caps = ours4
        let offer = session.makeOffer(caps)
        XCTAssertEqual(offer.origin.sessionVersion, 7000)
        XCTAssertEqual(session.pendingOffer, offer)
        let answer = try SessionDescription(parsing: Offers.replacing(remoteOffer(version: 1).serialized(),
                                                                      "m=", with: "m=audio 30000 RTP/AVP 0 101"))
        let media = try session.negotiated(fromAnswer: answer).get()
        XCTAssertEqual(media.direction, .sendrecv)
        XCTAssertNil(session.pendingOffer)

        caps.direction = .sendonly
        let holdOffer = session.makeOffer(caps)
        XCTAssertEqual(holdOffer.origin.sessionVersion, 7001)
        XCTAssertTrue(holdOffer.serialized().contains("a=sendonly\r\n"))
        let holdAnswer = try SessionDescription(parsing: Offers.replacing(answer.serialized(), "a=sendrecv", with: "a=recvonly"))
        let held = try session.negotiated(fromAnswer: holdAnswer).get()
        XCTAssertEqual(held.direction, .sendonly)
        XCTAssertFalse(held.heldByRemote)
        XCTAssertEqual(held.changes(since: media), [.direction])

        caps.direction = .sendrecv
        let resume = session.makeOffer(caps)
        XCTAssertEqual(resume.origin.sessionVersion, 7002)
        let again = session.makeOffer(caps)
        XCTAssertEqual(again.origin.sessionVersion, 7002, "unchanged re-offer keeps the version")
        XCTAssertEqual(again, resume)
        session.cancelPendingOffer()
        XCTAssertNil(session.pendingOffer)
        XCTAssertEqual(session.negotiated(fromAnswer: answer), .failure(.answerMismatch))
    }

    func testPortChangeInOurOfferBumpsVersion() {
        var session = SDPSession(sessionID: 1, sessionVersion: 10)
        var caps = ours4
        XCTAssertEqual(session.makeOffer(caps).origin.sessionVersion, 10)
        caps.rtpPort = 4002
        XCTAssertEqual(session.makeOffer(caps).origin.sessionVersion, 11)
        XCTAssertEqual(session.sessionVersion, 11)
    }

    func testFailedOfferLeavesStateAlone() throws {
        var session = SDPSession(sessionID: 1)
        let first = try session.answer(to: remoteOffer(version: 1), ours: ours4).get()
        let bad = try SessionDescription(parsing: Offers.opusOnly)
        XCTAssertEqual(session.answer(to: bad, ours: ours4).map { $0.sdp }, .failure(.noCommonCodec))
        XCTAssertEqual(session.current, first.media)
        XCTAssertEqual(session.sessionVersion, 1)
    }
}
