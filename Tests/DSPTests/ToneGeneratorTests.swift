import XCTest
@testable import DSP
import CountryPresets

final class ToneGeneratorTests: XCTestCase {
    private let rate = TestSignals.rate

    /// Burst edges land on the exact sample: on [0, 4000), off [4000, 8000), …
    func testCadenceIsSampleAccurate() {
        var generator = ToneGenerator(spec: ToneSpec(frequencies: [425], levelDBm0: -10,
                                                     cadence: [500, 500]))
        let out = TestSignals.render(milliseconds: 3000, frame: 160) { generator.generate(into: $0) }
        for (index, sample) in out.enumerated() {
            let inBurst = (index / 4000) % 2 == 0
            if !inBurst {
                XCTAssertEqual(sample, 0, "sample \(index) should be silent")
                if sample != 0 { return }
            }
        }
        for burstStart in [0, 8000, 16000] {
            XCTAssertEqual(out[burstStart], 0, "a burst starts at zero phase")
            XCTAssertNotEqual(out[burstStart + 1], 0)
            XCTAssertNotEqual(out[burstStart + 3999] | out[burstStart + 3998], 0, "burst runs to its last sample")
        }
    }

    func testLevelAndFrequencyAreExact() {
        for (frequency, level) in [(425.0, -10.0), (350.0, -13.0), (1400.0, -24.0), (3000.0, 0.0)] {
            var generator = ToneGenerator(spec: ToneSpec(frequencies: [UInt16(frequency)],
                                                         levelDBm0: Int8(level)))
            let out = TestSignals.render(milliseconds: 1000) { generator.generate(into: $0) }
            let meanSquare = out.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(out.count)
            let measured = Level.dBm0(meanSquare: meanSquare)
            XCTAssertEqual(measured, level, accuracy: 0.05, "\(frequency) Hz level")
            let window = UnsafeMutableBufferPointer<Double>.allocate(capacity: out.count)
            defer { window.deallocate() }
            out.withUnsafeBufferPointer { _ = Goertzel.hannWindow($0, into: window) }
            let peak = Goertzel.peak(UnsafeBufferPointer(window), low: frequency - 5,
                                     high: frequency + 5, gridPoints: 41, sampleRate: Double(rate))
            XCTAssertEqual(peak.frequency, frequency, accuracy: 0.01, "\(frequency) Hz frequency")
            print("ToneGenerator \(frequency) Hz at \(level) dBm0: measured \(String(format: "%.4f", peak.frequency)) Hz, \(String(format: "%.3f", measured)) dBm0")
        }
    }

    func testFrameSizeDoesNotChangeOutput() {
        let spec = CountryPresets.preset(code: "gb")!.ringback
        var a = ToneGenerator(spec: spec)
        var b = ToneGenerator(spec: spec)
        let framed = TestSignals.render(milliseconds: 7000, frame: 160) { a.generate(into: $0) }
        let odd = TestSignals.render(milliseconds: 7000, frame: 7) { b.generate(into: $0) }
        XCTAssertEqual(framed, odd)
    }

    func testLeadInThenContinuous() {
        let dial = ToneSpec(frequencies: [350, 440], levelDBm0: -13)
        let spec = ToneSpec(frequencies: dial.frequencies, levelDBm0: dial.levelDBm0,
                            cadence: [], leadIn: [100, 100, 100, 100, 100, 100])
        var generator = ToneGenerator(spec: spec)
        let out = TestSignals.render(milliseconds: 1500) { generator.generate(into: $0) }
        // Six lead-in entries: on/off three times (800 samples each), then steady.
        for silentStart in [800, 2400, 4000] {
            XCTAssertTrue(out[silentStart..<(silentStart + 800)].allSatisfy { $0 == 0 })
        }
        XCTAssertEqual(out[4800], 0, "steady tone starts at zero phase")
        XCTAssertNotEqual(out[4801], 0)
        // The steady tone never falls silent for a whole millisecond.
        var zeros = 0
        for sample in out[4800...] {
            zeros = sample == 0 ? zeros + 1 : 0
            XCTAssertLessThan(zeros, 8)
        }
    }

    func testModulatedToneHasCarrierAtLevelAndSideBands() {
        var generator = ToneGenerator(spec: ToneSpec(frequencies: [425, 25], modulated: true,
                                                     levelDBm0: -13))
        let out = TestSignals.render(milliseconds: 1000) { generator.generate(into: $0) }
        let window = UnsafeMutableBufferPointer<Double>.allocate(capacity: out.count)
        defer { window.deallocate() }
        let sum = out.withUnsafeBufferPointer { Goertzel.hannWindow($0, into: window) }
        func level(_ f: Double) -> Double {
            Level.dBm0(peakAmplitude: 2 * Goertzel.magnitude(UnsafeBufferPointer(window), frequency: f,
                                                             sampleRate: Double(rate)) / sum)
        }
        XCTAssertEqual(level(425), -13, accuracy: 0.1)
        XCTAssertEqual(level(400), -13 - 12.04, accuracy: 0.2, "side band at depth/2 = −12 dB")
        XCTAssertEqual(level(450), -13 - 12.04, accuracy: 0.2)
    }

    func testLoudSumClipsInsteadOfWrapping() {
        var generator = ToneGenerator(spec: ToneSpec(frequencies: [697, 1209], levelDBm0: 3))
        let out = TestSignals.render(milliseconds: 100) { generator.generate(into: $0) }
        let amplitude = Level.peakAmplitude(dBm0: 3)
        var clipped = 0
        for (i, sample) in out.enumerated() {
            let t = Double(i) / Double(TestSignals.rate)
            let ideal = amplitude * (sin(2 * Double.pi * 697 * t) + sin(2 * Double.pi * 1209 * t))
            let slack = 0.01 * amplitude  // spandsp's DDS table is good to ~0.3 %
            if ideal > 32767 + slack {
                XCTAssertEqual(sample, 32767, "sample \(i) must clip high")
                clipped += 1
            } else if ideal < -32768 - slack {
                XCTAssertEqual(sample, -32768, "sample \(i) must clip low")
                clipped += 1
            } else {
                XCTAssertLessThanOrEqual(abs(Double(sample) - max(-32768, min(32767, ideal))), slack,
                                         "sample \(i)")
            }
        }
        XCTAssertGreaterThan(clipped, 20)
    }

    func testResetStartsOver() {
        let spec = CountryPresets.preset(code: "us")!.busy
        var generator = ToneGenerator(spec: spec)
        let first = TestSignals.render(milliseconds: 1300) { generator.generate(into: $0) }
        generator.reset()
        let second = TestSignals.render(milliseconds: 1300) { generator.generate(into: $0) }
        XCTAssertEqual(first, second)
    }
}
