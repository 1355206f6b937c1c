import SDP
import XCTest

final class ParserTests: XCTestCase {
    func testAsteriskOffer() throws {
        let sdp = try XCTUnwrap(parse(Offers.asterisk))
        XCTAssertEqual(sdp.origin, Origin(username: "-", sessionID: 1_860_436_398, sessionVersion: 1_860_436_398,
                                          address: .ip4("192.168.1.10")))
        XCTAssertEqual(sdp.sessionName, "Asterisk")
        XCTAssertEqual(sdp.connection, .ip4("192.168.1.10"))
        XCTAssertEqual(sdp.timing, Timing(start: 0, stop: 0))
        XCTAssertEqual(sdp.media.count, 1)
        let audio = sdp.media[0]
        XCTAssertTrue(audio.isAudio)
        XCTAssertTrue(audio.isRTP)
        XCTAssertEqual(audio.port, 14052)
        XCTAssertEqual(audio.proto, "RTP/AVP")
        XCTAssertEqual(audio.formats, ["0", "8", "9", "101"])
        XCTAssertEqual(audio.payloadTypes, [0, 8, 9, 101])
        XCTAssertEqual(audio.rtpMap(for: 101), RTPMap(payloadType: 101, encodingName: "telephone-event", clockRate: 8000))
        XCTAssertEqual(audio.formatParameters(for: 101), "0-16")
        XCTAssertEqual(audio.ptime, 20)
        XCTAssertEqual(audio.maxPtime, 150)
        XCTAssertEqual(audio.direction, .sendrecv)
        XCTAssertNil(audio.rtcp)
    }

    func testFreeSwitchOfferWithOpusAndTwoTelephoneEvents() throws {
        let sdp = try XCTUnwrap(parse(Offers.freeswitch))
        XCTAssertEqual(sdp.origin.sessionVersion, 1_699_985_422)
        let audio = sdp.media[0]
        XCTAssertEqual(audio.payloadTypes, [102, 9, 0, 8, 103, 101, 13])
        XCTAssertEqual(audio.rtpMap(for: 102), RTPMap(payloadType: 102, encodingName: "opus", clockRate: 48000, channels: 2))
        XCTAssertEqual(audio.rtpMap(for: 103)?.clockRate, 48000)
        XCTAssertEqual(audio.rtpMap(for: 13)?.encodingName, "CN")
        XCTAssertEqual(audio.formatParameters(for: 102)?.hasPrefix("useinbandfec=1; maxaveragebitrate=30000"), true)
        XCTAssertNil(audio.direction)
        XCTAssertEqual(sdp.direction(for: audio), .sendrecv)
    }

    func testBaresipOfferWithLFLineEndingsAndUnknownLines() throws {
        let sdp = try XCTUnwrap(parse(Offers.baresip))
        XCTAssertEqual(sdp.otherAttributes, [Attribute(name: "tool", value: "baresip 3.10.1")])
        let audio = sdp.media[0]
        XCTAssertEqual(audio.formats, ["96", "9", "0", "8", "101"])
        XCTAssertNotNil(audio.attribute("rtcp-mux"))
        XCTAssertNil(audio.attribute("rtcp-mux")?.value)
        XCTAssertEqual(audio.attribute("ssrc")?.value, "1846104383 cname:3be4d3c8-6f8e-4a6c-9bcb-0ad3c4a5e7d1")
        XCTAssertEqual(audio.attribute("mid")?.value, "1")
        // Static PCMU without rtpmap.
        XCTAssertEqual(audio.rtpMap(for: 0), RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000))
    }

    /// SIPp writes `[local_ip]` into o= and sometimes c=: the brackets of a
    /// URI. The address is still plain; it is taken without them.
    func testBracketedIPv6AddressIsTakenBare() throws {
        let text = "v=0\r\no=sipp 1 2 IN IP6 [::1]\r\ns=-\r\nc=IN IP6 [2001:db8::7]\r\nt=0 0\r\n"
            + "m=audio 4000 RTP/AVP 0\r\n"
        let sdp = try XCTUnwrap(parse(text))
        XCTAssertEqual(sdp.origin.address, .ip6("::1"))
        XCTAssertEqual(sdp.connection, .ip6("2001:db8::7"))
        XCTAssertThrowsError(try SessionDescription(parsing: Array("v=0\r\no=a 1 2 IN IP4 [192.0.2.1]\r\ns=-\r\nt=0 0\r\n".utf8)))
    }

    func testLinphoneIPv6OfferWithVideo() throws {
        let sdp = try XCTUnwrap(parse(Offers.linphone))
        XCTAssertEqual(sdp.origin.address, .ip6("2001:db8::10"))
        XCTAssertEqual(sdp.connection, .ip6("2001:db8::10"))
        XCTAssertEqual(sdp.media.count, 2)
        XCTAssertEqual(sdp.media[1].media, "video")
        XCTAssertFalse(sdp.media[1].isAudio)
        XCTAssertEqual(sdp.media[1].rtpMap(for: 96)?.encodingName, "VP8")
        XCTAssertEqual(sdp.media[0].rtpMap(for: 96)?.encodingName, "opus")
        XCTAssertEqual(sdp.media[0].rtpMap(for: 18)?.encodingName, "G729", "static type without rtpmap")
        XCTAssertEqual(sdp.media[0].rtpMap(for: 100)?.clockRate, 8000)
        XCTAssertNil(sdp.media[0].formatParameters(for: 100))
    }

    func testPjsipOfferWithMediaLevelConnectionAndRTCP() throws {
        let sdp = try XCTUnwrap(parse(Offers.pjsip))
        XCTAssertNil(sdp.connection)
        let audio = sdp.media[0]
        XCTAssertEqual(audio.connection, .ip4("192.0.2.44"))
        XCTAssertEqual(sdp.connection(for: audio), .ip4("192.0.2.44"))
        XCTAssertEqual(audio.rtcp, RTCPAttribute(port: 4003, address: .ip4("192.0.2.44")))
        XCTAssertEqual(sdp.otherAttributes, [Attribute(name: "X-nat", value: "0")])
    }

    func testStaticPayloadTypesWithoutRtpmap() throws {
        let sdp = try XCTUnwrap(parse(Offers.staticOnly))
        let audio = sdp.media[0]
        XCTAssertTrue(audio.rtpMaps.isEmpty)
        XCTAssertEqual(audio.rtpMap(for: 8).flatMap(AudioCodec.init), .pcma)
        XCTAssertEqual(audio.rtpMap(for: 0).flatMap(AudioCodec.init), .pcmu)
        XCTAssertEqual(audio.rtpMap(for: 13)?.encodingName, "CN")
        XCTAssertNil(audio.rtpMap(for: 96))
    }

    func testIPv6WithNonRTPImageStream() throws {
        let sdp = try XCTUnwrap(parse(Offers.ipv6WithImage))
        XCTAssertEqual(sdp.media[1].media, "image")
        XCTAssertEqual(sdp.media[1].port, 0)
        XCTAssertEqual(sdp.media[1].proto, "udptl")
        XCTAssertEqual(sdp.media[1].formats, ["t38"])
        XCTAssertFalse(sdp.media[1].isRTP)
        XCTAssertEqual(sdp.media[0].ptime, 30)
    }

    func testAllFixturesParse() {
        for offer in Offers.all { XCTAssertNotNil(parse(offer)) }
    }

    func testDirectionSessionLevelAndMediaOverride() throws {
        let sdp = try XCTUnwrap(parse(crlf("""
        v=0
        o=- 1 1 IN IP4 192.0.2.1
        s=-
        c=IN IP4 192.0.2.1
        t=0 0
        a=sendonly
        m=audio 5000 RTP/AVP 0
        m=audio 5002 RTP/AVP 0
        a=inactive
        m=audio 5004 RTP/AVP 0
        a=recvonly
        a=sendrecv
        """)))
        XCTAssertEqual(sdp.direction, .sendonly)
        XCTAssertEqual(sdp.direction(for: sdp.media[0]), .sendonly)
        XCTAssertEqual(sdp.direction(for: sdp.media[1]), .inactive)
        XCTAssertEqual(sdp.direction(for: sdp.media[2]), .sendrecv, "last direction attribute wins")
    }

    func testTolerantForms() throws {
        let sdp = try XCTUnwrap(parse("""
        v=0
        o=user 12 34 IN IP4 host.example.com
        s=
        i=A call
        u=http://example.com/
        e=a@example.com
        p=+1 617 555 6011
        b=CT:128
        t=3034423619 3042462419
        r=7d 1h 0 25h
        z=2882844526 -1h
        k=prompt
        c=IN IP4 224.2.17.12/127
        x=unknown line type
        m=audio 49170/2 RTP/AVP 0
        a=ptime:20.0
        a=rtcp:49171
        a=orient:portrait

        """))
        XCTAssertEqual(sdp.origin.address, .ip4("host.example.com"))
        XCTAssertEqual(sdp.sessionName, "")
        XCTAssertEqual(sdp.timing, Timing(start: 3_034_423_619, stop: 3_042_462_419))
        XCTAssertEqual(sdp.connection, .ip4("224.2.17.12"))
        XCTAssertEqual(sdp.media[0].port, 49170)
        XCTAssertEqual(sdp.media[0].portCount, 2)
        XCTAssertEqual(sdp.media[0].ptime, 20)
        XCTAssertEqual(sdp.media[0].rtcp, RTCPAttribute(port: 49171))
        XCTAssertEqual(sdp.media[0].otherAttributes, [Attribute(name: "orient", value: "portrait")])
    }

    func testMissingSessionNameAndTimingAreTolerated() throws {
        let sdp = try XCTUnwrap(parse("v=0\no=- 1 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nm=audio 5000 RTP/AVP 0\n"))
        XCTAssertEqual(sdp.timing, Timing())
        XCTAssertEqual(sdp.sessionName, "")
    }

    func testRejectedStreamNeedsNoConnection() throws {
        let sdp = try XCTUnwrap(parse("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 0 RTP/AVP 0\n"))
        XCTAssertEqual(sdp.media[0].port, 0)
    }

    func testRTPMapWithChannelsAndMixedCase() throws {
        let sdp = try XCTUnwrap(parse(crlf("""
        v=0
        o=- 1 1 IN IP4 192.0.2.1
        s=-
        c=IN IP4 192.0.2.1
        t=0 0
        m=audio 5000 RTP/AVP 97 98
        a=rtpmap:97 pcmu/8000/1
        a=rtpmap:98 L16/16000/2
        """)))
        let audio = sdp.media[0]
        XCTAssertEqual(audio.rtpMap(for: 97).flatMap(AudioCodec.init), .pcmu)
        XCTAssertEqual(audio.rtpMap(for: 98), RTPMap(payloadType: 98, encodingName: "L16", clockRate: 16000, channels: 2))
        XCTAssertNil(audio.rtpMap(for: 98).flatMap(AudioCodec.init))
    }

    func testBytesAndStringParseAlike() throws {
        let fromString = try SessionDescription(parsing: Offers.pjsip)
        let fromBytes = try SessionDescription(parsing: Array(Offers.pjsip.utf8))
        XCTAssertEqual(fromString, fromBytes)
    }

    func testTelephoneEventsFmtp() {
        XCTAssertEqual(TelephoneEvents(fmtp: "0-15"), .dtmf)
        XCTAssertEqual(TelephoneEvents(fmtp: "0-16"), .dtmfAndFlash)
        XCTAssertEqual(TelephoneEvents(fmtp: "0-15,16"), .dtmfAndFlash)
        XCTAssertEqual(TelephoneEvents(fmtp: " 0-11, 16 ")?.fmtpValue, "0-11,16")
        XCTAssertEqual(TelephoneEvents(fmtp: "0-15,32-41,255")?.fmtpValue, "0-15,32-41,255")
        XCTAssertEqual(TelephoneEvents(fmtp: "0-16")?.intersection(.dtmf), .dtmf)
        XCTAssertNil(TelephoneEvents(fmtp: ""))
        XCTAssertNil(TelephoneEvents(fmtp: "15-0"))
        XCTAssertNil(TelephoneEvents(fmtp: "0-256"))
        XCTAssertNil(TelephoneEvents(fmtp: "events=0-15"))
        XCTAssertNil(TelephoneEvents(fmtp: "0--5"))
        XCTAssertTrue(TelephoneEvents().isEmpty)
        XCTAssertEqual(TelephoneEvents().fmtpValue, "")
    }
}
