/// How pulse counts map to digits. Most of the world sends N pulses for
/// digit N and 10 for 0; Sweden sends N+1 (0 is one pulse); New Zealand
/// sends 10-N (0 is ten pulses).
public enum PulseMapping: String, Sendable {
    case standard, sweden, newZealand

    /// From the config's `pulse_mapping` value.
    public init?(settingName: String) {
        switch settingName {
        case "standard": self = .standard
        case "sweden": self = .sweden
        case "new-zealand": self = .newZealand
        default: return nil
        }
    }

    /// The mapping a country's exchanges used (ISO code as in `country`).
    public static func usual(inCountry country: String) -> PulseMapping {
        switch country {
        case "se": return .sweden
        case "nz": return .newZealand
        default: return .standard
        }
    }

    /// The digit for a pulse count, or nil when the count is not a digit.
    public func digit(forPulses count: Int) -> Character? {
        let value: Int
        switch self {
        case .standard:
            guard (1...10).contains(count) else { return nil }
            value = count % 10
        case .sweden:
            guard (1...10).contains(count) else { return nil }
            value = count - 1
        case .newZealand:
            guard (1...10).contains(count) else { return nil }
            value = (10 - count) % 10
        }
        return Character(Unicode.Scalar(UInt8(ascii: "0") + UInt8(value)))
    }

    /// The pulse count that sends a digit (the inverse of `digit`).
    public func pulses(for digit: Character) -> Int? {
        guard let ascii = digit.asciiValue, ascii >= UInt8(ascii: "0"), ascii <= UInt8(ascii: "9") else { return nil }
        let value = Int(ascii - UInt8(ascii: "0"))
        switch self {
        case .standard: return value == 0 ? 10 : value
        case .sweden: return value + 1
        case .newZealand: return 10 - value
        }
    }
}
