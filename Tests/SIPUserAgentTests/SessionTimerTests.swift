import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// RFC 4028 timing and the Session-Expires / Min-SE headers.
final class SessionTimerTests: XCTestCase {
    private let now = Instant.zero + .seconds(100)

    func testWeRefreshAtHalfTheInterval() {
        var timer = SessionTimer(seconds: 1800, weRefresh: true, at: now)
        XCTAssertEqual(timer.nextDeadline, now + .seconds(900))
        XCTAssertNil(timer.advance(to: now + .seconds(899)))
        XCTAssertEqual(timer.advance(to: now + .seconds(900)), .refresh)
        // Until the refresh succeeds, the session's own end is what is due.
        XCTAssertEqual(timer.nextDeadline, now + .seconds(1800 - 32))
        timer.refreshed(weRefresh: true, at: now + .seconds(901))
        XCTAssertEqual(timer.nextDeadline, now + .seconds(901 + 900))
    }

    func testARefreshThatNeverSucceedsEndsTheSession() {
        var timer = SessionTimer(seconds: 90, weRefresh: true, at: now)
        XCTAssertEqual(timer.advance(to: now + .seconds(45)), .refresh)
        XCTAssertNil(timer.advance(to: now + .seconds(59)))
        XCTAssertEqual(timer.advance(to: now + .seconds(60)), .expired, "90 - min(32, 30)")
    }

    func testTheFarEndsSilenceEndsTheSessionBeforeItsEnd() {
        var timer = SessionTimer(seconds: 1800, weRefresh: false, at: now)
        XCTAssertNil(timer.advance(to: now + .seconds(1767)))
        XCTAssertEqual(timer.advance(to: now + .seconds(1768)), .expired)
        var refreshed = SessionTimer(seconds: 1800, weRefresh: false, at: now)
        refreshed.refreshed(at: now + .seconds(900))
        XCTAssertNil(refreshed.advance(to: now + .seconds(1768)), "a refresh starts it again")
    }

    func testIntervalsBelowTheMinimumAreRaised() {
        XCTAssertEqual(SessionTimer(seconds: 30, weRefresh: true, at: now).seconds, 90)
    }

    func testSessionExpiresParses() {
        XCTAssertEqual(SessionExpires.parse(ArraySlice("1800".utf8)), SessionExpires(seconds: 1800))
        XCTAssertEqual(SessionExpires.parse(ArraySlice("1800 ; refresher = UAS".utf8)),
                       SessionExpires(seconds: 1800, refresher: .uas))
        XCTAssertEqual(SessionExpires.parse(ArraySlice("90;foo=bar;refresher=uac".utf8)),
                       SessionExpires(seconds: 90, refresher: .uac))
        XCTAssertNil(SessionExpires.parse(ArraySlice("0".utf8)))
        XCTAssertNil(SessionExpires.parse(ArraySlice("abc".utf8)))
        XCTAssertNil(SessionExpires.parse(ArraySlice("90;refresher=proxy".utf8)))
        XCTAssertEqual(SessionExpires(seconds: 600, refresher: .uac).text, "600;refresher=uac")
    }

    func testHeadersOfAMessage() throws {
        let text = "SIP/2.0 422 Session Interval Too Small\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
            + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
            + "Min-SE: 600\r\nx: 1800;refresher=uac\r\nContent-Length: 0\r\n\r\n"
        let message = try SIPParser().parse(Array(text.utf8), framing: .datagram)
        XCTAssertEqual(message.minimumSessionExpires, 600)
        XCTAssertEqual(message.sessionExpires, SessionExpires(seconds: 1800, refresher: .uac), "compact form x")
    }
}
