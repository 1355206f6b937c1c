import SIPMessage
import XCTest

final class URITests: XCTestCase {
    func uri(_ text: String) -> SIPURI? { try? SIPURI.parse(ArraySlice(text.utf8)) }

    func testFullSIPURI() {
        let u = uri("sips:alice:secret@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent")
        XCTAssertEqual(u?.scheme, .sips)
        XCTAssertEqual(u?.userText, "alice")
        XCTAssertEqual(u?.password?.sipText, "secret")
        XCTAssertEqual(u?.hostText, "atlanta.com")
        XCTAssertEqual(u?.port, 5061)
        XCTAssertEqual(u?.parameter("transport")?.sipText, "tcp")
        XCTAssertEqual(u?.parameter("TRANSPORT")?.sipText, "tcp")
        XCTAssertEqual(u?.isLooseRouting, true)
        XCTAssertEqual(u?.parameter("lr")?.count, 0)
        XCTAssertNil(u?.parameter("ttl"))
        XCTAssertEqual(u?.headerFields.count, 2)
        XCTAssertEqual(u?.headerFields.first.map { String(decoding: $0.value, as: UTF8.self) }, "project x")
    }

    func testIPv6() {
        let u = uri("sip:bob@[2001:db8::1]:5070;transport=udp")
        XCTAssertEqual(u?.hostText, "2001:db8::1")
        XCTAssertEqual(u?.isIPv6Reference, true)
        XCTAssertEqual(u?.port, 5070)
        XCTAssertEqual(uri("sip:[::ffff:192.0.2.1]")?.hostText, "::ffff:192.0.2.1")
        XCTAssertNil(uri("sip:bob@[2001:db8::1"))
        XCTAssertNil(uri("sip:bob@[zz::1]"))
    }

    func testEscapes() {
        XCTAssertEqual(uri("sip:%61lice@example.com")?.userText, "alice")
        XCTAssertEqual(uri("sip:%61lice@example.com")?.user?.sipText, "%61lice")
        XCTAssertEqual(uri("sip:a%00b@h")?.unescapedUser, [0x61, 0, 0x62])
        XCTAssertNil(uri("sip:a%zzb@h"), "bad escape")
        XCTAssertNil(uri("sip:a%4@h"), "short escape")
        XCTAssertEqual(SIPPercent.encodeUser(Array("a b@c".utf8)), "a%20b%40c")
    }

    func testTelAndOtherSchemes() {
        let t = uri("tel:+1-201-555-0123;phone-context=example.com")
        XCTAssertEqual(t?.scheme, .tel)
        XCTAssertEqual(t?.user?.sipText, "+1-201-555-0123")
        XCTAssertEqual(t?.parameter("phone-context")?.sipText, "example.com")
        XCTAssertThrowsError(try SIPURI.parse(ArraySlice("http://example.com".utf8))) { e in
            XCTAssertEqual(e as? SIPURIError, .unsupportedScheme)
        }
        XCTAssertThrowsError(try SIPURI.parse(ArraySlice("<sip:a@b>".utf8))) { e in
            XCTAssertEqual(e as? SIPURIError, .malformed)
        }
    }

    func testMalformed() {
        for bad in ["sip:", "sip:@host", "sip:user@", "sip:user@host:99999", "sip:user@host:",
                    "sip:user@host;", "sip:user@host;;a", "sip:user@ho st", "sip:user@host?", "sip:user@host>"] {
            XCTAssertNil(uri(bad), bad)
        }
        XCTAssertEqual(uri("SIP:host")?.scheme, .sip, "scheme is case-insensitive")
        XCTAssertNil(uri("sip:host")?.user)
    }
}
