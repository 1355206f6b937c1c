import CSpanDSP

/// Why a comfort-noise payload was refused.
public enum ComfortNoiseError: Error, Equatable, Sendable {
    /// RFC 3389 requires at least the noise-level byte.
    case emptyPayload
}

/// Plays the background noise a far end describes with RFC 3389 comfort
/// noise (RTP payload type CN, 13) while it sends no speech, so the line
/// does not go dead silent between words, which callers take for a
/// dropped call.
///
/// Level convention (RFC 3389 §3): 0 dBov is a full-scale square wave, so
/// for 16-bit samples a level of −L dBov is noise with an RMS of
/// 32767 · 10^(−L/20). On the `Level` scale (dBm0) that puts 0 dBm0 at
/// −6.15 dBov, matching the RFC's μ-law example (0 dBov = +6.18 dBm0).
///
/// The noise is white: the optional spectral coefficients (reflection
/// coefficients of the far end's noise model) are accepted and ignored.
/// Samples are uniform, which has the lowest crest factor (√3) of the
/// simple choices, so only levels above −4.8 dBov clip. The generator is a
/// 32-bit xorshift, deterministic from its seed; nothing allocates.
public struct ComfortNoiseGenerator {
    /// The RMS of a 0 dBov signal in 16-bit samples (full-scale square wave).
    public static let zeroDBovRMS: Double = 32767

    /// What one CN payload says.
    public struct Parameters: Equatable, Sendable {
        /// Noise level in dBov, 0 … −127.
        public var levelDBov: Int
        /// How many spectral coefficients followed (not used).
        public var spectralCoefficientCount: Int

        public init(levelDBov: Int, spectralCoefficientCount: Int = 0) {
            self.levelDBov = levelDBov
            self.spectralCoefficientCount = spectralCoefficientCount
        }
    }

    /// The level being generated.
    public private(set) var levelDBov: Int
    private var state: UInt32
    /// Peak of the uniform distribution: RMS · √3.
    private var peak: Float

    /// Starts at `levelDBov` (RFC 3389 has no default; −70 dBov is a quiet
    /// line) until a payload sets another.
    public init(levelDBov: Int = -70, seed: UInt32 = 0x2545_F491) {
        self.levelDBov = 0
        self.peak = 0
        self.state = seed == 0 ? 1 : seed
        setLevel(dBov: levelDBov)
    }

    /// Parses a CN payload: byte 0 is the level magnitude in −dBov (its top
    /// bit is reserved and ignored); any bytes after it are spectral
    /// coefficients.
    public static func parse(_ payload: UnsafeRawBufferPointer)
        throws(ComfortNoiseError) -> Parameters {
        guard payload.count > 0 else { throw .emptyPayload }
        return Parameters(levelDBov: -Int(payload[0] & 0x7F),
                          spectralCoefficientCount: payload.count - 1)
    }

    /// Takes the level of a received CN payload.
    public mutating func receive(_ payload: UnsafeRawBufferPointer) throws(ComfortNoiseError) {
        let parameters = try ComfortNoiseGenerator.parse(payload)
        setLevel(dBov: parameters.levelDBov)
    }

    /// Sets the level, clamped to RFC 3389's 0 … −127 dBov.
    public mutating func setLevel(dBov: Int) {
        let level = min(0, max(-127, dBov))
        levelDBov = level
        let rms = ComfortNoiseGenerator.zeroDBovRMS * pow(10.0, Double(level) / 20.0)
        peak = Float(rms * 3.0.squareRoot())
    }

    /// Fills `frame` with noise at the current level.
    public mutating func generate(into frame: UnsafeMutableBufferPointer<Int16>) {
        let scale = peak / 2_147_483_648.0
        for i in frame.indices {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            // Centered uniform in [−2^31, 2^31).
            let centered = Float(Int32(bitPattern: state))
            frame[i] = saturatedSample(centered * scale)
        }
    }
}
