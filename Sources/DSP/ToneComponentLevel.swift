import CSpanDSP

/// The level of one frequency in a stretch of audio, however loud the
/// other sounds in it: a single DFT bin under a Hann window. The window's
/// side lobes fall off fast enough that a −10 dBm0 tone 200 Hz away adds
/// less than −90 dBm0 over a second, so a faint component (a voice coming
/// back as echo under the far end's) can be read next to a loud one.
public enum ToneComponentLevel {
    /// dBm0 of the sine at `frequency` in `samples` (as a sine's level:
    /// its peak amplitude against the 0 dBm0 peak).
    public static func level(of samples: UnsafeBufferPointer<Int16>, frequency: Double,
                             sampleRate: Int = DSPSampleRate.narrowband) -> Double {
        let count = samples.count
        guard count > 1 else { return Level.dBm0(peakAmplitude: 0) }
        let step = 2 * Double.pi * frequency / Double(sampleRate)
        let windowStep = 2 * Double.pi / Double(count - 1)
        var real = 0.0, imaginary = 0.0, windowSum = 0.0
        for n in 0..<count {
            let weight = 0.5 - 0.5 * cos(windowStep * Double(n))
            let value = weight * Double(samples[n])
            real += value * cos(step * Double(n))
            imaginary -= value * sin(step * Double(n))
            windowSum += weight
        }
        let amplitude = 2 * (real * real + imaginary * imaginary).squareRoot() / windowSum
        return Level.dBm0(peakAmplitude: amplitude)
    }
}
