/// The sixteen keys a phone can send: `0`-`9` are symbols 0-9, `*` is 10,
/// `#` is 11 and `A`-`D` are 12-15. A set of keys is a `UInt16` bit mask.
enum DialSymbol {
    static let star: UInt8 = 10
    static let hash: UInt8 = 11
    static let allDigits: UInt16 = 0x03FF

    /// The symbol of an ASCII byte (`a`-`d` as `A`-`D`), or nil.
    @inline(__always)
    static func of(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "*"): return star
        case UInt8(ascii: "#"): return hash
        case UInt8(ascii: "A")...UInt8(ascii: "D"): return byte &- UInt8(ascii: "A") &+ 12
        case UInt8(ascii: "a")...UInt8(ascii: "d"): return byte &- UInt8(ascii: "a") &+ 12
        default: return nil
        }
    }

    /// The ASCII byte that stands for a symbol (letters upper case).
    @inline(__always)
    static func ascii(_ symbol: UInt8) -> UInt8 {
        switch symbol {
        case 0...9: return UInt8(ascii: "0") &+ symbol
        case star: return UInt8(ascii: "*")
        case hash: return UInt8(ascii: "#")
        default: return UInt8(ascii: "A") &+ (symbol &- 12)
        }
    }

    static func isDigit(_ symbol: UInt8) -> Bool { symbol <= 9 }
    static func isLetter(_ symbol: UInt8) -> Bool { symbol >= 12 }
}
