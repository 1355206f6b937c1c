import CSpanDSP

/// Detects DTMF digits in line audio: spandsp's `dtmf_rx`, tuned to ITU-T
/// Q.24, plus a frequency-deviation check (`DTMFFrequencyCheck`).
///
/// Settings (see `Settings`) follow Q.24's North American (AT&T) column:
/// accept −25 dBm0 … 0 dBm0 per tone, twist from 8 dB low-group-louder to
/// 4 dB high-group-louder, tones of 40 ms; reject ≥ 3.5 % off frequency and
/// tones shorter than ~23 ms. Measured (DSPTests): every digit at −26, −10
/// and 0 dBm0 with twist −8…+4 dB (the twist is measured again, exactly,
/// on the confirming blocks); none at −33 dBm0,
/// at twist −12 or +8 dB, 3.5 % off (either or both tones), or 20 ms long;
/// one tone 1.5 % (+2 Hz) off is accepted, but both tones off together only
/// up to ~1 %: spandsp requires the two Goertzel peaks to hold −0.85 dB of
/// the block energy, a fixed test that `dtmf_rx_parms` cannot relax.
/// Audio is 8 kHz 16-bit linear (spandsp's DTMF receiver is fixed at 8 kHz;
/// decimate wideband audio first).
///
/// `process` does no allocation: digits come back inline (`DTMFDigits`) or
/// through a non-escaping closure.
public final class DTMFDetector {
    /// Acceptance limits passed to `dtmf_rx_parms` and the frequency check.
    public struct Settings: Equatable, Sendable {
        /// Most the low group may exceed the high group, dB ("normal twist"
        /// in spandsp). Q.24 (AT&T) requires acceptance up to 8 dB; spandsp
        /// estimates each tone from 102-sample rectangular blocks in which
        /// the louder tone leaks up to ±2 dB into the other's estimate, so
        /// the limit is set 2 dB wider to accept 8 dB reliably.
        public var maximumNormalTwistDB: Int32 = 12
        /// Most the high group may exceed the low group, dB ("reverse
        /// twist"), as spandsp checks it: Q.24 (AT&T) 4 dB, plus margin.
        public var maximumReverseTwistDB: Int32 = 8
        /// The twist limits applied after spandsp, measured exactly on the
        /// two confirming blocks (Hann window): Q.24's 8 dB normal and 4 dB
        /// reverse, with 1 dB for measurement error (the first confirming
        /// block may hold the tone's onset). spandsp's own limits above are
        /// wider so they never reject a digit at the Q.24 edge.
        public var normalTwistLimitDB: Double = 9.0
        public var reverseTwistLimitDB: Double = 5.0
        /// Weakest tone accepted, dBm0 per tone. Q.24 requires −25 dBm0 (we
        /// test −26); −30 dBm0 leaves ≥ 2 dB for the Goertzel loss of a tone
        /// 1.5 % + 2 Hz off frequency and still rejects −35 dBm0 by 5 dB.
        public var thresholdDBm0: Int32 = -30
        /// Largest relative frequency deviation accepted (see
        /// `DTMFFrequencyCheck`).
        public var maximumFrequencyDeviation: Double = DTMFFrequencyCheck.defaultLimit

        public init() {}
    }

    /// spandsp's DTMF analysis block (`DTMF_SAMPLES_PER_BLOCK`).
    public static let blockLength = 102
    public static let sampleRate = DSPSampleRate.narrowband

    public let settings: Settings
    private let state: OpaquePointer
    /// The current and the previous spandsp block, for the frequency check.
    private let recent: UnsafeMutableBufferPointer<Int16>
    private let ordered: UnsafeMutableBufferPointer<Int16>
    private let scratch: UnsafeMutableBufferPointer<Double>
    private let digitText: UnsafeMutablePointer<CChar>
    private var fill = 0
    private var half = 0
    /// Digits spandsp reported that failed the frequency check.
    public private(set) var rejectedForFrequency = 0

    public init(settings: Settings = Settings()) {
        guard let state = dtmf_rx_init(nil, nil, nil) else {
            fatalError("dtmf_rx_init failed")
        }
        self.state = state
        self.settings = settings
        // filter_dialtone off: our own dial tone is never mixed into what the
        // handset sends, and the notches would distort 350/440 Hz speech.
        dtmf_rx_parms(state, 0, settings.maximumNormalTwistDB,
                      settings.maximumReverseTwistDB, DTMFDetector.spandspThreshold(settings))
        recent = .allocate(capacity: 2 * DTMFDetector.blockLength)
        recent.initialize(repeating: 0)
        ordered = .allocate(capacity: 2 * DTMFDetector.blockLength)
        ordered.initialize(repeating: 0)
        scratch = .allocate(capacity: 2 * DTMFDetector.blockLength)
        scratch.initialize(repeating: 0)
        digitText = .allocate(capacity: 4)
        digitText.initialize(repeating: 0, count: 4)
    }

    deinit {
        dtmf_rx_free(state)
        recent.deallocate()
        ordered.deallocate()
        scratch.deallocate()
        digitText.deallocate()
    }

    /// What the detector hears right now: nothing, a possible digit (one
    /// block matched, not yet confirmed), or a confirmed digit still held.
    /// A call mutes its outgoing audio from `candidate` on, so little of an
    /// in-band tone leaks out when digits go out of band.
    public enum Status: Equatable, Sendable {
        case none
        case candidate
        case held(DTMFDigit)
    }

    public var status: Status {
        let code = dtmf_rx_status(state)
        if code == 0 { return .none }
        if code == Int32(UInt8(ascii: "x")) { return .candidate }
        guard code > 0 && code < 256, let digit = DTMFDigit(ascii: UInt8(code)) else { return .candidate }
        return .held(digit)
    }

    /// Forgets any digit in progress.
    public func reset() {
        _ = dtmf_rx_init(state, nil, nil)
        dtmf_rx_parms(state, 0, settings.maximumNormalTwistDB,
                      settings.maximumReverseTwistDB, DTMFDetector.spandspThreshold(settings))
        fill = 0
        half = 0
        recent.update(repeating: 0)
    }

    /// Feeds audio; returns the digits whose start was confirmed in it.
    public func process(_ samples: UnsafeBufferPointer<Int16>) -> DTMFDigits {
        var digits = DTMFDigits()
        process(samples) { digits.append($0) }
        return digits
    }

    /// Feeds audio; calls `onDigit` once per digit, when its start is
    /// confirmed (about 26–38 ms into the tone).
    public func process(_ samples: UnsafeBufferPointer<Int16>, _ onDigit: (DTMFDigit) -> Void) {
        guard let base = samples.baseAddress else { return }
        let block = DTMFDetector.blockLength
        var offset = 0
        while offset < samples.count {
            // Feed spandsp up to its block boundary, so a digit it declares
            // can be checked against exactly the two blocks that confirmed it.
            let n = min(samples.count - offset, block - fill)
            dtmf_rx(state, base + offset, Int32(n))
            (recent.baseAddress! + half * block + fill).update(from: base + offset, count: n)
            fill += n
            offset += n
            if fill == block {
                if dtmf_rx_get(state, digitText, 1) == 1,
                   let digit = DTMFDigit(ascii: UInt8(bitPattern: digitText[0])) {
                    if confirmFrequencies(of: digit) {
                        onDigit(digit)
                    } else {
                        rejectedForFrequency += 1
                    }
                }
                fill = 0
                half = 1 - half
            }
        }
    }

    /// The threshold to hand spandsp. A fixed-point spandsp (Debian's armhf
    /// build) scales its detector energies differently but computes a custom
    /// threshold with the floating-point formula, which would silence every
    /// digit: there it keeps its default, and the level gate below applies
    /// ours.
    static func spandspThreshold(_ settings: Settings) -> Int32 {
        atad_spandsp_is_fixed_point() != 0 ? -99 : settings.thresholdDBm0
    }

    /// Both tones at the threshold make a signal 3 dB above it; anything
    /// weaker holds at least one tone below the threshold.
    private func levelIsEnough(_ samples: UnsafeBufferPointer<Int16>) -> Bool {
        var sum = 0.0
        for sample in samples { sum += Double(sample) * Double(sample) }
        let meanSquare = sum / Double(max(samples.count, 1))
        return Level.dBm0(meanSquare: meanSquare) >= Double(settings.thresholdDBm0) + 3.0 - 0.5
    }

    private func confirmFrequencies(of digit: DTMFDigit) -> Bool {
        let block = DTMFDetector.blockLength
        // The block just completed is `half`; the one before is `1 - half`.
        let previous = recent.baseAddress! + (1 - half) * block
        let current = recent.baseAddress! + half * block
        ordered.baseAddress!.update(from: previous, count: block)
        (ordered.baseAddress! + block).update(from: current, count: block)
        guard levelIsEnough(UnsafeBufferPointer(ordered)) else { return false }
        let measured = DTMFFrequencyCheck.measure(
            digit, in: UnsafeBufferPointer(ordered), scratch: scratch,
            sampleRate: Double(DTMFDetector.sampleRate))
        return measured.deviation <= settings.maximumFrequencyDeviation
            && measured.twistDB >= -settings.normalTwistLimitDB
            && measured.twistDB <= settings.reverseTwistLimitDB
    }
}
