import CompactText
import ControlProtocol
import CountryPresets
import DSP
import Line
import Platform
import Timebase

/// The control commands that drive a simulated handset and read what it
/// hears: hook, flash, dtmf, pulse, say, hear, ringing, hybrid. They exist
/// only on the simulated board.
public struct SimulatedLineCommands {
    /// What the handset must know of the line it is plugged into: its
    /// hook-flash window (for a default flash), how its dial counts pulses,
    /// and whether an echo canceller listens (for the `hybrid` reply).
    public struct LineFacts {
        public var flashMinimum: Interval
        public var flashMaximum: Interval
        public var pulseMapping: PulseMapping
        public var echoCanceller: Bool

        public init(flashMinimum: Interval, flashMaximum: Interval, pulseMapping: PulseMapping, echoCanceller: Bool) {
            self.flashMinimum = flashMinimum
            self.flashMaximum = flashMaximum
            self.pulseMapping = pulseMapping
            self.echoCanceller = echoCanceller
        }
    }

    let line: SimulatedLine
    let facts: LineFacts

    public init(line: SimulatedLine, facts: LineFacts) {
        self.line = line
        self.facts = facts
    }

    // Each command takes the words after the LINE number.

    public func hook(_ words: [String], _ now: Instant) -> ControlReply {
        guard words.count == 1, words[0] == "off" || words[0] == "on" else { return .error("usage: hook LINE off|on") }
        line.cancelScripts()
        line.setHook(offHook: words[0] == "off", at: now)
        return .ok()
    }

    public func flash(_ words: [String]) -> ControlReply {
        guard line.offHook else { return .error("line \(line.number) is on hook") }
        // The middle of the line's own window (the country's, or its
        // flash_min_ms/flash_max_ms).
        var milliseconds = Int((facts.flashMinimum.nanoseconds + facts.flashMaximum.nanoseconds) / 2_000_000)
        if let word = words.first {
            guard words.count == 1, let value = Int(word), value > 0, value <= 10_000 else {
                return .error("usage: flash LINE [MS] (1-10000)")
            }
            milliseconds = value
        }
        line.script(edges: [(.zero, false), (.milliseconds(Int64(milliseconds)), true)])
        return .ok(["flash \(milliseconds) ms"])
    }

    /// `--name VALUE` options after the positional words: the value given
    /// for each name in `allowed`, in its order (nil when not given).
    private func options(_ words: [String], allowed: [String]) -> (positional: [String], values: [Int?])? {
        var positional: [String] = []
        var values = [Int?](repeating: nil, count: allowed.count)
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.utf8.starts(with: "--".utf8) {
                let name = String(decoding: word.utf8.dropFirst(2), as: UTF8.self)
                guard let slot = allowed.firstIndex(of: name), index + 1 < words.count,
                      let value = Int(words[index + 1]) else { return nil }
                values[slot] = value
                index += 2
            } else {
                positional.append(word)
                index += 1
            }
        }
        return (positional, values)
    }

    public func dtmf(_ words: [String]) -> ControlReply {
        let usage = "usage: dtmf LINE DIGITS [--level DBM0] [--twist DB] [--on MS] [--off MS] [--shift PERMILLE] [--shift-hz HZ]"
        guard let parsed = options(words, allowed: ["level", "twist", "on", "off", "shift", "shift-hz"]), parsed.positional.count == 1 else {
            return .error(usage)
        }
        guard line.offHook else { return .error("line \(line.number) is on hook") }
        let level = parsed.values[0] ?? -8, twist = parsed.values[1] ?? 2
        let on = parsed.values[2] ?? 80, off = parsed.values[3] ?? 80
        let shift = parsed.values[4] ?? 0, shiftHz = parsed.values[5] ?? 0
        guard (-60...3).contains(level), (-20...20).contains(twist), (5...5000).contains(on), (0...5000).contains(off),
              (-100...100).contains(shift), (-50...50).contains(shiftHz) else {
            return .error("out of range: level -60..3 dBm0, twist -20..20 dB, on 5..5000 ms, off 0..5000 ms, "
                          + "shift -100..100 per mille, shift-hz -50..50 Hz")
        }
        var generator = DTMFGenerator(levelDBm0: Double(level), twistDB: Double(twist), onMs: on, offMs: off)
        generator.frequencyShift = Double(shift) / 1000
        generator.frequencyOffsetHz = Double(shiftHz)
        guard generator.enqueue(parsed.positional[0]) else { return .error("DTMF digits are 0-9, *, #, A-D") }
        line.mouth.say(.dtmf(generator))
        return .ok()
    }

    public func pulse(_ words: [String]) -> ControlReply {
        guard let parsed = options(words, allowed: ["pps", "break"]), parsed.positional.count == 1 else {
            return .error("usage: pulse LINE DIGITS [--pps N] [--break PERCENT]")
        }
        guard line.offHook else { return .error("line \(line.number) is on hook") }
        let pps = parsed.values[0] ?? 10, breakPercent = parsed.values[1] ?? 60
        guard (5...20).contains(pps), (30...80).contains(breakPercent) else {
            return .error("out of range: pps 5..20, break 30..80 %")
        }
        let period = 1_000_000_000 / Int64(pps)
        let breakLength = period * Int64(breakPercent) / 100
        var edges: [(Interval, Bool)] = []
        var at: Int64 = 0
        for digit in parsed.positional[0] {
            guard let count = facts.pulseMapping.pulses(for: digit) else {
                return .error("rotary dials send only 0-9")
            }
            for _ in 0..<count {
                edges.append((Interval(nanoseconds: at), false))
                edges.append((Interval(nanoseconds: at + breakLength), true))
                at += period
            }
            at += 700_000_000  // the dial's pause between digits
        }
        line.script(edges: edges)
        return .ok(["\(edges.count / 2) pulses over \(at / 1_000_000) ms"])
    }

    /// `ack LINE D|A|off`: the handset answers the CPE alerting signal
    /// (caller ID for a waiting call) with that key, as a type II phone.
    public func acknowledge(_ words: [String]) -> ControlReply {
        let usage = "usage: ack LINE D|A|off"
        guard words.count == 1 else { return .error(usage) }
        switch words[0] {
        case "off": line.acknowledgement = nil
        case "D": line.acknowledgement = .d
        case "A": line.acknowledgement = .a
        default: return .error(usage)
        }
        return .ok()
    }

    /// The simulated line's echo path: the earpiece's audio returns into the
    /// mouthpiece DELAY_MS later, LOSS_DB weaker (default 10 dB).
    public func hybrid(_ words: [String]) -> ControlReply {
        let usage = "usage: hybrid LINE off | hybrid LINE DELAY_MS [LOSS_DB] (delay 0-200 ms, loss 0-40 dB)"
        guard let first = words.first, words.count <= 2 else { return .error(usage) }
        if first == "off" {
            guard words.count == 1 else { return .error(usage) }
            line.hybrid = nil
            return .ok()
        }
        guard let delay = Int(first), (0...200).contains(delay) else { return .error(usage) }
        var loss = 10
        if words.count == 2 {
            guard let value = Int(words[1]), (0...40).contains(value) else { return .error(usage) }
            loss = value
        }
        line.hybrid = SimulatedHybrid(delayMilliseconds: delay, lossDB: loss)
        return .ok(["echo \(delay) ms, \(loss) dB down" + (facts.echoCanceller ? "" : ", echo canceller off")])
    }

    public func say(_ words: [String]) -> ControlReply {
        let usage = "usage: say LINE tone F1[+F2] [LEVEL] | say LINE silence | say LINE file PATH"
        guard let kind = words.first else { return .error(usage) }
        switch kind {
        case "silence":
            line.mouth.say(.silence)
        case "tone":
            guard words.count == 2 || words.count == 3 else { return .error(usage) }
            var frequencies: [UInt16] = []
            for part in words[1].split(separator: "+") {
                guard let value = UInt16(String(part)), value >= 50, value <= 3900 else {
                    return .error("frequencies are 50-3900 Hz, e.g. 697+1209")
                }
                frequencies.append(value)
            }
            guard (1...2).contains(frequencies.count) else { return .error(usage) }
            var level: Int8 = -10
            if words.count == 3 {
                guard let value = Int8(words[2]), value >= -60, value <= 3 else { return .error("level is -60..3 dBm0") }
                level = value
            }
            line.mouth.say(.tone(ToneGenerator(spec: ToneSpec(frequencies: frequencies, levelDBm0: level))))
        case "file":
            guard words.count == 2 else { return .error(usage) }
            let bytes: [UInt8]
            do throws(Errno) {
                bytes = try FileSystem.readFile(words[1], limit: 8000 * 2 * 120)
            } catch {
                return .error("cannot read \(words[1]): \(error.message) (raw 8 kHz mono 16-bit, at most 120 s)")
            }
            var samples = [Int16](repeating: 0, count: bytes.count / 2)
            for index in samples.indices {
                samples[index] = Int16(bitPattern: UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8)
            }
            line.mouth.say(.recording(samples, position: 0))
        default:
            return .error(usage)
        }
        return .ok()
    }

    /// What the handset hears: the sound, the level of each asked-for
    /// frequency in it, and when sound began.
    public func hear(_ words: [String]) -> ControlReply {
        for word in words {
            guard let hertz = Int(word), hertz > 0, hertz < 4000 else {
                return .error("hear: '\(word)' is not a frequency in Hz (1-3999)")
            }
        }
        var lines = [describe(line.ear.analyze())]
        // The level of each asked-for frequency in what was heard, however
        // faint under the loudest sound (echo of one's own voice).
        for word in words {
            let hertz = Int(word) ?? 0
            if let level = line.ear.level(atHz: Double(hertz)) {
                lines.append("at \(hertz) Hz: \(Int(level.rounded())) dBm0")
            } else {
                lines.append("at \(hertz) Hz: silence")
            }
        }
        if let sounding = line.ear.soundingMilliseconds { lines.append("sounding for \(sounding) ms") }
        if !line.heardDigits.isEmpty { lines.append("keys heard: " + String(decoding: line.heardDigits, as: UTF8.self)) }
        if let wait = line.soundAfterOffHook {
            lines.append("first sound \(wait.milliseconds) ms after off-hook")
        }
        // Monotonic-clock times of the latest sound onsets, for measuring
        // the delay through a call against the test's own clock.
        if let onset = line.earOnset.onset { lines.append("earpiece onset \(onset.nanoseconds) ns") }
        if let onset = line.mouthOnset.onset { lines.append("mouthpiece onset \(onset.nanoseconds) ns") }
        return .ok(lines)
    }

    /// `record LINE PATH SECONDS` starts recording what the handset
    /// receives, on hook or off (at most SECONDS of it); `record LINE stop`
    /// writes it to PATH as a WAV file (8 kHz, 16-bit mono) and lists when
    /// the ring and the line's polarity changed, from the recording's start.
    public func record(_ words: [String]) -> ControlReply {
        let usage = "usage: record LINE PATH SECONDS (1-\(SimulatedRecorder.longestSeconds)) | record LINE stop"
        if words == ["stop"] {
            guard let recorder = line.recorder else { return .error("line \(line.number) is not recording") }
            do throws(Errno) {
                try FileSystem.writeFileAtomically(recorder.path, recorder.wavBytes, durable: false)
            } catch {
                // Still recording: another stop may find the folder fixed.
                return .error("cannot write \(recorder.path): \(error.message)")
            }
            line.recorder = nil
            var lines = ["recorded \(recorder.count * 1000 / recorder.sampleRate) ms to \(recorder.path)"]
            for event in recorder.events {
                lines.append("at \(event.sample * 1000 / recorder.sampleRate) ms: \(event.text)")
            }
            return .ok(lines)
        }
        guard words.count == 2, let seconds = Int(words[1]), (1...SimulatedRecorder.longestSeconds).contains(seconds),
              !words[0].isEmpty else { return .error(usage) }
        guard line.recorder == nil else { return .error("line \(line.number) is recording already; record \(line.number) stop first") }
        line.recorder = SimulatedRecorder(path: words[0], seconds: seconds, sampleRate: DSPSampleRate.narrowband)
        return .ok()
    }

    public func ringing(_ words: [String]) -> ControlReply {
        guard words.isEmpty else { return .error("ringing takes only a LINE") }
        return .ok(line.bell.ringing ? [ringing(), "bursts \(line.bell.bursts)"] : [ringing()])
    }

    private func ringing() -> String {
        guard line.bell.ringing else { return "no" }
        var text = "yes"
        if let frequency = line.bell.frequencyHz { text += " \(frequency) Hz" }
        let cadence = line.bell.cadence
        if !cadence.isEmpty { text += " " + SimulatedLineCommands.slashed(cadence) }
        return text
    }

    /// `silence`, or `F1[+F2] Hz LEVEL dBm0 CADENCE`.
    private func describe(_ sound: HeardSound) -> String {
        switch sound {
        case .silence:
            return "silence"
        case .tone(let frequencies, let level, let cadence):
            var hertz = ""
            for frequency in frequencies {
                if !hertz.isEmpty { hertz += "+" }
                hertz += "\(Int((frequency + 0.5).rounded(.down)))"
            }
            let dBm0 = Int((level + (level < 0 ? -0.5 : 0.5)).rounded(.towardZero))
            let pattern = cadence.isEmpty ? "continuous" : SimulatedLineCommands.slashed(cadence)
            return "\(hertz) Hz \(dBm0) dBm0 \(pattern)"
        }
    }

    /// A cadence in milliseconds as `ON/OFF/...`.
    private static func slashed(_ milliseconds: [Int]) -> String {
        var text = ""
        for value in milliseconds {
            if !text.isEmpty { text += "/" }
            text += "\(value)"
        }
        return text
    }
}
