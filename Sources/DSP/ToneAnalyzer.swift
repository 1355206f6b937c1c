/// Listens to the audio the adapter sends to the line and says, on demand,
/// what a listener hears now: silence, or a tone with its frequencies,
/// level and cadence. For tests, the simulated handset and control-socket
/// diagnostics.
///
/// Feeding is cheap and runs on every frame: O(1) work per sample, fixed
/// memory, no allocation. Per 10 ms block it keeps the mean power and the
/// first and last sample above the threshold amplitude (16 s of blocks by
/// default), and it copies blocks above the threshold into a 1 s ring, so
/// the last stretch of tone is at hand even after several seconds of
/// ringback silence. `analyze()` runs only on request and may allocate:
/// - cadence: blocks at or above the threshold (−45 dBm0) form "on" runs
///   whose edges are refined to the first/last loud sample, so durations
///   are exact to a millisecond or two; `CadenceFinder` turns the runs into
///   a period (a cadence needs two repetitions in view, so periods up to
///   about 7 s are recognised with the default history);
/// - frequencies and level: `ToneSpectrum` on the newest stretch of tone of
///   at least 200 ms (or the longest one kept), without its partial first
///   and last blocks.
public final class ToneAnalyzer {
    public struct Settings: Equatable, Sendable {
        /// How much on/off history is kept for the cadence.
        public var historyMilliseconds = 16_000
        /// How much tone (only blocks above the threshold) is kept for the
        /// frequency analysis.
        public var captureMilliseconds = 1_000
        /// Blocks at least this loud (mean power) count as tone.
        public var thresholdDBm0 = -45.0

        public init() {}
    }

    public let sampleRate: Int
    public let settings: Settings

    private let blockLength: Int
    private let historyCapacity: Int
    private let thresholdMeanSquare: Double
    private let activeAmplitude: Int

    private let blockPower: UnsafeMutableBufferPointer<Float>
    private let blockFirstActive: UnsafeMutableBufferPointer<Int16>
    private let blockLastActive: UnsafeMutableBufferPointer<Int16>
    private var blocksDone = 0

    private let current: UnsafeMutableBufferPointer<Int16>
    private var position = 0
    private var sumOfSquares: Int64 = 0
    private var firstActive = -1
    private var lastActive = -1
    private var previousBlockOn = false

    private let capture: UnsafeMutableBufferPointer<Int16>
    private var captured = 0
    private static let runCapacity = 64
    private let runStart: UnsafeMutableBufferPointer<Int>
    private let runEnd: UnsafeMutableBufferPointer<Int>
    private var runsStarted = 0

    public init(sampleRate: Int = DSPSampleRate.narrowband, settings: Settings = Settings()) {
        self.sampleRate = sampleRate
        self.settings = settings
        blockLength = max(sampleRate / 100, 1)
        historyCapacity = max(settings.historyMilliseconds / 10, 4)
        thresholdMeanSquare = Level.meanSquare(dBm0: settings.thresholdDBm0)
        activeAmplitude = Int(Level.peakAmplitude(dBm0: settings.thresholdDBm0).rounded())
        blockPower = .allocate(capacity: historyCapacity)
        blockFirstActive = .allocate(capacity: historyCapacity)
        blockLastActive = .allocate(capacity: historyCapacity)
        current = .allocate(capacity: blockLength)
        let captureLength = max(settings.captureMilliseconds * sampleRate / 1000, 4 * blockLength)
        capture = .allocate(capacity: captureLength)
        runStart = .allocate(capacity: ToneAnalyzer.runCapacity)
        runEnd = .allocate(capacity: ToneAnalyzer.runCapacity)
        blockPower.initialize(repeating: 0)
        blockFirstActive.initialize(repeating: -1)
        blockLastActive.initialize(repeating: -1)
        current.initialize(repeating: 0)
        capture.initialize(repeating: 0)
        runStart.initialize(repeating: 0)
        runEnd.initialize(repeating: 0)
    }

    deinit {
        blockPower.deallocate()
        blockFirstActive.deallocate()
        blockLastActive.deallocate()
        current.deallocate()
        capture.deallocate()
        runStart.deallocate()
        runEnd.deallocate()
    }

    /// Forgets everything heard so far.
    public func reset() {
        blocksDone = 0
        position = 0
        sumOfSquares = 0
        firstActive = -1
        lastActive = -1
        previousBlockOn = false
        captured = 0
        runsStarted = 0
    }

    /// Feeds audio sent to the line, in any block size.
    public func feed(_ samples: UnsafeBufferPointer<Int16>) {
        for sample in samples {
            let value = Int(sample)
            sumOfSquares += Int64(value * value)
            if value >= activeAmplitude || value <= -activeAmplitude {
                if firstActive < 0 { firstActive = position }
                lastActive = position
            }
            current[position] = sample
            position += 1
            if position == blockLength { finishBlock() }
        }
    }

    private func finishBlock() {
        let slot = blocksDone % historyCapacity
        let meanSquare = Double(sumOfSquares) / Double(blockLength)
        blockPower[slot] = Float(meanSquare)
        blockFirstActive[slot] = Int16(truncatingIfNeeded: firstActive)
        blockLastActive[slot] = Int16(truncatingIfNeeded: lastActive)
        blocksDone += 1

        let on = meanSquare >= thresholdMeanSquare
        if on {
            if !previousBlockOn {
                runStart[runsStarted % ToneAnalyzer.runCapacity] = captured
                runsStarted += 1
            }
            var offset = captured % capture.count
            var copied = 0
            while copied < blockLength {
                let n = min(blockLength - copied, capture.count - offset)
                (capture.baseAddress! + offset).update(from: current.baseAddress! + copied, count: n)
                copied += n
                offset = 0
            }
            captured += blockLength
            runEnd[(runsStarted - 1) % ToneAnalyzer.runCapacity] = captured
        }
        previousBlockOn = on
        position = 0
        sumOfSquares = 0
        firstActive = -1
        lastActive = -1
    }

    /// What a listener hears now.
    public func analyze() -> HeardSound {
        let verdict = CadenceFinder.verdict(runs: runs())
        let cadence: [Int]
        switch verdict {
        case .silence: return .silence
        case .continuous: cadence = []
        case .cadence(let pattern): cadence = pattern
        }
        let stretch = toneStretch()
        let result = stretch.withUnsafeBufferPointer {
            ToneSpectrum.components(of: $0, sampleRate: sampleRate)
        }
        guard !result.components.isEmpty else { return .silence }
        let reported = result.modulated ? [result.components[0]] : Array(result.components.prefix(2))
        let level = reported.map { $0.levelDBm0 }.reduce(0, +) / Double(reported.count)
        return .tone(frequencies: reported.map { $0.frequency }.sorted(), levelDBm0: level,
                     cadence: cadence)
    }

    /// How long the sound has gone on without a break (no 10 ms block
    /// under the threshold), in milliseconds; nil while it is quiet. Unlike
    /// the cadence, this forgets everything before the last break.
    public var soundingMilliseconds: Int? {
        let all = runs()
        guard var index = all.indices.last else { return nil }
        // The newest run's edge is refined to its last loud sample, so a
        // tone that ends its block near a zero crossing leaves a sliver of
        // "quiet" shorter than a block: no break.
        if !all[index].isOn && index > 0 && all[index].milliseconds * sampleRate < blockLength * 1000 {
            index -= 1
        }
        return all[index].isOn ? all[index].milliseconds : nil
    }

    /// The level, dBm0, of the component at `frequency` in the same stretch
    /// of tone `analyze()` measures; nil when nothing was heard. For
    /// reading a faint sound under a loud one (echo under speech).
    public func level(atHz frequency: Double) -> Double? {
        let stretch = toneStretch()
        guard stretch.count > blockLength else { return nil }
        return stretch.withUnsafeBufferPointer {
            ToneComponentLevel.level(of: $0, frequency: frequency, sampleRate: sampleRate)
        }
    }

    /// The mean level, dBm0, of the last `milliseconds` heard (whole 10 ms
    /// blocks, tone and silence alike); nil before the first block.
    public func meanLevelDBm0(overLast milliseconds: Int) -> Double? {
        let count = min(blocksDone, historyCapacity, max(milliseconds * sampleRate / 1000 / blockLength, 1))
        guard count > 0 else { return nil }
        var sum = 0.0
        for block in (blocksDone - count)..<blocksDone { sum += Double(blockPower[block % historyCapacity]) }
        return Level.dBm0(meanSquare: sum / Double(count))
    }

    /// The sinusoids, strongest first, of the newest kept stretch of sound,
    /// whether it still sounds or stopped a while ago (a key that was
    /// pressed and let go); empty when nothing was heard. Allocates.
    public func lastSoundComponents() -> [(frequency: Double, levelDBm0: Double)] {
        let stretch = toneStretch()
        guard stretch.count > blockLength else { return [] }
        let result = stretch.withUnsafeBufferPointer { ToneSpectrum.components(of: $0, sampleRate: sampleRate) }
        return result.components.map { ($0.frequency, $0.levelDBm0) }
    }

    /// The on/off runs of the history, oldest first, with "on" edges
    /// refined to the first and last sample above the threshold amplitude.
    func runs() -> [AudibleRun] {
        let count = min(blocksDone, historyCapacity)
        guard count > 0 else { return [] }
        let oldest = blocksDone - count
        var edges: [(start: Int, end: Int)] = []
        var block = oldest
        while block < blocksDone {
            guard isOn(block) else {
                block += 1
                continue
            }
            let first = block
            while block + 1 < blocksDone && isOn(block + 1) { block += 1 }
            let firstOffset = Int(blockFirstActive[first % historyCapacity])
            let lastOffset = Int(blockLastActive[block % historyCapacity])
            let start = first * blockLength + max(firstOffset, 0)
            let end = lastOffset >= 0 ? block * blockLength + lastOffset + 1 : (block + 1) * blockLength
            edges.append((start, end))
            block += 1
        }
        let historyStart = oldest * blockLength
        let historyEnd = blocksDone * blockLength
        var result: [AudibleRun] = []
        var cursor = historyStart
        for edge in edges {
            // A tone that starts at its first sample of zero phase leaves a
            // sliver of "silence" before it; it is no gap.
            let leadingSliver = result.isEmpty && edge.start - cursor < blockLength
            if edge.start > cursor && !leadingSliver { result.append(run(false, cursor, edge.start)) }
            result.append(run(true, edge.start, edge.end))
            cursor = edge.end
        }
        if historyEnd > cursor { result.append(run(false, cursor, historyEnd)) }
        return result
    }

    private func isOn(_ block: Int) -> Bool {
        Double(blockPower[block % historyCapacity]) >= thresholdMeanSquare
    }

    private func run(_ on: Bool, _ start: Int, _ end: Int) -> AudibleRun {
        AudibleRun(isOn: on, milliseconds: ((end - start) * 1000 + sampleRate / 2) / sampleRate)
    }

    /// The samples to measure frequencies on: the newest kept run of tone
    /// at least 200 ms long (else the longest kept), less its first and last
    /// block, which may be partly silent.
    private func toneStretch() -> [Int16] {
        let oldestKept = max(0, captured - capture.count)
        let goodLength = sampleRate / 5
        var best: (start: Int, end: Int)?
        var run = runsStarted - 1
        while run >= 0 && run >= runsStarted - ToneAnalyzer.runCapacity {
            let slot = run % ToneAnalyzer.runCapacity
            var start = max(runStart[slot], oldestKept)
            var end = runEnd[slot]
            if end <= start { break }
            let trimmedStart = max(runStart[slot] + blockLength, oldestKept)
            let trimmedEnd = end - blockLength
            if trimmedEnd - trimmedStart >= blockLength {
                start = trimmedStart
                end = trimmedEnd
            }
            if best == nil || end - start > best!.end - best!.start { best = (start, end) }
            if end - start >= goodLength {
                best = (start, end)
                break
            }
            run -= 1
        }
        guard let chosen = best else { return [] }
        var samples: [Int16] = []
        samples.reserveCapacity(chosen.end - chosen.start)
        for index in chosen.start..<chosen.end { samples.append(capture[index % capture.count]) }
        return samples
    }
}
