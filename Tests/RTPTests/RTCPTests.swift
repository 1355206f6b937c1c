import RTP
import Timebase
import XCTest

final class RTCPTests: XCTestCase {
    private let block = RTCPReportBlock(ssrc: 0xaabb_ccdd, fractionLost: 64, cumulativeLost: 1,
                                        extendedHighestSequence: 0x0001_0005, jitter: 0x12,
                                        lastSenderReport: 0x0102_0304, delaySinceLastSenderReport: 0x0001_0000)

    private func write(senderInfo: RTCPSenderInfo?, block: RTCPReportBlock?, cname: String,
                       goodbye: Bool) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0xee, count: 512)
        let cnameBytes = Array(cname.utf8)
        let count = try buffer.withUnsafeMutableBytes { out in
            try cnameBytes.withUnsafeBytes { name in
                try RTCPCompoundWriter.write(into: out, ssrc: 0x1122_3344, senderInfo: senderInfo,
                                             reportBlock: block, cname: name, goodbye: goodbye)
            }
        }
        return Array(buffer[0..<count])
    }

    private func parse(_ bytes: [UInt8], ourSSRC: UInt32 = 0xaabb_ccdd) -> Result<RTCPCompoundSummary, RTCPParseError> {
        bytes.withUnsafeBytes { buffer in
            do throws(RTCPParseError) {
                return .success(try RTCPCompoundSummary(parsing: buffer, ourSSRC: ourSSRC))
            } catch {
                return .failure(error)
            }
        }
    }

    func testReceiverReportSDESAndByeBytes() throws {
        let bytes = try write(senderInfo: nil, block: block, cname: "ab", goodbye: true)
        XCTAssertEqual(bytes, [
            0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44,
            0xaa, 0xbb, 0xcc, 0xdd, 0x40, 0, 0, 1, 0, 1, 0, 5, 0, 0, 0, 0x12, 1, 2, 3, 4, 0, 1, 0, 0,
            0x81, 202, 0, 3, 0x11, 0x22, 0x33, 0x44, 1, 2, 0x61, 0x62, 0, 0, 0, 0,
            0x81, 203, 0, 1, 0x11, 0x22, 0x33, 0x44,
        ])
        let summary = try parse(bytes).get()
        XCTAssertEqual(summary, RTCPCompoundSummary(senderSSRC: 0x1122_3344, senderReportNTPMiddle: nil,
                                                    reportAboutUs: block, hasGoodbye: true))
    }

    func testSDESPaddingForEveryCNAMELength() throws {
        for length in 0...9 {
            let bytes = try write(senderInfo: nil, block: nil, cname: String(repeating: "x", count: length), goodbye: false)
            // RR header and SSRC, then SDES: header, chunk (SSRC, type, length, text, 1...4 zero bytes to a word boundary).
            let sdes = 4 + ((6 + length + 4) & ~3)
            XCTAssertEqual(bytes.count, 8 + sdes)
            XCTAssertEqual(bytes.count % 4, 0)
            XCTAssertEqual(bytes[8 + 2], 0)
            XCTAssertEqual(Int(bytes[8 + 3]), sdes / 4 - 1)
            XCTAssertEqual(bytes.last, 0)
            XCTAssertEqual(Int(bytes[8 + 9]), length)
            XCTAssertNoThrow(try parse(bytes).get())
        }
    }

    func testSenderReportRoundTripAndNegativeLoss() throws {
        let info = RTCPSenderInfo(ntpTimestamp: 0x0000_b705_2000_0000, rtpTimestamp: 0x55, packetCount: 10, octetCount: 1600)
        var negative = block
        negative.cumulativeLost = -3
        let bytes = try write(senderInfo: info, block: negative, cname: "atad@example", goodbye: false)
        XCTAssertEqual(Array(bytes[0..<4]), [0x81, 200, 0, 12])
        XCTAssertEqual(Array(bytes[8..<16]), [0, 0, 0xb7, 0x05, 0x20, 0, 0, 0])
        XCTAssertEqual(Array(bytes[32..<36]), [0x40, 0xff, 0xff, 0xfd])
        let summary = try parse(bytes).get()
        XCTAssertEqual(summary.senderReportNTPMiddle, 0xb705_2000)
        XCTAssertEqual(summary.reportAboutUs?.cumulativeLost, -3)
        XCTAssertEqual(summary.reportAboutUs, negative)
        XCTAssertFalse(summary.hasGoodbye)
        // A report about someone else is not ours.
        XCTAssertNil(try parse(bytes, ourSSRC: 1).get().reportAboutUs)
    }

    func testCumulativeLossSaturatesAt24Bits() {
        XCTAssertEqual(RTCPReportBlock.clampedCumulativeLost(10_000_000), 0x7f_ffff)
        XCTAssertEqual(RTCPReportBlock.clampedCumulativeLost(-10_000_000), -0x80_0000)
    }

    func testWriterErrors() {
        XCTAssertThrowsError(try write(senderInfo: nil, block: nil, cname: String(repeating: "x", count: 256), goodbye: false)) {
            XCTAssertEqual($0 as? RTCPWriteError, .cnameTooLong)
        }
        var small = [UInt8](repeating: 0, count: 16)
        let result: RTCPWriteError? = small.withUnsafeMutableBytes { out in
            do throws(RTCPWriteError) {
                _ = try RTCPCompoundWriter.write(into: out, ssrc: 1, senderInfo: nil, reportBlock: nil,
                                                 cname: UnsafeRawBufferPointer(start: nil, count: 0))
                return nil
            } catch { return error }
        }
        XCTAssertEqual(result, .bufferTooSmall(needed: 20))
    }

    func testParserRejectsMalformedPackets() throws {
        let valid = try write(senderInfo: nil, block: block, cname: "ab", goodbye: true)
        func failure(_ bytes: [UInt8]) -> RTCPParseError? {
            if case .failure(let error) = parse(bytes) { return error }
            return nil
        }
        XCTAssertEqual(failure([0x81, 201, 0, 7]), .tooShort)
        XCTAssertEqual(failure([0x41, 201, 0, 1, 0, 0, 0, 0]), .badVersion)
        XCTAssertEqual(failure([0x81, 202, 0, 1, 0, 0, 0, 0]), .notReportFirst)
        XCTAssertEqual(failure([0xa0, 201, 0, 1, 0, 0, 0, 0]), .badPadding)
        XCTAssertEqual(failure(Array(valid[0..<20])), .lengthPastEnd)
        var tooManyBlocks = valid
        tooManyBlocks[0] = 0x82
        XCTAssertEqual(failure(tooManyBlocks), .blocksPastEnd)
        var secondBadVersion = valid
        secondBadVersion[32] = 0x41
        XCTAssertEqual(failure(secondBadVersion), .badVersion)
        XCTAssertEqual(failure(valid + [0, 0]), .tooShort)
        // Padding is fine on the last packet only, and must fit in it.
        var padded = valid
        padded[48] = 0xa1
        padded[51] = 2
        padded += [0, 0, 0, 4]
        XCTAssertTrue(try parse(padded).get().hasGoodbye)
        padded[padded.count - 1] = 13
        XCTAssertEqual(failure(padded), .badPadding)
        // Every prefix that does not end on a packet boundary fails.
        for end in 0..<valid.count where ![32, 48].contains(end) {
            XCTAssertNotNil(failure(Array(valid[0..<end])), "prefix \(end)")
        }
    }

    func testParserSurvivesRandomCorruption() throws {
        let info = RTCPSenderInfo(ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4)
        let valid = try write(senderInfo: info, block: block, cname: "fuzz", goodbye: true)
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var accepted = 0
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<(1 + next() % 4) {
                bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next())
            }
            bytes.removeLast(next() % 3 == 0 ? next() % bytes.count : 0)
            switch parse(bytes) {
            case .success: accepted += 1
            case .failure: rejected += 1
            }
        }
        print("RTCP fuzz: 20000 corrupted packets, \(accepted) still valid, \(rejected) rejected, no crash")
        XCTAssertEqual(accepted + rejected, 20_000)
        XCTAssertGreaterThan(rejected, 0)
    }

    func testRoundTripTimeRFCExample() {
        // RFC 3550 §6.4.1: A = 0xb710:8000, LSR = 0xb705:2000, DLSR = 0x0005:4000 -> 6.125 s.
        let arrival: UInt64 = 0x0000_b710_8000_0000
        XCTAssertEqual(RTCPRoundTrip.milliseconds(arrival: arrival, lastSenderReport: 0xb705_2000,
                                                  delaySinceLastSenderReport: 0x0005_4000), 6125)
        XCTAssertNil(RTCPRoundTrip.milliseconds(arrival: arrival, lastSenderReport: 0, delaySinceLastSenderReport: 0))
        XCTAssertNil(RTCPRoundTrip.milliseconds(arrival: arrival, lastSenderReport: 0xb710_8000,
                                                delaySinceLastSenderReport: 1))
        XCTAssertEqual(RTCPRoundTrip.delayUnits(.milliseconds(5250)), 0x0005_4000)
        XCTAssertEqual(RTCPRoundTrip.delayUnits(.zero), 0)
    }

    func testNTPFromMonotonicInstant() {
        XCTAssertEqual(NTPTimestamp.from(Instant(nanoseconds: 1_500_000_000)), 0x0000_0001_8000_0000)
        XCTAssertEqual(NTPTimestamp.from(Instant(nanoseconds: 46_864_500_000_000)), 0x0000_b710_8000_0000)
        XCTAssertEqual(NTPTimestamp.middle32(0x0000_b710_8000_0000), 0xb710_8000)
        // Our SR at t, the far end holds it 250 ms, the reply arrives at t + 300 ms: RTT 50 ms.
        let sent = Instant(nanoseconds: 7_000_000_000)
        let lsr = NTPTimestamp.middle32(NTPTimestamp.from(sent))
        let rtt = RTCPRoundTrip.milliseconds(arrival: NTPTimestamp.from(sent + .milliseconds(300)), lastSenderReport: lsr,
                                             delaySinceLastSenderReport: RTCPRoundTrip.delayUnits(.milliseconds(250)))
        XCTAssertEqual(rtt ?? -1, 50, accuracy: 0.05)
    }
}
