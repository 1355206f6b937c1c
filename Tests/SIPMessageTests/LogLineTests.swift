import SIPMessage
import XCTest

final class LogLineTests: XCTestCase {
    func line(_ text: String) -> String? { SIPLogLine.startLine(of: Array(text.utf8)) }

    func testRequestAndResponseStartLines() {
        XCTAssertEqual(line("INVITE sip:2000@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n\r\nv=0\r\n"),
                       "INVITE sip:2000@127.0.0.1:5062 SIP/2.0")
        XCTAssertEqual(line("SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n"), "SIP/2.0 180 Ringing")
        XCTAssertEqual(line("\r\n\r\nBYE sip:a@b SIP/2.0\nTo: x\n\n"), "BYE sip:a@b SIP/2.0")
    }

    func testKeepAlivesHaveNoStartLine() {
        XCTAssertNil(line("\r\n\r\n"))
        XCTAssertNil(line(""))
    }

    func testPasswordInTheRequestURIIsMasked() {
        XCTAssertEqual(line("INVITE sip:alice:secret@atlanta.com SIP/2.0\r\n"), "INVITE sip:alice:***@atlanta.com SIP/2.0")
        XCTAssertEqual(line("INVITE sip:alice@atlanta.com:5060 SIP/2.0\r\n"), "INVITE sip:alice@atlanta.com:5060 SIP/2.0")
        XCTAssertEqual(line("SIP/2.0 200 OK sip:a:b@c\r\n"), "SIP/2.0 200 OK sip:a:b@c")
    }

    func testControlBytesAndLongLinesAreTamed() {
        XCTAssertEqual(SIPLogLine.startLine(of: Array("OPTIONS sip:a\u{1B}[2J@b SIP/2.0\r\n".utf8)),
                       "OPTIONS sip:a?[2J@b SIP/2.0")
        let long = "INVITE sip:" + String(repeating: "9", count: 500) + "@b SIP/2.0\r\n"
        let shown = line(long)
        XCTAssertEqual(shown?.utf8.count, SIPLogLine.maximumLength + 3)
        XCTAssertEqual(shown?.hasSuffix("..."), true)
        XCTAssertEqual(line(String(repeating: "A", count: SIPLogLine.maximumLength) + "\r\n")?.hasSuffix("..."), false)
    }
}
