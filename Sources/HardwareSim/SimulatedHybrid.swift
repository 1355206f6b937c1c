/// The simulated line's 2-wire/4-wire hybrid: part of what the earpiece
/// plays leaks back into the mouthpiece, later by the sound card's buffers
/// (the bulk delay) and smeared by the line (a short impulse response). A
/// real SLIC does this; the simulated board does it on request (`hybrid`),
/// so the echo canceller can be shown working on the real binary.
struct SimulatedHybrid {
    let delaySamples: Int
    let lossDB: Int
    /// The echo path after the bulk delay: a few taps, the first carrying
    /// the loss, the rest decaying (a line's short reflection).
    private static let shape: [Double] = [1.0, -0.45, 0.2, -0.08]
    private let taps: [Int32]
    private var history: [Int16]
    private var position = 0

    /// `delayMilliseconds` of bulk delay and `lossDB` echo return loss.
    init(delayMilliseconds: Int, lossDB: Int, sampleRate: Int = 8000) {
        delaySamples = delayMilliseconds * sampleRate / 1000
        self.lossDB = lossDB
        var gain = 1.0
        for _ in 0..<lossDB { gain /= 1.122_018_454 }
        taps = SimulatedHybrid.shape.map { Int32(($0 * gain * 32768).rounded()) }
        history = [Int16](repeating: 0, count: delaySamples + SimulatedHybrid.shape.count + 1)
    }

    /// Adds the echo of `earpiece` (this frame's output) into `mouthpiece`.
    mutating func addEcho(of earpiece: UnsafeBufferPointer<Int16>, into mouthpiece: UnsafeMutableBufferPointer<Int16>) {
        let count = history.count
        for index in 0..<min(earpiece.count, mouthpiece.count) {
            history[position] = earpiece[index]
            var echo: Int32 = 0
            for tap in 0..<taps.count {
                var at = position - delaySamples - tap
                if at < 0 { at += count }
                echo += (Int32(history[at]) * taps[tap]) >> 15
            }
            let mixed = Int32(mouthpiece[index]) + echo
            mouthpiece[index] = Int16(clamping: mixed)
            position += 1
            if position == count { position = 0 }
        }
    }
}
