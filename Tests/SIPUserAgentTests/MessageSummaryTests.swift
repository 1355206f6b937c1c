import SIPUserAgent
import XCTest

/// RFC 3842 message-summary bodies, as voicemail servers send them.
final class MessageSummaryTests: XCTestCase {
    private func parse(_ text: String) -> MessageSummary? {
        MessageSummary.parse(ArraySlice(Array(text.utf8)))
    }

    func testWaitingWithVoiceCounts() {
        XCTAssertEqual(parse("Messages-Waiting: yes\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 2/8 (0/2)\r\n"),
                       MessageSummary(waiting: true, newMessages: 2, oldMessages: 8))
        XCTAssertEqual(parse("messages-waiting:no\nvoice-message:0/3\n"),
                       MessageSummary(waiting: false, newMessages: 0, oldMessages: 3))
    }

    func testCountsAreOptionalAndMalformedOnesIgnored() {
        XCTAssertEqual(parse("Messages-Waiting: yes\r\n"), MessageSummary(waiting: true))
        XCTAssertEqual(parse("Messages-Waiting: yes\r\nVoice-Message: lots\r\n"), MessageSummary(waiting: true))
        XCTAssertEqual(parse("Messages-Waiting: yes\r\nVoice-Message: 99999999/1\r\n"), MessageSummary(waiting: true))
    }

    func testWithoutMessagesWaitingItIsNoSummary() {
        XCTAssertNil(parse("Voice-Message: 2/8\r\n"))
        XCTAssertNil(parse("Messages-Waiting: maybe\r\n"))
        XCTAssertNil(parse(""))
    }

    func testStatusText() {
        XCTAssertEqual(MessageSummary(waiting: true, newMessages: 2, oldMessages: 8).statusText, "waiting, 2 new, 8 old")
        XCTAssertEqual(MessageSummary(waiting: true).statusText, "waiting")
        XCTAssertEqual(MessageSummary(waiting: false, newMessages: 0, oldMessages: 1).statusText, "none waiting")
    }
}
