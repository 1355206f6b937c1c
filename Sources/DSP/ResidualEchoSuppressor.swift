/// The non-linear stage after the adaptive echo canceller (ITU-T G.168's
/// "NLP"): the linear filter leaves the echo 25–35 dB down, still audible
/// on a quiet line and worse while it re-converges. While only the far end
/// talks, this mutes what is left; as soon as the near end talks it passes
/// everything.
///
/// "Only the far end talks" is judged per frame from three powers: the far
/// end's loudest frame over the echo path's reach (`reachFrames`), the near
/// end before cancellation, and after. The frame is treated as residual
/// echo when the far end was active, the canceller took at least
/// `minimumCancellationDB` out (near-end speech would not be cancelled),
/// and what is left is far below the far end. With the canceller's own
/// view given, two more conditions keep the near end's voice from being
/// gated while both talk: the canceller's double-talk detector must not
/// hear the near end, and what is left must be at least
/// `residualBelowEstimateDB` under the echo the canceller removed (a
/// converged filter leaves its residue 25-35 dB under it; a voice is
/// louder than that). The gain moves smoothly (per sample, over a frame)
/// so the switch never clicks.
///
/// Allocation-free after init: the far-end history is a fixed ring.
public final class ResidualEchoSuppressor {
    /// Frames of far-end history searched: the echo path's bulk delay plus
    /// its tail (25 × 10 ms covers up to 250 ms).
    public static let reachFrames = 25
    /// Far-end level below which there is no echo to suppress, dBm0.
    public var farEndActiveDBm0 = -40.0
    /// How much the canceller must have removed, dB.
    public var minimumCancellationDB = 6.0
    /// How far below the far end the residual must be, dB.
    public var minimumEchoLossDB = 12.0
    /// Attenuation applied to residual echo, dB.
    public var attenuationDB = 30.0
    /// How far under the canceller's echo estimate the residue must be, dB.
    public var residualBelowEstimateDB = 10.0

    private let history: UnsafeMutableBufferPointer<Double>
    private var next = 0
    private var gain = 1.0
    /// Frames suppressed so far (for tests and diagnostics).
    public private(set) var suppressedFrames = 0

    public init() {
        history = .allocate(capacity: ResidualEchoSuppressor.reachFrames)
        history.initialize(repeating: 0)
    }

    deinit { history.deallocate() }

    public func reset() {
        history.update(repeating: 0)
        gain = 1
        suppressedFrames = 0
    }

    /// `output` holds the canceller's output and is attenuated in place when
    /// it is residual echo. `nearEnd` is the same frame before cancellation,
    /// `farEnd` what the earpiece was given. `nearEndTalking` and
    /// `echoEstimateMeanSquare` are the canceller's view of the frame
    /// (`EchoCanceller.doubleTalk`, `.echoEstimateMeanSquare`), when known.
    public func process(farEnd: UnsafeBufferPointer<Int16>, nearEnd: UnsafeBufferPointer<Int16>,
                        output: UnsafeMutableBufferPointer<Int16>,
                        nearEndTalking: Bool = false, echoEstimateMeanSquare: Double? = nil) {
        history[next] = ResidualEchoSuppressor.meanSquare(farEnd)
        next = (next + 1) % ResidualEchoSuppressor.reachFrames
        var farPeak = 0.0
        for value in history { farPeak = max(farPeak, value) }
        let far = Level.dBm0(meanSquare: farPeak)
        let near = Level.dBm0(meanSquare: ResidualEchoSuppressor.meanSquare(nearEnd))
        let left = Level.dBm0(meanSquare: ResidualEchoSuppressor.meanSquare(UnsafeBufferPointer(output)))
        var echoOnly = far >= farEndActiveDBm0 && left <= near - minimumCancellationDB
            && left <= far - minimumEchoLossDB && !nearEndTalking
        if let echoEstimateMeanSquare {
            echoOnly = echoOnly && left <= Level.dBm0(meanSquare: echoEstimateMeanSquare) - residualBelowEstimateDB
        }
        var target = 1.0
        if echoOnly {
            suppressedFrames += 1
            var steps = Int(attenuationDB)
            while steps > 0 {
                target /= 1.122_018_454
                steps -= 1
            }
        }
        guard output.count > 0 else { return }
        let step = (target - gain) / Double(output.count)
        for index in 0..<output.count {
            gain += step
            output[index] = Int16(clamping: Int((Double(output[index]) * gain).rounded()))
        }
        gain = target
    }

    static func meanSquare(_ frame: UnsafeBufferPointer<Int16>) -> Double {
        guard frame.count > 0 else { return 0 }
        var sum = 0.0
        for sample in frame { sum += Double(sample) * Double(sample) }
        return sum / Double(frame.count)
    }
}
