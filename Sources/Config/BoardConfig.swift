import CompactText

/// What is wired where, from a board file.
public struct BoardConfig: Sendable {
    public enum Driver: String, Sendable { case sim, gpio }
    public enum Bias: String, Sendable {
        case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down"
    }

    /// One telephone port of the board.
    public struct Line: Sendable {
        public var number: Int
        public var hookGPIO: Int?
        public var hookActiveLow = false
        public var hookBias = Bias.asIs
        public var hookDebounceMs = 20
        public var ringModeGPIO: Int?
        public var ringModeActiveLow = false
        public var forwardReverseGPIO: Int?
        /// An output that cuts the loop current while active (a relay in
        /// series with the line): the disconnect pulse (CPC). Optional.
        public var loopDisconnectGPIO: Int?
        public var loopDisconnectActiveLow = false
        public var playbackDevice: String?
        public var captureDevice: String?
        public var periodMs = 10
        /// Mixer controls of the sound card to set whenever the audio opens,
        /// in the order they are applied.
        public var mixer: [MixerSetting] = []
    }

    public var path: String
    public var name: String
    public var driver: Driver
    public var gpioChip: String?
    public var lines: [Line]

    /// Builds the typed board from checked sections, adding the checks that
    /// span several keys.
    static func build(path: String, sections: [CheckedSection], diagnostics: inout [Diagnostic]) -> BoardConfig? {
        guard let board = sections.first(where: { $0.name == "board" }) else { return nil }
        let driver = Driver(rawValue: board.text("driver") ?? "sim") ?? .sim
        var config = BoardConfig(path: path, name: board.text("name") ?? "unnamed board", driver: driver,
                                 gpioChip: board.text("gpio_chip"), lines: [])
        func report(_ line: Int, _ message: String) {
            diagnostics.append(Diagnostic(file: path, line: line, message: message))
        }
        if driver == .gpio && config.gpioChip == nil {
            report(board.line, "missing required key 'gpio_chip' in [board] (needed by driver = gpio)")
        }
        for section in sections where section.name == "line" {
            var line = Line(number: ConfigSchema.parseInteger(section.argument ?? "") ?? 0)
            line.hookGPIO = section.integer("hook_gpio")
            line.hookActiveLow = section.boolean("hook_active_low") ?? false
            line.hookBias = Bias(rawValue: section.text("hook_bias") ?? "as-is") ?? .asIs
            line.hookDebounceMs = section.integer("hook_debounce_ms") ?? 20
            line.ringModeGPIO = section.integer("ring_mode_gpio")
            line.ringModeActiveLow = section.boolean("ring_mode_active_low") ?? false
            line.forwardReverseGPIO = section.integer("forward_reverse_gpio")
            line.loopDisconnectGPIO = section.integer("loop_disconnect_gpio")
            line.loopDisconnectActiveLow = section.boolean("loop_disconnect_active_low") ?? false
            line.playbackDevice = section.text("playback")
            line.captureDevice = section.text("capture") ?? line.playbackDevice
            line.periodMs = ConfigSchema.parseInteger(section.text("period_ms") ?? "10") ?? 10
            line.mixer = mixerSettings(section, report: report)
            if driver == .gpio {
                for key in ["hook_gpio", "ring_mode_gpio", "forward_reverse_gpio", "playback"]
                where section.keyLines[key] == nil {
                    report(section.line, "missing required key '\(key)' in \(section.title) (needed by driver = gpio)")
                }
                var used: [Int: String] = [:]
                for key in ["hook_gpio", "ring_mode_gpio", "forward_reverse_gpio", "loop_disconnect_gpio"] {
                    guard let offset = section.integer(key) else { continue }
                    if let other = used[offset] {
                        report(section.keyLines[key] ?? section.line,
                               "'\(key)' uses GPIO line \(offset), already used by '\(other)'")
                    }
                    used[offset] = key
                }
            }
            if driver != .gpio, let key = mixerKeys.first(where: { section.keyLines[$0] != nil }) {
                report(section.keyLines[key] ?? section.line, "'\(key)' needs driver = gpio (the simulated board has no sound card)")
            }
            config.lines.append(line)
        }
        if config.lines.isEmpty {
            report(board.line, "the board has no telephone lines; add a [line 1] section")
        }
        config.lines.sort { $0.number < $1.number }
        return config
    }

    static let mixerKeys = ["capture_volume", "playback_volume", "agc", "mic_monitor", "mixer"]

    /// The line's mixer keys as settings: AGC and the monitor first, so the
    /// volumes are set on a codec that no longer adjusts them itself. The
    /// control names default to those of CM108/CM119 USB codecs.
    static func mixerSettings(_ section: CheckedSection, report: (Int, String) -> Void) -> [MixerSetting] {
        var settings: [MixerSetting] = []
        if let agc = section.boolean("agc") {
            settings.append(MixerSetting(control: section.text("agc_control") ?? "Auto Gain Control", direction: .any,
                                         value: .on(agc), key: "agc"))
        }
        if let monitor = section.boolean("mic_monitor") {
            settings.append(MixerSetting(control: section.text("mic_monitor_control") ?? "Mic", direction: .playback,
                                         value: .on(monitor), key: "mic_monitor"))
        }
        func volume(_ key: String, _ control: String, _ fallback: String, _ direction: MixerSetting.Direction) {
            guard let text = section.text(key) else { return }
            guard let value = MixerSetting.parseVolume(text) else {
                report(section.keyLines[key] ?? section.line, "invalid value '" + text + "' for '" + key
                       + "': expected a percent (0%-100%) or a gain in dB (-120dB to 60dB, e.g. -6dB)")
                return
            }
            settings.append(MixerSetting(control: section.text(control) ?? fallback, direction: direction,
                                         value: value, key: key))
        }
        volume("capture_volume", "capture_control", "Mic", .capture)
        volume("playback_volume", "playback_control", "Speaker", .playback)
        if let text = section.text("mixer") {
            let (list, bad) = MixerSetting.parseList(text)
            settings += list
            if let bad {
                report(section.keyLines["mixer"] ?? section.line, "invalid value '" + text + "' for 'mixer': '" + bad
                       + "' is not NAME=VALUE with VALUE on/off, a percent, a dB gain or an integer")
            }
        }
        return settings
    }
}
