import CountryPresets

/// Plays a call-progress `ToneSpec` (dial, ringback, busy, howler, …) into
/// caller-provided buffers, one audio frame at a time.
///
/// The lead-in is played once, then the cadence repeats forever (an empty
/// cadence is a continuous tone). Up to four frequencies are summed, each at
/// the spec's level (per component, see `Level`), or, for a modulated spec
/// ("425*25"), the carrier `frequencies[0]` is amplitude modulated by
/// `frequencies[1]`: carrier · (1 + depth · sin(2π·fm·t)). That is E.180's
/// "f1 modulated by f2" and what spandsp's `tone_gen` does for a negative
/// f2; the carrier component is at the spec's level and each side band is
/// depth/2 of it (−12 dB at the default 50 % depth).
///
/// Why not spandsp's `tone_gen` itself: it holds only four cadence
/// durations, has no lead-in, is fixed to 8 kHz and wraps around instead of
/// clipping. The oscillators are spandsp's DDS (`SineOscillator`); the
/// cadence is counted here in samples, so every burst and gap is exact to
/// the sample (ms · rate / 1000) and starts at zero phase.
///
/// `generate(into:)` never allocates.
public struct ToneGenerator {
    public let spec: ToneSpec
    public let sampleRate: Int
    /// AM depth for modulated specs, 0…1.
    public let modulationDepth: Float

    private enum Stage { case idle, leadIn, cadence, continuous }

    private var o0 = SineOscillator()
    private var o1 = SineOscillator()
    private var o2 = SineOscillator()
    private var o3 = SineOscillator()
    private let componentCount: Int
    private let modulated: Bool
    private let cadenceSamples: Int

    private var stage = Stage.idle
    private var index = 0
    private var remaining = 0
    private var isOn = false

    /// Default AM depth for modulated tones (E.180 gives none; 50 % is a
    /// clearly audible flutter that keeps the peak at 1.5 × the carrier).
    public static let defaultModulationDepth: Float = 0.5

    public init(spec: ToneSpec, sampleRate: Int = DSPSampleRate.narrowband,
                modulationDepth: Float = ToneGenerator.defaultModulationDepth) {
        self.spec = spec
        self.sampleRate = sampleRate
        self.modulationDepth = min(max(modulationDepth, 0), 1)
        let amplitude = Level.peakAmplitude(dBm0: Double(spec.levelDBm0))
        let nyquist = sampleRate / 2
        let frequencies = spec.frequencies.filter { $0 > 0 && Int($0) < nyquist }
        if spec.modulated && frequencies.count >= 2 {
            modulated = true
            componentCount = 2
            o0 = SineOscillator(frequency: Double(frequencies[0]), sampleRate: sampleRate,
                                amplitude: amplitude)
            o1 = SineOscillator(frequency: Double(frequencies[1]), sampleRate: sampleRate,
                                amplitude: 1)
        } else {
            modulated = false
            componentCount = min(frequencies.count, 4)
            for (slot, frequency) in frequencies.prefix(4).enumerated() {
                let oscillator = SineOscillator(frequency: Double(frequency),
                                                sampleRate: sampleRate, amplitude: amplitude)
                switch slot {
                case 0: o0 = oscillator
                case 1: o1 = oscillator
                case 2: o2 = oscillator
                default: o3 = oscillator
                }
            }
        }
        var total = 0
        for ms in spec.cadence { total += Int(ms) * sampleRate / 1000 }
        cadenceSamples = total
    }

    /// Starts the tone again from the beginning of its lead-in.
    public mutating func reset() {
        stage = .idle
        index = 0
        remaining = 0
        isOn = false
    }

    /// Fills `buffer` with the next samples of the tone.
    public mutating func generate(into buffer: UnsafeMutableBufferPointer<Int16>) {
        guard let base = buffer.baseAddress else { return }
        var filled = 0
        while filled < buffer.count {
            if remaining == 0 { enterNextSegment() }
            let n = min(remaining, buffer.count - filled)
            if isOn && componentCount > 0 {
                synthesize(into: base + filled, count: n)
            } else {
                (base + filled).update(repeating: 0, count: n)
            }
            filled += n
            remaining -= n
        }
    }

    private func samples(_ ms: UInt16) -> Int {
        Int(ms) * sampleRate / 1000
    }

    /// Moves to the next segment of non-zero length: lead-in entries once,
    /// then cadence entries round and round; even indices are bursts.
    private mutating func enterNextSegment() {
        let wasOn = isOn
        while true {
            switch stage {
            case .idle:
                stage = .leadIn
                index = 0
            case .leadIn, .cadence:
                index += 1
            case .continuous:
                break
            }
            if stage == .leadIn && index >= spec.leadIn.count {
                stage = .cadence
                index = 0
            }
            if stage == .cadence {
                if cadenceSamples == 0 {
                    stage = .continuous
                } else if index >= spec.cadence.count {
                    index = 0
                }
            }
            let length: Int
            let on: Bool
            switch stage {
            case .continuous:
                length = Int.max
                on = true
            case .leadIn:
                length = samples(spec.leadIn[index])
                on = index % 2 == 0
            default:
                length = samples(spec.cadence[index])
                on = index % 2 == 0
            }
            if length > 0 {
                remaining = length
                isOn = on
                if on && !wasOn { restartOscillators() }
                return
            }
        }
    }

    private mutating func restartOscillators() {
        o0.restart()
        o1.restart()
        o2.restart()
        o3.restart()
    }

    private mutating func synthesize(into out: UnsafeMutablePointer<Int16>, count: Int) {
        if modulated {
            let depth = modulationDepth
            for i in 0..<count {
                let carrier = o0.next()
                let envelope = 1 + depth * o1.next()
                out[i] = saturatedSample(carrier * envelope)
            }
            return
        }
        switch componentCount {
        case 1:
            for i in 0..<count { out[i] = saturatedSample(o0.next()) }
        case 2:
            for i in 0..<count { out[i] = saturatedSample(o0.next() + o1.next()) }
        case 3:
            for i in 0..<count {
                out[i] = saturatedSample(o0.next() + o1.next() + o2.next())
            }
        default:
            for i in 0..<count {
                out[i] = saturatedSample(o0.next() + o1.next() + o2.next() + o3.next())
            }
        }
    }
}
