import SIPMessage
import XCTest

final class HeaderValueTests: XCTestCase {
    func na(_ text: String) -> NameAddress? { try? NameAddress.parse(ArraySlice(text.utf8)) }
    func via(_ text: String) -> Via? { try? Via.parse(ArraySlice(text.utf8)) }

    func testNameAddr() {
        let a = na("\"A. G. Bell \\\"Alec\\\"\" <sip:agb@bell-telephone.com;transport=udp> ;tag=a48s")
        XCTAssertEqual(a?.displayNameText, "A. G. Bell \"Alec\"")
        XCTAssertEqual(a?.isBracketed, true)
        XCTAssertEqual(a?.tag?.sipText, "a48s")
        XCTAssertEqual(a?.sipURI?.parameter("transport")?.sipText, "udp")

        let tokens = na("Lee M. Foote <sips:lee.foote@example.com>")
        XCTAssertEqual(tokens?.displayNameText, "Lee M. Foote")

        let noName = na("<sip:carol@chicago.com>")
        XCTAssertNil(noName?.displayName)
    }

    func testBareAddrSpecParametersBelongToTheHeader() {
        let a = na("sip:+12125551212@server.phone2net.com;tag=887s;user=phone")
        XCTAssertEqual(a?.isBracketed, false)
        XCTAssertEqual(a?.tag?.sipText, "887s")
        XCTAssertEqual(a?.parameters.contains("user"), true)
        XCTAssertEqual(a?.sipURI?.parameters.isEmpty, true)
        XCTAssertNil(na("sip:a@b?subject=x"), "a URI with ? must be bracketed")
        XCTAssertNil(na("sip:a@b,sip:c@d"))
    }

    func testMalformedNameAddr() {
        XCTAssertNil(na("\"unterminated <sip:a@b>"))
        XCTAssertNil(na("<sip:a@b"))
        XCTAssertNil(na("< sip:a@b >"))
        XCTAssertNil(na("Bell, Alexander <sip:a@b>"))
        XCTAssertNil(na("<sip:a@b>;;tag=1"))
        XCTAssertNil(na("<sip:a@b>;tag="))
        XCTAssertNotNil(na("<urn:service:sos>"), "any scheme is fine in name-addr")
    }

    func testViaWithRport() {
        let v = via("SIP/2.0/UDP [2001:db8::9]:5062;rport;branch=z9hG4bK776asdhds;received=2001:db8::10;ttl=16;maddr=224.2.0.1")
        XCTAssertEqual(v?.transport.sipText, "UDP")
        XCTAssertEqual(v?.hostText, "2001:db8::9")
        XCTAssertEqual(v?.isIPv6Reference, true)
        XCTAssertEqual(v?.port, 5062)
        XCTAssertEqual(v?.hasRport, true)
        XCTAssertNil(v?.rport)
        XCTAssertEqual(v?.hasRFC3261Branch, true)
        XCTAssertEqual(v?.received?.sipText, "2001:db8::10")
        XCTAssertEqual(v?.ttl, 16)
        XCTAssertEqual(v?.maddr?.sipText, "224.2.0.1")

        let w = via("SIP / 2.0 / TCP client.example.com ;received=192.0.2.4;rport=9988;branch=z9hG4bK1")
        XCTAssertEqual(w?.rport, 9988)
        XCTAssertEqual(w?.hasRport, true)
        XCTAssertNil(w?.port)
        XCTAssertNil(via("SIP/2.0/UDP"), "no sent-by")
        XCTAssertNil(via("SIP/2.0/UDP host;;"))
        XCTAssertNil(via("SIP/2.0/UDPhost"))
        XCTAssertNil(via("SIP/2.0/UDP host:70000"))
    }

    func testCSeqAndScalars() {
        XCTAssertEqual(try? CSeq.parse(ArraySlice("4294967295 INVITE".utf8)), CSeq(number: 4294967295, method: .invite))
        XCTAssertNil(try? CSeq.parse(ArraySlice("4294967296 INVITE".utf8)))
        XCTAssertNil(try? CSeq.parse(ArraySlice("1INVITE".utf8)))
        XCTAssertNil(try? CSeq.parse(ArraySlice("1 INVITE x".utf8)))
        XCTAssertNil(try? CSeq.parse(ArraySlice("-1 INVITE".utf8)))
        XCTAssertEqual(SIPScalar.maxForwards(ArraySlice("0070".utf8)), 70)
        XCTAssertNil(SIPScalar.maxForwards(ArraySlice("256".utf8)))
        XCTAssertNil(SIPScalar.contentLength(ArraySlice("-1".utf8)))
        XCTAssertNil(SIPScalar.contentLength(ArraySlice("12a".utf8)))
        XCTAssertEqual(SIPScalar.deltaSeconds(ArraySlice("3600".utf8)), 3600)
        XCTAssertEqual(SIPScalar.deltaSeconds(ArraySlice("99999999999999999999".utf8)), UInt32.max)
        XCTAssertNil(SIPScalar.deltaSeconds(ArraySlice("Thu, 01 Dec 1994".utf8)))
    }

    func testAuthParams() throws {
        let text = "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5, note=\"say \\\"hi\\\"\""
        let a = try SIPAuthParams.parse(ArraySlice(text.utf8))
        XCTAssertEqual(a.scheme.sipText, "Digest")
        XCTAssertEqual(a.text("realm"), "atlanta.com")
        XCTAssertEqual(a.text("NONCE"), "f84f1cec41e6cbe5aea9c8e88d359")
        XCTAssertEqual(a.text("opaque"), "")
        XCTAssertEqual(a.text("stale"), "FALSE")
        XCTAssertEqual(a.text("note"), "say \"hi\"")
        XCTAssertNil(a.text("cnonce"))
        XCTAssertNil(try? SIPAuthParams.parse(ArraySlice("Digest realm=\"x".utf8)))
        XCTAssertNil(try? SIPAuthParams.parse(ArraySlice("Digest realm".utf8)))
    }

    func testCompactNamesAndHeaderNames() {
        let pairs: [(String, HeaderName)] = [
            ("i", .callID), ("m", .contact), ("e", .contentEncoding), ("l", .contentLength),
            ("c", .contentType), ("f", .from), ("s", .subject), ("k", .supported), ("t", .to),
            ("v", .via), ("o", .event), ("u", .allowEvents), ("r", .referTo), ("b", .referredBy),
            ("x", .sessionExpires), ("y", .identity), ("a", .acceptContact), ("j", .rejectContact),
            ("d", .requestDisposition), ("I", .callID), ("V", .via),
            ("cAlL-iD", .callID), ("WWW-AUTHENTICATE", .wwwAuthenticate), ("cseq", .cseq),
            ("X-Custom", .other), ("q", .other), ("Vias", .other),
        ]
        for (text, want) in pairs { XCTAssertEqual(HeaderName(text), want, text) }
        let m = parse(message([
            "INVITE sip:a@b SIP/2.0", "v: SIP/2.0/UDP h;branch=z9hG4bK1", "f: <sip:x@y>;tag=1",
            "t: <sip:a@b>", "i: abc", "CSeq: 1 INVITE", "m: <sip:x@h>", "k: timer, 100rel", "l: 0",
        ]))
        XCTAssertEqual(m?.callID?.sipText, "abc")
        XCTAssertEqual(m?.optionTags(.supported).map { $0.sipText }, ["timer", "100rel"])
        XCTAssertEqual(m?.contentLength, 0)
        XCTAssertEqual(m.map { $0.name(of: $0.headers[0]).sipText }, "v")
    }

    func testFoldingAndMultiValues() {
        let m = parse(message([
            "INVITE sip:a@b SIP/2.0",
            "Via: SIP/2.0/UDP h1;branch=z9hG4bK1,",
            "  SIP/2.0/TCP h2;branch=z9hG4bK2",
            "Via: SIP/2.0/UDP h3;branch=z9hG4bK3",
            "Subject: first part",
            "\tsecond part   ",
            "Contact: \"a, b\" <sip:a,b@h;x=1>, <sip:c@h>,sip:d@h",
            "Allow: INVITE, ACK,BYE , CANCEL",
            "Empty:",
            "X-Later:",
            "   folded only",
        ]))
        XCTAssertEqual(m?.vias?.map { $0.hostText }, ["h1", "h2", "h3"])
        XCTAssertEqual(m?.text(of: .subject), "first part second part")
        XCTAssertEqual(m?.values(of: .contact).count, 3)
        XCTAssertEqual(m?.contacts?.first?.displayNameText, "a, b")
        XCTAssertEqual(m?.allowedMethods, [.invite, .ack, .bye, .cancel])
        XCTAssertEqual(m.map { h in h.headers(named: "empty").map { h.value(of: $0).count } }, [0])
        XCTAssertEqual(m.map { h in h.headers(named: "X-LATER").map { h.value(of: $0).sipText } }, ["folded only"])
    }
}

extension Via {
    var hostText: String { host.sipText }
}
