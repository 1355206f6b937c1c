import CountryPresets
import DSP
import XCTest

/// The simulated phone's ear for the CPE alerting signal: 2130+2750 Hz for
/// 80 ms is reported once, at its end; shorter bursts, one tone alone,
/// speech-band tones and faint signals are not.
final class AlertSignalDetectorTests: XCTestCase {
    /// Feeds `milliseconds` of `frequencies` at `level` then 50 ms of
    /// silence in 10 ms frames; returns the frame indices reported.
    private func reports(_ frequencies: [UInt16], level: Int8 = -13, milliseconds: Int) -> [Int] {
        let detector = AlertSignalDetector()
        var generator = ToneGenerator(spec: ToneSpec(frequencies: frequencies, levelDBm0: level))
        var frame = [Int16](repeating: 0, count: 80)
        var reported: [Int] = []
        for index in 0..<(milliseconds / 10 + 5) {
            frame.withUnsafeMutableBufferPointer { buffer in
                if index < milliseconds / 10 { generator.generate(into: buffer) } else { buffer.update(repeating: 0) }
            }
            if frame.withUnsafeBufferPointer({ detector.process($0) }) { reported.append(index) }
        }
        return reported
    }

    func testTheSignalIsReportedOnceWhenItEnds() {
        XCTAssertEqual(reports([2130, 2750], milliseconds: 80), [8])
        XCTAssertEqual(reports([2130, 2750], level: -30, milliseconds: 80), [8], "a weak but clear signal")
    }

    func testOtherSoundsAreNot() {
        XCTAssertEqual(reports([2130, 2750], milliseconds: 30), [], "too short")
        XCTAssertEqual(reports([2130], milliseconds: 200), [], "one tone alone")
        XCTAssertEqual(reports([440], milliseconds: 300), [], "the call-waiting tone")
        XCTAssertEqual(reports([1209, 697], milliseconds: 200), [], "a key")
        XCTAssertEqual(reports([2130, 2750], level: -55, milliseconds: 80), [], "too faint")
    }
}
