/// DNS names as the locator keeps them: one trailing dot dropped and ASCII
/// letters lowered (DNS compares names ignoring case, RFC 4343), so the same
/// name written two ways is looked up once and compares equal.
enum DNSName {
    static func normalized(_ name: String) -> String {
        var bytes = Array(name.utf8)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        return String(decoding: bytes.map(lowered), as: UTF8.self)
    }

    /// Whether two texts are equal ignoring ASCII case (NAPTR services and flags).
    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowered($0) == lowered($1) }
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
