import CSpanDSP  // libm

/// Detects DTMF digits in line audio, to ITU-T Q.24 (North American / AT&T
/// column): accept −25 dBm0 … 0 dBm0 per tone, twist from 8 dB
/// low-group-louder to 4 dB high-group-louder, each tone off by up to
/// ±(1.5 % + 2 Hz), tones of 40 ms with 40 ms pauses; reject tones ≥ 3.5 %
/// off and tones of 20 ms or less.
///
/// Two stages:
/// 1. Every 51 samples (6.4 ms) the last 102 samples (12.75 ms) go through
///    eight Goertzel filters at the nominal DTMF frequencies. The blocks
///    overlap by half, so where a tone starts against them does not matter.
///    A block "hits" a digit when its strongest row and column filters are
///    each 4 dB above the rest of their group, both tones reach the level
///    threshold less 2 dB, their ratio lies within the twist limits plus
///    3 dB, they carry at least half of the block's energy, and the block's
///    two halves hold similar energy (a block the tone only partly covers
///    does not count). 102 samples puts each row's filter near the response
///    null of its neighbours, and keeps a tone 1.8 % off within 1.7 dB.
/// 2. Four consecutive hits of one digit (≥ 25 ms of tone) are confirmed
///    on the last 204 samples by `DTMFFrequencyCheck`: each tone's exact
///    frequency (within 2.6 %), level (≥ −30 dBm0), the twist (−9…+5 dB,
///    Q.24 plus 1 dB) and the tones' share of the power (≥ 80 %, the
///    talk-off guard: speech, music and noise spread their power). If that
///    fails, the next two hits are tried, then the run is dropped.
/// A confirmed digit is held while its blocks keep hitting and released
/// after six blocks (38 ms) without it, so a dropout inside a tone does not
/// repeat the digit while a 40 ms pause does (measured: dropouts up to
/// 20 ms never repeat it, pauses from 35 ms always separate).
///
/// Measured (DSPTests): every digit at −26, −10 and 0 dBm0 with twist
/// −8…+4 dB; at exactly −8 and +4 dB, and with both tones ±(1.5 % + 2 Hz)
/// off, 0 misses in 320 trials each over random levels, phases and onsets
/// (and in 2000 each in a longer sweep); none at −33 dBm0, at twist −12 or
/// +8 dB, 3.5 % off, or 20 ms long (25 ms is the shortest tone accepted);
/// 40 ms tones with 40 ms pauses give every digit once, a 10 ms dropout
/// does not repeat one; no digit from 80 s of speech at three levels (its
/// one run of four hits carried 60 % of the power), from noise or from
/// non-DTMF tone pairs and chords. Audio is 8 kHz 16-bit linear (decimate
/// wideband audio first).
///
/// `process` does no allocation: digits come back inline (`DTMFDigits`) or
/// through a non-escaping closure. Cost: in silence a block is one energy
/// sum; otherwise one 102-sample pass of the eight filters as a Float
/// vector, every 51 samples: about 65 instructions per sample on x86-64
/// (callgrind), as many as spandsp's `dtmf_rx`; a confirmation (once per
/// digit) about 90 000.
public final class DTMFDetector {
    /// Acceptance limits of the confirming measurement.
    public struct Settings: Equatable, Sendable {
        /// Most the low group may exceed the high group, dB: Q.24's 8 dB
        /// plus 1 dB for measurement error.
        public var normalTwistLimitDB: Double = 9.0
        /// Most the high group may exceed the low group, dB: Q.24's 4 dB
        /// plus 1 dB.
        public var reverseTwistLimitDB: Double = 5.0
        /// Weakest tone accepted, dBm0 per tone. Q.24 requires −25 dBm0 (we
        /// test −26); −30 dBm0 leaves room for a tone onset in the measured
        /// window and still rejects −33 dBm0 by 3 dB.
        public var thresholdDBm0: Double = -30
        /// Largest relative frequency deviation accepted (see
        /// `DTMFFrequencyCheck`).
        public var maximumFrequencyDeviation: Double = DTMFFrequencyCheck.defaultLimit
        /// Least share of the measured power the two tones must carry.
        public var minimumToneShare: Double = 0.8

        public init() {}
    }

    /// The analysis block, samples (12.75 ms).
    public static let blockLength = 102
    /// Samples between block analyses (half a block).
    public static let hop = 51
    public static let sampleRate = DSPSampleRate.narrowband
    /// Consecutive hits that make a digit a candidate worth confirming.
    static let hitsToConfirm = 4
    /// Confirmation attempts per run of hits.
    static let confirmAttempts = 3
    /// Blocks without the held digit that release it.
    static let missesToRelease = 6
    /// Samples measured on confirmation.
    static let confirmLength = 2 * blockLength
    private static let historyLength = 256
    private static let historyMask = historyLength - 1

    public let settings: Settings
    private let history: UnsafeMutableBufferPointer<Int16>
    private let ordered: UnsafeMutableBufferPointer<Int16>
    private let scratch: UnsafeMutableBufferPointer<Double>
    /// The block being analyzed.
    private let block: UnsafeMutableBufferPointer<Float>
    /// 2·cos(ω) of the eight filters: rows, then columns.
    private let coefficients: SIMD8<Float>
    private let powers: UnsafeMutableBufferPointer<Double>
    /// Block thresholds on |X|² of one filter, on the block's energy, and
    /// the twist window on column |X|² over row |X|².
    private let blockTonePower: Double
    private let blockEnergy: Double
    private let lowestTwistRatio: Double
    private let highestTwistRatio: Double
    private var written = 0
    private var sinceBlock = 0
    /// The latest block's digit, the run of consecutive hits it belongs to.
    private var lastHit: DTMFDigit?
    private var runHits = 0
    private var runRejected = false
    /// The confirmed digit, until released.
    private var latched: DTMFDigit?
    private var misses = 0

    /// Runs of hits that failed confirmation, and of those the ones whose
    /// frequency was off.
    public private(set) var rejectedAtConfirmation = 0
    public private(set) var rejectedForFrequency = 0
    /// The latest confirming measurement, for tests.
    private(set) var lastMeasurement: DTMFFrequencyCheck.Measurement?

    public init(settings: Settings = Settings()) {
        self.settings = settings
        history = .allocate(capacity: DTMFDetector.historyLength)
        history.initialize(repeating: 0)
        ordered = .allocate(capacity: DTMFDetector.confirmLength)
        ordered.initialize(repeating: 0)
        scratch = .allocate(capacity: DTMFDetector.confirmLength)
        scratch.initialize(repeating: 0)
        block = .allocate(capacity: DTMFDetector.blockLength)
        block.initialize(repeating: 0)
        powers = .allocate(capacity: 8)
        powers.initialize(repeating: 0)
        let rate = Double(DTMFDetector.sampleRate)
        var c = SIMD8<Float>()
        for k in 0..<4 {
            c[k] = Float(2 * cos(2 * Double.pi * DTMFDigit.rowFrequencies[k] / rate))
            c[4 + k] = Float(2 * cos(2 * Double.pi * DTMFDigit.columnFrequencies[k] / rate))
        }
        coefficients = c
        // A full-block sine of mean square P gives |X|² = N²·P/2.
        let n = Double(DTMFDetector.blockLength)
        let toneFloor = Level.meanSquare(dBm0: settings.thresholdDBm0 - 2)
        blockTonePower = n * n * toneFloor / 2
        blockEnergy = n * toneFloor
        lowestTwistRatio = pow(10.0, -(settings.normalTwistLimitDB + 3) / 10)
        highestTwistRatio = pow(10.0, (settings.reverseTwistLimitDB + 3) / 10)
    }

    deinit {
        history.deallocate()
        ordered.deallocate()
        scratch.deallocate()
        block.deallocate()
        powers.deallocate()
    }

    /// What the detector hears right now: nothing, a possible digit (the
    /// latest block matched, not yet confirmed), or a confirmed digit whose
    /// tone is still there. A call mutes its outgoing audio from
    /// `candidate` on, so little of an in-band tone leaks out when digits
    /// go out of band. `held` ends with the first block the tone no longer
    /// fills, 3–10 ms after the tone.
    public enum Status: Equatable, Sendable {
        case none
        case candidate
        case held(DTMFDigit)
    }

    public var status: Status {
        guard let hit = lastHit else { return .none }
        if hit == latched { return .held(hit) }
        return runRejected ? .none : .candidate
    }

    /// Forgets any digit in progress.
    public func reset() {
        history.update(repeating: 0)
        written = 0
        sinceBlock = 0
        lastHit = nil
        runHits = 0
        runRejected = false
        latched = nil
        misses = 0
    }

    /// Feeds audio; returns the digits whose start was confirmed in it.
    public func process(_ samples: UnsafeBufferPointer<Int16>) -> DTMFDigits {
        var digits = DTMFDigits()
        process(samples) { digits.append($0) }
        return digits
    }

    /// Feeds audio; calls `onDigit` once per digit, when its start is
    /// confirmed (about 30–37 ms into the tone).
    public func process(_ samples: UnsafeBufferPointer<Int16>, _ onDigit: (DTMFDigit) -> Void) {
        for sample in samples {
            history[written] = sample
            written = (written + 1) & DTMFDetector.historyMask
            sinceBlock += 1
            if sinceBlock == DTMFDetector.hop {
                sinceBlock = 0
                if let digit = step(analyzeBlock()) { onDigit(digit) }
            }
        }
    }

    /// Advances the hit/confirm/release state by one block; returns a
    /// newly confirmed digit.
    private func step(_ hit: DTMFDigit?) -> DTMFDigit? {
        if hit != nil && hit == lastHit {
            runHits += 1
        } else {
            runHits = hit == nil ? 0 : 1
            runRejected = false
        }
        lastHit = hit
        if let held = latched, hit != held {
            misses += 1
            if misses >= DTMFDetector.missesToRelease { latched = nil }
        } else {
            misses = 0
        }
        guard let hit, hit != latched, !runRejected, runHits >= DTMFDetector.hitsToConfirm else { return nil }
        let measured = measure(hit)
        lastMeasurement = measured
        if accepts(measured) {
            latched = hit
            misses = 0
            return hit
        }
        if runHits >= DTMFDetector.hitsToConfirm + DTMFDetector.confirmAttempts - 1 {
            runRejected = true
            rejectedAtConfirmation += 1
            if measured.deviation > settings.maximumFrequencyDeviation { rejectedForFrequency += 1 }
        }
        return nil
    }

    /// The digit the latest block holds, if it passes the block tests.
    private func analyzeBlock() -> DTMFDigit? {
        let n = DTMFDetector.blockLength
        let mask = DTMFDetector.historyMask
        let start = (written - n) & mask
        // Float is ample for 102 samples and lets the eight filters run as
        // one vector (two NEON or SSE registers).
        var firstHalf: Float = 0
        for i in 0..<(n / 2) {
            let x = Float(history[(start + i) & mask])
            block[i] = x
            firstHalf += x * x
        }
        var secondHalf: Float = 0
        for i in (n / 2)..<n {
            let x = Float(history[(start + i) & mask])
            block[i] = x
            secondHalf += x * x
        }
        let energy = Double(firstHalf + secondHalf)
        guard energy >= blockEnergy,
              min(firstHalf, secondHalf) >= 0.5 * max(firstHalf, secondHalf) else { return nil }
        let c = coefficients
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        for x in block {
            let s0 = c * s1 - s2 + SIMD8(repeating: x)
            s2 = s1
            s1 = s0
        }
        let p = s1 * s1 + s2 * s2 - c * s1 * s2
        for k in 0..<8 { powers[k] = max(Double(p[k]), 0) }
        guard let row = DTMFDetector.dominant(powers, from: 0),
              let column = DTMFDetector.dominant(powers, from: 4) else { return nil }
        let rowPower = powers[row]
        let columnPower = powers[4 + column]
        guard rowPower >= blockTonePower, columnPower >= blockTonePower,
              columnPower >= lowestTwistRatio * rowPower, columnPower <= highestTwistRatio * rowPower,
              2 * (rowPower + columnPower) >= 0.5 * Double(n) * energy else { return nil }
        return DTMFDetector.digit(row: row, column: column)
    }

    /// Index (0…3) of the strongest of four filters from `first`, if it
    /// is at least 4 dB above each of the other three. (A tone 1.8 % off
    /// under a tone 8 dB louder in the other group can come within 7 dB of
    /// a neighbour through the rectangular block's side lobes.)
    private static func dominant(_ powers: UnsafeMutableBufferPointer<Double>, from first: Int) -> Int? {
        var best = 0
        for k in 1..<4 where powers[first + k] > powers[first + best] { best = k }
        let limit = powers[first + best] * 0.398
        for k in 0..<4 where k != best && powers[first + k] > limit { return nil }
        return best
    }

    private static func digit(row: Int, column: Int) -> DTMFDigit? {
        let keys: StaticString = "123A456B789C*0#D"
        return keys.withUTF8Buffer { DTMFDigit(ascii: $0[row * 4 + column]) }
    }

    /// The exact measurement of the last `confirmLength` samples.
    private func measure(_ digit: DTMFDigit) -> DTMFFrequencyCheck.Measurement {
        let count = DTMFDetector.confirmLength
        let start = written - count
        for i in 0..<count { ordered[i] = history[(start + i) & DTMFDetector.historyMask] }
        return DTMFFrequencyCheck.measure(digit, in: UnsafeBufferPointer(ordered), scratch: scratch,
                                          sampleRate: Double(DTMFDetector.sampleRate))
    }

    private func accepts(_ measured: DTMFFrequencyCheck.Measurement) -> Bool {
        measured.deviation <= settings.maximumFrequencyDeviation
            && measured.lowDBm0 >= settings.thresholdDBm0 && measured.highDBm0 >= settings.thresholdDBm0
            && measured.twistDB >= -settings.normalTwistLimitDB
            && measured.twistDB <= settings.reverseTwistLimitDB
            && measured.toneShare >= settings.minimumToneShare
    }
}
