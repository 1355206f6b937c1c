// Character classes of RFC 3261 §25.1, over single octets.

enum SIPByte {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59
    static let comma: UInt8 = 44
    static let equals: UInt8 = 61
    static let quote: UInt8 = 34
    static let backslash: UInt8 = 92
    static let lessThan: UInt8 = 60
    static let greaterThan: UInt8 = 62
    static let at: UInt8 = 64
    static let question: UInt8 = 63
    static let slash: UInt8 = 47
    static let percent: UInt8 = 37
    static let openBracket: UInt8 = 91
    static let closeBracket: UInt8 = 93
    static let ampersand: UInt8 = 38

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }

    /// SP or HTAB.
    @inline(__always) static func isWS(_ c: UInt8) -> Bool { c == sp || c == tab }

    /// Any octet that can be part of linear white space, folding included.
    @inline(__always) static func isLWS(_ c: UInt8) -> Bool { c == sp || c == tab || c == cr || c == lf }

    /// `token` characters: alphanum and `-.!%*_+`'~`.
    static func isToken(_ c: UInt8) -> Bool {
        if isAlnum(c) { return true }
        switch c {
        case 45, 46, 33, 37, 42, 95, 43, 96, 39, 126: return true
        default: return false
        }
    }

    /// `mark` characters of `unreserved`: `-_.!~*'()`.
    static func isMark(_ c: UInt8) -> Bool {
        switch c {
        case 45, 95, 46, 33, 126, 42, 39, 40, 41: return true
        default: return false
        }
    }

    static func isUnreserved(_ c: UInt8) -> Bool { isAlnum(c) || isMark(c) }

    /// Characters of a URI `user` besides unreserved and escapes: `&=+$,;?/`.
    static func isUserUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case 38, 61, 43, 36, 44, 59, 63, 47: return true
        default: return false
        }
    }

    /// Characters of a URI `password` besides unreserved and escapes: `&=+$,`.
    static func isPasswordExtra(_ c: UInt8) -> Bool {
        switch c {
        case 38, 61, 43, 36, 44: return true
        default: return false
        }
    }

    /// `paramchar` of a URI parameter, escapes aside: unreserved and `[]/:&+$`.
    static func isParamChar(_ c: UInt8) -> Bool {
        if isUnreserved(c) { return true }
        switch c {
        case 91, 93, 47, 58, 38, 43, 36: return true
        default: return false
        }
    }

    /// `hname`/`hvalue` characters of URI headers, escapes aside: unreserved and `[]/?:+$`.
    static func isHeaderChar(_ c: UInt8) -> Bool {
        if isUnreserved(c) { return true }
        switch c {
        case 91, 93, 47, 63, 58, 43, 36: return true
        default: return false
        }
    }

    /// `word` characters (Call-ID): token characters plus `()<>:\"/[]?{}`.
    static func isWord(_ c: UInt8) -> Bool {
        if isToken(c) { return true }
        switch c {
        case 40, 41, 60, 62, 58, 92, 34, 47, 91, 93, 63, 123, 125: return true
        default: return false
        }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 {
        (c >= 65 && c <= 90) ? c + 32 : c
    }
}
