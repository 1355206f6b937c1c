import CSpanDSP

/// One sine oscillator on spandsp's direct digital synthesis (a 32-bit
/// phase accumulator over spandsp's sine table, `dds_modf`).
///
/// Why DDS rather than a recursive oscillator: the frequency is exact to
/// sampleRate/2^32 Hz and the amplitude cannot drift however long a tone
/// plays. The table's phase truncation leaves spurs about 50 dB below the
/// tone, under G.711's own quantisation noise. The phase increment is
/// computed here rather than with `dds_phase_ratef`, which assumes 8 kHz.
struct SineOscillator {
    private var phase: UInt32 = 0
    private let phaseRate: Int32
    private let amplitude: Float

    /// `amplitude` is the peak value of the samples `next()` returns.
    init(frequency: Double, sampleRate: Int, amplitude: Double) {
        var cycles = frequency / Double(sampleRate)
        cycles -= cycles.rounded(.down)
        let rate = (cycles * 4294967296.0).rounded()
        phaseRate = Int32(truncatingIfNeeded: Int64(rate))
        self.amplitude = Float(amplitude)
    }

    /// A silent oscillator, for unused slots.
    init() {
        phaseRate = 0
        amplitude = 0
    }

    /// The next sample; the first after `restart()` is sin(0) = 0, so a
    /// burst starts without a click.
    mutating func next() -> Float {
        dds_modf(&phase, phaseRate, amplitude, 0)
    }

    mutating func restart() {
        phase = 0
    }
}

/// Float to 16-bit linear with rounding and saturation: a sum of loud
/// components clips as a real line would, instead of wrapping around.
@inline(__always)
func saturatedSample(_ value: Float) -> Int16 {
    let rounded = value.rounded()
    if rounded >= 32767 { return 32767 }
    if rounded <= -32768 { return -32768 }
    return Int16(rounded)
}
