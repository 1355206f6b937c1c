import XCTest
@testable import DSP
import CountryPresets

/// Every country's dial, busy and ringback tone, played by `ToneGenerator`
/// and heard by `ToneAnalyzer`, must come back as specified: frequencies
/// within 1 %, level within 1 dB, cadence within 10 ms.
final class ToneRoundTripTests: XCTestCase {
    private struct Worst {
        var frequency = 0.0, frequencyWhere = ""
        var level = 0.0, levelWhere = ""
        var cadence = 0, cadenceWhere = ""
    }

    /// What the analyzer should report for a spec.
    static func expectedFrequencies(_ spec: ToneSpec) -> [Double] {
        if spec.modulated { return [Double(spec.frequencies[0])] }
        return spec.frequencies.map { Double($0) }.sorted()
    }

    /// Enough audio for the lead-in, two full periods and the next burst.
    static func listeningTime(_ spec: ToneSpec) -> Int {
        let leadIn = spec.leadIn.reduce(0) { $0 + Int($1) }
        let period = spec.cadence.reduce(0) { $0 + Int($1) }
        if period == 0 { return leadIn + 2000 }
        return leadIn + 2 * period + Int(spec.cadence[0]) + 150
    }

    private func check(_ spec: ToneSpec, _ name: String, worst: inout Worst,
                       file: StaticString = #filePath, line: UInt = #line) {
        var generator = ToneGenerator(spec: spec)
        let analyzer = ToneAnalyzer()
        let audio = TestSignals.render(milliseconds: Self.listeningTime(spec)) { generator.generate(into: $0) }
        TestSignals.feed(analyzer, audio)
        let heard = analyzer.analyze()
        // Listening on for part of a period (any phase of the cadence) must
        // not change the answer's cadence.
        let period = spec.cadence.reduce(0) { $0 + Int($1) }
        if period > 0 {
            for extra in [period * 37 / 100, period * 71 / 100] {
                let later = ToneAnalyzer()
                var again = ToneGenerator(spec: spec)
                TestSignals.feed(later, TestSignals.render(milliseconds: Self.listeningTime(spec) + extra) {
                    again.generate(into: $0)
                })
                if case let .tone(_, _, cadence) = later.analyze(), case let .tone(_, _, first) = heard {
                    XCTAssertEqual(cadence.count, first.count, "\(name) +\(extra) ms: \(cadence)", file: file, line: line)
                    for (a, b) in zip(cadence, first) {
                        XCTAssertLessThanOrEqual(abs(a - b), 10, "\(name) +\(extra) ms: \(cadence)", file: file, line: line)
                    }
                } else {
                    XCTFail("\(name) +\(extra) ms: \(later.analyze())", file: file, line: line)
                }
            }
        }
        guard case let .tone(frequencies, level, cadence) = heard else {
            XCTFail("\(name): heard \(heard)", file: file, line: line)
            return
        }
        let expected = Self.expectedFrequencies(spec)
        XCTAssertEqual(frequencies.count, expected.count, "\(name): \(frequencies) vs \(expected)",
                       file: file, line: line)
        for (got, want) in zip(frequencies, expected) {
            let error = abs(got - want) / want
            XCTAssertLessThanOrEqual(error, 0.01, "\(name): \(got) Hz vs \(want) Hz", file: file, line: line)
            if error > worst.frequency { worst.frequency = error; worst.frequencyWhere = "\(name) \(want) Hz → \(got)" }
        }
        let levelError = abs(level - Double(spec.levelDBm0))
        XCTAssertLessThanOrEqual(levelError, 1.0, "\(name): \(level) dBm0 vs \(spec.levelDBm0)",
                                 file: file, line: line)
        if levelError > worst.level { worst.level = levelError; worst.levelWhere = "\(name) \(level)" }
        let wantCadence = spec.cadence.map { Int($0) }
        XCTAssertEqual(cadence.count, wantCadence.count, "\(name): cadence \(cadence) vs \(wantCadence)",
                       file: file, line: line)
        for (got, want) in zip(cadence, wantCadence) {
            XCTAssertLessThanOrEqual(abs(got - want), 10, "\(name): cadence \(cadence) vs \(wantCadence)",
                                     file: file, line: line)
            if abs(got - want) > worst.cadence { worst.cadence = abs(got - want); worst.cadenceWhere = "\(name) \(cadence)" }
        }
    }

    func testEveryPresetsDialBusyAndRingback() {
        var worst = Worst()
        var checked = 0
        for preset in CountryPresets.all {
            check(preset.dial, "\(preset.code) dial", worst: &worst)
            check(preset.busy, "\(preset.code) busy", worst: &worst)
            check(preset.ringback, "\(preset.code) ringback", worst: &worst)
            checked += 3
        }
        XCTAssertEqual(checked, 3 * CountryPresets.all.count)
        XCTAssertGreaterThan(checked, 0)
        print("""
            ToneRoundTrip: \(checked) tones; worst frequency error \(String(format: "%.4f", worst.frequency * 100)) % (\(worst.frequencyWhere)); \
            worst level error \(String(format: "%.3f", worst.level)) dB (\(worst.levelWhere)); \
            worst cadence error \(worst.cadence) ms (\(worst.cadenceWhere))
            """)
    }

    func testOtherPresetTonesWithTwoPeriodsInView() {
        // Congestion, stutter dial and call waiting where two periods fit in
        // the analyzer's 16 s history.
        var worst = Worst()
        var checked = 0
        for preset in CountryPresets.all {
            for (spec, name) in [(preset.congestion, "congestion"), (preset.stutterDial, "stutter"),
                                 (preset.callWaiting, "call waiting")] {
                let period = spec.cadence.reduce(0) { $0 + Int($1) }
                guard Self.listeningTime(spec) + period <= 15_000 || period == 0 else { continue }
                check(spec, "\(preset.code) \(name)", worst: &worst)
                checked += 1
            }
        }
        print("ToneRoundTrip (other tones): \(checked) tones; worst frequency error \(String(format: "%.4f", worst.frequency * 100)) %; worst level error \(String(format: "%.3f", worst.level)) dB; worst cadence error \(worst.cadence) ms (\(worst.cadenceWhere))")
    }
}
