// Small helpers over the slices a parsed message hands out.

/// A view into a message's bytes. Slices share the message's buffer: no copy.
public typealias SIPBytes = ArraySlice<UInt8>

extension ArraySlice where Element == UInt8 {
    /// The bytes as text (invalid UTF-8 is repaired with U+FFFD).
    public var sipText: String { String(decoding: self, as: UTF8.self) }

    /// The bytes as text with every run of linear white space that contains a
    /// line fold (CRLF followed by SP/HTAB) replaced by one SP, as RFC 3261 §7.3.1 says.
    public var unfoldedText: String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = startIndex
        while i < endIndex {
            let c = self[i]
            if SIPByte.isLWS(c) {
                var j = i
                var folded = false
                while j < endIndex && SIPByte.isLWS(self[j]) {
                    if self[j] == SIPByte.cr || self[j] == SIPByte.lf { folded = true }
                    j += 1
                }
                if folded { out.append(SIPByte.sp) } else { out.append(contentsOf: self[i..<j]) }
                i = j
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// ASCII case-insensitive comparison with a string.
    public func equalsIgnoringCase(_ text: String) -> Bool {
        var i = startIndex
        for c in text.utf8 {
            if i == endIndex || SIPByte.lower(self[i]) != SIPByte.lower(c) { return false }
            i += 1
        }
        return i == endIndex
    }

    /// Exact (case-sensitive) comparison with a string.
    public func equals(_ text: String) -> Bool {
        var i = startIndex
        for c in text.utf8 {
            if i == endIndex || self[i] != c { return false }
            i += 1
        }
        return i == endIndex
    }

    func equalsIgnoringCase(_ other: ArraySlice<UInt8>) -> Bool {
        if count != other.count { return false }
        var j = other.startIndex
        for c in self {
            if SIPByte.lower(c) != SIPByte.lower(other[j]) { return false }
            j += 1
        }
        return true
    }

    /// The slice without leading and trailing SP, HTAB, CR and LF.
    public var trimmingLWS: ArraySlice<UInt8> {
        var s = startIndex
        var e = endIndex
        while s < e && SIPByte.isLWS(self[s]) { s += 1 }
        while e > s && SIPByte.isLWS(self[e - 1]) { e -= 1 }
        return self[s..<e]
    }

    var containsLWS: Bool {
        for c in self where SIPByte.isLWS(c) { return true }
        return false
    }

    var isToken: Bool {
        if isEmpty { return false }
        for c in self where !SIPByte.isToken(c) { return false }
        return true
    }

    /// A non-empty run of decimal digits whose value is at most `limit`.
    /// Long runs of digits are handled without overflow (leading zeros are fine).
    func decimalValue(limit: UInt64) -> UInt64? {
        if isEmpty { return nil }
        var value: UInt64 = 0
        for c in self {
            guard SIPByte.isDigit(c) else { return nil }
            let d = UInt64(c - 48)
            if value > (limit - d) / 10 { return nil }
            value = value * 10 + d
        }
        return value
    }

    /// Splits on `separator` where it is outside quoted strings and `<...>`.
    /// Elements are trimmed of linear white space; empty elements are kept.
    public func splitOutsideQuotes(_ separator: UInt8) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var inQuotes = false
        var inAngle = false
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            let c = self[i]
            if inQuotes {
                if c == SIPByte.backslash { i += 1 } else if c == SIPByte.quote { inQuotes = false }
            } else if c == SIPByte.quote {
                inQuotes = true
            } else if c == SIPByte.lessThan {
                inAngle = true
            } else if c == SIPByte.greaterThan {
                inAngle = false
            } else if c == separator && !inAngle {
                parts.append(self[start..<i].trimmingLWS)
                start = i + 1
            }
            i += 1
        }
        parts.append(self[start..<Swift.min(i, endIndex)].trimmingLWS)
        return parts
    }

    func firstIndex(of byte: UInt8, from: Int) -> Int? {
        var i = from
        while i < endIndex {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }
}
