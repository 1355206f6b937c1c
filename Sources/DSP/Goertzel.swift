import CSpanDSP

/// Spectral measurements at arbitrary (non-bin) frequencies, for the tone
/// analyzer and the DTMF frequency check.
///
/// A Goertzel recursion evaluates one DTFT point in O(n) with no tables and
/// no power-of-two length, which is all that is needed to scan a band and
/// then home in on a peak. Inputs are pre-windowed (Hann) so a component's
/// leakage stays 31 dB down at the first side lobe and falls off fast.
enum Goertzel {
    /// |X(f)| of `x` (already windowed) at `frequency`.
    static func magnitude(_ x: UnsafeBufferPointer<Double>, frequency: Double,
                          sampleRate: Double) -> Double {
        let omega = 2.0 * Double.pi * frequency / sampleRate
        let coefficient = 2.0 * cos(omega)
        var s1 = 0.0
        var s2 = 0.0
        for v in x {
            let s0 = v + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        return max(power, 0).squareRoot()
    }

    /// Writes `samples` times a Hann window into `out` (same count) and
    /// returns the window's sum, which turns a peak magnitude into the
    /// component's amplitude: A = 2·|X| / sum.
    @discardableResult
    static func hannWindow<S: Collection>(_ samples: S, into out: UnsafeMutableBufferPointer<Double>)
        -> Double where S.Element == Int16 {
        let n = samples.count
        guard n > 1 else {
            if n == 1, let first = samples.first { out[0] = Double(first) }
            return Double(n)
        }
        var sum = 0.0
        var i = 0
        for sample in samples {
            let w = 0.5 - 0.5 * cos(2.0 * Double.pi * Double(i) / Double(n - 1))
            out[i] = Double(sample) * w
            sum += w
            i += 1
        }
        return sum
    }

    /// The frequency in [low, high] where |X| peaks, found on a grid of
    /// `gridPoints` then by golden-section search around the best point
    /// (to ~0.001 Hz); returns the frequency and its magnitude.
    static func peak(_ x: UnsafeBufferPointer<Double>, low: Double, high: Double,
                     gridPoints: Int, sampleRate: Double) -> (frequency: Double, magnitude: Double) {
        let points = max(gridPoints, 3)
        let step = (high - low) / Double(points - 1)
        var bestFrequency = low
        var bestMagnitude = -1.0
        for k in 0..<points {
            let f = low + Double(k) * step
            let m = magnitude(x, frequency: f, sampleRate: sampleRate)
            if m > bestMagnitude {
                bestMagnitude = m
                bestFrequency = f
            }
        }
        var a = max(low, bestFrequency - step)
        var b = min(high, bestFrequency + step)
        let ratio = 0.6180339887498949
        var c = b - ratio * (b - a)
        var d = a + ratio * (b - a)
        var mc = magnitude(x, frequency: c, sampleRate: sampleRate)
        var md = magnitude(x, frequency: d, sampleRate: sampleRate)
        while b - a > 0.001 {
            if mc > md {
                b = d
                d = c
                md = mc
                c = b - ratio * (b - a)
                mc = magnitude(x, frequency: c, sampleRate: sampleRate)
            } else {
                a = c
                c = d
                mc = md
                d = a + ratio * (b - a)
                md = magnitude(x, frequency: d, sampleRate: sampleRate)
            }
        }
        let f = (a + b) / 2
        let m = magnitude(x, frequency: f, sampleRate: sampleRate)
        if m >= bestMagnitude { return (f, m) }
        return (bestFrequency, bestMagnitude)
    }
}
