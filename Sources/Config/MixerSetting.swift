import CompactText

/// One sound card mixer control to set when a line's audio opens: USB
/// codecs power up with their own idea of gain, with automatic gain control
/// on and the mic looped into the speaker, none of which suits a SLIC.
public struct MixerSetting: Equatable, Sendable {
    /// Which side of a control is meant: a codec's "Mic" has both a capture
    /// volume (the gain into the ADC) and a playback one (the monitor).
    public enum Direction: Equatable, Sendable {
        case capture, playback
        /// Whatever the control has (switches like "Auto Gain Control").
        case any
    }

    public enum Value: Equatable, Sendable {
        /// Percent of the control's range, as `amixer sset NAME 50%`.
        case percent(Int)
        /// Gain in hundredths of a dB, as the driver's dB scale has it.
        case hundredthsOfDB(Int)
        /// The control's own units.
        case raw(Int)
        case on(Bool)
    }

    /// The simple-mixer control name, e.g. `Mic`.
    public var control: String
    public var direction: Direction
    public var value: Value
    /// The board key that asked for it, for log lines.
    public var key: String

    public init(control: String, direction: Direction, value: Value, key: String) {
        self.control = control
        self.direction = direction
        self.value = value
        self.key = key
    }

    /// The lowest and highest gain accepted in dB: beyond what codecs offer,
    /// but a typo like `-600dB` is caught.
    public static let decibelRange = -120...60

    /// `50%` or `-6dB` / `4.5 dB`; nil otherwise.
    public static func parseVolume(_ text: String) -> Value? {
        var bytes = Array(text.utf8)[...]
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        if bytes.last == UInt8(ascii: "%") {
            guard let number = ConfigSchema.parseInteger(String(decoding: bytes.dropLast(), as: UTF8.self)),
                  (0...100).contains(number) else { return nil }
            return .percent(number)
        }
        guard bytes.count > 2, let d = bytes.dropLast().last, let b = bytes.last,
              d | 0x20 == UInt8(ascii: "d"), b | 0x20 == UInt8(ascii: "b") else { return nil }
        bytes = bytes.dropLast(2)
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        guard let hundredths = parseHundredths(bytes),
              hundredths >= decibelRange.lowerBound * 100, hundredths <= decibelRange.upperBound * 100 else { return nil }
        return .hundredthsOfDB(hundredths)
    }

    /// `[+|-]N[.D[D]]` as hundredths.
    private static func parseHundredths(_ raw: ArraySlice<UInt8>) -> Int? {
        var bytes = raw
        var negative = false
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
            negative = bytes.first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        let whole = bytes.prefix { $0 != UInt8(ascii: ".") }
        var fraction = bytes.dropFirst(whole.count)
        if !fraction.isEmpty { fraction = fraction.dropFirst() }
        guard !whole.isEmpty, whole.count <= 4, fraction.count <= 2,
              bytes.count == whole.count || !fraction.isEmpty,
              (whole + fraction).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var value = 0
        for byte in whole { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        var cents = 0
        for (index, byte) in fraction.enumerated() { cents += Int(byte - UInt8(ascii: "0")) * (index == 0 ? 10 : 1) }
        value = value * 100 + cents
        return negative ? -value : value
    }

    /// The generic `mixer` key: `NAME=VALUE[, NAME=VALUE ...]`, where VALUE
    /// is on/off, a volume (`50%`, `-6dB`) or an integer in the control's
    /// own units. Returns the settings, or the entry that is none of these.
    public static func parseList(_ text: String) -> (settings: [MixerSetting], bad: String?) {
        var settings: [MixerSetting] = []
        // Bytes, not Characters: the firmware stays clear of Unicode tables.
        for entry in text.utf8.split(separator: UInt8(ascii: ",")) {
            let parts = entry.split(separator: UInt8(ascii: "="), omittingEmptySubsequences: false)
            let name = parts.count == 2 ? trim(parts[0]) : "", raw = parts.count == 2 ? trim(parts[1]) : ""
            let value: Value
            if name.isEmpty || raw.isEmpty {
                return (settings, trim(entry))
            } else if raw == "on" || raw == "yes" {
                value = .on(true)
            } else if raw == "off" || raw == "no" {
                value = .on(false)
            } else if let volume = parseVolume(raw) {
                value = volume
            } else if let number = ConfigSchema.parseInteger(raw) {
                value = .raw(number)
            } else {
                return (settings, trim(entry))
            }
            settings.append(MixerSetting(control: name, direction: .any, value: value, key: "mixer"))
        }
        return (settings, settings.isEmpty ? text : nil)
    }

    private static func trim(_ text: Substring.UTF8View) -> String {
        let bytes = text.drop { $0 == UInt8(ascii: " ") }
        var end = bytes.endIndex
        while end > bytes.startIndex && bytes[bytes.index(before: end)] == UInt8(ascii: " ") { end = bytes.index(before: end) }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// How the setting reads in a log line, e.g. `Mic=50%`, `Speaker=-6.5dB`.
    public var summary: String {
        switch value {
        case .percent(let percent): return control + "=\(percent)%"
        case .hundredthsOfDB(let hundredths):
            let magnitude = hundredths < 0 ? -hundredths : hundredths
            let cents = magnitude % 100
            return control + "=" + (hundredths < 0 ? "-" : "") + "\(magnitude / 100)." + (cents < 10 ? "0" : "") + "\(cents)dB"
        case .raw(let number): return control + "=\(number)"
        case .on(let on): return control + (on ? "=on" : "=off")
        }
    }
}
