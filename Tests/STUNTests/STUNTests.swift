@testable import STUN
import Timebase
import XCTest

/// Binding requests and responses, with the sample responses of RFC 5769
/// §2.2 and §2.3 (their XOR-MAPPED-ADDRESS values, after a SOFTWARE
/// attribute whose odd length needs padding).
final class STUNTests: XCTestCase {
    private let transactionID: [UInt8] = [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae]

    private func message(type: UInt16, attributes: [UInt8], id: [UInt8]? = nil) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xff), UInt8(attributes.count >> 8), UInt8(attributes.count & 0xff),
         0x21, 0x12, 0xa4, 0x42] + (id ?? transactionID) + attributes
    }

    /// SOFTWARE "test vector" (11 bytes, one byte of padding).
    private let software: [UInt8] = [0x80, 0x22, 0x00, 0x0b] + Array("test vector".utf8) + [0x20]

    private func parse(_ bytes: [UInt8], id: [UInt8]? = nil) -> STUNBindingResponse? {
        bytes.withUnsafeBytes { STUNBindingResponse.parse($0, transactionID: id ?? transactionID) }
    }

    func testARequestIsTheHeaderAlone() {
        XCTAssertEqual(STUNBindingRequest.bytes(transactionID: transactionID),
                       [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42] + transactionID)
    }

    func testRFC5769IPv4Response() {
        let xorMapped: [UInt8] = [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]
        XCTAssertEqual(parse(message(type: 0x0101, attributes: software + xorMapped)),
                       .mapped(STUNMappedAddress(addressBytes: [192, 0, 2, 1], port: 32853)))
    }

    func testRFC5769IPv6Response() {
        let xorMapped: [UInt8] = [0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
                                  0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
                                  0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9]
        let expected: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
        XCTAssertEqual(parse(message(type: 0x0101, attributes: software + xorMapped)),
                       .mapped(STUNMappedAddress(addressBytes: expected, port: 32853)))
    }

    func testAnRFC3489ServersPlainMappedAddressIsTakenButXORIsPreferred() {
        let plain: [UInt8] = [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x80, 0x55, 198, 51, 100, 7]
        XCTAssertEqual(parse(message(type: 0x0101, attributes: plain)),
                       .mapped(STUNMappedAddress(addressBytes: [198, 51, 100, 7], port: 32853)))
        let xorMapped: [UInt8] = [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]
        XCTAssertEqual(parse(message(type: 0x0101, attributes: plain + xorMapped)),
                       .mapped(STUNMappedAddress(addressBytes: [192, 0, 2, 1], port: 32853)))
    }

    func testWhatIsNotTheAnswerIsIgnoredAndAnErrorIsARefusal() {
        let xorMapped: [UInt8] = [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]
        var otherID = transactionID
        otherID[11] ^= 1
        XCTAssertNil(parse(message(type: 0x0101, attributes: xorMapped, id: otherID)), "another transaction")
        XCTAssertNil(parse(message(type: 0x0001, attributes: []), id: transactionID), "a request")
        var rtp = message(type: 0x0101, attributes: xorMapped)
        rtp[0] = 0x80
        XCTAssertNil(parse(rtp), "RTP (version 2)")
        var noCookie = message(type: 0x0101, attributes: xorMapped)
        noCookie[4] = 0
        XCTAssertNil(parse(noCookie))
        XCTAssertNil(parse(Array(message(type: 0x0101, attributes: xorMapped).prefix(25))), "shorter than its length")
        XCTAssertNil(parse([0, 1, 0]), "shorter than a header")
        // An attribute running past the message, an unknown family.
        XCTAssertEqual(parse(message(type: 0x0101, attributes: [0x00, 0x20, 0x00, 0x40, 0, 1, 0, 0])), .refused)
        XCTAssertEqual(parse(message(type: 0x0101, attributes: [0x00, 0x20, 0x00, 0x08, 0, 9, 0, 0, 1, 2, 3, 4])), .refused)
        let errorCode: [UInt8] = [0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x04, 0x00]
        XCTAssertEqual(parse(message(type: 0x0111, attributes: errorCode)), .refused)
    }

    func testTheBindingIsSentThreeTimesThenGivenUpAtOneAndAHalfSeconds() {
        let start = Instant.zero + .seconds(10)
        var binding = STUNBinding(transactionID: transactionID)
        let request = binding.start(at: start)
        var sends: [Interval] = []
        var gaveUp: Interval?
        while let due = binding.nextDeadline {
            switch binding.advance(to: due) {
            case .send(let bytes)?:
                XCTAssertEqual(bytes, request, "the same transaction ID each time")
                sends.append(due - start)
            case .gaveUp?: gaveUp = due - start
            case nil: XCTFail("nothing due at its deadline")
            }
        }
        XCTAssertEqual(sends, [.milliseconds(250), .milliseconds(750)])
        XCTAssertEqual(gaveUp, .milliseconds(1500))
        XCTAssertTrue(binding.isOver)
        XCTAssertNil(binding.result)
    }

    func testTheAnswerEndsTheBinding() {
        var binding = STUNBinding(transactionID: transactionID)
        _ = binding.start(at: .zero)
        let xorMapped: [UInt8] = [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]
        let answer = message(type: 0x0101, attributes: xorMapped)
        XCTAssertFalse([0x80, 0, 0, 0].withUnsafeBytes { binding.receive($0) }, "RTP is not the answer")
        XCTAssertTrue(answer.withUnsafeBytes { binding.receive($0) })
        XCTAssertEqual(binding.result, STUNMappedAddress(addressBytes: [192, 0, 2, 1], port: 32853))
        XCTAssertNil(binding.nextDeadline)
        XCTAssertFalse(answer.withUnsafeBytes { binding.receive($0) }, "a copy changes nothing")
    }
}
