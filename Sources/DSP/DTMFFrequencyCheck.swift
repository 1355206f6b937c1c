import CSpanDSP

/// The frequency-deviation test spandsp's DTMF receiver lacks.
///
/// spandsp 0.0.6 `dtmf_rx` judges frequency only through its Goertzel
/// responses (rectangular 102-sample blocks) and a "tones carry ≥ −0.85 dB
/// of the block energy" test. Measured here, that accepts a 697 Hz tone
/// 3.5 % low nearly always, where ITU-T Q.24 requires rejection. So when
/// spandsp reports a digit, the two 12.75 ms blocks it was confirmed on are
/// checked again: each tone's frequency is measured (Hann window, Goertzel
/// grid plus golden-section peak search within ±6 %) and the digit is
/// dropped if either tone is off its nominal frequency by more than the
/// limit. The default limit, 2.6 %, lies between Q.24's must-accept
/// (±1.5 % + 2 Hz, at most 1.8 % for 697 Hz) and must-reject (±3.5 %)
/// with the measurement's ~0.2 % error on either side.
struct DTMFFrequencyCheck {
    static let defaultLimit = 0.026

    /// Largest relative deviation of the digit's two tones in `samples`
    /// (windowed into `scratch`, which must hold `samples.count` values).
    static func worstDeviation(of digit: DTMFDigit, in samples: UnsafeBufferPointer<Int16>,
                               scratch: UnsafeMutableBufferPointer<Double>,
                               sampleRate: Double) -> Double {
        let n = samples.count
        let window = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        Goertzel.hannWindow(samples, into: window)
        let x = UnsafeBufferPointer(window)
        return max(deviation(x, nominal: digit.lowFrequency, sampleRate: sampleRate),
                   deviation(x, nominal: digit.highFrequency, sampleRate: sampleRate))
    }

    /// Both tones measured on the same windowed samples: the larger relative
    /// frequency deviation, and the twist (high group over low group, dB).
    /// The 25 ms Hann window measures twist far more exactly than spandsp's
    /// 12.75 ms rectangular blocks.
    static func measure(_ digit: DTMFDigit, in samples: UnsafeBufferPointer<Int16>,
                        scratch: UnsafeMutableBufferPointer<Double>,
                        sampleRate: Double) -> (deviation: Double, twistDB: Double) {
        let n = samples.count
        let window = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        Goertzel.hannWindow(samples, into: window)
        let x = UnsafeBufferPointer(window)
        let low = Goertzel.peak(x, low: digit.lowFrequency * 0.94, high: digit.lowFrequency * 1.06,
                                gridPoints: 25, sampleRate: sampleRate)
        let high = Goertzel.peak(x, low: digit.highFrequency * 0.94, high: digit.highFrequency * 1.06,
                                 gridPoints: 25, sampleRate: sampleRate)
        let deviation = max(abs(low.frequency - digit.lowFrequency) / digit.lowFrequency,
                            abs(high.frequency - digit.highFrequency) / digit.highFrequency)
        let twist = 20.0 * log10(max(high.magnitude, 1e-12) / max(low.magnitude, 1e-12))
        return (deviation, twist)
    }

    private static func deviation(_ x: UnsafeBufferPointer<Double>, nominal: Double,
                                  sampleRate: Double) -> Double {
        let peak = Goertzel.peak(x, low: nominal * 0.94, high: nominal * 1.06,
                                 gridPoints: 25, sampleRate: sampleRate)
        return abs(peak.frequency - nominal) / nominal
    }
}
