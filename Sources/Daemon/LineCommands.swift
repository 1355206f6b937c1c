import ControlProtocol
import CountryPresets
import DSP
import Line
import Platform
import Timebase

/// The control commands that drive the simulated handsets and look at what
/// they hear: hook, flash, dtmf, pulse, say, hear, ring, ringing; and
/// `level`, what a line's phone sends (simulated or real).
struct LineCommands {
    let telephony: Telephony

    static let names = ["hook", "flash", "dtmf", "pulse", "say", "hear", "ring", "ringing", "hybrid", "level"]
    static let help = [
        "hook LINE off|on",
        "flash LINE [MS]",
        "dtmf LINE DIGITS [--level DBM0] [--twist DB] [--on MS] [--off MS] [--shift PERMILLE] [--shift-hz HZ]",
        "pulse LINE DIGITS [--pps N] [--break PERCENT]",
        "say LINE tone F1[+F2] [LEVEL] | say LINE silence | say LINE file PATH",
        "hear LINE [HZ ...]",
        "ring LINE [stop]",
        "ringing LINE",
        "hybrid LINE off | hybrid LINE DELAY_MS [LOSS_DB]",
        "level LINE",
    ]

    func handle(_ request: ControlRequest, now: Instant) -> ControlReply {
        guard let first = request.arguments.first else {
            return .error("\(request.command) needs a LINE number")
        }
        guard let number = Int(first), let port = telephony.port(number) else {
            let numbers = telephony.ports.map { "\($0.number)" }.joined(separator: ", ")
            return .error("no line '\(first)'; lines are \(numbers)")
        }
        let words = Array(request.arguments.dropFirst())
        switch request.command {
        case "hook": return hook(port, words, now)
        case "flash": return flash(port, words)
        case "dtmf": return dtmf(port, words)
        case "pulse": return pulse(port, words)
        case "say": return say(port, words)
        case "hear":
            var frequencies: [Double] = []
            for word in words {
                guard let hertz = Int(word), hertz > 0, hertz < 4000 else {
                    return .error("hear: '\(word)' is not a frequency in Hz (1-3999)")
                }
                frequencies.append(Double(hertz))
            }
            var lines = [describe(port.ear.analyze())]
            // The level of each asked-for frequency in what was heard, however
            // faint under the loudest sound (echo of one's own voice).
            for hertz in frequencies {
                if let level = port.ear.level(atHz: hertz) {
                    lines.append("at \(Int(hertz)) Hz: \(Int(level.rounded())) dBm0")
                } else {
                    lines.append("at \(Int(hertz)) Hz: silence")
                }
            }
            if let sounding = port.ear.soundingMilliseconds { lines.append("sounding for \(sounding) ms") }
            if let wait = port.soundAfterOffHook {
                lines.append("first sound \(wait.milliseconds) ms after off-hook")
            }
            // Monotonic-clock times of the latest sound onsets, for measuring
            // the delay through a call against the test's own clock.
            if let onset = port.earOnset.onset { lines.append("earpiece onset \(onset.nanoseconds) ns") }
            if let onset = port.mouthOnset.onset { lines.append("mouthpiece onset \(onset.nanoseconds) ns") }
            if let canceller = port.echoCanceller {
                var text = "echo canceller: bulk delay \(canceller.bulkDelaySamples * 1000 / 8000) ms"
                if let erle = canceller.echoReturnLossEnhancementDB { text += ", ERLE \(Int(erle.rounded())) dB" }
                lines.append(text)
            }
            return .ok(lines)
        case "ring": return ring(port, words)
        case "ringing": return words.isEmpty ? .ok([ringing(port)]) : .error("ringing takes only a LINE")
        case "hybrid": return hybrid(port, words)
        case "level": return words.isEmpty ? .ok(level(port)) : .error("level takes only a LINE")
        default: return .error("unknown command '\(request.command)'")
        }
    }

    private func hook(_ port: LinePort, _ words: [String], _ now: Instant) -> ControlReply {
        guard words.count == 1, words[0] == "off" || words[0] == "on" else { return .error("usage: hook LINE off|on") }
        telephony.cancelScripts(port)
        telephony.setHook(port, offHook: words[0] == "off", at: now)
        return .ok()
    }

    private func flash(_ port: LinePort, _ words: [String]) -> ControlReply {
        guard port.offHook else { return .error("line \(port.number) is on hook") }
        // The middle of the line's own window (the country's, or its
        // flash_min_ms/flash_max_ms).
        let timings = port.machine.timings
        var milliseconds = Int((timings.flashMinimum.nanoseconds + timings.flashMaximum.nanoseconds) / 2_000_000)
        if let word = words.first {
            guard words.count == 1, let value = Int(word), value > 0, value <= 10_000 else {
                return .error("usage: flash LINE [MS] (1-10000)")
            }
            milliseconds = value
        }
        telephony.script(port, edges: [(.zero, false), (.milliseconds(Int64(milliseconds)), true)])
        return .ok(["flash \(milliseconds) ms"])
    }

    /// `--name VALUE` options after the positional words.
    private func options(_ words: [String], allowed: [String]) -> (positional: [String], values: [String: Int])? {
        var positional: [String] = []
        var values: [String: Int] = [:]
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.utf8.starts(with: "--".utf8) {
                let name = String(decoding: word.utf8.dropFirst(2), as: UTF8.self)
                guard allowed.contains(name), index + 1 < words.count, let value = Int(words[index + 1]) else { return nil }
                values[name] = value
                index += 2
            } else {
                positional.append(word)
                index += 1
            }
        }
        return (positional, values)
    }

    private func dtmf(_ port: LinePort, _ words: [String]) -> ControlReply {
        let usage = "usage: dtmf LINE DIGITS [--level DBM0] [--twist DB] [--on MS] [--off MS] [--shift PERMILLE] [--shift-hz HZ]"
        guard let parsed = options(words, allowed: ["level", "twist", "on", "off", "shift", "shift-hz"]), parsed.positional.count == 1 else {
            return .error(usage)
        }
        guard port.offHook else { return .error("line \(port.number) is on hook") }
        let level = parsed.values["level"] ?? -8, twist = parsed.values["twist"] ?? 2
        let on = parsed.values["on"] ?? 80, off = parsed.values["off"] ?? 80
        let shift = parsed.values["shift"] ?? 0, shiftHz = parsed.values["shift-hz"] ?? 0
        guard (-60...3).contains(level), (-20...20).contains(twist), (5...5000).contains(on), (0...5000).contains(off),
              (-100...100).contains(shift), (-50...50).contains(shiftHz) else {
            return .error("out of range: level -60..3 dBm0, twist -20..20 dB, on 5..5000 ms, off 0..5000 ms, "
                          + "shift -100..100 per mille, shift-hz -50..50 Hz")
        }
        var generator = DTMFGenerator(levelDBm0: Double(level), twistDB: Double(twist), onMs: on, offMs: off)
        generator.frequencyShift = Double(shift) / 1000
        generator.frequencyOffsetHz = Double(shiftHz)
        guard generator.enqueue(parsed.positional[0]) else { return .error("DTMF digits are 0-9, *, #, A-D") }
        port.mouth.say(.dtmf(generator))
        return .ok()
    }

    private func pulse(_ port: LinePort, _ words: [String]) -> ControlReply {
        guard let parsed = options(words, allowed: ["pps", "break"]), parsed.positional.count == 1 else {
            return .error("usage: pulse LINE DIGITS [--pps N] [--break PERCENT]")
        }
        guard port.offHook else { return .error("line \(port.number) is on hook") }
        let pps = parsed.values["pps"] ?? 10, breakPercent = parsed.values["break"] ?? 60
        guard (5...20).contains(pps), (30...80).contains(breakPercent) else {
            return .error("out of range: pps 5..20, break 30..80 %")
        }
        let period = 1_000_000_000 / Int64(pps)
        let breakLength = period * Int64(breakPercent) / 100
        var edges: [(Interval, Bool)] = []
        var at: Int64 = 0
        for digit in parsed.positional[0] {
            guard let count = port.machine.pulseMapping.pulses(for: digit) else {
                return .error("rotary dials send only 0-9")
            }
            for _ in 0..<count {
                edges.append((Interval(nanoseconds: at), false))
                edges.append((Interval(nanoseconds: at + breakLength), true))
                at += period
            }
            at += 700_000_000  // the dial's pause between digits
        }
        telephony.script(port, edges: edges)
        return .ok(["\(edges.count / 2) pulses over \(at / 1_000_000) ms"])
    }

    /// The simulated line's echo path: the earpiece's audio returns into the
    /// mouthpiece DELAY_MS later, LOSS_DB weaker (default 10 dB).
    private func hybrid(_ port: LinePort, _ words: [String]) -> ControlReply {
        let usage = "usage: hybrid LINE off | hybrid LINE DELAY_MS [LOSS_DB] (delay 0-200 ms, loss 0-40 dB)"
        guard let first = words.first, words.count <= 2 else { return .error(usage) }
        if first == "off" {
            guard words.count == 1 else { return .error(usage) }
            port.hybrid = nil
            return .ok()
        }
        guard let delay = Int(first), (0...200).contains(delay) else { return .error(usage) }
        var loss = 10
        if words.count == 2 {
            guard let value = Int(words[1]), (0...40).contains(value) else { return .error(usage) }
            loss = value
        }
        port.hybrid = SimulatedHybrid(delayMilliseconds: delay, lossDB: loss)
        return .ok(["echo \(delay) ms, \(loss) dB down" + (port.echoCanceller == nil ? ", echo canceller off" : "")])
    }

    private func say(_ port: LinePort, _ words: [String]) -> ControlReply {
        let usage = "usage: say LINE tone F1[+F2] [LEVEL] | say LINE silence | say LINE file PATH"
        guard let kind = words.first else { return .error(usage) }
        switch kind {
        case "silence":
            port.mouth.say(.silence)
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
            port.mouth.say(.tone(ToneGenerator(spec: ToneSpec(frequencies: frequencies, levelDBm0: level))))
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
            port.mouth.say(.recording(samples, position: 0))
        default:
            return .error(usage)
        }
        return .ok()
    }

    private func ring(_ port: LinePort, _ words: [String]) -> ControlReply {
        if words.isEmpty {
            return telephony.ring(port, start: true) ? .ok() : .error("line \(port.number) is busy")
        }
        guard words == ["stop"] else { return .error("usage: ring LINE [stop]") }
        _ = telephony.ring(port, start: false)
        return .ok()
    }

    private func ringing(_ port: LinePort) -> String {
        guard port.bell.ringing else { return "no" }
        var text = "yes"
        if let frequency = port.bell.frequencyHz { text += " \(frequency) Hz" }
        let cadence = port.bell.cadence
        if !cadence.isEmpty { text += " " + cadence.map { "\($0)" }.joined(separator: "/") }
        return text
    }

    /// The mouthpiece's level for calibrating the capture gain: the mean of
    /// the last second, then the last key's tones (or what else was heard).
    private func level(_ port: LinePort) -> [String] {
        let reading = MouthpieceLevel.read(port.mouthpiece)
        var lines = ["last second: " + (reading.lastSecondDBm0.map { LineCommands.tenths($0) + " dBm0" } ?? "nothing yet")]
        if let key = reading.keyTone {
            lines.append("key \(key.digit.character): " + LineCommands.tone(key.lowHz, key.lowDBm0) + ", "
                         + LineCommands.tone(key.highHz, key.highDBm0))
        } else {
            lines.append(reading.otherSound ? "last sound: not a DTMF pair" : "last sound: none")
        }
        return lines
    }

    /// `770 Hz -8.3 dBm0`: the level to a tenth of a dB.
    static func tone(_ hertz: Double, _ level: Double) -> String {
        "\(Int(hertz.rounded())) Hz " + tenths(level) + " dBm0"
    }

    static func tenths(_ value: Double) -> String {
        let scaled = Int((value * 10).rounded())
        let magnitude = scaled < 0 ? -scaled : scaled
        return (scaled < 0 ? "-" : "") + "\(magnitude / 10).\(magnitude % 10)"
    }

    /// `silence`, or `F1[+F2] Hz LEVEL dBm0 CADENCE`.
    private func describe(_ sound: HeardSound) -> String {
        switch sound {
        case .silence:
            return "silence"
        case .tone(let frequencies, let level, let cadence):
            let hertz = frequencies.map { "\(Int(($0 + 0.5).rounded(.down)))" }.joined(separator: "+")
            let dBm0 = Int((level + (level < 0 ? -0.5 : 0.5)).rounded(.towardZero))
            let pattern = cadence.isEmpty ? "continuous" : cadence.map { "\($0)" }.joined(separator: "/")
            return "\(hertz) Hz \(dBm0) dBm0 \(pattern)"
        }
    }
}
