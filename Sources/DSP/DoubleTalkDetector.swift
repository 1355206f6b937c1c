/// Tells when the near end (the handset) is talking while the far end's
/// echo is on the line, so the echo canceller stops adapting: an adaptive
/// filter that keeps learning during double talk tries to cancel the near
/// talker with the far end's signal, which notches the near voice and
/// mixes the far end's voice into what is sent.
///
/// The Geigel test (as in ITU-T G.168's reference cancellers): the echo of
/// a hybrid is at least `echoReturnLossDB` (6 dB) below the far end, so a
/// near-end sample louder than half the loudest far-end sample within the
/// echo path's reach cannot be echo alone. The decision holds for
/// `hangoverSamples` after the last such sample, since speech has quiet
/// moments between its peaks. A quieter near talker escapes this test;
/// the canceller's two-path structure covers that case.
///
/// The far end's loudest sample is tracked per block of `blockSamples`, in
/// a ring that covers the echo path's reach; nothing allocates after init.
public final class DoubleTalkDetector {
    public let blockSamples: Int
    public let hangoverSamples: Int
    /// The echo return loss assumed of the hybrid, as an amplitude ratio.
    public let echoRatio: Float
    private let blockPeaks: UnsafeMutableBufferPointer<Float>
    private var next = 0
    private var reachPeak: Float = 0
    private var holdLeft = 0

    /// `reachSamples`: how far back the echo of a far-end sample can come
    /// (the adaptive filter's length).
    public init(reachSamples: Int, blockSamples: Int, echoReturnLossDB: Float = 6,
                hangoverMilliseconds: Int = 40, sampleRate: Int = DSPSampleRate.narrowband) {
        precondition(reachSamples > 0 && blockSamples > 0, "DoubleTalkDetector: sizes must be positive")
        self.blockSamples = blockSamples
        hangoverSamples = hangoverMilliseconds * sampleRate / 1000
        var ratio: Float = 1
        var loss = echoReturnLossDB
        while loss > 0 { ratio /= 1.122_018_5; loss -= 1 }
        echoRatio = ratio
        blockPeaks = .allocate(capacity: (reachSamples + blockSamples - 1) / blockSamples + 1)
        blockPeaks.initialize(repeating: 0)
    }

    deinit { blockPeaks.deallocate() }

    public func reset() {
        blockPeaks.update(repeating: 0)
        reachPeak = 0
        holdLeft = 0
    }

    /// The loudest far-end magnitude within reach, after the last block.
    public var farPeak: Float { reachPeak }

    /// Takes one block of the (delay-aligned) far end, before the near-end
    /// samples of the same block are judged.
    public func observeFar(_ block: UnsafeBufferPointer<Float>) {
        var peak: Float = 0
        for index in 0..<block.count { peak = max(peak, abs(block[index])) }
        blockPeaks[next] = peak
        next = (next + 1) % blockPeaks.count
        var highest: Float = 0
        for index in 0..<blockPeaks.count { highest = max(highest, blockPeaks[index]) }
        reachPeak = highest
    }

    /// Judges one near-end sample; true while double talk holds.
    @inline(__always)
    public func nearSample(_ sample: Float) -> Bool {
        if abs(sample) > echoRatio * reachPeak {
            holdLeft = hangoverSamples
        } else if holdLeft > 0 {
            holdLeft -= 1
        }
        return holdLeft > 0
    }

    /// Whether the last judged sample fell in double talk.
    public var isDoubleTalk: Bool { holdLeft > 0 }
}
