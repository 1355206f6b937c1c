import RTP
import Timebase
import XCTest

final class RTPReceptionStatisticsTests: XCTestCase {
    private func at(milliseconds: Int64) -> Instant { Instant(nanoseconds: milliseconds * 1_000_000) }

    /// Feeds sequence numbers 20 ms apart with timestamps 160 apart.
    private func feed(_ statistics: inout RTPReceptionStatistics, _ sequences: [UInt16]) -> [RTPReceptionStatistics.Verdict] {
        sequences.map { sequence in
            statistics.record(sequence: sequence, timestamp: UInt32(sequence) &* 160,
                              arrival: at(milliseconds: Int64(sequence) * 20))
        }
    }

    func testProbationNeedsTwoInSequence() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        XCTAssertEqual(feed(&statistics, [10, 12, 13, 14]), [.probation, .probation, .accepted, .accepted])
        XCTAssertTrue(statistics.isValidated)
        // Counting starts at the packet that completed probation (A.1's init_seq).
        XCTAssertEqual(statistics.packetsReceived, 2)
        XCTAssertEqual(statistics.packetsExpected, 2)
        XCTAssertEqual(statistics.extendedHighestSequence, 14)
    }

    func testFractionLostOneInFourIs64() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        XCTAssertEqual(feed(&statistics, [100, 101, 102, 104]), [.probation, .accepted, .accepted, .accepted])
        XCTAssertEqual(statistics.packetsExpected, 4)
        XCTAssertEqual(statistics.packetsReceived, 3)
        XCTAssertEqual(statistics.cumulativeLost, 1)
        XCTAssertEqual(statistics.lossPercent, 25)
        let first = statistics.makeReportBlock(ssrc: 7, lastSenderReport: 0x1234_5678, delaySinceLastSenderReport: 99)
        XCTAssertEqual(first, RTCPReportBlock(ssrc: 7, fractionLost: 64, cumulativeLost: 1, extendedHighestSequence: 104,
                                              jitter: statistics.jitter, lastSenderReport: 0x1234_5678,
                                              delaySinceLastSenderReport: 99))
        // Next interval: nothing lost, so the fraction is 0, the total stays 1.
        _ = feed(&statistics, [105, 106, 107, 108])
        let second = statistics.makeReportBlock(ssrc: 7, lastSenderReport: 0, delaySinceLastSenderReport: 0)
        XCTAssertEqual(second.fractionLost, 0)
        XCTAssertEqual(second.cumulativeLost, 1)
        // Then one of two lost: 128.
        _ = feed(&statistics, [110])
        XCTAssertEqual(statistics.makeReportBlock(ssrc: 7, lastSenderReport: 0, delaySinceLastSenderReport: 0).fractionLost, 128)
    }

    func testDuplicatesMakeLossNegative() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        XCTAssertEqual(feed(&statistics, [1, 2, 3, 3, 2]), [.probation, .accepted, .accepted, .duplicateOrOld, .duplicateOrOld])
        XCTAssertEqual(statistics.packetsExpected, 2)
        XCTAssertEqual(statistics.packetsReceived, 4)
        XCTAssertEqual(statistics.cumulativeLost, -2)
        XCTAssertEqual(statistics.lossPercent, 0)
        let block = statistics.makeReportBlock(ssrc: 1, lastSenderReport: 0, delaySinceLastSenderReport: 0)
        XCTAssertEqual(block.fractionLost, 0)
        XCTAssertEqual(block.cumulativeLost, -2)
    }

    func testSequenceWrapCountsACycle() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        XCTAssertEqual(feed(&statistics, [65533, 65534, 65535, 0, 1]),
                       [.probation, .accepted, .accepted, .accepted, .accepted])
        XCTAssertEqual(statistics.extendedHighestSequence, 65537)
        XCTAssertEqual(statistics.packetsExpected, 4)
        XCTAssertEqual(statistics.cumulativeLost, 0)
    }

    func testLargeJumpRestartsOnlyWhenConfirmed() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        _ = feed(&statistics, Array(10...20))
        XCTAssertEqual(statistics.packetsReceived, 10)
        // A lone jump of 3000 or more is ignored; the stream goes on.
        XCTAssertEqual(feed(&statistics, [3020, 21]), [.invalid, .accepted])
        // 3000+ ahead followed by its successor: the sender restarted.
        XCTAssertEqual(feed(&statistics, [5000, 5001, 5002]), [.invalid, .restarted, .accepted])
        XCTAssertEqual(statistics.packetsReceived, 2)
        XCTAssertEqual(statistics.packetsExpected, 2)
        XCTAssertEqual(statistics.extendedHighestSequence, 5002)
        // A jump just under the dropout limit is loss, not a restart.
        XCTAssertEqual(feed(&statistics, [5002 + 2999]), [.accepted])
        XCTAssertEqual(statistics.cumulativeLost, 2998)
        // Up to 100 behind is late; further back is a jump again.
        XCTAssertEqual(feed(&statistics, [8001 - 100, 8001 - 101]), [.duplicateOrOld, .invalid])
    }

    func testJitterFollowsRFC3550Estimator() {
        // Every other packet arrives 10 ms (80 units at 8 kHz) late, so each
        // transit difference D is 80. J += (|D| - J) / 16, kept times 16 in integers:
        // 16J: 80, 155, 225, 291 -> J: 5, 9, 14, 18.
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        var jitters: [UInt32] = []
        for index in 0..<6 {
            let late: Int64 = index % 2 == 1 ? 10 : 0
            _ = statistics.record(sequence: UInt16(index), timestamp: 16_000 + UInt32(index) * 160,
                                  arrival: at(milliseconds: 5_000 + Int64(index) * 20 + late))
            jitters.append(statistics.jitter)
        }
        XCTAssertEqual(jitters, [0, 0, 5, 9, 14, 18])
        for index in 6..<1000 {
            let late: Int64 = index % 2 == 1 ? 10 : 0
            _ = statistics.record(sequence: UInt16(index), timestamp: 16_000 + UInt32(index) * 160,
                                  arrival: at(milliseconds: 5_000 + Int64(index) * 20 + late))
        }
        // Converges on |D| = 80 units = 10 ms.
        XCTAssertEqual(Double(statistics.jitter), 80, accuracy: 1)
        XCTAssertEqual(statistics.jitterMilliseconds, 10, accuracy: 0.125)
        print("jitter after 1000 packets, 10 ms alternating: \(statistics.jitter) units, \(statistics.jitterMilliseconds) ms")
    }

    func testSteadyStreamHasNoJitterAcrossTimestampWrap() {
        var statistics = RTPReceptionStatistics(clockRate: 8000)
        for index in 0..<100 {
            _ = statistics.record(sequence: UInt16(index), timestamp: UInt32.max - 4000 &+ UInt32(index) * 160,
                                  arrival: at(milliseconds: 123_456_789 + Int64(index) * 20))
        }
        XCTAssertEqual(statistics.jitter, 0)
    }
}
