import SDP
import XCTest

final class ErrorTests: XCTestCase {
    private let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

    private func assertError(_ text: String, line: Int, _ reason: SDPError.Reason, limits: SDPLimits = SDPLimits(),
                             file: StaticString = #filePath, at: UInt = #line) {
        guard let error = parseError(text, limits: limits) else {
            XCTFail("parsed without error", file: file, line: at)
            return
        }
        XCTAssertEqual(error, SDPError(line: line, reason: reason), error.message, file: file, line: at)
    }

    func testMissingOrBadVersion() {
        assertError("", line: 1, .missingVersion)
        assertError("\r\n\r\n", line: 1, .missingVersion)
        assertError("o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", line: 1, .missingVersion)
        assertError("v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\n", line: 1, .unsupportedVersion)
        assertError("v=0\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n", line: 2, .unexpectedLine)
    }

    func testMissingOrMalformedOrigin() {
        assertError("v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", line: 2, .missingOrigin)
        assertError("v=0\r\no=- abc 1 IN IP4 192.0.2.1\r\n", line: 2, .malformedOrigin)
        assertError("v=0\r\no=- 1 1 IN IP4\r\n", line: 2, .malformedOrigin)
        assertError("v=0\r\no=- 1 99999999999999999999999 IN IP4 192.0.2.1\r\n", line: 2, .malformedOrigin)
        assertError("v=0\r\no=- 1 1 IN IPX 192.0.2.1\r\n", line: 2, .unsupportedAddressType)
        assertError("v=0\r\no=- 1 1 ATM NSAP 47.0005\r\n", line: 2, .unsupportedAddressType)
        assertError(head + "o=- 2 2 IN IP4 192.0.2.1\r\n", line: 6, .unexpectedLine)
    }

    func testMissingConnection() {
        assertError("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", line: 5, .missingConnection)
        // The second stream has no c= and there is none at session level.
        assertError("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n"
                    + "m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", line: 7, .missingConnection)
    }

    func testBadConnection() {
        assertError(head + "c=IN IP4\r\n", line: 6, .malformedConnection)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 300.1.2.3\r\n", line: 7, .badAddress)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 1.2.3\r\n", line: 7, .badAddress)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP6 2001:db8::zz\r\n", line: 7, .badAddress)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP6 192.0.2.1\r\n", line: 7, .badAddress)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 bad_host!\r\n", line: 7, .badAddress)
    }

    func testBadMediaLines() {
        assertError(head + "m=audio 70000 RTP/AVP 0\r\n", line: 6, .badPort)
        assertError(head + "m=audio -1 RTP/AVP 0\r\n", line: 6, .badPort)
        assertError(head + "m=audio abc RTP/AVP 0\r\n", line: 6, .badPort)
        assertError(head + "m=audio 5000/0 RTP/AVP 0\r\n", line: 6, .badPort)
        assertError(head + "m=audio 5000\r\n", line: 6, .malformedMedia)
        assertError(head + "m=audio 5000 RTP/AVP\r\n", line: 6, .malformedMedia)
        assertError(head + "m=audio 5000 RTP/AVP 0 PCMU\r\n", line: 6, .badPayloadType)
        assertError(head + "m=audio 5000 RTP/AVP 128\r\n", line: 6, .badPayloadType)
    }

    func testBadRtpmap() {
        let media = head + "m=audio 5000 RTP/AVP 0 101\r\n"
        assertError(media + "a=rtpmap:101 telephone-event\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:200 foo/8000\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101 telephone-event/0\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101 telephone-event/x\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101 /8000\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101 opus/48000/0\r\n", line: 7, .badRTPMap)
        assertError(media + "a=rtpmap:101 opus/99999999999/2\r\n", line: 7, .badRTPMap)
    }

    func testBadAttributes() {
        let media = head + "m=audio 5000 RTP/AVP 0 101\r\n"
        assertError(media + "a=ptime:0\r\n", line: 7, .badPtime)
        assertError(media + "a=ptime:abc\r\n", line: 7, .badPtime)
        assertError(media + "a=ptime\r\n", line: 7, .badPtime)
        assertError(media + "a=maxptime:99999999\r\n", line: 7, .badPtime)
        assertError(media + "a=rtcp:70000\r\n", line: 7, .badRTCP)
        assertError(media + "a=rtcp:5001 IN IP4\r\n", line: 7, .badRTCP)
        assertError(media + "a=fmtp\r\n", line: 7, .badFormatParameters)
        assertError(media + "a=fmtp: 0-15\r\n", line: 7, .badFormatParameters)
        assertError(head + "t=x y\r\n", line: 6, .malformedTiming)
    }

    func testMalformedLines() {
        assertError(head + "this is not sdp\r\n", line: 6, .malformedLine)
        assertError(head + "A=foo\r\n", line: 6, .malformedLine)
        assertError(head + "=foo\r\n", line: 6, .malformedLine)
        assertError(head + "a\r\n", line: 6, .malformedLine)
        assertError(head + "a=fo\u{0}o\r\n", line: 6, .invalidCharacter)
        assertError(head + "a=foo\rbar\r\n", line: 6, .invalidCharacter)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\ns=again\r\n", line: 7, .unexpectedLine)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\nt=0 0\r\n", line: 7, .unexpectedLine)
    }

    func testLineNumbersCountBlankLinesAndLF() {
        assertError("v=0\n\no=- 1 1 IN IP4 192.0.2.1\n\nm=audio x RTP/AVP 0\n", line: 5, .badPort)
    }

    func testAbsurdSizes() {
        let big = head + String(repeating: "a=x-padding:0123456789abcdef\r\n", count: 600)
        assertError(big, line: 0, .tooLarge)
        assertError(head + String(repeating: "\r\n", count: 600), line: 513, .tooManyLines)
        assertError(head + "a=x:" + String(repeating: "y", count: 2000) + "\r\n", line: 6, .lineTooLong)
        assertError(head + String(repeating: "m=audio 0 RTP/AVP 0\r\n", count: 17), line: 22, .tooManyMediaSections)
        let formats = (0..<65).map { "\($0)" }.joined(separator: " ")
        assertError(head + "m=audio 5000 RTP/AVP \(formats)\r\n", line: 6, .tooManyFormats)
        assertError(head + "m=audio 5000 RTP/AVP 0\r\n" + String(repeating: "a=x\r\n", count: 129), line: 135,
                    .tooManyAttributes)
        assertError(head + String(repeating: "a=x\r\n", count: 129), line: 134, .tooManyAttributes)
        // Custom, tighter limits.
        let tight = SDPLimits(maxBytes: 64)
        assertError(Offers.asterisk, line: 0, .tooLarge, limits: tight)
    }

    func testLimitsAtTheBoundaryAreAccepted() throws {
        let formats = (0..<64).map { "\($0)" }.joined(separator: " ")
        XCTAssertNotNil(parse(head + "m=audio 5000 RTP/AVP \(formats)\r\n"))
        XCTAssertNotNil(parse(head + String(repeating: "m=audio 0 RTP/AVP 0\r\n", count: 16)))
    }

    func testMessages() {
        XCTAssertEqual(SDPError(line: 4, reason: .badPort).message, "line 4: bad port")
        XCTAssertEqual(SDPError(line: 0, reason: .tooLarge).message, "session description too large")
    }
}
