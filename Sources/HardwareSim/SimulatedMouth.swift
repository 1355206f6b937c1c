import CompactText
import CountryPresets
import DSP

/// What the simulated handset's mouthpiece sends into the line: silence, a
/// steady tone, DTMF digits, or recorded audio. Fills one frame at a time
/// into a buffer the caller owns, without allocating.
struct SimulatedMouth {
    enum Source {
        case silence
        case tone(ToneGenerator)
        case dtmf(DTMFGenerator)
        /// 8 kHz mono 16-bit samples, played once.
        case recording([Int16], position: Int)
    }

    private(set) var source = Source.silence

    mutating func say(_ newSource: Source) { source = newSource }

    var description: String {
        switch source {
        case .silence: return "silence"
        case .tone(let generator): return "tone " + generator.spec.frequencies.map { "\($0)" }.joined(separator: "+")
        case .dtmf(let generator): return generator.isIdle ? "silence" : "dtmf"
        case .recording(let samples, let position): return position < samples.count ? "recording" : "silence"
        }
    }

    /// Each case takes its payload out of `source` (leaving silence behind)
    /// before using it, so the payload is uniquely owned and mutating it
    /// never copies: nothing is allocated per frame.
    mutating func fill(_ buffer: UnsafeMutableBufferPointer<Int16>) {
        if case .tone(var generator) = source {
            source = .silence
            generator.generate(into: buffer)
            source = .tone(generator)
        } else if case .dtmf(var generator) = source {
            source = .silence
            generator.generate(into: buffer)
            source = .dtmf(generator)
        } else if case .recording(let samples, let position) = source {
            var index = position
            for offset in 0..<buffer.count {
                buffer[offset] = index < samples.count ? samples[index] : 0
                index += 1
            }
            source = .recording(samples, position: index)
        } else {
            buffer.update(repeating: 0)
        }
    }
}
