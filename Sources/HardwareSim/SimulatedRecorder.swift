import CompactText
import LineHardware

/// What the simulated handset receives, kept for `record`: the earpiece's
/// samples (what an on-hook caller ID display or a test's decoder gets) and,
/// on the same timeline, when the line's polarity, ring mode and loop
/// current changed.
/// The buffer is allocated when recording starts; frames past its end are
/// dropped.
struct SimulatedRecorder {
    let path: String
    let sampleRate: Int
    private var samples: [Int16]
    private(set) var count = 0
    /// Line signals as (sample index, what happened), at most `eventLimit`.
    private(set) var events: [(sample: Int, text: String)] = []
    static let eventLimit = 64
    static let longestSeconds = 120

    init(path: String, seconds: Int, sampleRate: Int) {
        self.path = path
        self.sampleRate = sampleRate
        samples = [Int16](repeating: 0, count: seconds * sampleRate)
        events.reserveCapacity(SimulatedRecorder.eventLimit)
    }

    mutating func append(_ frame: UnsafeBufferPointer<Int16>) {
        let room = min(frame.count, samples.count - count)
        guard room > 0 else { return }
        samples.withUnsafeMutableBufferPointer { all in
            for index in 0..<room { all[count + index] = frame[index] }
        }
        count += room
    }

    /// A change of RM or of F/R outside a ring burst (F/R toggling inside a
    /// burst is the ring itself).
    mutating func observe(_ outputs: RingOutputs, previous: RingOutputs) {
        guard events.count < SimulatedRecorder.eventLimit, count < samples.count else { return }
        if outputs.ringMode != previous.ringMode {
            events.append((count, outputs.ringMode ? "ring on" : "ring off"))
        } else if !outputs.ringMode && outputs.polarity != previous.polarity {
            events.append((count, outputs.polarity == .reverse ? "polarity reverse" : "polarity forward"))
        }
    }

    /// Another line signal (the loop current cut or restored), now.
    mutating func note(_ text: String) {
        guard events.count < SimulatedRecorder.eventLimit, count < samples.count else { return }
        events.append((count, text))
    }

    /// The recording as a WAV file: 16-bit mono PCM.
    var wavBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + 2 * count)
        func text(_ value: String) { bytes.append(contentsOf: value.utf8) }
        func little(_ value: UInt32, _ width: Int) {
            for shift in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(shift)))) }
        }
        let dataBytes = UInt32(2 * count)
        text("RIFF"); little(36 + dataBytes, 4); text("WAVE")
        text("fmt "); little(16, 4); little(1, 2); little(1, 2)
        little(UInt32(sampleRate), 4); little(UInt32(2 * sampleRate), 4); little(2, 2); little(16, 2)
        text("data"); little(dataBytes, 4)
        for index in 0..<count { little(UInt32(UInt16(bitPattern: samples[index])), 2) }
        return bytes
    }
}
