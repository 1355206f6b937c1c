@testable import Config
import CountryPresets
import XCTest

/// Per-line flash windows and hang-up times, and their errors.
final class HookWindowsTests: XCTestCase {
    private func load(country: String, _ body: String) -> ConfigLoader.Result {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\ncountry = \(country)\n" + body)
        files.add("/c/board.conf", simBoard)
        return ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
    }

    private func windows(_ result: ConfigLoader.Result, line: Int) throws -> HookWindows {
        let site = try XCTUnwrap(result.site, "\(result.diagnostics.map { $0.text })")
        return HookWindows(preset: try XCTUnwrap(site.tonePlan), line: site.lineSettings(line))
    }

    func testALineWithoutKeysTakesTheCountrysWindowAndHangUpTime() throws {
        let result = load(country: "gb", "[line 1]\n")
        XCTAssertEqual(result.diagnostics, [])
        XCTAssertEqual(try windows(result, line: 1), HookWindows(flashMinimumMs: 55, flashMaximumMs: 130, hangUpMs: 400))
        XCTAssertEqual(try windows(result, line: 2), HookWindows(flashMinimumMs: 55, flashMaximumMs: 130, hangUpMs: 400))
        XCTAssertEqual(try windows(load(country: "us", ""), line: 1),
                       HookWindows(flashMinimumMs: 100, flashMaximumMs: 900, hangUpMs: 1100))
    }

    func testALongFlashMaximumRaisesTheHangUpTimeOfThatLineOnly() throws {
        let result = load(country: "de", "[line 1]\nflash_max_ms = 700\n")
        XCTAssertEqual(result.diagnostics, [])
        XCTAssertEqual(try windows(result, line: 1), HookWindows(flashMinimumMs: 60, flashMaximumMs: 700, hangUpMs: 800))
        XCTAssertEqual(try windows(result, line: 2), HookWindows(flashMinimumMs: 60, flashMaximumMs: 130, hangUpMs: 400))
        XCTAssertEqual(try windows(result, line: 1).typicalFlashMs, 380)
    }

    func testAFlashMaximumWellBelowTheHangUpTimeLeavesIt() throws {
        let result = load(country: "gb", "[line 1]\nflash_max_ms = 290\n")
        XCTAssertEqual(try windows(result, line: 1).hangUpMs, 400)
        let edge = load(country: "gb", "[line 1]\nflash_max_ms = 301\n")
        XCTAssertEqual(try windows(edge, line: 1).hangUpMs, 401, "100 ms past the window at least")
    }

    func testAWiderCountryWindowInTonesRaisesTheHangUpTimeToo() throws {
        let result = load(country: "gb", "[tones]\nflash_max_ms = 600\n")
        XCTAssertEqual(result.diagnostics, [])
        XCTAssertEqual(try windows(result, line: 1).hangUpMs, 700)
    }

    func testAllThreeKeysOnALine() throws {
        let result = load(country: "us", "[line 2]\nflash_min_ms = 200\nflash_max_ms = 700\nhangup_ms = 1500\n")
        XCTAssertEqual(result.diagnostics, [])
        XCTAssertEqual(try windows(result, line: 2), HookWindows(flashMinimumMs: 200, flashMaximumMs: 700, hangUpMs: 1500))
        XCTAssertEqual(try windows(result, line: 1), HookWindows(flashMinimumMs: 100, flashMaximumMs: 900, hangUpMs: 1100))
    }

    func testContradictionsAreErrorsAtTheirLine() {
        let result = load(country: "gb", """
            [line 1]
            flash_max_ms = 700
            hangup_ms = 600
            [line 2]
            flash_min_ms = 200
            flash_max_ms = 150
            """)
        XCTAssertNil(result.site)
        XCTAssertEqual(result.diagnostics.map { $0.text }, [
            "/c/site.conf:6: error: hangup_ms (600) of [line 1] must be longer than its longest flash, flash_max_ms (700); leave hangup_ms out to have it follow flash_max_ms",
            "/c/site.conf:9: error: the flash window of [line 2] is empty: flash_min_ms (200) must be below flash_max_ms (150)",
        ])
    }

    func testAHangUpTimeUnder400MillisecondsIsOutOfRange() {
        let result = load(country: "gb", "[line 1]\nhangup_ms = 300\n")
        XCTAssertNil(result.site)
        XCTAssertEqual(result.diagnostics.count, 1)
        XCTAssertTrue(result.diagnostics[0].text.hasPrefix("/c/site.conf:5: error: "), result.diagnostics[0].text)
        XCTAssertTrue(result.diagnostics[0].text.contains("hangup_ms"), result.diagnostics[0].text)
    }
}
