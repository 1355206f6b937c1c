import SIPMessage
import XCTest

final class BuilderTests: XCTestCase {
    func testSerializeRoundTrip() throws {
        var b = SIPMessageBuilder(request: .invite, uri: "sip:bob@[2001:db8::1]:5060")
        b.add(.via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport")
        b.add(.maxForwards, "70")
        b.add(.from, "\"Alice\" <sip:alice@example.com>;tag=9fxced76sl")
        b.add(.to, "<sip:bob@example.com>")
        b.add(.callID, "3848276298220188511@atlanta.example.com")
        b.add(.cseq, "1 INVITE")
        b.add(.contentLength, "999")   // ignored: computed
        b.add(named: "X-Note", "line\r\nInjected: yes")
        b.add(.contentType, "application/sdp")
        b.body = Array("v=0\r\n".utf8)
        let wire = b.serialize()
        let text = String(decoding: wire, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("INVITE sip:bob@[2001:db8::1]:5060 SIP/2.0\r\nVia: SIP/2.0/UDP"))
        XCTAssertTrue(text.hasSuffix("Content-Length: 5\r\n\r\nv=0\r\n"))
        XCTAssertFalse(text.contains("999"))

        let m = try SIPParser().parse(wire, framing: .stream)
        XCTAssertEqual(m.frameLength, wire.count)
        XCTAssertEqual(m.method, .invite)
        XCTAssertEqual(m.requestURI?.hostText, "2001:db8::1")
        XCTAssertEqual(m.headers.map { m.name(of: $0).sipText },
                       ["Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "X-Note", "Content-Type", "Content-Length"])
        XCTAssertEqual(m.headers(named: "x-note").count, 1)
        XCTAssertEqual(m.count(of: .other), 1, "the CRLF in a value cannot add a header")
        XCTAssertEqual(m.body.sipText, "v=0\r\n")
        XCTAssertEqual(SIPParseOutcome.evaluate(wire, framing: .datagram).summary, "request")
    }

    func testMakeResponse() throws {
        let req = try SIPParser().parse(bytes(
            "INVITE sip:bob@example.com SIP/2.0\r\n" +
            "v: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP\r\n  p2.example.com;branch=z9hG4bK2\r\n" +
            "Via: SIP/2.0/UDP client.example.com;branch=z9hG4bK3;rport=5066;received=192.0.2.9\r\n" +
            "f: Alice <sip:alice@example.com>;tag=88sja8x\r\n" +
            "t: Bob <sip:bob@example.com>\r\n" +
            "i: 987asjd97y7atg\r\nCSeq: 986759 INVITE\r\nTimestamp: 54\r\n" +
            "Contact: <sip:alice@client.example.com>\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n"), framing: .datagram)
        let wire = SIPMessageBuilder.response(to: req, status: 180, reason: "Ringing", toTag: "a6c85cf").serialize()
        let r = try SIPParser().parse(wire, framing: .datagram)
        XCTAssertEqual(r.statusCode, 180)
        XCTAssertEqual(r.reasonPhrase?.sipText, "Ringing")
        XCTAssertEqual(r.vias?.map { $0.hostText }, ["p1.example.com", "p2.example.com", "client.example.com"])
        XCTAssertEqual(r.vias?.last?.rport, 5066)
        XCTAssertEqual(r.to?.tag?.sipText, "a6c85cf")
        XCTAssertEqual(r.from?.tag?.sipText, "88sja8x")
        XCTAssertEqual(r.callID?.sipText, "987asjd97y7atg")
        XCTAssertEqual(r.cseq, CSeq(number: 986759, method: .invite))
        XCTAssertEqual(r.count(of: .contact), 0)
        XCTAssertEqual(r.count(of: .timestamp), 0, "Timestamp only in 100")
        XCTAssertEqual(r.contentLength, 0)
        XCTAssertEqual(r.headers.map { r.name(of: $0).sipText },
                       ["Via", "Via", "From", "To", "Call-ID", "CSeq", "Content-Length"])

        let trying = try SIPParser().parse(SIPMessageBuilder.response(to: req, status: 100, reason: "Trying", toTag: "zz").serialize(), framing: .datagram)
        XCTAssertNil(trying.to?.tag, "100 Trying carries no To tag")
        XCTAssertEqual(trying.value(of: .timestamp)?.sipText, "54")

        // An existing To tag is kept, not doubled.
        let inDialog = try SIPParser().parse(message(baseRequest.map { $0.hasPrefix("To:") ? "To: <sip:alice@example.com>;tag=old" : $0 }), framing: .datagram)
        let resp = try SIPParser().parse(SIPMessageBuilder.response(to: inDialog, status: 200, reason: "OK", toTag: "new").serialize(), framing: .datagram)
        XCTAssertEqual(resp.to?.tag?.sipText, "old")
    }

    /// RFC 3581 §4 / RFC 3261 §18.2.1: the top Via of a response records
    /// where the request came from; the Vias below it are untouched.
    func testResponseRecordsTheSourceInTheTopVia() throws {
        var req = try SIPParser().parse(bytes(
            "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP 10.0.0.5:5060;RPORT;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com;branch=z9hG4bK2;rport\r\n" +
            "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n" +
            "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"), framing: .datagram)
        req.source = SIPSource(host: "192.0.2.7", port: 40123)
        let r = try SIPParser().parse(SIPMessageBuilder.response(to: req, status: 200, reason: "OK").serialize(),
                                      framing: .datagram)
        let vias = try XCTUnwrap(r.vias)
        XCTAssertEqual(vias.count, 2)
        XCTAssertEqual(vias[0].rport, 40123)
        XCTAssertEqual(vias[0].received?.sipText, "192.0.2.7")
        XCTAssertEqual(vias[0].branch?.sipText, "z9hG4bK1")
        XCTAssertNil(vias[1].rport, "only the top Via is ours to fill")
        XCTAssertNil(vias[1].received)

        // No rport asked and the sent-by host is the source: nothing added.
        var plain = try SIPParser().parse(message(baseRequest), framing: .datagram)
        let sentBy = try XCTUnwrap(plain.topVia).hostText
        plain.source = SIPSource(host: sentBy, port: 5999)
        let same = try SIPParser().parse(SIPMessageBuilder.response(to: plain, status: 200, reason: "OK").serialize(),
                                         framing: .datagram)
        XCTAssertNil(same.topVia?.received)
        XCTAssertNil(same.topVia?.rport)
        // A different host without rport: received only (RFC 3261 §18.2.1).
        plain.source = SIPSource(host: "198.51.100.1", port: 5999)
        let moved = try SIPParser().parse(SIPMessageBuilder.response(to: plain, status: 200, reason: "OK").serialize(),
                                          framing: .datagram)
        XCTAssertEqual(moved.topVia?.received?.sipText, "198.51.100.1")
        XCTAssertNil(moved.topVia?.rport)
    }

    func testRejectionResponseCarriesExtraHeaders() throws {
        var lines = baseRequest
        lines[0] = "FROBNICATE sip:alice@example.com SIP/2.0"
        lines[5] = "CSeq: 1 FROBNICATE"
        let out = SIPParseOutcome.evaluate(message(lines), framing: .datagram)
        let rej = try XCTUnwrap(out.rejection)
        XCTAssertEqual(rej.status, 501)
        let r = try SIPParser().parse(rej.response(toTag: "t1").serialize(), framing: .datagram)
        XCTAssertEqual(r.allowedMethods.first, .invite)
        XCTAssertEqual(r.to?.tag?.sipText, "t1")
        XCTAssertEqual(SIPParseOutcome.evaluate(r.bytes, framing: .datagram).summary, "response")
    }
}
