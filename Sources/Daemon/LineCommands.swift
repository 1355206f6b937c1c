import CompactText
import ControlProtocol
import DSP
import HardwareSim
import Line
import Timebase

/// The control commands about one line: `ring` and `level` on every board,
/// and the simulated handset's own (hook, flash, dtmf, pulse, say, hear,
/// ringing, hybrid, record), passed on to it on the simulated board.
struct LineCommands {
    let telephony: Telephony

    static let names = ["hook", "flash", "dtmf", "pulse", "say", "hear", "ring", "ringing", "hybrid", "level", "record", "ack"]
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
        "record LINE PATH SECONDS | record LINE stop",
        "ack LINE D|A|off",
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
        case "ring": return ring(port, words)
        case "level": return words.isEmpty ? .ok(level(port)) : .error("level takes only a LINE")
        default: break
        }
        guard let line = telephony.simulatedBoard?.line(number) else {
            // A real line has no simulated handset; `hear` still reports
            // what the line itself knows (its echo canceller).
            guard request.command == "hear" else {
                return .error("line \(number) is a real line: \(request.command) drives the simulated handset (driver = sim)")
            }
            return .ok(echoCancellerLine(port).map { [$0] } ?? [])
        }
        let timings = port.machine.timings
        let facts = SimulatedLineCommands.LineFacts(flashMinimum: timings.flashMinimum, flashMaximum: timings.flashMaximum,
                                                    pulseMapping: port.machine.pulseMapping,
                                                    echoCanceller: port.echoCanceller != nil)
        let handset = SimulatedLineCommands(line: line, facts: facts)
        switch request.command {
        case "hook": return handset.hook(words, now)
        case "flash": return handset.flash(words)
        case "dtmf": return handset.dtmf(words)
        case "pulse": return handset.pulse(words)
        case "say": return handset.say(words)
        case "ringing": return handset.ringing(words)
        case "hybrid": return handset.hybrid(words)
        case "record": return handset.record(words)
        case "ack": return handset.acknowledge(words)
        default:
            var reply = handset.hear(words)
            if reply.isOK, let line = echoCancellerLine(port) { reply.lines.append(line) }
            return reply
        }
    }

    /// `echo canceller: bulk delay N ms[, ERLE N dB][, path lost N]` when
    /// the line has one.
    private func echoCancellerLine(_ port: LinePort) -> String? {
        guard let canceller = port.echoCanceller else { return nil }
        var text = "echo canceller: bulk delay \(canceller.bulkDelaySamples * 1000 / 8000) ms"
        if let erle = canceller.echoReturnLossEnhancementDB { text += ", ERLE \(Int(erle.rounded())) dB" }
        if canceller.echoPathResets > 0 { text += ", path lost \(canceller.echoPathResets)" }
        return text
    }

    private func ring(_ port: LinePort, _ words: [String]) -> ControlReply {
        if words.isEmpty {
            return telephony.ring(port, start: true) ? .ok() : .error("line \(port.number) is busy")
        }
        guard words == ["stop"] else { return .error("usage: ring LINE [stop]") }
        _ = telephony.ring(port, start: false)
        return .ok()
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
}
