import Foundation
@testable import DSP
import CountryPresets

/// Signal helpers shared by the DSP tests.
enum TestSignals {
    static let rate = DSPSampleRate.narrowband

    /// Runs `generate` frame by frame (20 ms frames, as the daemon does)
    /// for `milliseconds` and returns the samples.
    static func render(milliseconds: Int, frame: Int = 160,
                       _ generate: (UnsafeMutableBufferPointer<Int16>) -> Void) -> [Int16] {
        let total = milliseconds * rate / 1000
        var out = [Int16](repeating: 0, count: total)
        var offset = 0
        out.withUnsafeMutableBufferPointer { all in
            while offset < total {
                let n = min(frame, total - offset)
                generate(UnsafeMutableBufferPointer(rebasing: all[offset..<(offset + n)]))
                offset += n
            }
        }
        return out
    }

    /// Sum of sines at exact (fractional) frequencies and levels (dBm0 per
    /// component), starting at the given phases, clipped like a real line.
    static func sines(_ components: [(frequency: Double, dBm0: Double, phase: Double)],
                      count: Int) -> [Int16] {
        (0..<count).map { i in
            var v = 0.0
            for c in components {
                v += Level.peakAmplitude(dBm0: c.dBm0)
                    * sin(2 * Double.pi * c.frequency * Double(i) / Double(rate) + c.phase)
            }
            return Int16(max(-32768, min(32767, v.rounded())))
        }
    }

    static func silence(milliseconds: Int) -> [Int16] {
        [Int16](repeating: 0, count: milliseconds * rate / 1000)
    }

    /// Feeds `samples` to the analyzer in 20 ms frames.
    static func feed(_ analyzer: ToneAnalyzer, _ samples: [Int16], frame: Int = 160) {
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let n = min(frame, all.count - offset)
                analyzer.feed(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)]))
                offset += n
            }
        }
    }

    /// Runs the detector over `samples` in 20 ms frames; returns the digits.
    static func detect(_ detector: DTMFDetector, _ samples: [Int16], frame: Int = 160) -> String {
        var text = ""
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let n = min(frame, all.count - offset)
                for digit in detector.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) {
                    text.append(digit.character)
                }
                offset += n
            }
        }
        return text
    }
}

/// A small deterministic generator, so signal tests are repeatable.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
        return z ^ (z >> 33)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func phase() -> Double { unit() * 2 * Double.pi }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}
