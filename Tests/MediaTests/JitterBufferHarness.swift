import Media
import Timebase

/// One packet of a simulated received stream.
struct SimulatedPacket {
    var index: Int
    var timestamp: UInt32
    var firstSample: Int
    var sampleCount: Int
    var arrival: Int64
    var marker = false
}

/// Drives a `JitterBuffer` with a simulated clock: packets at their arrival
/// times, a playout pull every 10 ms at `pullPhase`. Sample i of the stream
/// carries a value derived from i, so played audio tells which packet it
/// came from and when.
final class JitterBufferHarness {
    static let frameNanoseconds: Int64 = 10_000_000

    let buffer: JitterBuffer
    var insertOutcomes: [Int: JitterBuffer.InsertOutcome] = [:]
    var playoutOutcomes: [JitterBuffer.PlayoutOutcome] = []
    var pullTimes: [Int64] = []
    /// Stream sample indexes played, in order, from `.audio` frames.
    var playedIndexes: [Int] = []
    /// When the frame holding each packet's first sample was pulled.
    var firstPlayed: [Int: Int64] = [:]
    private var lastIndex = 0
    /// Called after every pull with its time.
    var observe: ((Int64, JitterBuffer) -> Void)?

    init(settings: JitterBuffer.Settings = JitterBuffer.Settings()) {
        buffer = JitterBuffer(settings: settings)
    }

    static func value(ofSample index: Int) -> Int16 { Int16(index % 30000 + 1) }

    static func stream(packets: Int, samplesPerPacket: Int, firstTimestamp: UInt32,
                       arrival: (Int) -> Int64) -> [SimulatedPacket] {
        (0..<packets).map { k in
            SimulatedPacket(index: k, timestamp: firstTimestamp &+ UInt32(k * samplesPerPacket),
                            firstSample: k * samplesPerPacket, sampleCount: samplesPerPacket,
                            arrival: arrival(k))
        }
    }

    /// Runs until `end` (ns). At equal times packets go in before the pull.
    func run(_ packets: [SimulatedPacket], pullPhase: Int64, until end: Int64, samplesPerPacket: Int) {
        let sorted = packets.enumerated().sorted { ($0.element.arrival, $0.offset) < ($1.element.arrival, $1.offset) }
            .map { $0.element }
        var next = 0
        var frame = [Int16](repeating: 0, count: buffer.settings.frameSamples)
        var pull = pullPhase
        while pull <= end {
            while next < sorted.count && sorted[next].arrival <= pull {
                insert(sorted[next])
                next += 1
            }
            let outcome = frame.withUnsafeMutableBufferPointer {
                buffer.playout(into: $0, at: Instant(nanoseconds: pull))
            }
            playoutOutcomes.append(outcome)
            pullTimes.append(pull)
            observe?(pull, buffer)
            if outcome == .audio { record(frame, at: pull, samplesPerPacket: samplesPerPacket) }
            pull += JitterBufferHarness.frameNanoseconds
        }
    }

    private func insert(_ packet: SimulatedPacket) {
        let samples = (0..<packet.sampleCount).map { JitterBufferHarness.value(ofSample: packet.firstSample + $0) }
        let outcome = samples.withUnsafeBufferPointer {
            buffer.insert($0, timestamp: packet.timestamp, marker: packet.marker,
                          arrival: Instant(nanoseconds: packet.arrival))
        }
        insertOutcomes[packet.index] = outcome
    }

    private func record(_ frame: [Int16], at time: Int64, samplesPerPacket: Int) {
        for value in frame where value != 0 {
            let residue = Int(value) - 1
            // The stream index nearest the last one played with this residue.
            var index = lastIndex - lastIndex % 30000 + residue
            if index < lastIndex - 15000 { index += 30000 }
            if index > lastIndex + 15000 { index -= 30000 }
            lastIndex = index
            playedIndexes.append(index)
            if index % samplesPerPacket == 0, firstPlayed[index / samplesPerPacket] == nil {
                firstPlayed[index / samplesPerPacket] = time
            }
        }
    }

    /// Arrival-to-play delay of each packet that was played, ms.
    func delaysMilliseconds(_ packets: [SimulatedPacket]) -> [Int: Double] {
        var delays: [Int: Double] = [:]
        for packet in packets {
            if let played = firstPlayed[packet.index] {
                delays[packet.index] = Double(played - packet.arrival) / 1e6
            }
        }
        return delays
    }

    func count(_ outcome: JitterBuffer.InsertOutcome) -> Int {
        insertOutcomes.values.filter { $0 == outcome }.count
    }

    func count(_ outcome: JitterBuffer.PlayoutOutcome) -> Int {
        playoutOutcomes.filter { $0 == outcome }.count
    }
}

/// A small seeded generator (64-bit LCG), so jitter runs repeat exactly.
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int64) -> Int64 { Int64(next() % UInt64(bound)) }
}
