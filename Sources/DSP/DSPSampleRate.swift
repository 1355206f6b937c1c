/// The audio sample rates the DSP types run at.
///
/// Line audio is 8 kHz mono 16-bit linear today. Every type here that does
/// not wrap a fixed-rate spandsp function takes the rate as a parameter
/// (defaulting to `narrowband`), so wideband (16 kHz) can follow without API
/// changes. The DTMF detector is 8 kHz only.
public enum DSPSampleRate {
    /// G.711 narrowband telephony: 8000 samples per second.
    public static let narrowband = 8000
    /// G.722 wideband telephony: 16000 samples per second.
    public static let wideband = 16000
}
