// %HH escapes in URIs (RFC 3261 §19.1.2, RFC 3986 §2.1).

public enum SIPPercent {
    /// Every `%` starts a well-formed escape and every other byte passes `allowing`.
    static func isValid(_ bytes: SIPBytes, allowing: (UInt8) -> Bool) -> Bool {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == SIPByte.percent {
                guard i + 2 < bytes.endIndex,
                      SIPByte.hexValue(bytes[i + 1]) != nil, SIPByte.hexValue(bytes[i + 2]) != nil else { return false }
                i += 3
                continue
            }
            if !allowing(c) { return false }
            i += 1
        }
        return true
    }

    /// A URI's user part as it must be written: bytes other than unreserved
    /// and `&=+$,;?/` become %HH, so a dialed `#` travels as `%23` (RFC 3261
    /// §19.1.2, §25.1).
    public static func encodeUser(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in text.utf8 {
            if SIPByte.isUnreserved(c) || SIPByte.isUserUnreserved(c) {
                out.append(c)
            } else {
                out += [SIPByte.percent, hex[Int(c >> 4)], hex[Int(c & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Resolves %HH escapes. `%00` becomes a NUL byte; a `%` that does not start
    /// a valid escape is kept as it is.
    public static func decode(_ bytes: SIPBytes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == SIPByte.percent, i + 2 < bytes.endIndex,
               let hi = SIPByte.hexValue(bytes[i + 1]), let lo = SIPByte.hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// Escapes every byte outside `keeping` as %HH.
    static func encode(_ bytes: SIPBytes, keeping: (UInt8) -> Bool) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in bytes {
            if keeping(c) {
                out.append(c)
            } else {
                out.append(SIPByte.percent)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Escapes the value of a header carried inside a URI (`?Replaces=...`,
    /// RFC 3261 §19.1.1): only unreserved characters stay.
    public static func encodeHeaderValue(_ text: String) -> String {
        encode(Array(text.utf8)[...], keeping: SIPByte.isUnreserved)
    }

    /// Escapes a URI user part (unreserved and user-unreserved characters stay).
    public static func encodeUser(_ user: [UInt8]) -> String {
        encode(user[...]) { SIPByte.isUnreserved($0) || SIPByte.isUserUnreserved($0) }
    }
}
