import SDP
import XCTest

final class AnswerTests: XCTestCase {
    private func answer(_ offerText: String, _ ours: MediaCapabilities = ours4,
                        file: StaticString = #filePath, line: UInt = #line) throws -> SDPAnswer {
        let offer = try SessionDescription(parsing: offerText)
        let origin = ours.address.addressType == .ip4 ? ourOrigin4 : ourOrigin6
        switch OfferAnswer.answer(to: offer, ours: ours, origin: origin) {
        case .success(let result): return result
        case .failure(let error):
            XCTFail("negotiation failed: \(error.message)", file: file, line: line)
            throw error
        }
    }

    private func failure(_ offerText: String, _ ours: MediaCapabilities = ours4) throws -> NegotiationError? {
        let offer = try SessionDescription(parsing: offerText)
        if case .failure(let error) = OfferAnswer.answer(to: offer, ours: ours, origin: ourOrigin4) { return error }
        return nil
    }

    func testAnswerToAsterisk() throws {
        let result = try answer(Offers.asterisk)
        XCTAssertEqual(result.sdp.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP4 192.0.2.10
        s=atad
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 4000 RTP/AVP 0 101
        a=rtpmap:0 PCMU/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=ptime:20
        a=sendrecv
        """))
        XCTAssertEqual(result.mediaIndex, 0)
        XCTAssertEqual(result.media, NegotiatedMedia(
            remoteAddress: .ip4("192.168.1.10"), remoteRTPPort: 14052,
            remoteRTCPAddress: .ip4("192.168.1.10"), remoteRTCPPort: 14053,
            codec: .pcmu, payloadType: 0, receivePayloadType: 0, clockRate: 8000,
            telephoneEventPayloadType: 101, receiveTelephoneEventPayloadType: 101, telephoneEvents: .dtmf,
            comfortNoisePayloadType: nil, ptime: 20, direction: .sendrecv, heldByRemote: false))
        XCTAssertTrue(result.media.maySend && result.media.mayReceive)
    }

    func testAnswerPrefersOffererOrderNotOurs() throws {
        var caps = ours4
        caps.codecs = [.pcma, .pcmu]
        let result = try answer(Offers.asterisk, caps)
        XCTAssertEqual(result.media.codec, .pcmu, "first of the offerer's codecs that we support")
        caps.codecs = [.pcma]
        XCTAssertEqual(try answer(Offers.asterisk, caps).media.codec, .pcma)
    }

    func testAnswerToFreeSwitchSkipsOpusAndWidebandTelephoneEvent() throws {
        let result = try answer(Offers.freeswitch)
        XCTAssertEqual(result.sdp.media[0].formats, ["0", "101"])
        XCTAssertEqual(result.media.telephoneEventPayloadType, 101)
        XCTAssertNil(result.media.comfortNoisePayloadType)

        var caps = ours4
        caps.comfortNoise = true
        let withCN = try answer(Offers.freeswitch, caps)
        XCTAssertEqual(withCN.sdp.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP4 192.0.2.10
        s=atad
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 4000 RTP/AVP 0 101 13
        a=rtpmap:0 PCMU/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=rtpmap:13 CN/8000
        a=ptime:20
        a=sendrecv
        """))
        XCTAssertEqual(withCN.media.comfortNoisePayloadType, 13)
    }

    func testAnswerToBaresip() throws {
        let result = try answer(Offers.baresip)
        XCTAssertEqual(result.sdp.media[0].formats, ["0", "101"])
        XCTAssertEqual(result.media.remoteAddress, .ip4("10.0.0.23"))
        XCTAssertEqual(result.media.remoteRTPPort, 33150)
        XCTAssertFalse(result.sdp.serialized().contains("rtcp-mux"), "we do not offer to multiplex RTCP")
    }

    func testAnswerToLinphoneIPv6RejectsVideo() throws {
        let result = try answer(Offers.linphone, ours6)
        XCTAssertEqual(result.sdp.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP6 2001:db8::2
        s=atad
        c=IN IP6 2001:db8::2
        t=0 0
        m=audio 4000 RTP/AVP 0 100
        a=rtpmap:0 PCMU/8000
        a=rtpmap:100 telephone-event/8000
        a=fmtp:100 0-15
        a=ptime:20
        a=sendrecv
        m=video 0 RTP/AVP 96 97
        """))
        XCTAssertEqual(result.media.remoteAddress, .ip6("2001:db8::10"))
        XCTAssertEqual(result.media.telephoneEventPayloadType, 100, "8 kHz telephone-event without fmtp: 0-15")
    }

    func testAnswerToPjsipUsesMediaConnectionAndRTCPAttribute() throws {
        let result = try answer(Offers.pjsip)
        XCTAssertEqual(result.sdp.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP4 192.0.2.10
        s=atad
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 4000 RTP/AVP 8 96
        a=rtpmap:8 PCMA/8000
        a=rtpmap:96 telephone-event/8000
        a=fmtp:96 0-15
        a=ptime:20
        a=sendrecv
        """))
        XCTAssertEqual(result.media.codec, .pcma)
        XCTAssertEqual(result.media.payloadType, 8)
        XCTAssertEqual(result.media.telephoneEventPayloadType, 96)
        XCTAssertEqual(result.media.remoteRTCPPort, 4003)
        XCTAssertEqual(result.media.remoteRTCPAddress, .ip4("192.0.2.44"))
    }

    func testAnswerToStaticOnlyOffer() throws {
        let result = try answer(Offers.staticOnly)
        XCTAssertEqual(result.sdp.serialized(), crlf("""
        v=0
        o=atad 1000 1000 IN IP4 192.0.2.10
        s=atad
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 4000 RTP/AVP 8
        a=rtpmap:8 PCMA/8000
        a=ptime:20
        a=sendrecv
        """))
        XCTAssertNil(result.media.telephoneEventPayloadType)
        XCTAssertTrue(result.media.telephoneEvents.isEmpty)
    }

    func testAnswerToIPv6WithImageKeepsPtimeAndRejectsImage() throws {
        let result = try answer(Offers.ipv6WithImage, ours6)
        XCTAssertEqual(result.media.ptime, 30)
        let text = result.sdp.serialized()
        XCTAssertTrue(text.hasSuffix("a=ptime:30\r\na=sendrecv\r\nm=image 0 udptl t38\r\n"), text)
        XCTAssertEqual(result.sdp.media.count, 2)
    }

    func testSecondAudioStreamIsUsedWhenTheFirstIsUnacceptable() throws {
        let offer = crlf("""
        v=0
        o=- 1 1 IN IP4 192.0.2.50
        s=-
        c=IN IP4 192.0.2.50
        t=0 0
        m=audio 6000 RTP/SAVP 0
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
        m=audio 6002 RTP/AVP 111
        a=rtpmap:111 opus/48000/2
        m=audio 6004 RTP/AVP 8 0
        m=audio 6006 RTP/AVP 0
        """)
        let result = try answer(offer)
        XCTAssertEqual(result.mediaIndex, 2)
        XCTAssertEqual(result.sdp.media.map { $0.port }, [0, 0, 4000, 0])
        XCTAssertEqual(result.sdp.media.map { $0.proto }, ["RTP/SAVP", "RTP/AVP", "RTP/AVP", "RTP/AVP"])
        XCTAssertEqual(result.media.remoteRTPPort, 6004)
        XCTAssertEqual(result.media.codec, .pcma)
    }

    func testTelephoneEventNegotiation() throws {
        let base = Offers.asterisk
        // Only hook flash offered: nothing in common with our 0-15.
        let flashOnly = try answer(Offers.replacing(base, "a=fmtp:101", with: "a=fmtp:101 16"))
        XCTAssertEqual(flashOnly.sdp.media[0].formats, ["0"])
        XCTAssertNil(flashOnly.media.telephoneEventPayloadType)
        // We handle flash too: answer 0-16.
        var caps = ours4
        caps.telephoneEvents = .dtmfAndFlash
        XCTAssertEqual(try answer(base, caps).sdp.media[0].formatParameters, [FormatParameters(format: "101", parameters: "0-16")])
        // Disabled on our side.
        caps.telephoneEventPayloadType = nil
        XCTAssertEqual(try answer(base, caps).sdp.media[0].formats, ["0"])
        // Unparseable fmtp: treated as the default 0-15.
        let odd = try answer(Offers.replacing(base, "a=fmtp:101", with: "a=fmtp:101 events=all"))
        XCTAssertEqual(odd.media.telephoneEvents, .dtmf)
    }

    func testPtimeChoice() throws {
        func ptime(_ attributes: String, caps: MediaCapabilities = ours4) throws -> UInt32? {
            let offer = Offers.staticOnly + attributes
            let result = try answer(offer, caps)
            XCTAssertEqual(result.sdp.media[0].ptime, result.media.ptime)
            return result.media.ptime
        }
        XCTAssertEqual(try ptime(""), 20)
        XCTAssertEqual(try ptime("a=ptime:30\r\n"), 30)
        XCTAssertEqual(try ptime("a=ptime:10\r\n"), 10)
        XCTAssertEqual(try ptime("a=ptime:40\r\n"), 20, "unsupported: ours")
        XCTAssertEqual(try ptime("a=ptime:30\r\na=maxptime:20\r\n"), 20)
        XCTAssertEqual(try ptime("a=maxptime:10\r\n"), 10)
        XCTAssertEqual(try ptime("a=maxptime:5\r\n"), 10, "nothing fits: our smallest")
        var caps = ours4
        caps.ptime = 30
        XCTAssertEqual(try ptime("", caps: caps), 30)
        XCTAssertEqual(try ptime("a=maxptime:25\r\n", caps: caps), 20)
        XCTAssertEqual(try ptime("a=ptime:10\r\n", caps: caps), 10)
    }

    func testDirectionMirroringTable() throws {
        // (offer direction, our direction, answer direction, held by remote)
        let table: [(MediaDirection?, MediaDirection, MediaDirection, Bool)] = [
            (nil, .sendrecv, .sendrecv, false),
            (.sendrecv, .sendrecv, .sendrecv, false),
            (.sendonly, .sendrecv, .recvonly, true),
            (.recvonly, .sendrecv, .sendonly, false),
            (.inactive, .sendrecv, .inactive, true),
            (.sendrecv, .sendonly, .sendonly, false),
            (.sendonly, .sendonly, .inactive, true),
            (.recvonly, .sendonly, .sendonly, false),
            (.sendrecv, .recvonly, .recvonly, false),
            (.sendonly, .recvonly, .recvonly, true),
            (.recvonly, .recvonly, .inactive, false),
            (.sendrecv, .inactive, .inactive, false),
            (.inactive, .inactive, .inactive, true),
        ]
        for (offered, mine, expected, held) in table {
            var caps = ours4
            caps.direction = mine
            let offer = Offers.staticOnly + (offered.map { "a=\($0.attributeName)\r\n" } ?? "")
            let result = try answer(offer, caps)
            let label = "offer \(offered?.attributeName ?? "none"), ours \(mine.attributeName)"
            XCTAssertEqual(result.sdp.media[0].direction, expected, label)
            XCTAssertEqual(result.media.direction, expected, label)
            XCTAssertEqual(result.media.heldByRemote, held, label)
            XCTAssertTrue(result.sdp.serialized().contains("a=\(expected.attributeName)\r\n"), label)
        }
    }

    func testSessionLevelDirectionIsMirrored() throws {
        let offer = Offers.replacing(Offers.staticOnly, "t=0 0", with: "t=0 0\r\na=sendonly")
        let result = try answer(offer)
        XCTAssertEqual(result.sdp.media[0].direction, .recvonly)
        XCTAssertNil(result.sdp.direction)
        XCTAssertTrue(result.media.heldByRemote)
    }

    func testLegacyHoldWithZeroAddress() throws {
        let offer = Offers.replacing(Offers.staticOnly, "c=", with: "c=IN IP4 0.0.0.0")
        let result = try answer(offer)
        XCTAssertTrue(result.media.heldByRemote)
        XCTAssertFalse(result.media.maySend)
        XCTAssertEqual(result.sdp.media[0].direction, .recvonly)
        XCTAssertTrue(ConnectionAddress.ip6("::").isUnspecified)
        XCTAssertFalse(ConnectionAddress.ip4("192.0.2.1").isUnspecified)
    }

    func test488Cases() throws {
        XCTAssertEqual(try failure(Offers.opusOnly), .noCommonCodec)
        XCTAssertEqual(try failure(Offers.videoOnly), .noAudioStream)
        XCTAssertEqual(try failure(Offers.srtpOnly), .unsupportedProfile)
        XCTAssertEqual(try failure(Offers.linphone, ours4), .addressFamilyMismatch)
        XCTAssertEqual(try failure(Offers.asterisk, ours6), .addressFamilyMismatch)
        XCTAssertEqual(try failure("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"), .noAudioStream)
        XCTAssertEqual(try failure("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"), .noAudioStream)
        var caps = ours4
        caps.codecs = [.pcmu]
        XCTAssertEqual(try failure(Offers.replacing(Offers.staticOnly, "m=", with: "m=audio 20000 RTP/AVP 8 13"), caps),
                       .noCommonCodec)
        for error in [NegotiationError.noCommonCodec, .noAudioStream, .unsupportedProfile, .addressFamilyMismatch] {
            XCTAssertEqual(error.statusCode, 488)
            XCTAssertFalse(error.message.isEmpty)
        }
    }
}

final class NegotiatedTests: XCTestCase {
    private var ourOffer: SessionDescription { OfferAnswer.makeOffer(ours4, origin: ourOrigin4) }

    private let pbxAnswer = crlf("""
    v=0
    o=- 1 2 IN IP4 192.168.1.10
    s=Asterisk
    c=IN IP4 192.168.1.10
    t=0 0
    m=audio 15000 RTP/AVP 8 96
    a=rtpmap:8 PCMA/8000
    a=rtpmap:96 telephone-event/8000
    a=fmtp:96 0-16
    a=ptime:30
    a=sendrecv
    """)

    private func negotiate(_ answerText: String) throws -> Result<NegotiatedMedia, NegotiationError> {
        OfferAnswer.negotiated(from: try SessionDescription(parsing: answerText), to: ourOffer)
    }

    func testAnswerWithOtherTelephoneEventNumber() throws {
        let media = try negotiate(pbxAnswer).get()
        XCTAssertEqual(media, NegotiatedMedia(
            remoteAddress: .ip4("192.168.1.10"), remoteRTPPort: 15000,
            remoteRTCPAddress: .ip4("192.168.1.10"), remoteRTCPPort: 15001,
            codec: .pcma, payloadType: 8, receivePayloadType: 8, clockRate: 8000,
            telephoneEventPayloadType: 96, receiveTelephoneEventPayloadType: 101, telephoneEvents: .dtmf,
            comfortNoisePayloadType: nil, ptime: 30, direction: .sendrecv, heldByRemote: false))
    }

    func testAnswerWithoutTelephoneEvent() throws {
        let answer = crlf("""
        v=0
        o=- 1 2 IN IP6 2001:db8::9
        s=-
        c=IN IP6 2001:db8::9
        t=0 0
        m=audio 15000 RTP/AVP 0
        a=ptime:40
        """)
        let media = try negotiate(answer).get()
        XCTAssertEqual(media.codec, .pcmu)
        XCTAssertNil(media.telephoneEventPayloadType)
        XCTAssertNil(media.receiveTelephoneEventPayloadType)
        XCTAssertEqual(media.ptime, 20, "unsupported answer ptime: ours")
        XCTAssertEqual(media.remoteAddress, .ip6("2001:db8::9"))
    }

    func testAnswerDirections() throws {
        let cases: [(String, MediaDirection, Bool)] = [
            ("sendrecv", .sendrecv, false), ("recvonly", .sendonly, false),
            ("sendonly", .recvonly, true), ("inactive", .inactive, true),
        ]
        for (attribute, expected, held) in cases {
            let text = Offers.replacing(pbxAnswer, "a=sendrecv", with: "a=\(attribute)")
            let media = try negotiate(text).get()
            XCTAssertEqual(media.direction, expected, attribute)
            XCTAssertEqual(media.heldByRemote, held, attribute)
        }
        let zero = try negotiate(Offers.replacing(pbxAnswer, "c=", with: "c=IN IP4 0.0.0.0")).get()
        XCTAssertTrue(zero.heldByRemote)
        XCTAssertEqual(zero.direction, .recvonly)
    }

    func testAnswerErrors() throws {
        XCTAssertEqual(try negotiate(Offers.replacing(pbxAnswer, "m=", with: "m=audio 0 RTP/AVP 8")),
                       .failure(.audioRejected))
        XCTAssertEqual(try negotiate(pbxAnswer + "m=video 0 RTP/AVP 96\r\n"), .failure(.answerMismatch))
        XCTAssertEqual(try negotiate(Offers.replacing(pbxAnswer, "m=", with: "m=video 15000 RTP/AVP 8")),
                       .failure(.answerMismatch))
        XCTAssertEqual(try negotiate(Offers.replacing(pbxAnswer, "m=", with: "m=audio 15000 RTP/AVP 9")),
                       .failure(.noCommonCodec))
        // PCMA answered although we only offered PCMU.
        var caps = ours4
        caps.codecs = [.pcmu]
        let offer = OfferAnswer.makeOffer(caps, origin: ourOrigin4)
        XCTAssertEqual(OfferAnswer.negotiated(from: try SessionDescription(parsing: pbxAnswer), to: offer),
                       .failure(.noCommonCodec))
    }
}
