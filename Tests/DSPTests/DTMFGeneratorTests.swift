import XCTest
@testable import DSP

final class DTMFGeneratorTests: XCTestCase {
    func testRoundTripThroughDetector() {
        for (level, twist, on, off) in [(-8.0, 2.0, 80, 80), (-20.0, 0.0, 50, 50), (-4.0, 3.0, 40, 40),
                                        (-24.0, -4.0, 100, 60)] {
            var generator = DTMFGenerator(levelDBm0: level, twistDB: twist, onMs: on, offMs: off)
            XCTAssertTrue(generator.enqueue("0123456789*#ABCD"))
            let audio = TestSignals.render(milliseconds: 16 * (on + off) + 200) { generator.generate(into: $0) }
            XCTAssertTrue(generator.isIdle)
            XCTAssertEqual(TestSignals.detect(DTMFDetector(), audio), "0123456789*#ABCD",
                           "level \(level) twist \(twist) \(on)/\(off) ms")
        }
    }

    /// Levels, twist and timing, with the tones on and off frequency.
    func testLevelsTwistTimingAndShift() {
        for (shift, offsetHz) in [(0.0, 0.0), (0.015, 2.0), (-0.015, -2.0)] {
            var generator = DTMFGenerator(levelDBm0: -10, twistDB: 2, onMs: 70, offMs: 30)
            generator.frequencyShift = shift
            generator.frequencyOffsetHz = offsetHz
            generator.enqueue(.d8)
            let audio = TestSignals.render(milliseconds: 200) { generator.generate(into: $0) }
            let on = 70 * TestSignals.rate / 1000
            XCTAssertTrue(audio[on..<(on + 240)].allSatisfy { $0 == 0 }, "gap after the burst")
            XCTAssertTrue(audio[(on + 240)...].allSatisfy { $0 == 0 }, "silence when idle")
            XCTAssertNotEqual(audio[on - 1], 0)
            let window = UnsafeMutableBufferPointer<Double>.allocate(capacity: on)
            defer { window.deallocate() }
            let sum = audio[0..<on].withContiguousStorageIfAvailable { Goertzel.hannWindow($0, into: window) }!
            func level(_ nominal: Double) -> Double {
                let f = nominal * (1 + shift) + offsetHz
                let peak = Goertzel.peak(UnsafeBufferPointer(window), low: f - 3, high: f + 3, gridPoints: 13,
                                         sampleRate: Double(TestSignals.rate))
                XCTAssertEqual(peak.frequency, f, accuracy: 0.5)
                return Level.dBm0(peakAmplitude: 2 * peak.magnitude / sum)
            }
            XCTAssertEqual(level(852), -10, accuracy: 0.2)
            XCTAssertEqual(level(1336), -8, accuracy: 0.2)
        }
    }

    func testRejectsNonDTMFText() {
        var generator = DTMFGenerator()
        XCTAssertFalse(generator.enqueue("12x"))
        XCTAssertTrue(generator.isIdle)
        XCTAssertTrue(generator.enqueue("abcd"))
        XCTAssertFalse(generator.isIdle)
    }
}
