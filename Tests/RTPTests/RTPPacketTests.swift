import RTP
import XCTest

final class RTPPacketTests: XCTestCase {
    func testHeaderRoundTrip() throws {
        var bytes = [UInt8](repeating: 0, count: 12 + 160)
        let header = RTPHeader(marker: true, payloadType: 8, sequenceNumber: 0xfffe, timestamp: 0x8000_0001, ssrc: 0xdead_beef)
        bytes.withUnsafeMutableBytes { XCTAssertEqual(header.write(into: $0), 12) }
        XCTAssertEqual(Array(bytes[0..<12]), [0x80, 0x88, 0xff, 0xfe, 0x80, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef])
        let packet = try bytes.withUnsafeBytes { buffer throws(RTPParseError) in try RTPPacket(parsing: buffer) }
        XCTAssertEqual(packet.header, header)
        XCTAssertEqual(packet.payloadOffset, 12)
        XCTAssertEqual(packet.payloadCount, 160)
    }

    func testSkipsCSRCsExtensionAndPadding() throws {
        // V=2, P=1, X=1, CC=1; one CSRC, a one-word extension, 4 payload bytes, 3 padding bytes.
        let bytes: [UInt8] = [0xb1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9,
                              1, 2, 3, 4,
                              0xbe, 0xde, 0, 1, 9, 9, 9, 9,
                              10, 11, 12, 13,
                              0, 0, 3]
        let packet = try bytes.withUnsafeBytes { buffer throws(RTPParseError) in try RTPPacket(parsing: buffer) }
        XCTAssertEqual(packet.payloadOffset, 24)
        XCTAssertEqual(packet.payloadCount, 4)
        XCTAssertEqual(packet.header.timestamp, 160)
    }

    func testRejectsMalformedPackets() {
        func outcome(_ bytes: [UInt8]) -> RTPParseError? {
            bytes.withUnsafeBytes { buffer in
                do throws(RTPParseError) { _ = try RTPPacket(parsing: buffer); return nil } catch { return error }
            }
        }
        XCTAssertEqual(outcome([0x80, 0, 0]), .tooShort)
        XCTAssertEqual(outcome([0x40] + [UInt8](repeating: 0, count: 11)), .badVersion)
        XCTAssertEqual(outcome([0x8f] + [UInt8](repeating: 0, count: 11)), .tooShort)
        XCTAssertEqual(outcome([0xa0] + [UInt8](repeating: 0, count: 10) + [200]), .badPadding)
        XCTAssertEqual(outcome([0x90] + [UInt8](repeating: 0, count: 11) + [0, 0, 0, 5]), .tooShort)
    }
}
