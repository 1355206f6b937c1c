/// The DTMF event codes of RFC 4733 §3.2: 0-9 the digits, 10 '*', 11 '#',
/// 12-15 'A'-'D'. The line side speaks in key characters, RTP in codes.
public enum TelephoneEventCode {
    /// The code of a DTMF key, nil for anything else. 'a'-'d' are accepted
    /// as 'A'-'D'.
    public static func code(for key: Character) -> UInt8? {
        switch key {
        case "0": return 0
        case "1": return 1
        case "2": return 2
        case "3": return 3
        case "4": return 4
        case "5": return 5
        case "6": return 6
        case "7": return 7
        case "8": return 8
        case "9": return 9
        case "*": return 10
        case "#": return 11
        case "A", "a": return 12
        case "B", "b": return 13
        case "C", "c": return 14
        case "D", "d": return 15
        default: return nil
        }
    }

    /// The DTMF key of a code, nil for codes above 15 (not DTMF).
    public static func key(for code: UInt8) -> Character? {
        switch code {
        case 0...9: return Character(Unicode.Scalar(UInt8(ascii: "0") + code))
        case 10: return "*"
        case 11: return "#"
        case 12...15: return Character(Unicode.Scalar(UInt8(ascii: "A") + code - 12))
        default: return nil
        }
    }
}
