// A forward cursor over a slice, used by the header value parsers.

struct SIPScanner {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var atEnd: Bool { index >= bytes.endIndex }
    var peek: UInt8? { atEnd ? nil : bytes[index] }
    var rest: ArraySlice<UInt8> { bytes[index..<bytes.endIndex] }

    /// Skips SP, HTAB and line folds.
    mutating func skipLWS() {
        while index < bytes.endIndex && SIPByte.isLWS(bytes[index]) { index += 1 }
    }

    /// Consumes `byte` (after optional LWS) and the LWS after it.
    mutating func consume(_ byte: UInt8) -> Bool {
        let saved = index
        skipLWS()
        if peek == byte {
            index += 1
            skipLWS()
            return true
        }
        index = saved
        return false
    }

    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.endIndex && predicate(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }

    mutating func token() -> ArraySlice<UInt8>? {
        let t = take(while: SIPByte.isToken)
        return t.isEmpty ? nil : t
    }

    /// A quoted string, returned with its quotes. Nil when unterminated or absent.
    mutating func quotedString() -> ArraySlice<UInt8>? {
        guard peek == SIPByte.quote else { return nil }
        let start = index
        var i = index + 1
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == SIPByte.backslash {
                // quoted-pair: any octet 0x00-0x7F except CR and LF
                guard i + 1 < bytes.endIndex else { return nil }
                let n = bytes[i + 1]
                if n > 0x7F || n == SIPByte.cr || n == SIPByte.lf { return nil }
                i += 2
                continue
            }
            if c == SIPByte.quote {
                index = i + 1
                return bytes[start..<index]
            }
            // qdtext: LWS, visible ASCII except " and \, UTF-8 non-ASCII
            if c < 0x20 && !SIPByte.isLWS(c) { return nil }
            if c == 0x7F { return nil }
            i += 1
        }
        return nil
    }
}

/// Quoted-string helpers.
public enum SIPQuoted {
    /// The content of a quoted string without its quotes and with quoted-pairs
    /// resolved. Bytes that are not quoted are returned as they are.
    public static func unquote(_ value: ArraySlice<UInt8>) -> [UInt8] {
        guard value.count >= 2, value.first == SIPByte.quote, value.last == SIPByte.quote else {
            return Array(value)
        }
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        var i = value.startIndex + 1
        let end = value.endIndex - 1
        while i < end {
            if value[i] == SIPByte.backslash && i + 1 < end {
                out.append(value[i + 1])
                i += 2
            } else {
                out.append(value[i])
                i += 1
            }
        }
        return out
    }

    /// `text` as a quoted string, escaping `"` and `\`.
    public static func quote(_ text: String) -> String {
        var out: [UInt8] = [SIPByte.quote]
        for c in text.utf8 {
            if c == SIPByte.quote || c == SIPByte.backslash { out.append(SIPByte.backslash) }
            if c == SIPByte.cr || c == SIPByte.lf { continue }
            out.append(c)
        }
        out.append(SIPByte.quote)
        return String(decoding: out, as: UTF8.self)
    }
}
