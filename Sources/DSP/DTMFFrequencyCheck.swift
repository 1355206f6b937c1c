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

    private static func deviation(_ x: UnsafeBufferPointer<Double>, nominal: Double,
                                  sampleRate: Double) -> Double {
        let peak = Goertzel.peak(x, low: nominal * 0.94, high: nominal * 1.06,
                                 gridPoints: 25, sampleRate: sampleRate)
        return abs(peak.frequency - nominal) / nominal
    }
}
