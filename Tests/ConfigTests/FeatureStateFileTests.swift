@testable import Config
import Line
import XCTest

/// The state file (each line's do-not-disturb and forwarding) and the
/// site file's `[features]`, `state_file` and `forward_no_answer_seconds`.
final class FeatureStateFileTests: XCTestCase {
    private func features(dnd: Bool = false, all: String? = nil, busy: String? = nil, noAnswer: String? = nil) -> LineFeatures {
        var features = LineFeatures()
        features.doNotDisturb = dnd
        features.forwardTargets = [all, busy, noAnswer]
        return features
    }

    private func parse(_ text: String) -> (lines: [Int], features: [LineFeatures], diagnostics: [String]) {
        let (saved, diagnostics) = FeatureStateFile.parse(file: "/var/lib/atad/state", bytes: Array(text.utf8))
        return (saved.map(\.line), saved.map { $0.1 }, diagnostics.map(\.text))
    }

    // MARK: State file

    func testSerializeWritesOnlyLinesWithSomethingSet() {
        let text = String(decoding: FeatureStateFile.serialize([
            (1, features(dnd: true, noAnswer: "5553")),
            (2, LineFeatures()),
            (3, features(all: "5551", busy: "*98#")),
        ]), as: UTF8.self)
        XCTAssertEqual(text, """
            # atad: do-not-disturb and forwarding as the phones set them; atad rewrites this file

            [line 1]
            dnd = yes
            forward_no_answer = 5553

            [line 3]
            forward_all = 5551
            forward_busy = *98#

            """)
    }

    func testRoundTripGivesBackWhatWasSaved() {
        let saved: [(line: Int, LineFeatures)] = [
            (1, features(dnd: true, all: "5551", busy: "5552", noAnswer: "5553")),
            (2, LineFeatures()),
            (5, features(busy: "#12*")),
            (64, features(dnd: true)),
        ]
        let (parsed, diagnostics) = FeatureStateFile.parse(file: "state", bytes: FeatureStateFile.serialize(saved))
        XCTAssertEqual(diagnostics, [])
        XCTAssertEqual(parsed.map(\.line), [1, 5, 64], "a line with nothing set is left out")
        XCTAssertEqual(parsed.map { $0.1 }, [saved[0].1, saved[2].1, saved[3].1])
        // And again: the file is stable.
        XCTAssertEqual(FeatureStateFile.serialize(parsed), FeatureStateFile.serialize(saved))
    }

    func testAFileWithNothingSetParsesToNothingAndNoError() {
        let bytes = FeatureStateFile.serialize([(1, LineFeatures()), (2, LineFeatures())])
        let (parsed, diagnostics) = FeatureStateFile.parse(file: "state", bytes: bytes)
        XCTAssertEqual(parsed.count, 0)
        XCTAssertEqual(diagnostics, [], "everything turned off is not a broken file")
        XCTAssertEqual(FeatureStateFile.parse(file: "state", bytes: []).1, [])
    }

    func testABadValueIsReportedAndTheRestKept() {
        let result = parse("""
            [line 1]
            dnd = maybe
            forward_all = 5551
            forward_busy = 55x1
            [line 2]
            dnd = yes
            """)
        XCTAssertEqual(result.diagnostics, [
            "/var/lib/atad/state:2: error: invalid value 'maybe' for 'dnd': expected yes or no",
            "/var/lib/atad/state:4: error: invalid value '55x1' for 'forward_busy': expected a number of 0-9, * and #",
        ])
        XCTAssertEqual(result.lines, [1, 2])
        XCTAssertEqual(result.features, [features(all: "5551"), features(dnd: true)])
    }

    func testAnUnknownKeyOrSectionIsReportedAndTheRestKept() {
        let result = parse("""
            [line 1]
            forward_al = 5551
            forward_no_answer = 5553
            [line 99]
            dnd = yes
            [phone 2]
            dnd = yes
            [line 3]
            dnd = yes
            """)
        XCTAssertEqual(result.diagnostics, [
            "/var/lib/atad/state:2: error: unknown key 'forward_al' in [line 1]; did you mean 'forward_all'?",
            "/var/lib/atad/state:4: error: invalid section [line 99]: expected a number from 1 to 64",
            "/var/lib/atad/state:6: error: unknown section [phone]; expected one of [line]",
        ])
        XCTAssertEqual(result.lines, [1, 3])
        XCTAssertEqual(result.features, [features(noAnswer: "5553"), features(dnd: true)])
    }

    func testATooLongOrEmptyNumberIsReported() {
        let long = String(repeating: "1", count: 65)
        let result = parse("[line 1]\nforward_all = \(long)\nforward_busy = \"\"\nforward_no_answer = \(long.dropLast())\n")
        XCTAssertEqual(result.diagnostics, [
            "/var/lib/atad/state:2: error: invalid value '\(long)' for 'forward_all': expected a number of 0-9, * and #",
            "/var/lib/atad/state:3: error: invalid value '' for 'forward_busy': expected a non-empty value",
        ])
        XCTAssertEqual(result.features, [features(noAnswer: String(long.dropLast()))])
    }

    func testAFileThatIsNotTextIsOneErrorAndNothingKept() {
        let (parsed, diagnostics) = FeatureStateFile.parse(file: "state", bytes: Array("[line 1]\ndnd = y\0s\n".utf8))
        XCTAssertEqual(parsed.count, 0)
        XCTAssertEqual(diagnostics.map(\.text), ["state:2: error: binary data (a NUL byte): this is not a text config file"])
    }

    // MARK: Site file

    private func load(_ site: String) -> ConfigLoader.Result {
        var files = MemoryFiles()
        files.add("/c/site.conf", site)
        files.add("/c/board.conf", simBoard)
        return ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
    }

    func testDefaultsWithoutAFeaturesSection() throws {
        let result = load(minimalSite)
        XCTAssertEqual(result.diagnostics, [])
        let site = try XCTUnwrap(result.site)
        XCTAssertEqual(site.featureCodes, FeatureCodes())
        XCTAssertEqual(site.featureCodes.codes, ["*78", "*79", "*72", "*73", "*90", "*91", "*92", "*93", "*70"])
        XCTAssertEqual(site.stateFile, "/var/lib/atad/state")
        XCTAssertEqual(site.lineSettings(1).forwardNoAnswerSeconds, 20)
    }

    /// A file written before *70 was a default, using *70 itself: it still
    /// loads, its code wins, and the warning says which default went off.
    func testACodeTheFileSetsWinsOverADefaultItLeftAlone() throws {
        let result = load(minimalSite + """

            [features]
            dnd_on = *70
            """)
        let site = try XCTUnwrap(result.site, "\(result.diagnostics.map(\.text))")
        XCTAssertEqual(result.diagnostics.map(\.text), [
            "/c/site.conf:4: warning: [features]: "
                + "'dnd_on = *70' and 'cancel_call_waiting = *70': the same code twice; "
                + "'cancel_call_waiting' is off"])
        XCTAssertEqual(site.featureCodes.match("*70"), .request(.doNotDisturb(true)))
        XCTAssertNil(site.featureCodes.codes[8])
        XCTAssertEqual(site.featureCodes.match("*79"), .request(.doNotDisturb(false)))
    }

    func testTheFeaturesSectionSetsAndTurnsOffCodes() throws {
        let result = load(minimalSite + """

            state_file = /data/atad.state
            [features]
            dnd_on = #1
            dnd_off = #0
            forward_all = 12345678
            forward_busy = off
            forward_no_answer_off = off
            cancel_call_waiting = #70
            [line 2]
            forward_no_answer_seconds = 45
            """)
        XCTAssertEqual(result.diagnostics, [])
        let site = try XCTUnwrap(result.site)
        XCTAssertEqual(site.featureCodes.codes, ["#1", "#0", "12345678", "*73", nil, "*91", "*92", nil, "#70"])
        XCTAssertEqual(site.featureCodes.match("#70"), .request(.cancelCallWaiting))
        XCTAssertEqual(site.featureCodes.match("#1"), .request(.doNotDisturb(true)))
        XCTAssertEqual(site.featureCodes.match("*90"), .none)
        XCTAssertEqual(site.stateFile, "/data/atad.state")
        XCTAssertEqual(site.lineSettings(1).forwardNoAnswerSeconds, 20)
        XCTAssertEqual(site.lineSettings(2).forwardNoAnswerSeconds, 45)
    }

    func testEveryCodeOffIsNoCodeAtAll() throws {
        let keys = FeatureCodes.kinds.map { "\($0.key) = off" }.joined(separator: "\n")
        let site = try XCTUnwrap(load(minimalSite + "\n[features]\n" + keys + "\n").site)
        XCTAssertEqual(site.featureCodes, FeatureCodes.none)
    }

    func testBadFeatureSettingsAreReportedWithTheirLines() {
        let result = load(minimalSite + """

            [features]
            dnd_on = *7a
            dnd_off = *123456789
            forward_all = ""
            forward_busy = *9
            [line 1]
            forward_no_answer_seconds = 121
            """)
        XCTAssertNil(result.site)
        XCTAssertEqual(result.diagnostics.map(\.text), [
            "/c/site.conf:4: error: invalid value '*7a' for 'dnd_on': expected 1 to 8 of 0-9, * and #, or off",
            "/c/site.conf:5: error: invalid value '*123456789' for 'dnd_off': expected 1 to 8 of 0-9, * and #, or off",
            "/c/site.conf:6: error: invalid value '' for 'forward_all': expected a non-empty value",
            // The file's *9 wins over the defaults it swallows, each turned off with a warning.
            "/c/site.conf:7: warning: [features]: 'forward_busy = *9' and 'forward_busy_off = *91': one code is the start of the other; 'forward_busy_off' is off",
            "/c/site.conf:7: warning: [features]: 'forward_busy = *9' and 'forward_no_answer = *92': one code is the start of the other; 'forward_no_answer' is off",
            "/c/site.conf:7: warning: [features]: 'forward_busy = *9' and 'forward_no_answer_off = *93': one code is the start of the other; 'forward_no_answer_off' is off",
            "/c/site.conf:9: error: invalid value '121' for 'forward_no_answer_seconds': expected an integer from 1 to 120",
        ])
    }
}
