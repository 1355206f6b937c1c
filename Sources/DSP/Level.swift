import CSpanDSP

/// The one signal-level convention of this module: spandsp's dBm0.
///
/// For 16-bit linear audio a full-scale sine (peak 32767) is +3.14 dBm0
/// (spandsp's `DBM0_MAX_SINE_POWER`), so a 0 dBm0 sine has a peak of
/// 32767 · 10^(−3.14/20) ≈ 22826 and an RMS of ≈ 16141. This is also the
/// G.711 reference (μ-law full scale is +3.17 dBm0), so a level survives
/// encoding. Levels of multi-frequency signals are always per component:
/// two tones at −10 dBm0 each sum to −7 dBm0 of power and peak at twice the
/// amplitude of one. spandsp's generators, the DTMF detector's threshold and
/// this module's analyzer all use this reference, so figures compare
/// directly.
public enum Level {
    /// Peak amplitude of a 0 dBm0 sine, in 16-bit linear units
    /// (equal to spandsp's `dds_scaling_dbm0f(0)`).
    public static let zeroDBm0Peak: Double = 22826.36098786756

    /// Peak amplitude of a sine at `dBm0`.
    public static func peakAmplitude(dBm0: Double) -> Double {
        zeroDBm0Peak * pow(10.0, dBm0 / 20.0)
    }

    /// Level of a sine with the given peak amplitude.
    public static func dBm0(peakAmplitude: Double) -> Double {
        20.0 * log10(max(peakAmplitude, 1e-9) / zeroDBm0Peak)
    }

    /// Level of a signal with the given mean square (power), as the level
    /// of the sine with the same power.
    public static func dBm0(meanSquare: Double) -> Double {
        10.0 * log10(max(meanSquare, 1e-18) / (zeroDBm0Peak * zeroDBm0Peak / 2.0))
    }

    /// Mean square (power) of a sine at `dBm0`.
    public static func meanSquare(dBm0: Double) -> Double {
        let peak = peakAmplitude(dBm0: dBm0)
        return peak * peak / 2.0
    }
}
