// Country call-progress tone plans, ring cadences and hook-flash windows.
//
// Figures are facts taken from ITU-T E.180 Supplement 2 ("Various tones used
// in national networks"), national specifications and other projects' tone
// tables used as cross-checks; Sources/CountryPresets/SOURCES.md lists them per
// country together with every fallback and assumption.
//
// Conventions:
// - cadences are alternating on/off durations in ms (even count), repeated;
//   an empty cadence is a continuous tone;
// - a modulated tone ("425*25") has frequencies [carrier, modulator];
// - levels are per frequency component in dBm0. E.180 Suppl. 2 gives no
//   levels, so the single-frequency (425 Hz family) plans use a nominal
//   -10 dBm0 unless a national figure is known (see SOURCES.md);
// - where a country has no national stutter (message waiting) dial tone, the
//   stutter is its own dial tone after a lead-in of 10 x 100/100 ms; where it
//   has no national off-hook warning, the North American receiver-off-hook
//   tone is used (see `howlerFallback`).

/// 10 bursts of 100 ms on / 100 ms off: the lead-in of a stutter dial tone
/// (Telcordia GR-506 message-waiting stutter), also the fallback elsewhere.
private let stutterLeadIn: [UInt16] = [
    100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
    100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
]

/// Receiver off-hook (ROH) tone, Telcordia GR-506: 1400+2060+2450+2600 Hz,
/// 100 ms on / 100 ms off. The network plays it far louder; -9 dBm0 per
/// component is the most a digital (G.711) source can give the four-tone sum
/// without clipping.
private let howlerFallback = ToneSpec(frequencies: [1400, 2060, 2450, 2600],
                                      levelDBm0: -9, cadence: [100, 100])

/// A single- or multi-frequency tone.
private func tone(_ frequencies: [UInt16], _ level: Int8,
                  _ cadence: [UInt16] = []) -> ToneSpec {
    ToneSpec(frequencies: frequencies, levelDBm0: level, cadence: cadence)
}

/// An amplitude-modulated tone ("carrier*modulator").
private func modulated(_ carrier: UInt16, by modulator: UInt16, _ level: Int8,
                       _ cadence: [UInt16] = []) -> ToneSpec {
    ToneSpec(frequencies: [carrier, modulator], modulated: true, levelDBm0: level,
             cadence: cadence)
}

/// The fallback stutter: the given dial tone after the 10 x 100/100 lead-in.
private func stutter(_ dial: ToneSpec) -> ToneSpec {
    ToneSpec(frequencies: dial.frequencies, modulated: dial.modulated,
             levelDBm0: dial.levelDBm0, cadence: dial.cadence, leadIn: stutterLeadIn)
}

/// North American precise tone plan (Telcordia GR-506, ANSI T1.401), shared
/// by the United States and Canada.
private func northAmerica(code: String, name: String, source: String) -> CountryPreset {
    let dial = tone([350, 440], -13)
    return CountryPreset(
        code: code, name: name,
        dial: dial,
        ringback: tone([440, 480], -19, [2000, 4000]),
        busy: tone([480, 620], -24, [500, 500]),
        congestion: tone([480, 620], -24, [250, 250]),
        callWaiting: tone([440], -13, [300, 9700]),
        stutterDial: stutter(dial),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 20, cadence: [2000, 4000]),
        flashMinimumMs: 100, flashMaximumMs: 900, hangUpMs: 1100,
        source: source)
}

let presetTable: [CountryPreset] = [
    northAmerica(
        code: "us", name: "United States",
        source: "Telcordia GR-506; ANSI T1.401; ITU-T E.180 Suppl. 2; flash: ATA practice (GR-506 CO 300-1100 ms); hang-up past GR-506's longest CO flash (1100 ms)"),
    northAmerica(
        code: "ca", name: "Canada",
        source: "Telcordia GR-506 (North American plan); ITU-T E.180 Suppl. 2; flash: ATA practice; hang-up 1100 ms (GR-506)"),

    CountryPreset(
        code: "gb", name: "United Kingdom",
        dial: tone([350, 440], -20),
        ringback: tone([400, 450], -20, [400, 200, 400, 2000]),
        busy: tone([400], -20, [375, 375]),
        congestion: tone([400], -20, [400, 350, 225, 525]),
        callWaiting: tone([400], -20, [100, 4000]),
        stutterDial: tone([350, 440], -20, [750, 750]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [400, 200, 400, 2000]),
        flashMinimumMs: 55, flashMaximumMs: 130,
        source: "BT SIN 350; ITU-T E.180 Suppl. 2; flash: BT SIN 351 timed break recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "de", name: "Germany",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [480, 480]),
        congestion: tone([425], -10, [240, 240]),
        callWaiting: tone([425], -10, [200, 200, 200, 5000]),
        stutterDial: tone([400, 425], -10),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 60, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425+400); flash: ETSI ES 201 970 recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "at", name: "Austria",
        dial: tone([420], -10),
        ringback: tone([420], -10, [1000, 5000]),
        busy: tone([420], -10, [400, 400]),
        congestion: tone([420], -10, [200, 200]),
        callWaiting: tone([420], -10, [40, 1960]),
        stutterDial: tone([380, 420], -10),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 5000]),
        flashMinimumMs: 60, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (420 Hz, special dial 380+420); flash: ETSI ES 201 970 recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "ch", name: "Switzerland",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [200, 200, 200, 4000]),
        stutterDial: tone([340, 425], -10, [1100, 1100]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425+340 1.1/1.1); flash: ETSI ES 201 970 recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "fr", name: "France",
        dial: tone([440], -10),
        ringback: tone([440], -10, [1500, 3500]),
        busy: tone([440], -10, [500, 500]),
        congestion: tone([440], -10, [250, 250]),
        callWaiting: tone([440], -10, [300, 10000]),
        stutterDial: tone([330, 440], -10),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 50, cadence: [1500, 3500]),
        flashMinimumMs: 200, flashMaximumMs: 350, hangUpMs: 450,
        source: "ITU-T E.180 Suppl. 2 (alt. dial 440+330 as special dial); congestion assumed; flash: 270 ms recall; howler: GR-506; hang-up 450 ms: 100 ms past the window"),

    CountryPreset(
        code: "be", name: "Belgium",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 3000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [167, 167]),
        callWaiting: tone([1400], -10, [175, 175, 175, 3500]),
        stutterDial: tone([425], -10, [1000, 250]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 3000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (older plant 450 Hz); flash: ETSI ES 201 970 recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "nl", name: "Netherlands",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [250, 250]),
        callWaiting: tone([425], -10, [500, 9500]),
        stutterDial: tone([425], -10, [500, 50]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425 0.5/0.05); flash: ETSI ES 201 970 recall; howler: GR-506 fallback"),

    CountryPreset(
        code: "it", name: "Italy",
        dial: tone([425], -10, [200, 200, 600, 1000]),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [400, 100, 250, 100, 150, 14000]),
        stutterDial: tone([425], -10),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (cadenced dial); special dial = continuous 425 (practice); flash: ETSI ES 201 970; howler: GR-506"),

    CountryPreset(
        code: "es", name: "Spain",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1500, 3000]),
        busy: tone([425], -10, [200, 200]),
        congestion: tone([425], -10, [200, 200, 200, 200, 200, 600]),
        callWaiting: tone([425], -10, [175, 175, 175, 3500]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1500, 3000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2; stutter: 10x100/100 fallback; flash: ETSI ES 201 970; howler: GR-506 fallback"),

    CountryPreset(
        code: "pt", name: "Portugal",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 5000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [200, 200, 200, 5000]),
        stutterDial: tone([425], -10, [1000, 200]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 5000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425 1.0/0.2); call waiting uncertain; flash: ETSI ES 201 970; howler: GR-506 fallback"),

    CountryPreset(
        code: "se", name: "Sweden",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 5000]),
        busy: tone([425], -10, [250, 250]),
        congestion: tone([425], -10, [250, 750]),
        callWaiting: tone([425], -10, [200, 500, 200, 9100]),
        stutterDial: tone([425], -10, [320, 20]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 5000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425 0.32/0.02); flash: ETSI ES 201 970; howler: GR-506 fallback"),

    CountryPreset(
        code: "no", name: "Norway",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [200, 600, 200, 10000]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2; stutter: 10x100/100 fallback (470/425 alternation not modelled); flash: ETSI ES 201 970; howler: GR-506"),

    CountryPreset(
        code: "dk", name: "Denmark",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [200, 600, 200, 3000]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2; stutter: 10x100/100 fallback; flash: ETSI ES 201 970; howler: GR-506 fallback"),

    CountryPreset(
        code: "fi", name: "Finland",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [300, 300]),
        congestion: tone([425], -10, [200, 200]),
        callWaiting: tone([425], -10, [150, 150, 150, 8000]),
        stutterDial: tone([425], -10, [650, 25]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (special dial 425 0.65/0.025); flash: ETSI ES 201 970; howler: GR-506 fallback"),

    CountryPreset(
        code: "pl", name: "Poland",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [500, 500]),
        congestion: tone([425], -10, [500, 500]),
        callWaiting: tone([425], -10, [150, 150, 150, 4000]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (congestion = busy); stutter: 10x100/100 fallback; flash: ETSI ES 201 970; howler: GR-506"),

    CountryPreset(
        code: "cz", name: "Czech Republic",
        dial: tone([425], -10, [330, 330, 660, 660]),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [330, 330]),
        congestion: tone([425], -10, [165, 165]),
        callWaiting: tone([425], -10, [330, 9000]),
        stutterDial: stutter(tone([425], -10, [330, 330, 660, 660])),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (cadenced dial); stutter: 10x100/100 fallback; flash: ETSI ES 201 970; howler: GR-506"),

    CountryPreset(
        code: "ru", name: "Russia",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [350, 350]),
        congestion: tone([425], -10, [175, 175]),
        callWaiting: tone([425], -10, [200, 5000]),
        stutterDial: tone([425], -10, [400, 40]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 600, hangUpMs: 700,
        source: "ITU-T E.180 Suppl. 2; OST 45.223-2001 (special dial 425 0.4/0.04); flash window assumed; howler: GR-506; hang-up 700 ms assumed"),

    CountryPreset(
        code: "au", name: "Australia",
        dial: modulated(425, by: 25, -13),
        ringback: modulated(425, by: 25, -13, [400, 200, 400, 2000]),
        busy: tone([425], -13, [375, 375]),
        congestion: tone([425], -13, [375, 375]),
        callWaiting: tone([425], -13, [200, 200, 200, 4400]),
        stutterDial: modulated(425, by: 25, -13, [100, 40]),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [400, 200, 400, 2000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "AS/CA S002; ITU-T E.180 Suppl. 2; flash: 100 ms timed loop break; howler: GR-506 fallback"),

    CountryPreset(
        code: "nz", name: "New Zealand",
        dial: tone([400], -10),
        ringback: tone([400, 450], -10, [400, 200, 400, 2000]),
        busy: tone([400], -10, [500, 500]),
        congestion: tone([400], -10, [250, 250]),
        callWaiting: tone([400], -10, [200, 3000]),
        stutterDial: stutter(tone([400], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [400, 200, 400, 2000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "Telecom NZ TNA 102; ITU-T E.180 Suppl. 2; stutter: 10x100/100 fallback; howler: GR-506 fallback"),

    CountryPreset(
        code: "jp", name: "Japan",
        dial: tone([400], -10),
        ringback: modulated(400, by: 16, -10, [1000, 2000]),
        busy: tone([400], -10, [500, 500]),
        congestion: tone([400], -10, [500, 500]),
        callWaiting: modulated(400, by: 16, -10, [500, 8000]),
        stutterDial: stutter(tone([400], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 16, cadence: [1000, 2000]),
        flashMinimumMs: 100, flashMaximumMs: 1000, hangUpMs: 1100,
        source: "ITU-T E.180 Suppl. 2; NTT (ring 16 Hz); call waiting, flash uncertain; stutter 10x100/100, howler GR-506 fallbacks; hang-up 1100 ms assumed"),

    CountryPreset(
        code: "cn", name: "China",
        dial: tone([450], -10),
        ringback: tone([450], -10, [1000, 4000]),
        busy: tone([450], -10, [350, 350]),
        congestion: tone([450], -10, [700, 700]),
        callWaiting: tone([450], -10, [400, 4000]),
        stutterDial: tone([450], -10, [400, 40]),
        offHookWarning: tone([950], -10),
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 80, flashMaximumMs: 600, hangUpMs: 700,
        source: "ITU-T E.180 Suppl. 2; national list (special dial 0.4/0.04, howler 950 Hz, unverified); flash assumed; hang-up 700 ms assumed"),

    CountryPreset(
        code: "in", name: "India",
        dial: modulated(400, by: 25, -10),
        ringback: modulated(400, by: 25, -10, [400, 200, 400, 2000]),
        busy: tone([400], -10, [750, 750]),
        congestion: tone([400], -10, [250, 250]),
        callWaiting: tone([400], -10, [200, 100, 200, 7500]),
        stutterDial: stutter(modulated(400, by: 25, -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [400, 200, 400, 2000]),
        flashMinimumMs: 100, flashMaximumMs: 900, hangUpMs: 1100,
        source: "ITU-T E.180 Suppl. 2; stutter 10x100/100 and howler GR-506 fallbacks; flash window assumed; hang-up 1100 ms assumed"),

    CountryPreset(
        code: "br", name: "Brazil",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [250, 250]),
        congestion: tone([425], -10, [750, 250, 250, 250]),
        callWaiting: tone([425], -10, [50, 1000]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 100, flashMaximumMs: 600, hangUpMs: 700,
        source: "ITU-T E.180 Suppl. 2; stutter 10x100/100, howler GR-506 fallbacks; flash assumed; hang-up 700 ms assumed"),

    CountryPreset(
        code: "mx", name: "Mexico",
        dial: tone([425], -10),
        ringback: tone([425], -10, [1000, 4000]),
        busy: tone([425], -10, [250, 250]),
        congestion: tone([425], -10, [250, 250]),
        callWaiting: tone([425], -10, [200, 600, 200, 10000]),
        stutterDial: stutter(tone([425], -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [1000, 4000]),
        flashMinimumMs: 100, flashMaximumMs: 900, hangUpMs: 1100,
        source: "ITU-T E.180 Suppl. 2; ring 25 Hz assumed; stutter 10x100/100, howler GR-506 fallbacks; flash: ATA practice; hang-up 1100 ms (GR-506, as us)"),

    CountryPreset(
        code: "za", name: "South Africa",
        dial: modulated(400, by: 33, -10),
        ringback: modulated(400, by: 33, -10, [400, 200, 400, 2000]),
        busy: tone([400], -10, [500, 500]),
        congestion: tone([400], -10, [250, 250]),
        callWaiting: modulated(400, by: 33, -10, [250, 250, 250, 250, 250, 250, 250, 4000]),
        stutterDial: stutter(modulated(400, by: 33, -10)),
        offHookWarning: howlerFallback,
        ring: RingSpec(frequencyHz: 25, cadence: [400, 200, 400, 2000]),
        flashMinimumMs: 80, flashMaximumMs: 130,
        source: "ITU-T E.180 Suppl. 2 (400*33); call-waiting pause assumed; stutter, howler fallbacks; flash assumed"),
]
