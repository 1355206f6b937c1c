import Foundation
@testable import DSP

/// A simulated line for the echo tests: speech-like far-end audio, and the
/// echo a 2-wire/4-wire hybrid behind a USB codec returns of it.
enum EchoTestSignals {
    static let rate = 8000

    /// Seeded noise shaped like speech (a low-pass tilt and a formant-ish
    /// resonance near 500 Hz), gated by syllables of 120–320 ms separated
    /// by 60–250 ms pauses with 15 ms ramps; `dBm0` is the level while a
    /// syllable is on.
    static func speechLike(seconds: Double, dBm0: Double, seed: UInt64) -> [Double] {
        var random = SeededRandom(seed: seed)
        let count = Int(seconds * Double(rate))
        var shaped = [Double](repeating: 0, count: count)
        // Resonator: poles at r·e^{±jω}, ω = 2π·500/8000.
        let r = 0.9, omega = 2 * Double.pi * 500 / Double(rate)
        let a1 = 2 * r * cos(omega), a2 = -r * r
        var y1 = 0.0, y2 = 0.0, previous = 0.0
        for i in 0..<count {
            let white = random.unit() * 2 - 1
            // Gentle pre-emphasis (1 − 0.5 z⁻¹) keeps the highs present.
            let x = white - 0.5 * previous
            previous = white
            let y = x + a1 * y1 + a2 * y2
            y2 = y1
            y1 = y
            shaped[i] = y
        }
        var envelope = [Double](repeating: 0, count: count)
        var i = 0
        let ramp = 15 * rate / 1000
        while i < count {
            let on = (120 + random.int(0..<200)) * rate / 1000
            for k in 0..<on where i + k < count {
                let edge = min(k, on - 1 - k)
                envelope[i + k] = edge < ramp ? 0.5 - 0.5 * cos(Double.pi * Double(edge) / Double(ramp)) : 1
            }
            i += on + (60 + random.int(0..<190)) * rate / 1000
        }
        // Scale so the "on" parts are at dBm0.
        var power = 0.0, n = 0
        for k in 0..<count where envelope[k] == 1 { power += shaped[k] * shaped[k]; n += 1 }
        let gain = (Level.meanSquare(dBm0: dBm0) / (power / Double(max(n, 1)))).squareRoot()
        return (0..<count).map { shaped[$0] * envelope[$0] * gain }
    }

    /// The hybrid's impulse response: a few taps, echo return loss ≈ 9 dB.
    static let hybridResponse: [Double] = [0.0, 0.3, 0.15, -0.1, 0.05, -0.02]

    /// The echo of `far` after `bulkDelayMilliseconds` and the hybrid.
    static func echo(of far: [Double], bulkDelayMilliseconds: Int) -> [Double] {
        let delay = bulkDelayMilliseconds * rate / 1000
        var out = [Double](repeating: 0, count: far.count)
        for i in 0..<far.count {
            var v = 0.0
            for (k, h) in hybridResponse.enumerated() where i - delay - k >= 0 {
                v += h * far[i - delay - k]
            }
            out[i] = v
        }
        return out
    }

    /// White noise at `dBm0` (the line's own noise floor).
    static func noise(count: Int, dBm0: Double, seed: UInt64) -> [Double] {
        var random = SeededRandom(seed: seed)
        let amplitude = (3 * Level.meanSquare(dBm0: dBm0)).squareRoot()
        return (0..<count).map { _ in (random.unit() * 2 - 1) * amplitude }
    }

    static func toInt16(_ x: [Double]) -> [Int16] {
        x.map { Int16(max(-32768, min(32767, $0.rounded()))) }
    }

    static func power(_ x: ArraySlice<Double>) -> Double {
        x.reduce(0) { $0 + $1 * $1 } / Double(max(x.count, 1))
    }

    static func power(_ x: ArraySlice<Int16>) -> Double {
        x.reduce(0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))
    }

    /// Runs `canceller` over whole signals frame by frame; returns its output.
    static func run(_ canceller: EchoCanceller, far: [Int16], near: [Int16]) -> [Int16] {
        let frame = canceller.frameSamples
        var out = [Int16](repeating: 0, count: near.count)
        far.withUnsafeBufferPointer { farAll in
            near.withUnsafeBufferPointer { nearAll in
                out.withUnsafeMutableBufferPointer { outAll in
                    var offset = 0
                    while offset + frame <= near.count {
                        canceller.process(
                            farEnd: UnsafeBufferPointer(rebasing: farAll[offset..<(offset + frame)]),
                            nearEnd: UnsafeBufferPointer(rebasing: nearAll[offset..<(offset + frame)]),
                            output: UnsafeMutableBufferPointer(rebasing: outAll[offset..<(offset + frame)]))
                        offset += frame
                    }
                }
            }
        }
        return out
    }
}
