/// Who is calling, as the phone's display shows it: a number and a name,
/// each either given or withheld for a reason.
public struct CallerIdentity: Equatable, Sendable {
    /// One field of the display.
    public enum Field: Equatable, Sendable {
        case shown(String)
        /// The caller asked for privacy (shown as "P", "private").
        case withheld
        /// The network does not know it (shown as "O", "out of area").
        case unavailable

        public var isShown: Bool {
            if case .shown = self { return true } else { return false }
        }
    }

    public var number: Field
    public var name: Field

    /// The longest number sent (EN 300 659-3's limit; GR-30 displays at
    /// least 10 digits): a longer one would be shown cut, a wrong number
    /// to call back, so it is sent as unavailable instead.
    public static let longestNumber = 20

    public init(number: Field, name: Field) {
        self.number = number
        self.name = name
    }

    /// Number and name both private.
    public static let anonymous = CallerIdentity(number: .withheld, name: .withheld)

    /// The digits of a number as the display takes them: a leading "+"
    /// dropped, visual separators (RFC 3966: "-", ".", "(", ")", " ")
    /// removed; nil when anything else is in it (a SIP user name such as
    /// "alice" is not a number) or nothing is left.
    public static func digits(of text: String) -> String? {
        var digits = ""
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "#"):
                digits.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "+") where index == 0:
                continue
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "):
                continue
            default:
                return nil
            }
        }
        return digits.isEmpty || digits.utf8.count > longestNumber ? nil : digits
    }
}

/// The board's local time for the display's date field.
public struct CallerIDDate: Equatable, Sendable {
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int

    public init(month: Int, day: Int, hour: Int, minute: Int) {
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// "MMDDHHMM", the field both GR-30 and EN 300 659-3 use.
    public var digits: [UInt8] {
        var out: [UInt8] = []
        for value in [month, day, hour, minute] {
            let clamped = max(0, min(99, value))
            out.append(UInt8(ascii: "0") + UInt8(clamped / 10))
            out.append(UInt8(ascii: "0") + UInt8(clamped % 10))
        }
        return out
    }
}
