import SDP
import XCTest

final class SerializerTests: XCTestCase {
    func testOfferExactText() {
        let offer = OfferAnswer.makeOffer(ours4, origin: ourOrigin4)
        XCTAssertEqual(offer.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP4 192.0.2.10
        s=atad
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 4000 RTP/AVP 0 8 101
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=ptime:20
        a=sendrecv
        """))
    }

    func testOfferVariants() {
        var caps = ours6
        caps.codecs = [.pcma]
        caps.telephoneEventPayloadType = 96
        caps.telephoneEvents = .dtmfAndFlash
        caps.comfortNoise = true
        caps.ptime = 30
        caps.direction = .sendonly
        let offer = OfferAnswer.makeOffer(caps, origin: ourOrigin6, sessionName: "-")
        XCTAssertEqual(offer.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP6 2001:db8::2
        s=-
        c=IN IP6 2001:db8::2
        t=0 0
        m=audio 4000 RTP/AVP 8 13 96
        a=rtpmap:8 PCMA/8000
        a=rtpmap:13 CN/8000
        a=rtpmap:96 telephone-event/8000
        a=fmtp:96 0-16
        a=ptime:30
        a=sendonly
        """))
    }

    func testOfferWithoutTelephoneEventAndUnsupportedPtime() {
        var caps = ours4
        caps.telephoneEventPayloadType = nil
        caps.ptime = 40
        let text = OfferAnswer.makeOffer(caps, origin: ourOrigin4).serialized()
        XCTAssertTrue(text.contains("m=audio 4000 RTP/AVP 0 8\r\n"))
        XCTAssertFalse(text.contains("telephone-event"))
        XCTAssertTrue(text.contains("a=ptime:20\r\n"))
    }

    func testEveryLineEndsInCRLF() {
        let text = OfferAnswer.makeOffer(ours4, origin: ourOrigin4).serialized()
        XCTAssertTrue(text.hasSuffix("\r\n"))
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            XCTAssertEqual(bytes[index - 1], 0x0D)
        }
        XCTAssertEqual(OfferAnswer.makeOffer(ours4, origin: ourOrigin4).serializedBytes(), bytes)
    }

    func testRoundTripOfRealWorldOffers() throws {
        for offer in Offers.all {
            let parsed = try SessionDescription(parsing: offer)
            let text = parsed.serialized()
            let reparsed = try SessionDescription(parsing: text)
            XCTAssertEqual(reparsed.serialized(), text)
            XCTAssertEqual(reparsed.origin, parsed.origin)
            XCTAssertEqual(reparsed.media.count, parsed.media.count)
            for (a, b) in zip(reparsed.media, parsed.media) {
                XCTAssertEqual(a.formats, b.formats)
                XCTAssertEqual(a.port, b.port)
                XCTAssertEqual(a.ptime, b.ptime)
                XCTAssertEqual(a.direction, b.direction)
                XCTAssertEqual(a.rtcp, b.rtcp)
                XCTAssertEqual(Set(a.rtpMaps.map { $0.payloadType }), Set(b.rtpMaps.map { $0.payloadType }))
            }
        }
    }

    func testSerializedPjsipKeepsItsAttributes() throws {
        let text = try SessionDescription(parsing: Offers.pjsip).serialized()
        XCTAssertEqual(text, crlf("""
        v=0
        o=- 3894560123 3894560123 IN IP4 192.0.2.44
        s=pjmedia
        t=0 0
        a=X-nat:0
        m=audio 4002 RTP/AVP 18 8 0 96
        c=IN IP4 192.0.2.44
        a=rtpmap:18 G729/8000
        a=fmtp:18 annexb=no
        a=rtpmap:8 PCMA/8000
        a=rtpmap:0 PCMU/8000
        a=rtpmap:96 telephone-event/8000
        a=fmtp:96 0-16
        a=rtcp:4003 IN IP4 192.0.2.44
        a=ssrc:1292030452 cname:2c5d5f3e6a2b0a4b
        a=sendrecv
        """))
    }

    func testPortCountAndEmptySessionName() {
        let sdp = SessionDescription(
            origin: Origin(username: "u", sessionID: 0, sessionVersion: UInt64.max, address: .ip4("192.0.2.1")),
            sessionName: "",
            media: [MediaDescription(media: "audio", port: 5000, portCount: 2, proto: "RTP/AVP", formats: ["0"],
                                     connection: .ip4("192.0.2.1"), rtcp: RTCPAttribute(port: 5003),
                                     otherAttributes: [Attribute(name: "rtcp-mux")])])
        XCTAssertEqual(sdp.serialized(), crlf("""
        v=0
        o=u 0 18446744073709551615 IN IP4 192.0.2.1
        s=-
        t=0 0
        m=audio 5000/2 RTP/AVP 0
        c=IN IP4 192.0.2.1
        a=rtcp:5003
        a=rtcp-mux
        """))
    }
}
