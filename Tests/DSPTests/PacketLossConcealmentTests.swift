import CAllocationCounter
import Foundation
import XCTest
@testable import DSP

/// A 1 kHz tone with seeded frame losses through the concealer: the fill-in
/// for the first two losses of a burst must follow the tone, and long gaps
/// fade to silence by design (50 ms).
final class PacketLossConcealmentTests: XCTestCase {
    private let frame = 160
    private let toneDBm0 = -16.0

    /// The tone the far end sent, frame `index`.
    private func toneFrame(_ index: Int, into out: UnsafeMutableBufferPointer<Int16>) {
        let peak = Level.peakAmplitude(dBm0: toneDBm0)
        for i in 0..<frame {
            let n = Double(index * frame + i)
            out[i] = Int16((peak * sin(2 * Double.pi * 1000 * n / 8000)).rounded())
        }
    }

    private struct LossStatistics {
        /// Per position in a burst of losses (0 = first lost frame): the
        /// lowest power relative to the tone (dB) and the lowest normalized
        /// correlation with the tone that should have been there.
        var worstPowerDB = [Double](repeating: .infinity, count: 4)
        var worstCorrelation = [Double](repeating: .infinity, count: 4)
        var largestPowerDB = [Double](repeating: -.infinity, count: 4)
        var lossCount = 0
        var counts = [Int](repeating: 0, count: 4)
    }

    private func run(lossRate: Double, seed: UInt64, frames: Int = 1000) -> LossStatistics {
        let plc = PacketLossConcealment()
        var random = SeededRandom(seed: seed)
        var stats = LossStatistics()
        let out = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frame)
        let reference = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frame)
        defer { out.deallocate(); reference.deallocate() }
        let tonePower = Level.meanSquare(dBm0: toneDBm0)
        var run = 0
        for index in 0..<frames {
            toneFrame(index, into: reference)
            // The first second always arrives, to train the history.
            let lost = index >= 50 && random.unit() < lossRate
            if lost {
                plc.conceal(out)
                var power = 0.0, cross = 0.0, refPower = 0.0
                for i in 0..<frame {
                    power += Double(out[i]) * Double(out[i])
                    cross += Double(out[i]) * Double(reference[i])
                    refPower += Double(reference[i]) * Double(reference[i])
                }
                let slot = min(run, 3)
                let powerDB = 10 * log10(max(power / Double(frame), 1e-9) / tonePower)
                let correlation = power > 0 ? cross / (power * refPower).squareRoot() : 0
                stats.worstPowerDB[slot] = min(stats.worstPowerDB[slot], powerDB)
                stats.largestPowerDB[slot] = max(stats.largestPowerDB[slot], powerDB)
                stats.worstCorrelation[slot] = min(stats.worstCorrelation[slot], correlation)
                stats.counts[slot] += 1
                stats.lossCount += 1
                run += 1
            } else {
                out.baseAddress!.update(from: reference.baseAddress!, count: frame)
                plc.received(out)
                run = 0
            }
        }
        return stats
    }

    private func check(lossRate: Double, seed: UInt64) {
        let stats = run(lossRate: lossRate, seed: seed)
        let percent = Int(lossRate * 100)
        for slot in 0..<4 where stats.counts[slot] > 0 {
            let label = slot == 3 ? "4th+" : "\(slot + 1)."
            print(String(format: "PLC %d %% loss, %@ lost frame in a row (%d frames): power %.1f…%.1f dB re tone, correlation ≥ %.3f",
                         percent, label, stats.counts[slot], stats.worstPowerDB[slot],
                         stats.largestPowerDB[slot], stats.worstCorrelation[slot]))
        }
        XCTAssertGreaterThan(stats.counts[0], 0)
        // First lost frame: close to the tone (fade 1 → 0.6: about −2 dB).
        XCTAssertGreaterThan(stats.worstPowerDB[0], -3.5)
        XCTAssertLessThan(stats.largestPowerDB[0], 1.0)
        XCTAssertGreaterThan(stats.worstCorrelation[0], 0.95)
        if stats.counts[1] > 0 {
            // Second in a row: still the tone, fading (0.6 → 0.2: about −8 dB).
            XCTAssertGreaterThan(stats.worstPowerDB[1], -10.0)
            XCTAssertLessThan(stats.largestPowerDB[1], -5.0)
            XCTAssertGreaterThan(stats.worstCorrelation[1], 0.95)
        }
        if stats.counts[3] > 0 {
            // From the fourth in a row on: faded out (by design, after 50 ms).
            XCTAssertLessThan(stats.largestPowerDB[3], -60.0)
        }
    }

    func testFivePercentLoss() {
        check(lossRate: 0.05, seed: 5)
    }

    func testTwentyPercentLoss() {
        check(lossRate: 0.20, seed: 20)
    }

    func testLongGapFadesOutAndRecovers() {
        let plc = PacketLossConcealment()
        let out = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frame)
        defer { out.deallocate() }
        for index in 0..<50 {
            toneFrame(index, into: out)
            plc.received(out)
        }
        var powers: [Double] = []
        for _ in 0..<5 {
            plc.conceal(out)
            powers.append(out.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frame))
        }
        let tonePower = Level.meanSquare(dBm0: toneDBm0)
        print("PLC fade over a 100 ms gap, dB re tone: "
              + powers.map { String(format: "%.1f", 10 * log10(max($0, 1e-9) / tonePower)) }
                  .joined(separator: ", "))
        XCTAssertGreaterThan(powers[0], powers[1])
        XCTAssertGreaterThan(powers[1], powers[2])
        XCTAssertEqual(powers[3], 0)
        XCTAssertEqual(powers[4], 0)
        // Real audio after the gap comes through (faded in over a quarter
        // pitch period at most).
        toneFrame(55, into: out)
        plc.received(out)
        let after = out.suffix(frame / 2).reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frame / 2)
        XCTAssertEqual(10 * log10(after / tonePower), 0, accuracy: 0.5)
    }

    func testNoAllocationPerFrame() {
        let plc = PacketLossConcealment()
        let out = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frame)
        defer { out.deallocate() }
        toneFrame(0, into: out)
        atad_allocations_begin()
        for index in 0..<1000 {
            if index % 7 == 3 { plc.conceal(out) } else { plc.received(out) }
        }
        XCTAssertEqual(atad_allocations_end(), 0)
    }
}
