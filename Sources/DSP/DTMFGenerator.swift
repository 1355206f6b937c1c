/// Sends DTMF digits as a telephone keypad would: for the simulated handset
/// and for tests.
///
/// Each queued digit is a burst of its two tones for `onMs`, then `offMs`
/// of silence. The low-group tone is at `levelDBm0` and the high-group tone
/// at `levelDBm0 + twistDB` (twist as in Q.23: high group relative to low;
/// telephones send about +2 dB). Loud settings clip rather than wrap.
/// `frequencyShift` (relative) and `frequencyOffsetHz` move both tones off
/// their nominal frequencies, as a worn keypad's oscillator would (Q.24
/// tolerates ±1.5 % ± 2 Hz); both are 0 by default.
///
/// Why not spandsp's `dtmf_tx`: it is fixed at 8 kHz, takes whole-dB levels
/// and wraps around on overload. This uses the same DDS oscillators
/// (`SineOscillator`) at any rate, sample-exact timing, and fractional dB.
/// `generate(into:)` never allocates; `enqueue` may grow the queue.
public struct DTMFGenerator {
    public let sampleRate: Int
    public var levelDBm0: Double { didSet { retune() } }
    public var twistDB: Double { didSet { retune() } }
    public var frequencyShift: Double = 0 { didSet { retune() } }
    public var frequencyOffsetHz: Double = 0 { didSet { retune() } }
    public var onMs: Int
    public var offMs: Int

    private var queue: [DTMFDigit] = []
    private var next = 0
    private var low = SineOscillator()
    private var high = SineOscillator()
    private var current: DTMFDigit?
    private var remainingOn = 0
    private var remainingOff = 0

    public init(levelDBm0: Double = -8, twistDB: Double = 2, onMs: Int = 80, offMs: Int = 80,
                sampleRate: Int = DSPSampleRate.narrowband) {
        self.sampleRate = sampleRate
        self.levelDBm0 = levelDBm0
        self.twistDB = twistDB
        self.onMs = onMs
        self.offMs = offMs
        queue.reserveCapacity(32)
    }

    /// True when nothing is queued or playing.
    public var isIdle: Bool { next >= queue.count && remainingOn == 0 && remainingOff == 0 }

    public mutating func enqueue(_ digit: DTMFDigit) {
        if next >= queue.count {
            queue.removeAll(keepingCapacity: true)
            next = 0
        }
        queue.append(digit)
    }

    /// Queues every DTMF character of `digits`; returns false (queuing
    /// nothing) if any character is not a DTMF key.
    @discardableResult
    public mutating func enqueue(_ digits: String) -> Bool {
        for byte in digits.utf8 where DTMFDigit(ascii: byte) == nil { return false }
        for byte in digits.utf8 { enqueue(DTMFDigit(ascii: byte)!) }
        return true
    }

    /// Drops queued digits and stops the one playing.
    public mutating func reset() {
        queue.removeAll(keepingCapacity: true)
        next = 0
        current = nil
        remainingOn = 0
        remainingOff = 0
    }

    /// Fills `buffer` with the next samples: tones, gaps, then silence once
    /// the queue is empty.
    public mutating func generate(into buffer: UnsafeMutableBufferPointer<Int16>) {
        guard let base = buffer.baseAddress else { return }
        var filled = 0
        while filled < buffer.count {
            if remainingOn == 0 && remainingOff == 0 && !startNextDigit() {
                (base + filled).update(repeating: 0, count: buffer.count - filled)
                return
            }
            if remainingOn > 0 {
                let n = min(remainingOn, buffer.count - filled)
                for i in 0..<n {
                    base[filled + i] = saturatedSample(low.next() + high.next())
                }
                filled += n
                remainingOn -= n
            } else {
                let n = min(remainingOff, buffer.count - filled)
                (base + filled).update(repeating: 0, count: n)
                filled += n
                remainingOff -= n
            }
        }
    }

    private mutating func startNextDigit() -> Bool {
        guard next < queue.count else { return false }
        current = queue[next]
        next += 1
        retune()
        remainingOn = max(onMs, 0) * sampleRate / 1000
        remainingOff = max(offMs, 0) * sampleRate / 1000
        return remainingOn + remainingOff > 0
    }

    private mutating func retune() {
        guard let digit = current else { return }
        low = SineOscillator(frequency: shifted(digit.lowFrequency), sampleRate: sampleRate,
                             amplitude: Level.peakAmplitude(dBm0: levelDBm0))
        high = SineOscillator(frequency: shifted(digit.highFrequency), sampleRate: sampleRate,
                              amplitude: Level.peakAmplitude(dBm0: levelDBm0 + twistDB))
    }

    private func shifted(_ frequency: Double) -> Double {
        frequency * (1 + frequencyShift) + frequencyOffsetHz
    }
}
