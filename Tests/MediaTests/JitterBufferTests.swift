import Foundation
import CAllocationCounter
import Media
import Timebase
import XCTest

final class JitterBufferTests: XCTestCase {
    private let ms: Int64 = 1_000_000

    private func packetNanoseconds(_ samples: Int) -> Int64 { Int64(samples) * 125_000 }

    /// Compares played sample indexes, reporting only the first difference.
    private func assertSameIndexes(_ played: [Int], _ expected: [Int], file: StaticString = #filePath, line: UInt = #line) {
        guard played != expected else { return }
        let common = min(played.count, expected.count)
        let first = (0..<common).first { played[$0] != expected[$0] } ?? common
        XCTFail("played \(played.count) samples, expected \(expected.count); first difference at \(first): "
                + "\(played.dropFirst(first).prefix(3)) vs \(expected.dropFirst(first).prefix(3))", file: file, line: line)
    }

    /// Frames concealed between the first and the last audio frame.
    private func missingWhilePlaying(_ harness: JitterBufferHarness) -> Int {
        guard let first = harness.playoutOutcomes.firstIndex(of: .audio),
              let last = harness.playoutOutcomes.lastIndex(of: .audio) else { return -1 }
        return harness.playoutOutcomes[first...last].filter { $0 == .missing }.count
    }

    // MARK: Bit-exact playback

    /// Clean stream: every sample comes out, in order, frames back to back,
    /// each packet after the same delay, and the delay never changes.
    private func checkInOrder(samplesPerPacket: Int, firstTimestamp: UInt32,
                              file: StaticString = #filePath, line: UInt = #line) {
        let count = 150
        let packets = JitterBufferHarness.stream(packets: count, samplesPerPacket: samplesPerPacket,
                                                 firstTimestamp: firstTimestamp) {
            1 * self.ms + Int64($0) * self.packetNanoseconds(samplesPerPacket)
        }
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: packets.last!.arrival + 100 * ms,
                    samplesPerPacket: samplesPerPacket)
        assertSameIndexes(harness.playedIndexes, Array(0..<(count * samplesPerPacket)), file: file, line: line)
        let firstAudio = harness.playoutOutcomes.firstIndex(of: .audio) ?? 0
        let frames = count * samplesPerPacket / 80
        XCTAssertEqual(Array(harness.playoutOutcomes[firstAudio..<(firstAudio + frames)]),
                       Array(repeating: .audio, count: frames), file: file, line: line)
        let delays = harness.delaysMilliseconds(packets).values
        XCTAssertEqual(delays.count, count, file: file, line: line)
        XCTAssertEqual(delays.max(), delays.min(), "constant delay", file: file, line: line)
        XCTAssertLessThanOrEqual(delays.max() ?? 99, Double(samplesPerPacket / 8 + 10), file: file, line: line)
        XCTAssertEqual(harness.buffer.statistics.delayChanges, 0, file: file, line: line)
        XCTAssertEqual(harness.buffer.statistics.playedFrames, frames, file: file, line: line)
    }

    func testInOrderStreamPlaysBitExactWithConstantDelay() {
        checkInOrder(samplesPerPacket: 160, firstTimestamp: 12_345)
    }

    func testPacketsOf10And20And30Milliseconds() {
        for samples in [80, 160, 240] {
            checkInOrder(samplesPerPacket: samples, firstTimestamp: 1_000_003)
        }
    }

    func testTimestampWrapAround() {
        checkInOrder(samplesPerPacket: 160, firstTimestamp: UInt32.max - 5000)
        checkInOrder(samplesPerPacket: 240, firstTimestamp: UInt32.max - 100)
    }

    func testReorderedPairStillPlaysBitExact() {
        var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: 160, firstTimestamp: 999) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        let due = packets[50].arrival
        packets[51].arrival = due + 1 * ms
        packets[50].arrival = due + 2 * ms
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: 2200 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[50], .stored)
        XCTAssertEqual(harness.insertOutcomes[51], .stored)
        assertSameIndexes(harness.playedIndexes, Array(0..<(100 * 160)))
        XCTAssertEqual(missingWhilePlaying(harness), 0)
    }

    func testReorderedFirstPacketsStillPlayBitExact() {
        var packets = JitterBufferHarness.stream(packets: 50, samplesPerPacket: 160, firstTimestamp: 4321) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        packets[0].arrival = packets[1].arrival + 1 * ms
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: 1200 * ms, samplesPerPacket: 160)
        assertSameIndexes(harness.playedIndexes, Array(0..<(50 * 160)))
    }

    func testDuplicatesAreCountedAndDropped() {
        var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: 160, firstTimestamp: 77) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        var early = packets[30]
        early.index = 1000
        early.arrival += 1 * ms
        var afterPlay = packets[10]
        afterPlay.index = 1001
        afterPlay.arrival += 100 * ms
        packets += [early, afterPlay]
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: 2200 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[1000], .duplicate)
        XCTAssertEqual(harness.insertOutcomes[1001], .duplicate)
        XCTAssertEqual(harness.buffer.statistics.duplicatePackets, 2)
        assertSameIndexes(harness.playedIndexes, Array(0..<(100 * 160)))
        XCTAssertEqual(harness.buffer.statistics.delayChanges, 0)
    }

    func testPartialOverlapKeepsTheNewPart() {
        // Packet 20 carries 320 samples: its first half repeats packet 19.
        var packets = JitterBufferHarness.stream(packets: 40, samplesPerPacket: 160, firstTimestamp: 5) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        packets[20].timestamp &-= 160
        packets[20].firstSample -= 160
        packets[20].sampleCount = 320
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: 1000 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[20], .stored)
        // Packet 20's first sample looks 20 ms late, so the delay grows; in
        // loud audio that replays a stretch already played (a step back
        // joined where the audio matches), which is no loss.
        var highest = -1
        let firstPlays = harness.playedIndexes.filter { index in
            defer { highest = max(highest, index) }
            return index > highest
        }
        assertSameIndexes(firstPlays, Array(0..<(40 * 160)))
        XCTAssertLessThanOrEqual(harness.playedIndexes.count - firstPlays.count, 120)
    }

    // MARK: Loss and lateness

    func testLostPacketGivesItsFramesAsMissing() {
        for samples in [80, 160, 240] {
            var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: samples, firstTimestamp: 31) {
                1 * self.ms + Int64($0) * self.packetNanoseconds(samples)
            }
            packets.remove(at: 50)
            let harness = JitterBufferHarness()
            harness.run(packets, pullPhase: 3 * ms, until: packets.last!.arrival + 100 * ms,
                        samplesPerPacket: samples)
            let first = harness.playoutOutcomes.firstIndex(of: .audio)!
            let last = harness.playoutOutcomes.lastIndex(of: .audio)!
            let missing = harness.playoutOutcomes[first...last].filter { $0 == .missing }.count
            XCTAssertEqual(missing, samples / 80, "\(samples) samples per packet")
            let expected = Array(0..<(50 * samples)) + Array((51 * samples)..<(100 * samples))
            assertSameIndexes(harness.playedIndexes, expected)
            XCTAssertEqual(harness.buffer.statistics.delayChanges, 0)
        }
    }

    func testLatePacketIsCountedAndDelayGrows() {
        var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: 160, firstTimestamp: 8) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        packets[50].arrival += 60 * ms
        let harness = JitterBufferHarness()
        let before = harness.buffer.targetDelayMilliseconds
        harness.run(packets, pullPhase: 3 * ms, until: 2200 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[50], .late)
        XCTAssertEqual(harness.buffer.statistics.latePackets, 1)
        XCTAssertGreaterThanOrEqual(harness.buffer.statistics.insertedFrames, 1)
        XCTAssertGreaterThan(harness.buffer.targetDelayMilliseconds, before)
    }

    // MARK: Delay

    /// Packets every 20 ms exactly: each one's first sample plays at most
    /// one packet + one frame after it arrived, whatever the frame clock's
    /// phase.
    func testCleanNetworkDelayIsAtMostOnePacketAndAFrame() {
        var worst = 0.0
        for phase in stride(from: Int64(0), to: 10, by: 1) {
            let packets = JitterBufferHarness.stream(packets: 500, samplesPerPacket: 160, firstTimestamp: 1_234_567) {
                Int64($0) * 20 * self.ms
            }
            let harness = JitterBufferHarness()
            harness.run(packets, pullPhase: phase * ms + 500_000, until: packets.last!.arrival + 100 * ms,
                        samplesPerPacket: 160)
            let delays = harness.delaysMilliseconds(packets)
            XCTAssertEqual(delays.count, 500)
            worst = max(worst, delays.values.max() ?? 99)
            XCTAssertLessThanOrEqual(harness.buffer.targetDelayMilliseconds, 30)
            XCTAssertEqual(missingWhilePlaying(harness), 0)
        }
        print("clean network: worst arrival-to-play \(worst) ms")
        XCTAssertLessThanOrEqual(worst, 30)
    }

    /// 40 ms of uniform random extra delay per packet, then a clean network.
    func testFortyMillisecondsOfJitterThenCalm() {
        var random = SeededRandom(state: 2024)
        let jittered = 3000, calm = 1500
        let extra = (0..<(jittered + calm)).map { $0 < jittered ? random.below(40 * ms + 1) : 0 }
        let packets = JitterBufferHarness.stream(packets: jittered + calm, samplesPerPacket: 160, firstTimestamp: 90_001) {
            Int64($0) * 20 * self.ms + extra[$0]
        }
        let harness = JitterBufferHarness()
        var targetAtEndOfJitter = 0
        var shrinking: [Int] = []
        let endOfJitter = Int64(jittered) * 20 * ms
        harness.observe = { time, buffer in
            if time <= endOfJitter { targetAtEndOfJitter = buffer.targetDelayMilliseconds }
            if time > endOfJitter && (time - endOfJitter) % (5000 * self.ms) < 10 * self.ms {
                shrinking.append(buffer.targetDelayMilliseconds)
            }
        }
        harness.run(packets, pullPhase: 7 * ms, until: packets.last!.arrival + 200 * ms, samplesPerPacket: 160)

        let late = (0..<jittered).filter { harness.insertOutcomes[$0] == .late }.count
        let latePercent = Double(late) * 100 / Double(jittered)
        let statistics = harness.buffer.statistics
        print("jitter 40 ms: target \(targetAtEndOfJitter) ms, late \(latePercent) % (\(late) of \(jittered)), "
              + "frames inserted \(statistics.insertedFrames), dropped \(statistics.droppedFrames)")
        XCTAssertLessThan(latePercent, 2)
        XCTAssertGreaterThanOrEqual(targetAtEndOfJitter, 40)
        XCTAssertLessThanOrEqual(targetAtEndOfJitter, harness.buffer.settings.maximumDelayMilliseconds)

        let delays = harness.delaysMilliseconds(packets)
        let jitterDelays = (0..<jittered).compactMap { delays[$0] }
        let concealed = harness.playoutOutcomes.prefix(jittered * 2).filter { $0 == .missing }.count
        print("jitter 40 ms: arrival-to-play mean \(jitterDelays.reduce(0, +) / Double(jitterDelays.count)) ms, "
              + "max \(jitterDelays.max() ?? 0) ms; concealed frames \(concealed) of \(jittered * 2)")
        let lastSecond = (packets.count - 50)..<packets.count
        let finalDelay = lastSecond.compactMap { delays[$0] }.max() ?? 99
        print("jitter stopped: target every 5 s \(shrinking) ms, arrival-to-play at the end \(finalDelay) ms")
        XCTAssertLessThanOrEqual(harness.buffer.targetDelayMilliseconds, 30)
        XCTAssertLessThanOrEqual(finalDelay, 30)
        XCTAssertEqual((jittered..<packets.count).filter { harness.insertOutcomes[$0] == .late }.count, 0)
    }

    // MARK: Pauses and restarts

    func testPauseGoesIdleAndTheNextTalkSpurtReanchors() {
        var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: 160, firstTimestamp: 50) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        // Silence suppression: packets 50... come 3 s later, timestamps too.
        for k in 50..<100 {
            packets[k].arrival += 3000 * ms
            packets[k].timestamp &+= 24_000
        }
        packets[50].marker = true
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: packets.last!.arrival + 100 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[50], .stored)
        assertSameIndexes(harness.playedIndexes, Array(0..<(100 * 160)))
        let firstAudio = harness.playoutOutcomes.firstIndex(of: .audio)!
        let lastAudio = harness.playoutOutcomes.lastIndex(of: .audio)!
        let pause = harness.playoutOutcomes[firstAudio...lastAudio]
        let missing = pause.filter { $0 == .missing }.count
        XCTAssertLessThanOrEqual(missing, 12, "concealment only until the pause counts as idle")
        XCTAssertGreaterThan(pause.filter { $0 == .idle }.count, 250)
        let delays = harness.delaysMilliseconds(packets)
        XCTAssertLessThanOrEqual(delays[50] ?? 99, 30)
        XCTAssertEqual(harness.buffer.statistics.resynchronizations, 0)
    }

    func testStreamRestartResynchronizes() {
        var packets = JitterBufferHarness.stream(packets: 100, samplesPerPacket: 160, firstTimestamp: 3_000_000_000) {
            1 * self.ms + Int64($0) * 20 * self.ms
        }
        for k in 50..<100 { packets[k].timestamp &+= 1_500_000_000 }
        let harness = JitterBufferHarness()
        harness.run(packets, pullPhase: 3 * ms, until: packets.last!.arrival + 100 * ms, samplesPerPacket: 160)
        XCTAssertEqual(harness.insertOutcomes[50], .overflow)
        XCTAssertEqual(harness.insertOutcomes[51], .resynchronized)
        XCTAssertEqual(harness.insertOutcomes[52], .stored)
        XCTAssertEqual(harness.buffer.statistics.resynchronizations, 1)
        assertSameIndexes(harness.playedIndexes, Array(0..<(50 * 160)) + Array((51 * 160)..<(100 * 160)))
    }

    func testResetForgetsTheStream() {
        let harness = JitterBufferHarness()
        let packets = JitterBufferHarness.stream(packets: 20, samplesPerPacket: 160, firstTimestamp: 1) {
            Int64($0) * 20 * self.ms
        }
        harness.run(packets, pullPhase: 3 * ms, until: 500 * ms, samplesPerPacket: 160)
        XCTAssertGreaterThan(harness.buffer.statistics.playedFrames, 0)
        harness.buffer.reset()
        XCTAssertEqual(harness.buffer.statistics, JitterBufferStatistics())
        var frame = [Int16](repeating: 1, count: 80)
        let outcome = frame.withUnsafeMutableBufferPointer {
            harness.buffer.playout(into: $0, at: Instant(nanoseconds: 600 * ms))
        }
        XCTAssertEqual(outcome, .idle)
        XCTAssertEqual(frame, Array(repeating: 0, count: 80))
    }

    // MARK: Allocation

    func testInsertAndPlayoutDoNotAllocate() {
        let buffer = JitterBuffer()
        let packet = [Int16](repeating: 1000, count: 160)
        var frame = [Int16](repeating: 0, count: 80)
        var mallocs = -1
        var audio = 0
        packet.withUnsafeBufferPointer { samples in
            frame.withUnsafeMutableBufferPointer { out in
                var timestamp: UInt32 = 0xFFFF_0000
                var time: Int64 = 0
                atad_allocations_begin()
                for tick in 0..<1000 {
                    if tick % 2 == 0 {
                        // Some loss, reordering and duplicates on the way.
                        let slot = tick / 2
                        if slot % 37 != 5 {
                            let stamp = slot % 11 == 3 ? timestamp &+ 160 : (slot % 11 == 4 ? timestamp &- 160 : timestamp)
                            _ = buffer.insert(samples, timestamp: stamp, marker: slot % 100 == 0,
                                              arrival: Instant(nanoseconds: time + Int64(slot % 7) * 1_000_000))
                        }
                        if slot % 13 == 0 {
                            _ = buffer.insert(samples, timestamp: timestamp, marker: false,
                                              arrival: Instant(nanoseconds: time + 2_000_000))
                        }
                        timestamp &+= 160
                    }
                    if buffer.playout(into: out, at: Instant(nanoseconds: time + 9_000_000)) == .audio { audio += 1 }
                    time += 10_000_000
                }
                mallocs = Int(atad_allocations_end())
            }
        }
        XCTAssertEqual(mallocs, 0)
        XCTAssertGreaterThan(audio, 800)
    }
}

/// Delay changes in the middle of a tone: the stream jitters (the buffer
/// grows), then calms (it shrinks), while a tone plays without a pause, so
/// every change is forced into loud audio. Each must leave the tone's
/// waveform whole: a sine obeys x[n+1] = 2·cos(ω)·x[n] − x[n−1], and a
/// jump of phase breaks that by up to twice the amplitude.
final class JitterBufferToneTests: XCTestCase {
    private let ms: Int64 = 1_000_000

    private func worstBreak(frequency: Double) -> (breakRatio: Double, changes: Int) {
        let amplitude = 7000.0
        let omega = 2 * Double.pi * frequency / 8000
        var random = SeededRandom(state: 77)
        let jittered = 150, calm = 400
        let extra = (0..<(jittered + calm)).map { $0 < jittered ? random.below(35 * ms + 1) : 0 }
        let buffer = JitterBuffer()
        var frame = [Int16](repeating: 0, count: 80)
        var played: [Double] = []
        var next = 0
        var pull: Int64 = 3 * ms
        let end = Int64(jittered + calm) * 20 * ms + 300 * ms
        let order = (0..<(jittered + calm)).sorted { (Int64($0) * 20 * ms + extra[$0], $0) < (Int64($1) * 20 * ms + extra[$1], $1) }
        while pull <= end {
            while next < order.count && Int64(order[next]) * 20 * ms + extra[order[next]] <= pull {
                let k = order[next]
                let samples = (0..<160).map { Int16((amplitude * sin(omega * Double(k * 160 + $0))).rounded()) }
                _ = samples.withUnsafeBufferPointer {
                    buffer.insert($0, timestamp: UInt32(1000 + k * 160), marker: false,
                                  arrival: Instant(nanoseconds: Int64(k) * 20 * ms + extra[k]))
                }
                next += 1
            }
            let outcome = frame.withUnsafeMutableBufferPointer { buffer.playout(into: $0, at: Instant(nanoseconds: pull)) }
            if outcome == .audio {
                played += frame.map(Double.init)
            } else {
                played.append(.nan)  // concealment's frames are not the buffer's to judge
            }
            pull += 10 * ms
        }
        // The stream's own end (its last, partly filled frame) is no change.
        while let last = played.last, last.isNaN || last == 0 { played.removeLast() }
        played.removeLast(160)
        var worst = 0.0
        for n in 1..<(played.count - 1) where !played[n - 1].isNaN && !played[n].isNaN && !played[n + 1].isNaN {
            let value = abs(played[n + 1] - 2 * cos(omega) * played[n] + played[n - 1])
            if value > 0.05 * amplitude, ProcessInfo.processInfo.environment["JB_DEBUG"] != nil {
                print("break at \(n) (frame \(n / 80), offset \(n % 80)): \(value)")
            }
            worst = max(worst, value)
        }
        return (worst / amplitude, buffer.statistics.delayChanges)
    }

    func testDelayChangesInAToneKeepItsWaveformWhole() {
        for frequency in [941.0, 1477.0, 1000.0, 697.0] {
            let (ratio, changes) = worstBreak(frequency: frequency)
            print(String(format: "%.0f Hz: %d delay changes, worst break %.3f of the amplitude", frequency, changes, ratio))
            XCTAssertGreaterThan(changes, 1, "\(frequency) Hz: the test must force delay changes")
            XCTAssertLessThan(ratio, 0.05, "\(frequency) Hz")
        }
    }
}
