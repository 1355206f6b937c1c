/// One of the sixteen DTMF keys (ITU-T Q.23), with its two frequencies.
///
/// The raw value is the key's ASCII character, which is also what spandsp's
/// DTMF functions and RFC 4733 event names use.
public enum DTMFDigit: UInt8, CaseIterable, Sendable {
    case d1 = 0x31, d2 = 0x32, d3 = 0x33, a = 0x41
    case d4 = 0x34, d5 = 0x35, d6 = 0x36, b = 0x42
    case d7 = 0x37, d8 = 0x38, d9 = 0x39, c = 0x43
    case star = 0x2A, d0 = 0x30, pound = 0x23, d = 0x44

    /// The low-group (row) frequencies, Hz.
    public static let rowFrequencies: [Double] = [697, 770, 852, 941]
    /// The high-group (column) frequencies, Hz.
    public static let columnFrequencies: [Double] = [1209, 1336, 1477, 1633]

    /// The key for an ASCII character ("0"–"9", "*", "#", "A"–"D", or
    /// lower-case "a"–"d"), or nil.
    public init?(ascii: UInt8) {
        let upper = (ascii >= 0x61 && ascii <= 0x64) ? ascii - 0x20 : ascii
        self.init(rawValue: upper)
    }

    public var ascii: UInt8 { rawValue }

    public var character: Character { Character(Unicode.Scalar(rawValue)) }

    /// Keypad row 0…3 (697, 770, 852, 941 Hz).
    public var row: Int {
        switch self {
        case .d1, .d2, .d3, .a: return 0
        case .d4, .d5, .d6, .b: return 1
        case .d7, .d8, .d9, .c: return 2
        case .star, .d0, .pound, .d: return 3
        }
    }

    /// Keypad column 0…3 (1209, 1336, 1477, 1633 Hz).
    public var column: Int {
        switch self {
        case .d1, .d4, .d7, .star: return 0
        case .d2, .d5, .d8, .d0: return 1
        case .d3, .d6, .d9, .pound: return 2
        case .a, .b, .c, .d: return 3
        }
    }

    public var lowFrequency: Double { DTMFDigit.rowFrequencies[row] }
    public var highFrequency: Double { DTMFDigit.columnFrequencies[column] }
}
