/// Estimates the bulk delay between the audio sent to the earpiece and its
/// echo in the mouthpiece audio, so the echo canceller's adaptive filter
/// can spend its taps on the hybrid's short impulse response instead of on
/// the tens of milliseconds the USB codec's buffers add (which differ from
/// one adapter and one ALSA configuration to the next).
///
/// Method: both signals are reduced to an envelope (mean magnitude over
/// 16 ms, every 4 ms block), the envelopes' running means are removed, and the
/// cross-correlation of far-end envelope against near-end envelope is
/// accumulated for every lag up to `maximumMilliseconds`, with an
/// exponential forgetting of about 4 s. Speech envelopes change from block
/// to block, so the correlation peaks sharply at the echo's delay. A new
/// estimate is adopted only when the peak's normalized correlation is
/// clear (≥ `minimumCorrelation`), stands alone (`minimumPeakLead` above
/// every lag 16 ms or more away: a repeating envelope, such as a steady
/// tone's ripple, peaks at every period alike, and a step in loudness
/// leaves a plateau), lies inside the range, and the
/// same lag has won three checks (300 ms) in a row, so near-end speech or
/// silence cannot make it wander.
///
/// The estimate is quantized to the block (4 ms) and is the lag of the
/// envelope peak; callers should subtract a small margin so the echo's
/// onset stays inside the canceller's tail. Buffers are allocated once at
/// init; `process` does not allocate.
public final class EchoDelayEstimator {
    public let sampleRate: Int
    /// Samples per envelope block.
    public let blockSamples: Int
    /// Lags searched: 0 … `lagCount − 1` blocks.
    public let lagCount: Int
    /// Smallest normalized correlation accepted as an echo.
    public var minimumCorrelation: Double = 0.3
    /// How far the peak must rise above the mean over all lags.
    public var minimumPeakProminence: Double = 0.25
    /// How far the peak must rise above the correlation at every lag
    /// `rivalDistance` or more away (normalized): a repeating envelope's
    /// many equal peaks, or the plateau a single step in loudness leaves,
    /// give none. A voice's peak, 16 ms wide, leads by 0.1 or more.
    public var minimumPeakLead: Double = 0.08
    /// Lags (4 ms blocks) within which the correlation still belongs to
    /// the peak itself.
    private let rivalDistance = 4

    /// The adopted delay in samples, or nil before any confident estimate.
    public private(set) var estimatedDelaySamples: Int?
    /// Normalized correlation at the last check's best lag.
    public private(set) var lastPeakCorrelation: Double = 0
    /// Normalized correlation at the highest lag 16 ms or more from the
    /// peak, at the last check.
    public private(set) var lastRivalCorrelation: Double = 0

    /// Far-end envelope history, newest at `historyIndex`.
    private let farHistory: UnsafeMutableBufferPointer<Double>
    private let correlation: UnsafeMutableBufferPointer<Double>
    private var historyIndex = 0
    private var farSum = 0.0
    private var nearSum = 0.0
    private var blockFill = 0
    /// Blocks averaged into one envelope value.
    static let smoothingBlocks = 4
    private var farRecent = SIMD4<Double>()
    private var nearRecent = SIMD4<Double>()
    private var smoothingIndex = 0
    private var farMean = 0.0
    private var nearMean = 0.0
    private var farVariance = 0.0
    private var nearVariance = 0.0
    private var blocksSinceCheck = 0
    private var blocksSeen = 0
    private var candidateLag = -1
    private var candidateRepeats = 0

    /// Forgetting factor per block (time constant ≈ 1000 blocks = 4 s).
    private let forgetting = 1.0 / 1000.0
    /// Blocks between checks of the correlation peak (100 ms).
    private let checkInterval = 25
    private let confirmations = 3

    public init(sampleRate: Int = DSPSampleRate.narrowband, maximumMilliseconds: Int = 200) {
        self.sampleRate = sampleRate
        blockSamples = max(1, sampleRate / 250)
        let maximumSamples = max(0, maximumMilliseconds) * sampleRate / 1000
        lagCount = maximumSamples / blockSamples + 1
        farHistory = .allocate(capacity: lagCount)
        farHistory.initialize(repeating: 0)
        correlation = .allocate(capacity: lagCount)
        correlation.initialize(repeating: 0)
    }

    deinit {
        farHistory.deallocate()
        correlation.deallocate()
    }

    public func reset() {
        farHistory.update(repeating: 0)
        correlation.update(repeating: 0)
        historyIndex = 0
        farSum = 0
        nearSum = 0
        blockFill = 0
        farRecent = SIMD4<Double>()
        nearRecent = SIMD4<Double>()
        smoothingIndex = 0
        farMean = 0
        nearMean = 0
        farVariance = 0
        nearVariance = 0
        blocksSinceCheck = 0
        blocksSeen = 0
        candidateLag = -1
        candidateRepeats = 0
        estimatedDelaySamples = nil
        lastPeakCorrelation = 0
        lastRivalCorrelation = 0
    }

    /// Feeds time-aligned frames: `farEnd` just sent to the earpiece and
    /// `nearEnd` just read from the mouthpiece (same length). Returns true
    /// when `estimatedDelaySamples` changed.
    @discardableResult
    public func process(farEnd: UnsafeBufferPointer<Int16>, nearEnd: UnsafeBufferPointer<Int16>) -> Bool {
        var changed = false
        let n = min(farEnd.count, nearEnd.count)
        for i in 0..<n {
            farSum += Double(farEnd[i].magnitude)
            nearSum += Double(nearEnd[i].magnitude)
            blockFill += 1
            if blockFill == blockSamples {
                if endBlock(far: farSum / Double(blockSamples), near: nearSum / Double(blockSamples)) {
                    changed = true
                }
                farSum = 0
                nearSum = 0
                blockFill = 0
            }
        }
        return changed
    }

    private func endBlock(far blockFar: Double, near blockNear: Double) -> Bool {
        // The envelope is the mean magnitude over the last
        // `smoothingBlocks` blocks (16 ms): a voice's pitch (5-10 ms)
        // would otherwise ripple the 4 ms envelope, and the ripple
        // correlates a pitch period either side of the echo's delay as
        // strongly as at it.
        farRecent[smoothingIndex] = blockFar
        nearRecent[smoothingIndex] = blockNear
        smoothingIndex = (smoothingIndex + 1) % EchoDelayEstimator.smoothingBlocks
        let far = farRecent.sum() / Double(EchoDelayEstimator.smoothingBlocks)
        let near = nearRecent.sum() / Double(EchoDelayEstimator.smoothingBlocks)
        historyIndex += 1
        if historyIndex == lagCount { historyIndex = 0 }
        farHistory[historyIndex] = far
        blocksSeen += 1
        // Means and variances adapt faster at the start (1/n) so the first
        // seconds are not biased by the zero initial values.
        let rate = max(forgetting, 1.0 / Double(blocksSeen))
        farMean += rate * (far - farMean)
        nearMean += rate * (near - nearMean)
        let nearDeviation = near - nearMean
        let farDeviation = far - farMean
        farVariance += rate * (farDeviation * farDeviation - farVariance)
        nearVariance += rate * (nearDeviation * nearDeviation - nearVariance)
        var index = historyIndex
        for lag in 0..<lagCount {
            let pastFar = farHistory[index] - farMean
            correlation[lag] += rate * (pastFar * nearDeviation - correlation[lag])
            index = index == 0 ? lagCount - 1 : index - 1
        }
        blocksSinceCheck += 1
        guard blocksSinceCheck >= checkInterval, blocksSeen >= lagCount else { return false }
        blocksSinceCheck = 0
        return check()
    }

    private func check() -> Bool {
        var best = 0
        for lag in 1..<lagCount where correlation[lag] > correlation[best] { best = lag }
        let scale = (farVariance * nearVariance).squareRoot()
        lastPeakCorrelation = scale > 0 ? correlation[best] / scale : 0
        var sum = 0.0
        for lag in 0..<lagCount { sum += correlation[lag] }
        let meanCorrelation = scale > 0 ? sum / Double(lagCount) / scale : 0
        // The peak must also stand out from the other lags: a steady tone, or
        // a single step in loudness, correlates at every lag alike, and its
        // "peak" would be noise.
        // It must be a peak, and the only one: an envelope that repeats (a
        // steady tone's ripple, where its period beats with the block, or
        // anything periodic) correlates at the echo's delay and at every
        // period beyond alike, and a single step leaves a plateau. And it
        // must lie inside the range: a maximum at the last lag may still
        // be rising.
        let rival = scale > 0 ? highestRival(of: best) / scale : 0
        lastRivalCorrelation = rival
        guard lastPeakCorrelation >= minimumCorrelation,
              lastPeakCorrelation - meanCorrelation >= minimumPeakProminence,
              lastPeakCorrelation - rival >= minimumPeakLead,
              best < lagCount - 1 || lagCount == 1 else {
            candidateRepeats = 0
            return false
        }
        if best == candidateLag {
            candidateRepeats += 1
        } else {
            candidateLag = best
            candidateRepeats = 1
        }
        let delay = best * blockSamples
        if candidateRepeats >= confirmations && estimatedDelaySamples != delay {
            estimatedDelaySamples = delay
            return true
        }
        return false
    }

    /// The highest correlation at least `rivalDistance` lags away from
    /// `best`: another peak, or the same broad hump (a plateau is no peak).
    private func highestRival(of best: Int) -> Double {
        var rival = -Double.infinity
        for lag in 0..<lagCount where abs(lag - best) >= rivalDistance {
            rival = max(rival, correlation[lag])
        }
        return rival == -Double.infinity ? 0 : rival
    }
}
