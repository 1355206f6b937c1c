import CSpanDSP

/// The exact measurement that confirms a DTMF digit.
///
/// The detector's per-block Goertzel filters sit on the nominal frequencies
/// of 102-sample rectangular blocks: cheap, but they judge frequency only
/// through their response, which falls slowly off frequency (a 697 Hz tone
/// 3.5 % low still gives most of its energy), and they estimate twist with
/// ±2 dB of error. So once a digit's blocks agree, the last 25.5 ms are
/// measured again: Hann window, each tone's peak found by a Goertzel grid
/// plus golden-section search within ±6 % of its nominal frequency. That
/// gives each tone's frequency (to ~0.2 %), its level, the twist, and the
/// share of the window's power the two tones carry.
///
/// The default frequency limit, 2.6 %, lies between ITU-T Q.24's
/// must-accept (±1.5 % + 2 Hz, at most 1.8 % for 697 Hz) and must-reject
/// (±3.5 %) with the measurement's ~0.2 % error on either side.
struct DTMFFrequencyCheck {
    static let defaultLimit = 0.026

    /// What `measure` found.
    struct Measurement {
        /// The larger relative frequency deviation of the two tones.
        var deviation: Double
        /// High group over low group, dB.
        var twistDB: Double
        /// Each tone's level, dBm0.
        var lowDBm0: Double
        var highDBm0: Double
        /// The two tones' share of the window's power (1 for pure DTMF).
        var toneShare: Double
    }

    /// Largest relative deviation of the digit's two tones in `samples`
    /// (windowed into `scratch`, which must hold `samples.count` values).
    static func worstDeviation(of digit: DTMFDigit, in samples: UnsafeBufferPointer<Int16>,
                               scratch: UnsafeMutableBufferPointer<Double>,
                               sampleRate: Double) -> Double {
        measure(digit, in: samples, scratch: scratch, sampleRate: sampleRate).deviation
    }

    /// Both tones measured on the same Hann-windowed samples (at least 3).
    static func measure(_ digit: DTMFDigit, in samples: UnsafeBufferPointer<Int16>,
                        scratch: UnsafeMutableBufferPointer<Double>,
                        sampleRate: Double) -> Measurement {
        let n = samples.count
        let window = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        let windowSum = Goertzel.hannWindow(samples, into: window)
        let x = UnsafeBufferPointer(window)
        let low = Goertzel.peak(x, low: digit.lowFrequency * 0.94, high: digit.lowFrequency * 1.06,
                                gridPoints: 25, sampleRate: sampleRate)
        let high = Goertzel.peak(x, low: digit.highFrequency * 0.94, high: digit.highFrequency * 1.06,
                                 gridPoints: 25, sampleRate: sampleRate)
        let deviation = max(abs(low.frequency - digit.lowFrequency) / digit.lowFrequency,
                            abs(high.frequency - digit.highFrequency) / digit.highFrequency)
        // A sine of amplitude A peaks at |X| = A·Σw/2. Its windowed power is
        // A²/2·Σw², and Σw² of this Hann window is exactly 3(n−1)/8.
        let lowAmplitude = 2 * low.magnitude / windowSum
        let highAmplitude = 2 * high.magnitude / windowSum
        var windowedPower = 0.0
        for v in x { windowedPower += v * v }
        let squaredWindowSum = 3.0 * Double(n - 1) / 8.0
        let tonePower = (lowAmplitude * lowAmplitude + highAmplitude * highAmplitude) / 2 * squaredWindowSum
        return Measurement(
            deviation: deviation,
            twistDB: 20.0 * log10(max(high.magnitude, 1e-12) / max(low.magnitude, 1e-12)),
            lowDBm0: Level.dBm0(peakAmplitude: lowAmplitude),
            highDBm0: Level.dBm0(peakAmplitude: highAmplitude),
            toneShare: windowedPower > 0 ? tonePower / windowedPower : 0)
    }
}
