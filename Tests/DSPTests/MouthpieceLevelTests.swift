import CAllocationCounter
import Foundation
import XCTest
@testable import DSP

/// `level`: the phone's sending level over the last second and the level of
/// each tone of the last key, to calibrate the capture gain.
final class MouthpieceLevelTests: XCTestCase {
    private func key(_ digit: DTMFDigit, level: Double, twist: Double, milliseconds: Int) -> [Int16] {
        var generator = DTMFGenerator(levelDBm0: level, twistDB: twist, onMs: milliseconds, offMs: 0)
        XCTAssertTrue(generator.enqueue(String(digit.character)))
        return TestSignals.render(milliseconds: milliseconds, frame: 80) { generator.generate(into: $0) }
    }

    func testNothingHeard() {
        let reading = MouthpieceLevel.read(ToneAnalyzer())
        XCTAssertNil(reading.lastSecondDBm0)
        XCTAssertNil(reading.keyTone)
        XCTAssertFalse(reading.otherSound)
    }

    func testEachToneOfAHeldKeyWithinATenthOfADB() throws {
        for (digit, level, twist) in [(DTMFDigit.d5, -8.0, 2.0), (.d1, -20, -3), (.pound, -6, 0), (.d, -30, 4)] {
            let analyzer = ToneAnalyzer()
            TestSignals.feed(analyzer, key(digit, level: level, twist: twist, milliseconds: 1500))
            let reading = MouthpieceLevel.read(analyzer)
            let tone = try XCTUnwrap(reading.keyTone, "\(digit)")
            XCTAssertEqual(tone.digit, digit)
            XCTAssertEqual(tone.lowHz, digit.lowFrequency, accuracy: 1)
            XCTAssertEqual(tone.highHz, digit.highFrequency, accuracy: 1)
            XCTAssertEqual(tone.lowDBm0, level, accuracy: 0.1)
            XCTAssertEqual(tone.highDBm0, level + twist, accuracy: 0.1)
            // Two tones' powers add up over the whole second.
            let total = 10 * log10(pow(10, level / 10) + pow(10, (level + twist) / 10))
            XCTAssertEqual(try XCTUnwrap(reading.lastSecondDBm0), total, accuracy: 0.1)
        }
    }

    /// A short key press is still read after the key is let go, and the
    /// last second's mean then shows the quiet that followed.
    func testAShortPressIsReadAfterwards() throws {
        let analyzer = ToneAnalyzer()
        TestSignals.feed(analyzer, key(.d9, level: -10, twist: 2, milliseconds: 100))
        TestSignals.feed(analyzer, TestSignals.silence(milliseconds: 2000))
        let reading = MouthpieceLevel.read(analyzer)
        let tone = try XCTUnwrap(reading.keyTone)
        XCTAssertEqual(tone.digit, .d9)
        XCTAssertEqual(tone.lowDBm0, -10, accuracy: 0.5)
        XCTAssertEqual(tone.highDBm0, -8, accuracy: 0.5)
        XCTAssertLessThan(try XCTUnwrap(reading.lastSecondDBm0), -80)
    }

    func testASingleToneIsNoKey() {
        let analyzer = ToneAnalyzer()
        TestSignals.feed(analyzer, TestSignals.sines([(1000, -10, 0)], count: 8000))
        let reading = MouthpieceLevel.read(analyzer)
        XCTAssertNil(reading.keyTone)
        XCTAssertTrue(reading.otherSound)
        XCTAssertEqual(reading.lastSecondDBm0 ?? 0, -10, accuracy: 0.1)
    }

    /// Feeding the meter runs on every audio frame: no allocation.
    func testFeedingDoesNotAllocate() {
        let analyzer = ToneAnalyzer()
        let samples = key(.d5, level: -8, twist: 2, milliseconds: 3000)
        samples.withUnsafeBufferPointer { all in
            atad_allocations_begin()
            var offset = 0
            while offset < all.count {
                analyzer.feed(UnsafeBufferPointer(rebasing: all[offset..<(offset + 80)]))
                offset += 80
            }
            XCTAssertEqual(atad_allocations_end(), 0)
        }
    }
}
