import CSpanDSP

/// One sinusoid found in a tone: frequency in Hz and level in dBm0.
struct SpectralComponent: Equatable {
    var frequency: Double
    var levelDBm0: Double
}

/// Finds the sinusoids in a stretch of tone: what the tone analyzer reports
/// as frequencies and level.
///
/// 1. Coarse scan: Goertzel magnitudes of the last ≤ 2048 samples (Hann
///    window, 256 ms at 8 kHz, resolving tones 16 Hz apart) every half bin
///    from 200 Hz to 3600 Hz.
/// 2. Peaks: local maxima within 25 dB of the strongest (Hann side lobes
///    are 31 dB down, so they never count) and above −55 dBm0.
/// 3. Refinement of each peak over the whole stretch (up to 1 s): a fine
///    grid and a golden-section search for the true maximum of the
///    windowed spectrum, so the frequency error is far below 0.1 % and the
///    level comes out exactly as 2·|X|/Σw.
/// 4. Amplitude modulation: a component with two weaker side bands
///    symmetric about it (5–100 Hz away, within 3 dB of each other) is a
///    modulated carrier; the side bands are dropped.
enum ToneSpectrum {
    static let lowestFrequency = 200.0
    static let highestFrequency = 3600.0
    static let coarseLength = 2048
    static let peakWindowDB = 25.0
    static let floorDBm0 = -55.0

    /// The components, strongest first, and whether the strongest was an
    /// AM carrier whose side bands were removed.
    static func components(of samples: UnsafeBufferPointer<Int16>, sampleRate: Int)
        -> (components: [SpectralComponent], modulated: Bool) {
        let n = samples.count
        guard n >= 16 else { return ([], false) }
        let rate = Double(sampleRate)
        let full = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { full.deallocate() }
        let fullSum = Goertzel.hannWindow(samples, into: full)
        let m = min(n, coarseLength)
        let coarse = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
        defer { coarse.deallocate() }
        let coarseSum = Goertzel.hannWindow(samples[(n - m)...], into: coarse)

        let step = rate / Double(2 * m)
        let top = min(highestFrequency, 0.45 * rate)
        var frequencies: [Double] = []
        var magnitudes: [Double] = []
        var f = lowestFrequency
        while f <= top {
            frequencies.append(f)
            magnitudes.append(Goertzel.magnitude(UnsafeBufferPointer(coarse), frequency: f,
                                                 sampleRate: rate))
            f += step
        }
        guard let strongest = magnitudes.max(), strongest > 0 else { return ([], false) }
        let relativeFloor = strongest * pow(10.0, -peakWindowDB / 20.0)
        let absoluteFloor = Level.peakAmplitude(dBm0: floorDBm0) * coarseSum / 2

        var found: [SpectralComponent] = []
        let gridSpacing = rate / Double(4 * n)
        for k in magnitudes.indices {
            let here = magnitudes[k]
            let left = k > 0 ? magnitudes[k - 1] : 0
            let right = k + 1 < magnitudes.count ? magnitudes[k + 1] : 0
            guard here >= relativeFloor, here >= absoluteFloor, here > left, here >= right else {
                continue
            }
            let span = 1.5 * step
            let points = Int((2 * span / gridSpacing).rounded(.up)) + 1
            let peak = Goertzel.peak(UnsafeBufferPointer(full), low: frequencies[k] - span,
                                     high: frequencies[k] + span, gridPoints: max(points, 7),
                                     sampleRate: rate)
            let level = Level.dBm0(peakAmplitude: 2 * peak.magnitude / fullSum)
            if let same = found.firstIndex(where: { abs($0.frequency - peak.frequency) < 1.0 }) {
                if found[same].levelDBm0 < level {
                    found[same] = SpectralComponent(frequency: peak.frequency, levelDBm0: level)
                }
            } else {
                found.append(SpectralComponent(frequency: peak.frequency, levelDBm0: level))
            }
        }
        found.sort { $0.levelDBm0 > $1.levelDBm0 }
        return removingSideBands(found)
    }

    /// Drops the side bands of the strongest AM carrier, if there is one.
    static func removingSideBands(_ components: [SpectralComponent])
        -> (components: [SpectralComponent], modulated: Bool) {
        for carrier in components {
            let below = components.filter {
                $0.frequency < carrier.frequency && $0.levelDBm0 < carrier.levelDBm0
                    && carrier.frequency - $0.frequency >= 5 && carrier.frequency - $0.frequency <= 100
            }
            for lower in below {
                let spacing = carrier.frequency - lower.frequency
                let slack = max(0.5, 0.002 * carrier.frequency)
                if let upper = components.first(where: {
                    abs($0.frequency - carrier.frequency - spacing) <= slack
                        && $0.levelDBm0 < carrier.levelDBm0
                        && abs($0.levelDBm0 - lower.levelDBm0) <= 3
                }) {
                    let rest = components.filter { $0 != lower && $0 != upper }
                    return (rest, true)
                }
            }
        }
        return (components, false)
    }
}
