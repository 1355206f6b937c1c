import SIPMessage
import XCTest

final class ParserTests: XCTestCase {
    func error(_ b: [UInt8], _ framing: SIPFraming = .datagram, limits: SIPLimits = SIPLimits()) -> SIPParseError? {
        do {
            _ = try SIPParser(limits: limits).parse(b, framing: framing)
            return nil
        } catch {
            return error
        }
    }

    func testRequestLineAndRanges() throws {
        let m = try SIPParser().parse(message(baseRequest, body: ""), framing: .datagram)
        XCTAssertEqual(m.method, .options)
        XCTAssertEqual(m.requestURIBytes?.sipText, "sip:alice@example.com")
        XCTAssertEqual(m.versionBytes.sipText, "SIP/2.0")
        XCTAssertEqual(m.headers.count, 6)
        XCTAssertEqual(m.cseq, CSeq(number: 314159, method: .options))
        XCTAssertEqual(m.from?.displayNameText, "Bob")
        XCTAssertEqual(m.topVia?.branch?.sipText, "z9hG4bKabc")
        // Slices point into the one buffer.
        let cid = try XCTUnwrap(m.callID)
        XCTAssertEqual(Array(m.bytes[cid.indices]), Array(cid))
    }

    func testLeadingCRLFAndBareLF() throws {
        let text = "\r\n\r\nOPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 2\n\nhi"
        let m = try SIPParser().parse(bytes(text), framing: .stream)
        XCTAssertEqual(m.body.sipText, "hi")
        XCTAssertEqual(m.frameLength, bytes(text).count)
        XCTAssertEqual(error(bytes("\r\n\r\n"))?.kind, .empty)
    }

    func testStatusLine() throws {
        let m = try SIPParser().parse(bytes("SIP/2.0 180 Ringing now\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"), framing: .datagram)
        XCTAssertEqual(m.statusCode, 180)
        XCTAssertEqual(m.reasonPhrase?.sipText, "Ringing now")
        XCTAssertEqual(error(bytes("SIP/2.0 18 Short\r\n\r\n"))?.kind, .badStatusCode)
        XCTAssertEqual(error(bytes("SIP/2.0 1800 Long\r\n\r\n"))?.kind, .badStatusCode)
        XCTAssertEqual(error(bytes("SIP/2.0\r\n\r\n"))?.kind, .badStatusCode)
        let low = SIPParseOutcome.evaluate(message(["SIP/2.0 099 Low"] + Array(baseRequest.dropFirst())), framing: .datagram)
        XCTAssertEqual(low.summary, "drop")
    }

    func testGarbageIsDropped() {
        for junk in ["hello", "\u{1}\u{2}\u{3}\r\n\r\n", "INVITE\r\n\r\n", "<> sip:a SIP/2.0\r\n\r\n", ""] {
            XCTAssertEqual(SIPParseOutcome.evaluate(bytes(junk), framing: .datagram).summary, "drop", junk)
        }
    }

    func testBadHeaderLineIsAnswerable() {
        var lines = baseRequest
        lines.append("This line has no colon")
        let e = error(message(lines))
        XCTAssertEqual(e?.kind, .badHeaderLine)
        XCTAssertEqual(e?.partial?.count(of: .via), 1)
        XCTAssertEqual(SIPParseOutcome.evaluate(message(lines), framing: .datagram).summary, "400")
    }

    func testLimits() {
        var many = baseRequest
        for n in 0..<100 { many.append("X-\(n): v") }
        XCTAssertEqual(error(message(many))?.kind, .tooManyHeaders)
        XCTAssertNil(error(message(many), limits: SIPLimits(maxHeaders: 200)))

        var long = baseRequest
        long.append("Subject: " + String(repeating: "a", count: 9000))
        XCTAssertEqual(error(message(long))?.kind, .headerTooLong)
        var folded = baseRequest
        folded.append("Subject: a")
        for _ in 0..<200 { folded.append(" " + String(repeating: "b", count: 60)) }
        XCTAssertEqual(error(message(folded))?.kind, .headerTooLong)

        let big = message(baseRequest, body: String(repeating: "x", count: 70_000))
        XCTAssertEqual(error(big)?.kind, .messageTooLarge)
        XCTAssertEqual(SIPParseOutcome.evaluate(big, framing: .datagram).summary, "drop")

        // Stream: a Content-Length beyond the limit is refused with 413 before reading the body.
        let huge = message(baseRequest + ["Content-Length: 100000"])
        let r = SIPParseOutcome.evaluate(huge, framing: .stream)
        XCTAssertEqual(r.rejection?.status, 413)
        XCTAssertEqual(r.rejection?.closeConnection, true)
        // Stream: headers that never end are not buffered forever.
        let endless = bytes("OPTIONS sip:a@b SIP/2.0\r\n" + String(repeating: "X-A: b\r\n", count: 9000))
        XCTAssertEqual(error(endless, .stream, limits: SIPLimits(maxHeaders: 100_000))?.kind, .messageTooLarge)
    }

    func testContentLengthFraming() {
        let withCL = { (cl: String, body: String) in message(baseRequest + ["Content-Type: application/sdp", "Content-Length: " + cl], body: body) }
        XCTAssertEqual(parse(withCL("3", "abcdef"))?.body.sipText, "abc", "UDP ignores trailing octets")
        XCTAssertEqual(error(withCL("7", "abc"))?.kind, .contentLengthExceedsDatagram)
        XCTAssertEqual(error(withCL("-1", "abc"))?.kind, .badContentLength)
        XCTAssertEqual(error(withCL("x", "abc"))?.kind, .badContentLength)
        XCTAssertEqual(error(withCL("7", "abc"), .stream)?.kind, .incomplete)
        XCTAssertEqual(parse(message(baseRequest, body: "rest"))?.body.sipText, "rest", "UDP without CL: rest of datagram")
        XCTAssertEqual(error(message(baseRequest, body: "rest"), .stream)?.kind, .missingContentLength)
        let two = message(baseRequest + ["Content-Length: 0", "l: 0"])
        XCTAssertEqual(error(two)?.kind, .multipleContentLength)
    }

    func testValidationRules() {
        func outcome(_ lines: [String], body: String = "", uas: SIPUASProfile = SIPUASProfile()) -> SIPParseOutcome {
            SIPParseOutcome.evaluate(message(lines, body: body), framing: .datagram, uas: uas)
        }
        XCTAssertEqual(outcome(baseRequest).summary, "request")
        XCTAssertEqual(outcome(baseRequest.filter { !$0.hasPrefix("Max-Forwards") }).summary, "request", "RFC 2543 fallback")
        XCTAssertEqual(outcome(baseRequest.filter { !$0.hasPrefix("Via") }).summary, "drop")
        XCTAssertEqual(outcome(baseRequest + ["Call-ID: second"]).summary, "400")
        XCTAssertEqual(outcome(baseRequest + ["Max-Forwards: 1"]).summary, "400")
        var ack = baseRequest
        ack[0] = "ACK sip:alice@example.com SIP/2.0"
        ack[5] = "CSeq: 314159 ACK"
        XCTAssertEqual(outcome(ack).summary, "request")
        XCTAssertEqual(outcome(ack + ["Require: foo"]).summary, "request", "Require is ignored for ACK")
        XCTAssertEqual(outcome(ack + ["CSeq: 2 ACK"]).summary, "drop", "never answer an ACK")
        XCTAssertEqual(outcome(baseRequest + ["Require: timer, foo"]).rejection?.extraHeaders.first.map { String(decoding: $0.value, as: UTF8.self) }, "foo")
        XCTAssertEqual(outcome(baseRequest + ["Content-Type: application/sdp", "Content-Encoding: gzip"], body: "x").summary, "415")
        XCTAssertEqual(outcome(baseRequest + ["Content-Type: Application/SDP; charset=x"], body: "x").summary, "request")
        var sips = baseRequest
        sips[0] = "OPTIONS sips:alice@example.com SIP/2.0"
        XCTAssertEqual(outcome(sips, uas: SIPUASProfile(uriSchemes: [.sip])).summary, "416")
        var version = baseRequest
        version[0] = "OPTIONS sip:alice@example.com SIP/3.0"
        XCTAssertEqual(outcome(version).summary, "505")
        var subscribe = baseRequest
        subscribe[0] = "SUBSCRIBE sip:alice@example.com SIP/2.0"
        subscribe[5] = "CSeq: 1 SUBSCRIBE"
        XCTAssertEqual(outcome(subscribe).summary, "405")
    }
}
