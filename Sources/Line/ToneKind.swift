import CountryPresets

/// The call-progress tones a line can play; the country preset says how each
/// one sounds.
public enum ToneKind: String, Sendable, CaseIterable {
    case dial, stutterDial, ringback, busy, congestion, callWaiting, offHookWarning, confirmation

    public func spec(in preset: CountryPreset) -> ToneSpec {
        switch self {
        case .dial: return preset.dial
        case .stutterDial: return preset.stutterDial
        case .ringback: return preset.ringback
        case .busy: return preset.busy
        case .congestion: return preset.congestion
        case .callWaiting: return preset.callWaiting
        case .offHookWarning: return preset.offHookWarning
        case .confirmation:
            // Telcordia GR-506: three 100/100 ms bursts of dial tone; the
            // line ends it after the third.
            var tone = preset.dial
            tone.cadence = [100, 100]
            tone.leadIn = []
            return tone
        }
    }
}
