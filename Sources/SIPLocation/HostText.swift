/// What a configured host is: an address to use as it stands, or a name to
/// look up. The config has already checked the syntax, so this only sorts.
enum HostText: Equatable {
    /// An IPv4 or IPv6 address, brackets removed.
    case address(String)
    /// A DNS name in the form queries and comparisons use (see `DNSName`).
    case name(String)

    init(_ text: String) {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"), bytes.count > 2 {
            self = .address(String(decoding: bytes[1..<(bytes.count - 1)], as: UTF8.self))
        } else if bytes.contains(UInt8(ascii: ":")) {
            // A DNS name never holds a colon.
            self = .address(text)
        } else if HostText.isIPv4(bytes) {
            self = .address(text)
        } else {
            self = .name(DNSName.normalized(text))
        }
    }

    /// Four dotted decimal numbers up to 255.
    static func isIPv4(_ bytes: [UInt8]) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 3 else { return false }
            var value = 0
            for byte in part {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            guard value <= 255 else { return false }
        }
        return true
    }
}
