import XCTest
@testable import DSP

final class G711Tests: XCTestCase {
    private func roundTrip(_ law: G711.Law) -> (maxError: Int, maxRelative: Double) {
        var maxError = 0
        var maxRelative = 0.0
        for value in Int(Int16.min)...Int(Int16.max) {
            let decoded = Int(G711.decode(G711.encode(Int16(value), law), law))
            let error = abs(decoded - value)
            maxError = max(maxError, error)
            // Relative error below full scale (μ-law tops out at ±32124,
            // A-law at ±32256: beyond that G.711 clips).
            if abs(value) >= 256 && abs(value) <= (law == .uLaw ? 32124 : 32256) { maxRelative = max(maxRelative, Double(error) / Double(abs(value))) }
            // Never worse than half the G.711 step at this magnitude: 8 in the
            // first segments (16-bit scale), doubling per segment, i.e. within
            // 1/32 of the magnitude plus the smallest half step.
            let bound = law == .uLaw ? 4 + abs(value) / 32 + 4 : 8 + abs(value) / 32 + 8
            XCTAssertLessThanOrEqual(error, bound, "\(law) \(value) → \(decoded)")
            if error > bound { break }
        }
        return (maxError, maxRelative)
    }

    func testRoundTripErrorBounds() {
        for law in [G711.Law.uLaw, .aLaw] {
            let (maxError, maxRelative) = roundTrip(law)
            XCTAssertLessThanOrEqual(maxError, law == .uLaw ? 644 : 512)
            // Half a step, where steps double at segment edges: at most ~4.2 % (μ-law
            // just above 380), 3.1 % (A-law).
            XCTAssertLessThanOrEqual(maxRelative, law == .uLaw ? 0.043 : 0.032)
            print("G.711 \(law): max error \(maxError), max relative error above 256: \(String(format: "%.2f", maxRelative * 100)) %")
        }
    }

    func testCodesAreStable() {
        // Every code decodes to a value that encodes back to the same code
        // (μ-law's two zeros aside).
        for law in [G711.Law.uLaw, .aLaw] {
            for code in 0...255 {
                let value = G711.decode(UInt8(code), law)
                let again = G711.encode(value, law)
                if law == .uLaw && value == 0 { continue }
                XCTAssertEqual(again, UInt8(code), "\(law) code \(code)")
            }
        }
        XCTAssertEqual(G711.encode(0, .uLaw), 0xFF)
        XCTAssertEqual(G711.encode(0, .aLaw), 0xD5)
        XCTAssertEqual(G711.encode(32767, .uLaw), 0x80)
        XCTAssertEqual(G711.encode(-32768, .uLaw), 0x00)
        XCTAssertEqual(G711.encode(32767, .aLaw), 0xAA)
        XCTAssertEqual(G711.decode(0x80, .uLaw), 32124)
        XCTAssertEqual(G711.decode(0xAA, .aLaw), 32256)
    }

    func testBufferConversionAndSineSNR() {
        let sine = TestSignals.sines([(1004, -10, 0.3)], count: 8000)
        for law in [G711.Law.uLaw, .aLaw] {
            var codes = [UInt8](repeating: 0, count: sine.count)
            var back = [Int16](repeating: 0, count: sine.count)
            sine.withUnsafeBufferPointer { input in
                codes.withUnsafeMutableBufferPointer { G711.encode(input, into: $0, law) }
            }
            codes.withUnsafeBufferPointer { input in
                back.withUnsafeMutableBufferPointer { G711.decode(input, into: $0, law) }
            }
            for i in stride(from: 0, to: sine.count, by: 97) {
                XCTAssertEqual(codes[i], G711.encode(sine[i], law))
                XCTAssertEqual(back[i], G711.decode(codes[i], law))
            }
            var signal = 0.0
            var noise = 0.0
            for (a, b) in zip(sine, back) {
                signal += Double(a) * Double(a)
                noise += (Double(a) - Double(b)) * (Double(a) - Double(b))
            }
            let snr = 10 * log10(signal / noise)
            XCTAssertGreaterThan(snr, 35, "\(law) SNR of a −10 dBm0 sine")
            print("G.711 \(law): SNR of a 1004 Hz −10 dBm0 sine \(String(format: "%.1f", snr)) dB")
        }
    }

    func testShortOutputConvertsOnlyWhatFits() {
        let input: [Int16] = [0, 1000, -1000, 30000]
        var output = [UInt8](repeating: 0x11, count: 2)
        input.withUnsafeBufferPointer { i in output.withUnsafeMutableBufferPointer { G711.encode(i, into: $0, .aLaw) } }
        XCTAssertEqual(output, [G711.encode(0, .aLaw), G711.encode(1000, .aLaw)])
    }
}
