import XCTest
@testable import CountryPresets

final class CountryPresetsTests: XCTestCase {
    static let requiredCodes = [
        "us", "ca", "gb", "de", "at", "ch", "fr", "be", "nl", "it", "es", "pt", "se", "no",
        "dk", "fi", "pl", "cz", "ru", "au", "nz", "jp", "cn", "in", "br", "mx", "za",
    ]

    private func preset(_ code: String, file: StaticString = #filePath,
                        line: UInt = #line) throws -> CountryPreset {
        try XCTUnwrap(CountryPresets.preset(code: code), "no preset \(code)",
                      file: file, line: line)
    }

    private func tones(of preset: CountryPreset) -> [(String, ToneSpec)] {
        [
            ("dial", preset.dial), ("ringback", preset.ringback), ("busy", preset.busy),
            ("congestion", preset.congestion), ("callWaiting", preset.callWaiting),
            ("stutterDial", preset.stutterDial), ("offHookWarning", preset.offHookWarning),
        ]
    }

    // MARK: - Table shape

    func testEveryRequiredCodeIsPresentExactlyOnce() {
        let codes = CountryPresets.codes
        for code in Self.requiredCodes {
            XCTAssertEqual(codes.filter { $0 == code }.count, 1, "\(code) must appear exactly once")
        }
        XCTAssertEqual(Set(codes).count, codes.count, "duplicate codes in \(codes)")
        XCTAssertGreaterThanOrEqual(codes.count, Self.requiredCodes.count)
    }

    func testCodesAreTwoLowercaseLetters() {
        for code in CountryPresets.codes {
            XCTAssertEqual(code.count, 2, code)
            XCTAssertTrue(code.unicodeScalars.allSatisfy { $0 >= "a" && $0 <= "z" },
                          "\(code) is not lower-case ASCII letters")
        }
    }

    func testLookupFindsEveryPresetAndRejectsUnknownCodes() throws {
        for entry in CountryPresets.all {
            XCTAssertEqual(try preset(entry.code).name, entry.name)
        }
        XCTAssertNil(CountryPresets.preset(code: "xx"))
        XCTAssertNil(CountryPresets.preset(code: "US"))
        XCTAssertNil(CountryPresets.preset(code: ""))
    }

    func testEveryPresetHasANameAndAShortSource() {
        for entry in CountryPresets.all {
            XCTAssertFalse(entry.name.isEmpty, entry.code)
            XCTAssertFalse(entry.source.isEmpty, entry.code)
            XCTAssertLessThanOrEqual(entry.source.count, 160, "\(entry.code): source too long")
            XCTAssertFalse(entry.source.contains("placeholder"), entry.code)
        }
    }

    // MARK: - Every tone is playable

    func testToneFrequencies() {
        for entry in CountryPresets.all {
            for (label, tone) in tones(of: entry) {
                let what = "\(entry.code).\(label)"
                XCTAssertTrue((1...4).contains(tone.frequencies.count), "\(what): \(tone.frequencies)")
                if tone.modulated {
                    XCTAssertEqual(tone.frequencies.count, 2, "\(what): modulated needs [carrier, modulator]")
                    guard tone.frequencies.count == 2 else { continue }
                    XCTAssertTrue((100...3500).contains(tone.frequencies[0]), "\(what): carrier")
                    XCTAssertTrue((1...100).contains(tone.frequencies[1]), "\(what): modulator")
                } else {
                    for f in tone.frequencies {
                        XCTAssertTrue((100...3500).contains(f), "\(what): \(f) Hz")
                    }
                    XCTAssertEqual(Set(tone.frequencies).count, tone.frequencies.count,
                                   "\(what): repeated frequency")
                }
            }
        }
    }

    func testToneCadencesAndLevels() {
        for entry in CountryPresets.all {
            for (label, tone) in tones(of: entry) {
                let what = "\(entry.code).\(label)"
                XCTAssertTrue(tone.cadence.count % 2 == 0, "\(what): odd cadence \(tone.cadence)")
                XCTAssertTrue(tone.cadence.allSatisfy { $0 > 0 }, "\(what): zero in cadence")
                XCTAssertTrue(tone.leadIn.count % 2 == 0, "\(what): odd lead-in \(tone.leadIn)")
                XCTAssertTrue(tone.leadIn.allSatisfy { $0 > 0 }, "\(what): zero in lead-in")
                XCTAssertTrue((-40...0).contains(tone.levelDBm0), "\(what): \(tone.levelDBm0) dBm0")
            }
        }
    }

    func testTonesThatMustRepeatHaveACadence() {
        for entry in CountryPresets.all {
            XCTAssertFalse(entry.ringback.cadence.isEmpty, "\(entry.code): ringback")
            XCTAssertFalse(entry.busy.cadence.isEmpty, "\(entry.code): busy")
            XCTAssertFalse(entry.congestion.cadence.isEmpty, "\(entry.code): congestion")
            XCTAssertFalse(entry.callWaiting.cadence.isEmpty, "\(entry.code): call waiting")
            // A call-waiting tone overlays speech: short bursts, long pauses.
            let cw = entry.callWaiting.cadence
            let on = stride(from: 0, to: cw.count, by: 2).map { Int(cw[$0]) }.reduce(0, +)
            let period = cw.map { Int($0) }.reduce(0, +)
            XCTAssertLessThan(on * 3, period, "\(entry.code): call waiting is on too much")
        }
    }

    func testStutterDialDiffersFromDialTone() {
        for entry in CountryPresets.all {
            XCTAssertNotEqual(entry.stutterDial, entry.dial, entry.code)
        }
    }

    // MARK: - Ringing and flash

    func testRingSpecs() {
        for entry in CountryPresets.all {
            XCTAssertTrue([16, 20, 25, 50].contains(entry.ring.frequencyHz),
                          "\(entry.code): \(entry.ring.frequencyHz) Hz")
            XCTAssertFalse(entry.ring.cadence.isEmpty, entry.code)
            XCTAssertTrue(entry.ring.cadence.count % 2 == 0, "\(entry.code): \(entry.ring.cadence)")
            XCTAssertTrue(entry.ring.cadence.allSatisfy { $0 > 0 }, entry.code)
        }
    }

    func testFlashWindows() {
        for entry in CountryPresets.all {
            XCTAssertLessThan(entry.flashMinimumMs, entry.flashMaximumMs, entry.code)
            XCTAssertGreaterThanOrEqual(entry.flashMinimumMs, 40, entry.code)
            XCTAssertLessThanOrEqual(entry.flashMaximumMs, 1100, entry.code)
        }
        let us = CountryPresets.preset(code: "us")
        XCTAssertEqual(us?.flashMinimumMs, 100)
        XCTAssertEqual(us?.flashMaximumMs, 900)
        let gb = CountryPresets.preset(code: "gb")
        XCTAssertEqual(gb?.flashMinimumMs, 55)
        XCTAssertEqual(gb?.flashMaximumMs, 130)
    }

    func testHangUpTimesComeWellAfterTheFlashWindow() {
        for entry in CountryPresets.all {
            XCTAssertGreaterThanOrEqual(entry.hangUpMs, 400, entry.code)
            XCTAssertGreaterThanOrEqual(Int(entry.hangUpMs), Int(entry.flashMaximumMs) + 100, entry.code)
        }
        XCTAssertEqual(CountryPresets.preset(code: "us")?.hangUpMs, 1100)
        XCTAssertEqual(CountryPresets.preset(code: "gb")?.hangUpMs, 400)
        XCTAssertEqual(CountryPresets.preset(code: "fr")?.hangUpMs, 450)
    }

    // MARK: - Spot checks against the sources

    func testNorthAmericanPreciseTonePlan() throws {
        for code in ["us", "ca"] {
            let p = try preset(code)
            XCTAssertEqual(p.dial, ToneSpec(frequencies: [350, 440], levelDBm0: -13))
            XCTAssertEqual(p.ringback.frequencies, [440, 480])
            XCTAssertEqual(p.ringback.cadence, [2000, 4000])
            XCTAssertEqual(p.busy.frequencies, [480, 620])
            XCTAssertEqual(p.busy.cadence, [500, 500])
            XCTAssertEqual(p.congestion.frequencies, [480, 620])
            XCTAssertEqual(p.congestion.cadence, [250, 250])
            XCTAssertEqual(p.callWaiting.frequencies, [440])
            XCTAssertEqual(p.stutterDial.frequencies, [350, 440])
            XCTAssertEqual(p.stutterDial.leadIn, Array(repeating: 100, count: 20))
            XCTAssertTrue(p.stutterDial.cadence.isEmpty, "stutter ends in steady dial tone")
            XCTAssertEqual(p.offHookWarning.frequencies, [1400, 2060, 2450, 2600])
            XCTAssertEqual(p.offHookWarning.cadence, [100, 100])
            XCTAssertEqual(p.ring, RingSpec(frequencyHz: 20, cadence: [2000, 4000]))
        }
    }

    func testUnitedKingdom() throws {
        let gb = try preset("gb")
        // BT SIN 350: dial tone is 350 Hz + 440 Hz continuous (the older
        // Post Office dial tone was 350 + 450 Hz).
        XCTAssertEqual(gb.dial.frequencies, [350, 440])
        XCTAssertTrue(gb.dial.cadence.isEmpty)
        XCTAssertEqual(gb.ringback.frequencies, [400, 450])
        XCTAssertEqual(gb.ringback.cadence, [400, 200, 400, 2000])
        XCTAssertEqual(gb.busy.frequencies, [400])
        XCTAssertEqual(gb.busy.cadence, [375, 375])
        XCTAssertEqual(gb.congestion.cadence, [400, 350, 225, 525])
        XCTAssertEqual(gb.stutterDial.cadence, [750, 750])
        XCTAssertEqual(gb.ring.cadence, [400, 200, 400, 2000])
    }

    func testEuropean425HzPlans() throws {
        for code in ["de", "ch", "be", "nl", "es", "pt", "se", "no", "dk", "fi", "pl", "ru"] {
            let p = try preset(code)
            XCTAssertEqual(p.dial.frequencies, [425], code)
            XCTAssertFalse(p.dial.modulated, code)
            XCTAssertTrue(p.dial.cadence.isEmpty, "\(code): dial tone is continuous")
            XCTAssertEqual(p.ringback.frequencies, [425], code)
            XCTAssertEqual(p.busy.frequencies, [425], code)
        }
    }

    func testGermany() throws {
        let de = try preset("de")
        XCTAssertEqual(de.dial, ToneSpec(frequencies: [425], levelDBm0: -10))
        XCTAssertEqual(de.busy.cadence, [480, 480])
        XCTAssertEqual(de.congestion.cadence, [240, 240])
        XCTAssertEqual(de.ringback.cadence, [1000, 4000])
        XCTAssertEqual(de.callWaiting.cadence, [200, 200, 200, 5000])
        XCTAssertEqual(Set(de.stutterDial.frequencies), [400, 425])
        XCTAssertEqual(de.ring, RingSpec(frequencyHz: 25, cadence: [1000, 4000]))
    }

    func testCountriesWithCadencedDialTone() throws {
        XCTAssertEqual(try preset("it").dial.cadence, [200, 200, 600, 1000])
        XCTAssertEqual(try preset("cz").dial.cadence, [330, 330, 660, 660])
        // Italy's special dial tone is the continuous 425 Hz tone.
        let it = try preset("it")
        XCTAssertEqual(it.stutterDial.frequencies, [425])
        XCTAssertTrue(it.stutterDial.cadence.isEmpty)
    }

    func testFrance() throws {
        let fr = try preset("fr")
        XCTAssertEqual(fr.dial.frequencies, [440])
        XCTAssertTrue(fr.dial.cadence.isEmpty)
        XCTAssertEqual(fr.ringback.cadence, [1500, 3500])
        XCTAssertEqual(fr.ring, RingSpec(frequencyHz: 50, cadence: [1500, 3500]))
        XCTAssertGreaterThanOrEqual(fr.flashMaximumMs, 300, "French recall is 270 ms")
        XCTAssertLessThanOrEqual(fr.flashMinimumMs, 270)
    }

    func testOtherSpotChecks() throws {
        XCTAssertEqual(try preset("at").dial.frequencies, [420])
        XCTAssertEqual(try preset("es").ringback.cadence, [1500, 3000])
        XCTAssertEqual(try preset("se").busy.cadence, [250, 250])
        XCTAssertEqual(try preset("fi").busy.cadence, [300, 300])

        let jp = try preset("jp")
        XCTAssertEqual(jp.dial, ToneSpec(frequencies: [400], levelDBm0: -10))
        XCTAssertEqual(jp.ring, RingSpec(frequencyHz: 16, cadence: [1000, 2000]))
        XCTAssertEqual(jp.ringback.cadence, [1000, 2000])

        let au = try preset("au")
        XCTAssertTrue(au.dial.modulated)
        XCTAssertEqual(au.dial.frequencies, [425, 25])
        XCTAssertTrue(au.dial.cadence.isEmpty)
        XCTAssertEqual(au.ringback.cadence, [400, 200, 400, 2000])
        XCTAssertEqual(au.busy.cadence, [375, 375])

        let nz = try preset("nz")
        XCTAssertEqual(nz.dial.frequencies, [400])
        XCTAssertEqual(nz.ringback.frequencies, [400, 450])

        let cn = try preset("cn")
        XCTAssertEqual(cn.dial.frequencies, [450])
        XCTAssertEqual(cn.busy.cadence, [350, 350])
        XCTAssertEqual(cn.congestion.cadence, [700, 700])

        let india = try preset("in")
        XCTAssertTrue(india.dial.modulated)
        XCTAssertEqual(india.dial.frequencies, [400, 25])
        XCTAssertEqual(india.busy.cadence, [750, 750])

        let za = try preset("za")
        XCTAssertTrue(za.dial.modulated)
        XCTAssertEqual(za.dial.frequencies, [400, 33])

        XCTAssertEqual(try preset("br").busy.cadence, [250, 250])
        XCTAssertEqual(try preset("mx").dial.frequencies, [425])
    }
}
