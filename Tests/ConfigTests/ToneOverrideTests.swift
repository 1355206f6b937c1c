@testable import Config
import CountryPresets
import XCTest

final class ToneOverrideTests: XCTestCase {
    private func load(_ tones: String) -> ConfigLoader.Result {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\ncountry = de\n[tones]\n" + tones)
        files.add("/c/board.conf", simBoard)
        return ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
    }

    func testOverridesReplaceTheirPartOfThePreset() throws {
        let result = load("""
            dial = 400+450/-12
            busy = 425/-20/300,300
            ringback = 425*25/-15/1000,4000
            stutter_dial = 425/-12/100,100,100,100
            ring_frequency = 50
            ring_cadence = 1000,2000
            flash_min_ms = 100
            flash_max_ms = 600
            """)
        XCTAssertEqual(result.diagnostics, [])
        let plan = try XCTUnwrap(result.site?.tonePlan)
        let germany = try XCTUnwrap(CountryPresets.preset(code: "de"))
        XCTAssertEqual(plan.dial, ToneSpec(frequencies: [400, 450], levelDBm0: -12))
        XCTAssertEqual(plan.busy, ToneSpec(frequencies: [425], levelDBm0: -20, cadence: [300, 300]))
        XCTAssertEqual(plan.ringback, ToneSpec(frequencies: [425, 25], modulated: true, levelDBm0: -15, cadence: [1000, 4000]))
        XCTAssertEqual(plan.stutterDial.leadIn, [100, 100, 100, 100])
        XCTAssertEqual(plan.stutterDial.cadence, [])
        XCTAssertEqual(plan.ring, RingSpec(frequencyHz: 50, cadence: [1000, 2000]))
        XCTAssertEqual(plan.flashMinimumMs, 100)
        XCTAssertEqual(plan.flashMaximumMs, 600)
        XCTAssertEqual(plan.congestion, germany.congestion, "what is not overridden stays the country's")
    }

    func testBadOverridesAreErrorsAtTheirLine() {
        let result = load("""
            dial = 350+440
            busy = 99999/-10
            ring_cadence = 1000
            flash_min_ms = 500
            flash_max_ms = 400
            """)
        XCTAssertNil(result.site)
        XCTAssertEqual(result.diagnostics.map { $0.text }, [
            "/c/site.conf:5: error: invalid value '350+440' for 'dial': expected \(ToneOverride.syntax)",
            "/c/site.conf:6: error: invalid value '99999/-10' for 'busy': expected \(ToneOverride.syntax)",
            "/c/site.conf:7: error: invalid value '1000' for 'ring_cadence': expected ON,OFF[,ON,OFF...] in ms (10-20000 each)",
            "/c/site.conf:9: error: the flash window is empty: flash_min_ms (500) must be below flash_max_ms (400)",
        ])
    }
}
