import XCTest
@testable import DSP
import CountryPresets

final class ToneAnalyzerTests: XCTestCase {
    private func play(_ spec: ToneSpec, milliseconds: Int, into analyzer: ToneAnalyzer) {
        var generator = ToneGenerator(spec: spec)
        TestSignals.feed(analyzer, TestSignals.render(milliseconds: milliseconds) { generator.generate(into: $0) })
    }

    /// `soundingMilliseconds` counts from the last break: a tone whose
    /// blocks end anywhere in its cycle (941 and 1477 Hz do not fit whole
    /// cycles in 10 ms) sounds unbroken, and a silent block breaks it (20 ms
    /// of silence here, since the leads shift the blocks against it; in the
    /// daemon frames and blocks line up, so a silent 10 ms frame does).
    func testSoundingLastsUntilABreak() {
        for frequency: UInt16 in [941, 1477] {
            for lead in stride(from: 0, to: 80, by: 7) {
                let analyzer = ToneAnalyzer()
                var generator = ToneGenerator(spec: ToneSpec(frequencies: [frequency], levelDBm0: -10))
                var samples = TestSignals.render(milliseconds: 2000) { generator.generate(into: $0) }
                samples.removeFirst(lead)
                var longest = 0
                var offset = 0
                while offset < samples.count {
                    let end = min(offset + 80, samples.count)
                    TestSignals.feed(analyzer, Array(samples[offset..<end]))
                    offset = end
                    guard let sounding = analyzer.soundingMilliseconds else {
                        return XCTFail("\(frequency) Hz, lead \(lead): broke at \(offset) samples")
                    }
                    XCTAssertGreaterThanOrEqual(sounding, longest - 1)
                    longest = max(longest, sounding)
                }
                XCTAssertGreaterThanOrEqual(longest, 1980, "\(frequency) Hz, lead \(lead)")
                TestSignals.feed(analyzer, TestSignals.silence(milliseconds: 20))
                XCTAssertNil(analyzer.soundingMilliseconds, "a silent block is a break")
                TestSignals.feed(analyzer, TestSignals.render(milliseconds: 300) { generator.generate(into: $0) })
                XCTAssertEqual(Double(analyzer.soundingMilliseconds ?? 0), 300, accuracy: 11)
            }
        }
    }

    func testNothingAndQuietAreSilence() {
        let analyzer = ToneAnalyzer()
        XCTAssertEqual(analyzer.analyze(), .silence)
        TestSignals.feed(analyzer, TestSignals.silence(milliseconds: 2000))
        XCTAssertEqual(analyzer.analyze(), .silence)
        play(ToneSpec(frequencies: [425], levelDBm0: -50), milliseconds: 2000, into: analyzer)
        XCTAssertEqual(analyzer.analyze(), .silence, "below the −45 dBm0 threshold")
    }

    func testToneThatStopsBecomesSilence() {
        let analyzer = ToneAnalyzer()
        let busy = CountryPresets.preset(code: "us")!.busy
        play(busy, milliseconds: 3100, into: analyzer)
        guard case .tone(_, _, let cadence) = analyzer.analyze() else { return XCTFail("busy expected") }
        XCTAssertEqual(cadence.count, 2)
        // Stops at the end of a burst: within the 500 ms gap it is still busy tone …
        TestSignals.feed(analyzer, TestSignals.silence(milliseconds: 300))
        if case .silence = analyzer.analyze() { XCTFail("still within the busy gap") }
        // … and once the gap is clearly longer than the cadence's, silence.
        TestSignals.feed(analyzer, TestSignals.silence(milliseconds: 400))
        XCTAssertEqual(analyzer.analyze(), .silence)

        let continuous = ToneAnalyzer()
        play(ToneSpec(frequencies: [425], levelDBm0: -10), milliseconds: 1000, into: continuous)
        TestSignals.feed(continuous, TestSignals.silence(milliseconds: 100))
        XCTAssertEqual(continuous.analyze(), .silence)
    }

    func testCadenceChangeToContinuous() {
        let analyzer = ToneAnalyzer()
        let stutter = CountryPresets.preset(code: "us")!.stutterDial
        play(stutter, milliseconds: 1500, into: analyzer)
        guard case let .tone(frequencies, _, cadence) = analyzer.analyze() else { return XCTFail() }
        XCTAssertEqual(frequencies.count, 2)
        XCTAssertEqual(cadence.count, 2)
        for ms in cadence { XCTAssertEqual(ms, 100, accuracy: 10) }
        var generator = ToneGenerator(spec: stutter)
        let audio = TestSignals.render(milliseconds: 3500) { generator.generate(into: $0) }
        let late = ToneAnalyzer()
        TestSignals.feed(late, audio)
        guard case let .tone(_, _, steady) = late.analyze() else { return XCTFail() }
        XCTAssertEqual(steady, [], "after the lead-in the dial tone is steady")
    }

    func testNewToneReplacesTheOldOne() {
        let analyzer = ToneAnalyzer()
        play(CountryPresets.preset(code: "de")!.dial, milliseconds: 5000, into: analyzer)
        play(ToneSpec(frequencies: [480, 620], levelDBm0: -24, cadence: [500, 500]), milliseconds: 2600,
             into: analyzer)
        guard case let .tone(frequencies, level, cadence) = analyzer.analyze() else { return XCTFail() }
        XCTAssertEqual(frequencies.count, 2)
        XCTAssertEqual(frequencies.first ?? 0, 480, accuracy: 1)
        XCTAssertEqual(level, -24, accuracy: 1)
        XCTAssertEqual(cadence.count, 2)
        for ms in cadence { XCTAssertEqual(ms, 500, accuracy: 10) }
    }

    func testHowlerReportsTwoOfItsFourFrequencies() {
        let analyzer = ToneAnalyzer()
        let howler = CountryPresets.preset(code: "us")!.offHookWarning
        play(howler, milliseconds: 1000, into: analyzer)
        guard case let .tone(frequencies, level, cadence) = analyzer.analyze() else { return XCTFail() }
        XCTAssertEqual(frequencies.count, 2)
        for f in frequencies {
            XCTAssertTrue(howler.frequencies.contains { abs(Double($0) - f) / Double($0) < 0.002 }, "\(f)")
        }
        XCTAssertEqual(level, Double(howler.levelDBm0), accuracy: 1)
        XCTAssertEqual(cadence.count, 2)
        for ms in cadence { XCTAssertEqual(ms, 100, accuracy: 10) }
    }

    func testCloseFrequenciesAndFourPartCadence() {
        let analyzer = ToneAnalyzer()
        play(ToneSpec(frequencies: [400, 425], levelDBm0: -10), milliseconds: 1500, into: analyzer)
        guard case let .tone(frequencies, level, _) = analyzer.analyze() else { return XCTFail() }
        XCTAssertEqual(frequencies.count, 2)
        XCTAssertEqual(frequencies[0], 400, accuracy: 0.4)
        XCTAssertEqual(frequencies[1], 425, accuracy: 0.4)
        XCTAssertEqual(level, -10, accuracy: 0.5)
    }

    func testWidebandRate() {
        let rate = DSPSampleRate.wideband
        let analyzer = ToneAnalyzer(sampleRate: rate)
        var generator = ToneGenerator(spec: ToneSpec(frequencies: [480, 620], levelDBm0: -24, cadence: [500, 500]),
                                      sampleRate: rate)
        var audio = [Int16](repeating: 0, count: 3 * rate)
        audio.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
        audio.withUnsafeBufferPointer { analyzer.feed($0) }
        guard case let .tone(frequencies, level, cadence) = analyzer.analyze() else { return XCTFail() }
        XCTAssertEqual(frequencies[0], 480, accuracy: 0.5)
        XCTAssertEqual(frequencies[1], 620, accuracy: 0.5)
        XCTAssertEqual(level, -24, accuracy: 0.5)
        XCTAssertEqual(cadence.count, 2)
        for ms in cadence { XCTAssertEqual(ms, 500, accuracy: 10) }
    }

    func testCadenceFinderRules() {
        func runs(_ pairs: [(Bool, Int)]) -> [AudibleRun] { pairs.map { AudibleRun(isOn: $0.0, milliseconds: $0.1) } }
        XCTAssertEqual(CadenceFinder.verdict(runs: runs([(false, 900)])), .silence)
        XCTAssertEqual(CadenceFinder.verdict(runs: runs([(true, 900)])), .continuous)
        XCTAssertEqual(CadenceFinder.verdict(runs: runs([(false, 100), (true, 900)])), .continuous)
        let uk = runs([(true, 300), (false, 200), (true, 400), (false, 2000), (true, 400), (false, 200),
                       (true, 400), (false, 2000), (true, 400), (false, 50)])
        XCTAssertEqual(CadenceFinder.verdict(runs: uk), .cadence([400, 200, 400, 2000]))
        var stopped = uk
        stopped[stopped.count - 1].milliseconds = 2500
        XCTAssertEqual(CadenceFinder.verdict(runs: stopped), .silence)
        let becameSteady = runs([(false, 50), (true, 100), (false, 100), (true, 100), (false, 100),
                                 (true, 100), (false, 100), (true, 900)])
        XCTAssertEqual(CadenceFinder.verdict(runs: becameSteady), .continuous)
        // Sampled mid-pattern, the period is still written from its longest gap.
        let midPattern = runs([(true, 300), (false, 200), (true, 400), (false, 2000), (true, 400), (false, 200),
                               (true, 400), (false, 2000), (true, 400), (false, 200), (true, 100)])
        XCTAssertEqual(CadenceFinder.verdict(runs: midPattern), .cadence([400, 200, 400, 2000]))
        XCTAssertEqual(CadenceFinder.canonical(runs([(true, 250), (false, 250), (true, 750), (false, 250)]))
                       .map { $0.milliseconds }, [750, 250, 250, 250])
        // Not yet repeated: the runs seen so far stand in for the period.
        XCTAssertEqual(CadenceFinder.verdict(runs: runs([(false, 10), (true, 2000), (false, 4000), (true, 300)])),
                       .cadence([2000, 4000]))
    }

    /// Feeding costs O(1) per sample: five minutes of audio feed quickly and
    /// analysing stays cheap (figures printed, not asserted).
    func testFeedingCost() {
        let analyzer = ToneAnalyzer()
        var generator = ToneGenerator(spec: CountryPresets.preset(code: "gb")!.ringback)
        var frame = [Int16](repeating: 0, count: 160)
        frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
        let start = Date()
        let frames = 60 * 50 * 5
        for _ in 0..<frames {
            frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
            frame.withUnsafeBufferPointer { analyzer.feed($0) }
        }
        let fed = Date().timeIntervalSince(start)
        let analyseStart = Date()
        _ = analyzer.analyze()
        print("ToneAnalyzer: fed 5 min of audio in \(String(format: "%.3f", fed)) s (debug build, with generation); analyze() \(String(format: "%.3f", Date().timeIntervalSince(analyseStart))) s")
    }
}
