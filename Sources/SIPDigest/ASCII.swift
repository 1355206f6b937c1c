// SIPDigest: byte-level helpers. Everything here is ASCII-only on purpose:
// Embedded Swift has no Unicode case mapping without extra tables, and the
// Digest grammar is ASCII anyway.

enum ASCII {
    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Case-insensitive comparison of `bytes` with a lowercase ASCII literal.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { literal in
            var index = 0
            for byte in bytes {
                if lower(byte) != literal[index] { return false }
                index += 1
            }
            return true
        }
    }

    static func equalsIgnoringCase(_ text: String, _ lowercase: StaticString) -> Bool {
        equalsIgnoringCase(ArraySlice(text.utf8), lowercase)
    }

    static func lowercased(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for index in bytes.indices { bytes[index] = lower(bytes[index]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 7230 tchar.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
             UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Spaces, tabs, and the CR LF of folded header lines.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}
