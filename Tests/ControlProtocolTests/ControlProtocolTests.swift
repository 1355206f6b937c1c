import ControlProtocol
import XCTest

final class ControlProtocolTests: XCTestCase {
    private func parse(_ text: String) throws -> ControlRequest {
        try ControlRequest.parse(Array(text.utf8)[...])
    }

    func testRequestsSplitOnSpacesAndTabs() throws {
        XCTAssertEqual(try parse("status"), ControlRequest(command: "status"))
        XCTAssertEqual(try parse("  dtmf\t1   123#\r"), ControlRequest(command: "dtmf", arguments: ["1", "123#"]))
    }

    func testEmptyAndBinaryRequestsAreRefused() {
        XCTAssertThrowsError(try parse("   ")) { XCTAssertEqual($0 as? ControlRequest.ParseError, .empty) }
        XCTAssertThrowsError(try parse("sta\u{1}tus")) { XCTAssertEqual($0 as? ControlRequest.ParseError, .notText) }
        XCTAssertThrowsError(try ControlRequest.parse([0x73, 0xFF, 0xFE][...])) {
            XCTAssertEqual($0 as? ControlRequest.ParseError, .notText)
        }
    }

    func testRepliesAreFramedByAnEmptyLine() {
        XCTAssertEqual(ControlReply.ok().wireText, "ok\n\n")
        XCTAssertEqual(ControlReply.ok(["line 1: idle", ""]).wireText, "ok\nline 1: idle\n \n\n")
        XCTAssertEqual(ControlReply.error("bad\nthing").wireText, "error: bad thing\n\n")
    }

    func testRepliesRoundTrip() {
        let reply = ControlReply.error("no such line", ["try: status"])
        let lines = reply.wireText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(ControlReply.parse(lines: Array(lines.prefix(2))), reply)
        XCTAssertNil(ControlReply.parse(lines: ["nonsense"]))
    }

    func testLineBufferHandsOutWholeLinesAcrossReads() {
        var buffer = LineBuffer(limit: 16)
        buffer.append(Array("sta".utf8)[...])
        XCTAssertEqual(buffer.nextLine(), .needMore)
        buffer.append(Array("tus\nquit\nha".utf8)[...])
        XCTAssertEqual(buffer.nextLine(), .line(Array("status".utf8)[...]))
        XCTAssertEqual(buffer.nextLine(), .line(Array("quit".utf8)[...]))
        XCTAssertEqual(buffer.nextLine(), .needMore)
        XCTAssertEqual(buffer.pendingCount, 2)
    }

    func testLineBufferRefusesOverlongLinesWithOrWithoutNewline() {
        var buffer = LineBuffer(limit: 8)
        buffer.append(Array("0123456789".utf8)[...])
        XCTAssertEqual(buffer.nextLine(), .overflow)
        var other = LineBuffer(limit: 8)
        other.append(Array("0123456789\n".utf8)[...])
        XCTAssertEqual(other.nextLine(), .overflow)
    }
}
