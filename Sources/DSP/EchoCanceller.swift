import CSpanDSP

/// Removes the line echo of the SLIC's 2-wire/4-wire hybrid from the
/// mouthpiece audio, so the far end does not hear itself, and passes the
/// handset's own voice untouched, also while both ends talk at once.
///
/// The echo path has two parts: a bulk delay (the USB codec's and ALSA's
/// buffers, tens of milliseconds, the same for every sample) and the
/// hybrid's short impulse response (a few milliseconds). The bulk delay is
/// taken out by a delay line on the far-end reference, either fixed or set
/// by `EchoDelayEstimator`; an NLMS adaptive filter of `tailMilliseconds`
/// then models the rest. A short tail converges faster and costs less:
/// 32 ms (256 taps) leaves the estimate's 8 ms margin and more than 20 ms
/// for the hybrid, whose response lasts a few milliseconds.
///
/// Two filters share the reference (the "two-path" structure of line echo
/// cancellers): a background filter adapts whenever the far end talks and
/// `DoubleTalkDetector` sees no near-end voice; a foreground filter, which
/// never adapts by itself, makes the output. The background's taps are
/// copied to the foreground only once they cancel clearly better than the
/// foreground does. A frame in which the foreground would make the signal
/// louder than it came in (a filter that no longer fits the echo path) is
/// sent as it came in. So neither a missed double talk nor a changed echo
/// path can put the far end's voice into what is sent, or cut the near
/// end's.
///
/// spandsp's line echo canceller is not used (Debian's build prints debug
/// text for every sample), nor speexdsp's: its filter adapts during double
/// talk and cannot be held, which chopped both voices and returned the far
/// end's tone when both ends talked.
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
    /// NLMS step size. Measured on the speech-like test signal (32 ms
    /// tail): 0.5 reaches 32 dB ERLE on a −65 dBm0 line but only 43 dB on a
    /// −90 dBm0 one within 5 s; 0.7 reaches 32 and 51 dB; 0.9 loses 4 dB to
    /// misadjustment on the noisier line.
    static let stepSize: Float = 0.7

    private let estimator: EchoDelayEstimator?
    /// Far-end history for the bulk delay, a ring of `delayCapacity` samples.
    private let delayLine: UnsafeMutableBufferPointer<Int16>
    private let delayedFar: UnsafeMutableBufferPointer<Int16>
    private let delayCapacity: Int
    private var writeIndex = 0

    private let window: ReferenceWindow
    private let background: AdaptiveFIRFilter
    private let foreground: AdaptiveFIRFilter
    private var foregroundIsZero = true
    private let doubleTalkDetector: DoubleTalkDetector
    private let farBlock: UnsafeMutableBufferPointer<Float>
    /// Regularisation of the NLMS step, and the reference energy below
    /// which the far end is taken as silent (nothing to learn from).
    private let regularisation: Double
    private let silentFarEnergy: Double
    // Frame powers, smoothed over a few frames, of the near end and of
    // what each filter leaves of it.
    private var smoothedNear = 0.0
    private var smoothedBackgroundError = 0.0
    private var smoothedForegroundError = 0.0
    /// Most of the near end's power the background may leave to be adopted
    /// (−10 dB).
    static let adoptionResidue = 0.1

    /// Whether the last frame ended in double talk (near end talking).
    public private(set) var doubleTalk = false
    /// Mean square of the foreground's echo estimate over the last frame:
    /// how loud the echo it removed was.
    public private(set) var echoEstimateMeanSquare = 0.0
    /// Frames sent as they came in because the foreground did not fit.
    public private(set) var bypassedFrames = 0
    /// Times the background's taps were taken into the foreground.
    public private(set) var adoptedFilters = 0
    // Echo return loss enhancement as it goes: the near end's power and
    // the output's, summed over `enhancementFrames` frames of single talk.
    static let enhancementFrames = 50
    /// ERLE from which a new delay estimate is not taken, dB.
    static let workingEnhancementDB = 20.0
    private var singleTalkNear = 0.0
    private var singleTalkOutput = 0.0
    private var singleTalkFrames = 0
    /// How much the canceller took out of the echo (ERLE, dB) over the last
    /// half second in which only the far end talked: near-end power over
    /// output power, the figure ITU-T G.168 asks of a line echo canceller.
    /// nil until such a half second was seen since the echo path was last
    /// forgotten.
    public private(set) var echoReturnLossEnhancementDB: Double?

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
    /// Times the delay estimate started over because the echo path may
    /// have moved (an xrun, or a working canceller that stopped working).
    public private(set) var echoPathResets = 0
    /// ERLE under which a canceller that worked is taken to have lost the
    /// echo path, dB.
    static let lostEnhancementDB = 6.0
    /// ERLE reached `workingEnhancementDB` since the path was last
    /// forgotten or searched for.
    private var workedOnThisPath = false

    public init(sampleRate: Int = DSPSampleRate.narrowband, frameSamples: Int = 80,
                tailMilliseconds: Int = 32, bulkDelay: BulkDelay = .fixed(milliseconds: 0)) {
        precondition(frameSamples > 0 && sampleRate > 0, "EchoCanceller: sizes must be positive")
        self.sampleRate = sampleRate
        self.frameSamples = frameSamples
        self.tailMilliseconds = tailMilliseconds
        self.bulkDelay = bulkDelay
        let tailSamples = (max(8, tailMilliseconds * sampleRate / 1000) + 7) / 8 * 8
        window = ReferenceWindow(length: tailSamples)
        background = AdaptiveFIRFilter(length: tailSamples)
        foreground = AdaptiveFIRFilter(length: tailSamples)
        regularisation = Double(tailSamples) * Level.meanSquare(dBm0: -50)
        silentFarEnergy = Double(tailSamples) * Level.meanSquare(dBm0: -55)
        farBlock = .allocate(capacity: frameSamples)
        farBlock.initialize(repeating: 0)

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
        // While the delay is being estimated the echo can come from as far
        // back as the longest delay, so the double-talk test looks as far.
        let estimating = estimator != nil
        doubleTalkDetector = DoubleTalkDetector(
            reachSamples: tailSamples + (estimating ? maximumDelaySamples : 0),
            blockSamples: frameSamples, sampleRate: sampleRate)
        delayLine = .allocate(capacity: delayCapacity)
        delayLine.initialize(repeating: 0)
        delayedFar = .allocate(capacity: frameSamples)
        delayedFar.initialize(repeating: 0)
    }

    deinit {
        delayLine.deallocate()
        delayedFar.deallocate()
        farBlock.deallocate()
    }

    /// Forgets the adapted filters, the delay line and any delay estimate,
    /// as at the start of a call.
    public func reset() {
        forgetEchoPath()
        delayLine.update(repeating: 0)
        writeIndex = 0
        doubleTalkDetector.reset()
        doubleTalk = false
        if let estimator {
            estimator.reset()
            bulkDelaySamples = 0
        }
        onTrial = false
        rejectedDelay = nil
        rejectionLeft = 0
        echoPathResets = 0
    }

    /// The sound card's streams stalled and restarted (an xrun): the bulk
    /// delay may have changed by any amount. The estimator starts over,
    /// so a new delay is found from the next second or so of far-end
    /// speech instead of the seconds its old correlation would take to
    /// fade, and a new estimate is taken even while the canceller seems
    /// to work (its ERLE figure was measured on the old path) or was
    /// rejected before. The filters stay: if the path did not move, they
    /// go on cancelling, and a filter that no longer fits is bypassed.
    public func echoPathMayHaveMoved() {
        guard let estimator else { return }
        estimator.reset()
        echoPathResets += 1
        workedOnThisPath = false
        echoReturnLossEnhancementDB = nil
        singleTalkNear = 0
        singleTalkOutput = 0
        singleTalkFrames = 0
        rejectedDelay = nil
        rejectionLeft = 0
    }

    private func forgetEchoPath() {
        workedOnThisPath = false
        singleTalkNear = 0
        singleTalkOutput = 0
        singleTalkFrames = 0
        echoReturnLossEnhancementDB = nil
        window.reset()
        background.reset()
        foreground.reset()
        foregroundIsZero = true
        smoothedNear = 0
        smoothedBackgroundError = 0
        smoothedForegroundError = 0
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
        followDelayEstimate(farEnd: farEnd, nearEnd: nearEnd)
        alignFarEnd(farEnd)
        doubleTalkDetector.observeFar(UnsafeBufferPointer(farBlock))

        var nearPower = 0.0, backgroundPower = 0.0, foregroundPower = 0.0, estimatePower = 0.0
        var farEnergy = 0.0
        for i in 0..<frameSamples {
            window.push(farBlock[i])
            let near = Float(nearEnd[i])
            let backgroundError = near - background.output(window)
            let estimate: Float = foregroundIsZero ? 0 : foreground.output(window)
            let foregroundError = near - estimate
            let talking = doubleTalkDetector.nearSample(near)
            let energy = window.energy
            if !talking && energy > silentFarEnergy {
                let step = Double(EchoCanceller.stepSize) * Double(backgroundError) / (energy + regularisation)
                background.adapt(window, step: Float(step))
            }
            farEnergy = energy
            nearPower += Double(near) * Double(near)
            backgroundPower += Double(backgroundError) * Double(backgroundError)
            foregroundPower += Double(foregroundError) * Double(foregroundError)
            estimatePower += Double(estimate) * Double(estimate)
            output[i] = Int16(clamping: Int(foregroundError.rounded()))
        }
        doubleTalk = doubleTalkDetector.isDoubleTalk
        echoEstimateMeanSquare = estimatePower / Double(frameSamples)

        // The foreground must never make the frame louder than it came in.
        if foregroundPower > nearPower {
            bypassedFrames += 1
            for i in 0..<frameSamples { output[i] = nearEnd[i] }
        }
        adoptBackgroundIfBetter(nearPower: nearPower, backgroundPower: backgroundPower,
                                foregroundPower: foregroundPower,
                                farActive: farEnergy > silentFarEnergy)
        measureEnhancement(nearPower: nearPower, output: UnsafeBufferPointer(output),
                           farActive: farEnergy > silentFarEnergy)
        // The near end's voice is no echo to cancel: only single talk tells.
        if onTrial && !doubleTalk { judgeTrial(nearEnd: nearEnd, output: UnsafeBufferPointer(output)) }
    }

    /// The background's taps go to the foreground once it leaves less than
    /// 0.8 of what the foreground leaves, over about five frames, while the
    /// far end talks, and takes at least 10 dB out of the near end: a filter
    /// that cancels less has learnt something other than the echo (when
    /// the far end sends back the handset's own voice, its quiet moments
    /// pass the double-talk test, and a filter learns to predict that
    /// voice from its returning copy; taken into the foreground, it would
    /// then mangle what both ends say).
    private func adoptBackgroundIfBetter(nearPower: Double, backgroundPower: Double, foregroundPower: Double,
                                         farActive: Bool) {
        smoothedNear = 0.8 * smoothedNear + 0.2 * nearPower
        smoothedBackgroundError = 0.8 * smoothedBackgroundError + 0.2 * backgroundPower
        smoothedForegroundError = 0.8 * smoothedForegroundError + 0.2 * foregroundPower
        guard farActive, !doubleTalk, smoothedBackgroundError < 0.8 * smoothedForegroundError,
              smoothedBackgroundError < EchoCanceller.adoptionResidue * smoothedNear else { return }
        foreground.copy(from: background)
        foregroundIsZero = false
        adoptedFilters += 1
        smoothedForegroundError = smoothedBackgroundError
    }

    private func measureEnhancement(nearPower: Double, output: UnsafeBufferPointer<Int16>, farActive: Bool) {
        guard farActive, !doubleTalk else { return }
        var outputPower = 0.0
        for i in 0..<frameSamples { outputPower += Double(output[i]) * Double(output[i]) }
        singleTalkNear += nearPower
        singleTalkOutput += outputPower
        singleTalkFrames += 1
        guard singleTalkFrames == EchoCanceller.enhancementFrames else { return }
        echoReturnLossEnhancementDB = singleTalkNear > 0
            ? 10 * log10(singleTalkNear / max(singleTalkOutput, 1e-3)) : nil
        singleTalkNear = 0
        singleTalkOutput = 0
        singleTalkFrames = 0
        // A canceller that worked on this path and, in half a second of
        // single talk, hardly cancels any more has lost it: it moved (a
        // stall of the sound card's streams that atad could not see, such
        // as one inside a USB adapter). Its old delay estimate would hold
        // for seconds; start it over.
        guard let enhancement = echoReturnLossEnhancementDB else { return }
        if enhancement >= EchoCanceller.workingEnhancementDB {
            workedOnThisPath = true
        } else if workedOnThisPath && enhancement < EchoCanceller.lostEnhancementDB {
            echoPathMayHaveMoved()
        }
    }

    /// While the near end talks its voice hides the echo's envelope, and a
    /// new delay would throw away a filter that cannot be learnt again
    /// until the double talk ends: the estimator skips those frames.
    private func followDelayEstimate(farEnd: UnsafeBufferPointer<Int16>, nearEnd: UnsafeBufferPointer<Int16>) {
        if let estimator, !doubleTalk, estimator.process(farEnd: farEnd, nearEnd: nearEnd),
           let estimate = estimator.estimatedDelaySamples {
            let margin = EchoCanceller.estimateMarginMilliseconds * sampleRate / 1000
            let delay = min(max(0, estimate - margin), delayCapacity - frameSamples)
            // A canceller that cancels well keeps its alignment: a new
            // estimate (a steady tone gives arbitrary ones) would throw the
            // filter away and let the echo through while it learns again.
            let working = (echoReturnLossEnhancementDB ?? 0) >= EchoCanceller.workingEnhancementDB
            if delay != bulkDelaySamples && !working && !(delay == rejectedDelay && rejectionLeft > 0) {
                bulkDelaySamples = delay
                // The adapted filters belong to the old alignment.
                forgetEchoPath()
                onTrial = delay > 0
                trialCount = 0
                trialNear = 0
                trialOutput = 0
            }
        }
        if rejectionLeft > 0 { rejectionLeft -= 1 }
    }

    /// Writes this far-end frame into the delay line and reads the frame
    /// that went out `bulkDelaySamples` ago into `farBlock`.
    private func alignFarEnd(_ farEnd: UnsafeBufferPointer<Int16>) {
        for i in 0..<frameSamples {
            delayLine[writeIndex] = farEnd[i]
            writeIndex += 1
            if writeIndex == delayCapacity { writeIndex = 0 }
        }
        var readIndex = writeIndex - frameSamples - bulkDelaySamples
        if readIndex < 0 { readIndex += delayCapacity }
        for i in 0..<frameSamples {
            delayedFar[i] = delayLine[readIndex]
            farBlock[i] = Float(delayLine[readIndex])
            readIndex += 1
            if readIndex == delayCapacity { readIndex = 0 }
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
            forgetEchoPath()
        }
    }
}
