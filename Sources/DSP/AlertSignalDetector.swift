/// Hears the CPE alerting signal (2130+2750 Hz, about 80 ms) that asks a
/// phone in a call whether it takes caller ID, as a type II phone does:
/// fed 10 ms frames, it reports the signal once, when it ends after at
/// least 40 ms. A frame holds it when each of the two tones carries a
/// fair share of the frame's energy and the frame is not faint (above
/// about -40 dBm0). For the simulated phone; no allocation per frame.
public final class AlertSignalDetector {
    private var window: [Double]
    private var framesHeard = 0
    static let minimumFrames = 4
    /// Each tone's share of the frame's energy (two equal tones: 0.5 each).
    static let minimumShare = 0.3
    /// Mean square of a frame at about -40 dBm0 (full scale, 32767, is
    /// +3.14 dBm0 for a sine).
    static let minimumMeanSquare = 26_000.0

    public init(frameSamples: Int = 80) {
        window = [Double](repeating: 0, count: frameSamples)
    }

    /// True at the first frame after a signal that lasted long enough.
    public func process(_ frame: UnsafeBufferPointer<Int16>) -> Bool {
        let heard = holdsSignal(frame)
        if heard {
            framesHeard += 1
            return false
        }
        let ended = framesHeard >= AlertSignalDetector.minimumFrames
        framesHeard = 0
        return ended
    }

    private func holdsSignal(_ frame: UnsafeBufferPointer<Int16>) -> Bool {
        let count = min(frame.count, window.count)
        guard count > 0 else { return false }
        var energy = 0.0
        for index in 0..<count {
            let value = Double(frame[index])
            window[index] = value
            energy += value * value
        }
        guard energy / Double(count) >= AlertSignalDetector.minimumMeanSquare else { return false }
        return window.withUnsafeBufferPointer { samples in
            let part = UnsafeBufferPointer(rebasing: samples[0..<count])
            return carries(part, 2130, of: energy) && carries(part, 2750, of: energy)
        }
    }

    /// Whether `frequency` carries its share of the frame's `energy`.
    private func carries(_ samples: UnsafeBufferPointer<Double>, _ frequency: Double, of energy: Double) -> Bool {
        let magnitude = Goertzel.magnitude(samples, frequency: frequency, sampleRate: 8000)
        // A tone of amplitude A gives |X| = A·n/2 and energy A²·n/2.
        let toneEnergy = 2 * magnitude * magnitude / Double(samples.count)
        return toneEnergy >= AlertSignalDetector.minimumShare * energy
    }
}
