import CSpeexDSP

/// Removes the line echo of the SLIC's 2-wire/4-wire hybrid from the
/// mouthpiece audio, so the far end does not hear itself.
///
/// The echo path has two parts: a bulk delay (the USB codec's and ALSA's
/// buffers, tens of milliseconds, the same for every sample) and the
/// hybrid's short impulse response (a few milliseconds). The bulk delay is
/// taken out by a delay line on the far-end reference, either fixed or set
/// by `EchoDelayEstimator`; speexdsp's multidelay block-frequency adaptive
/// filter (MDF) then cancels the remaining `tailMilliseconds`. Spending the
/// filter's taps on a known delay would only slow its convergence.
///
/// spandsp's line echo canceller is not used: Debian's build prints debug
/// text for every sample.
///
/// Optional residual suppression runs speexdsp's preprocessor on the
/// output with the echo state attached (its echo suppression works through
/// its noise-suppression gain, so that is on too). Measured in DSPTests on
/// a simulated hybrid (−20 dBm0 speech-like far end, 9 dB ERL, −65 dBm0
/// line noise): the linear filter alone reaches 34 dB ERLE, the ceiling the
/// line noise allows (56 dB on a −90 dBm0 line), and passes near-end speech
/// during double talk within 0.4 dB; the suppressor lowers the residue to
/// 52 dB, mostly by removing line noise, but takes 12 dB off near-end
/// speech during double talk. So it defaults to off.
///
/// All state is allocated at init; `process` does not allocate.
public final class EchoCanceller {
    /// How the bulk delay is found.
    public enum BulkDelay: Equatable, Sendable {
        /// A known delay.
        case fixed(milliseconds: Int)
        /// Estimated from the signals, up to a maximum.
        case estimated(maximumMilliseconds: Int)
    }

    public let sampleRate: Int
    public let frameSamples: Int
    public let tailMilliseconds: Int
    public let bulkDelay: BulkDelay
    /// The far-end delay applied now, in samples.
    public private(set) var bulkDelaySamples: Int

    /// Subtracted from an estimated delay so the echo's onset (and the
    /// estimator's 4 ms quantization) stays inside the filter's tail.
    public static let estimateMarginMilliseconds = 8

    private let echoState: OpaquePointer
    private let preprocessState: OpaquePointer?
    private let estimator: EchoDelayEstimator?
    /// Far-end history for the bulk delay, a ring of `delayCapacity` samples.
    private let delayLine: UnsafeMutableBufferPointer<Int16>
    private let delayedFar: UnsafeMutableBufferPointer<Int16>
    private let delayCapacity: Int
    private var writeIndex = 0

    // A new bulk delay is on trial until it has proven itself: over the
    // first `trialFrames` frames with far-end speech the canceller must take
    // at least 3 dB out, or the delay is dropped (back to none) and not
    // taken again for `rejectionFrames`. A delay estimated from a signal
    // with little envelope (a long tone) can be wrong; this keeps a wrong
    // one from disabling the canceller.
    static let trialFrames = 150
    static let rejectionFrames = 1000
    private var trialCount = 0
    private var trialNear = 0.0
    private var trialOutput = 0.0
    private var onTrial = false
    private var rejectedDelay: Int?
    private var rejectionLeft = 0
    /// Delay estimates dropped because the canceller did not cancel with them.
    public private(set) var rejectedEstimates = 0

    public init(sampleRate: Int = DSPSampleRate.narrowband, frameSamples: Int = 80,
                tailMilliseconds: Int = 64, bulkDelay: BulkDelay = .fixed(milliseconds: 0),
                residualSuppression: Bool = false) {
        precondition(frameSamples > 0 && sampleRate > 0)
        self.sampleRate = sampleRate
        self.frameSamples = frameSamples
        self.tailMilliseconds = tailMilliseconds
        self.bulkDelay = bulkDelay
        let tailSamples = max(frameSamples, tailMilliseconds * sampleRate / 1000)
        guard let echoState = speex_echo_state_init(Int32(frameSamples), Int32(tailSamples)) else {
            fatalError("speex_echo_state_init failed")
        }
        self.echoState = echoState
        var rate = Int32(sampleRate)
        _ = speex_echo_ctl(echoState, SPEEX_ECHO_SET_SAMPLING_RATE, &rate)

        if residualSuppression {
            guard let pre = speex_preprocess_state_init(Int32(frameSamples), Int32(sampleRate)) else {
                fatalError("speex_preprocess_state_init failed")
            }
            // Its echo suppression acts through the noise-suppression gain,
            // so denoising stays on (AGC, VAD and dereverb are off by default).
            var on: Int32 = 1
            _ = speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_DENOISE, &on)
            _ = speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_ECHO_STATE, UnsafeMutableRawPointer(echoState))
            preprocessState = pre
        } else {
            preprocessState = nil
        }

        let maximumDelaySamples: Int
        switch bulkDelay {
        case .fixed(let milliseconds):
            maximumDelaySamples = max(0, milliseconds) * sampleRate / 1000
            bulkDelaySamples = maximumDelaySamples
            estimator = nil
        case .estimated(let maximumMilliseconds):
            maximumDelaySamples = max(0, maximumMilliseconds) * sampleRate / 1000
            bulkDelaySamples = 0
            estimator = EchoDelayEstimator(sampleRate: sampleRate,
                                           maximumMilliseconds: maximumMilliseconds)
        }
        delayCapacity = maximumDelaySamples + frameSamples
        delayLine = .allocate(capacity: delayCapacity)
        delayLine.initialize(repeating: 0)
        delayedFar = .allocate(capacity: frameSamples)
        delayedFar.initialize(repeating: 0)
    }

    deinit {
        if let preprocessState { speex_preprocess_state_destroy(preprocessState) }
        speex_echo_state_destroy(echoState)
        delayLine.deallocate()
        delayedFar.deallocate()
    }

    /// Forgets the adapted filter, the delay line and any delay estimate,
    /// as at the start of a call.
    public func reset() {
        speex_echo_state_reset(echoState)
        delayLine.update(repeating: 0)
        writeIndex = 0
        if let estimator {
            estimator.reset()
            bulkDelaySamples = 0
        }
        onTrial = false
        rejectedDelay = nil
        rejectionLeft = 0
    }

    /// Cancels echo in one frame. `farEnd` is the frame just sent to the
    /// earpiece, `nearEnd` the frame just read from the mouthpiece, and
    /// `output` receives `nearEnd` without the echo; all are
    /// `frameSamples` long (`output` may be `nearEnd`'s memory only if the
    /// caller no longer needs the input).
    public func process(farEnd: UnsafeBufferPointer<Int16>, nearEnd: UnsafeBufferPointer<Int16>,
                        output: UnsafeMutableBufferPointer<Int16>) {
        precondition(farEnd.count == frameSamples && nearEnd.count == frameSamples
                     && output.count == frameSamples, "EchoCanceller: frames must be frameSamples long")
        if let estimator, estimator.process(farEnd: farEnd, nearEnd: nearEnd),
           let estimate = estimator.estimatedDelaySamples {
            let margin = EchoCanceller.estimateMarginMilliseconds * sampleRate / 1000
            let delay = min(max(0, estimate - margin), delayCapacity - frameSamples)
            if delay != bulkDelaySamples && !(delay == rejectedDelay && rejectionLeft > 0) {
                bulkDelaySamples = delay
                // The adapted filter belongs to the old alignment.
                speex_echo_state_reset(echoState)
                onTrial = delay > 0
                trialCount = 0
                trialNear = 0
                trialOutput = 0
            }
        }
        if rejectionLeft > 0 { rejectionLeft -= 1 }
        // Write this far-end frame into the ring, then read the frame that
        // went out `bulkDelaySamples` ago.
        for i in 0..<frameSamples {
            delayLine[writeIndex] = farEnd[i]
            writeIndex += 1
            if writeIndex == delayCapacity { writeIndex = 0 }
        }
        var readIndex = writeIndex - frameSamples - bulkDelaySamples
        if readIndex < 0 { readIndex += delayCapacity }
        for i in 0..<frameSamples {
            delayedFar[i] = delayLine[readIndex]
            readIndex += 1
            if readIndex == delayCapacity { readIndex = 0 }
        }
        speex_echo_cancellation(echoState, nearEnd.baseAddress, delayedFar.baseAddress,
                                output.baseAddress)
        if onTrial { judgeTrial(nearEnd: nearEnd, output: UnsafeBufferPointer(output)) }
        if let preprocessState {
            _ = speex_preprocess_run(preprocessState, output.baseAddress)
        }
    }

    private func judgeTrial(nearEnd: UnsafeBufferPointer<Int16>, output: UnsafeBufferPointer<Int16>) {
        var far = 0.0
        for i in 0..<frameSamples { far += Double(delayedFar[i]) * Double(delayedFar[i]) }
        guard far / Double(frameSamples) >= Level.meanSquare(dBm0: -40) else { return }
        for i in 0..<frameSamples {
            trialNear += Double(nearEnd[i]) * Double(nearEnd[i])
            trialOutput += Double(output[i]) * Double(output[i])
        }
        trialCount += 1
        guard trialCount >= EchoCanceller.trialFrames else { return }
        onTrial = false
        if trialOutput * 2 > trialNear {
            rejectedDelay = bulkDelaySamples
            rejectionLeft = EchoCanceller.rejectionFrames
            rejectedEstimates += 1
            bulkDelaySamples = 0
            speex_echo_state_reset(echoState)
        }
    }
}
