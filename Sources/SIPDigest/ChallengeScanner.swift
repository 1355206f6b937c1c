import CompactText

// SIPDigest: the generic challenge grammar of RFC 7235 §2.1 / RFC 3261 §25,
// independent of the scheme:
//
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
//
// One header value may carry several comma-separated challenges; an element
// after a comma is a parameter when it reads `name =`, and a new challenge
// otherwise. Unquoted values are read leniently (up to the next comma or
// space) because servers send base64 nonces without quotes.

struct AuthParameter: Equatable {
    /// Lowercased: parameter names are case-insensitive.
    var name: String
    var value: String
}

struct RawChallenge: Equatable {
    var scheme: String
    var parameters: [AuthParameter] = []
    var token68: String? = nil
}

struct ChallengeScanner {
    private let bytes: [UInt8]
    private var position = 0

    private init(_ value: String) {
        bytes = Array(value.utf8)
    }

    static func scan(_ value: String) throws(DigestChallengeError) -> [RawChallenge] {
        var scanner = ChallengeScanner(value)
        return try scanner.challenges()
    }

    private var atEnd: Bool { position >= bytes.count }
    private var peek: UInt8 { bytes[position] }

    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = position
        while !atEnd && ASCII.isSpace(peek) { position += 1 }
        return position > start
    }

    private mutating func skipSpacesAndCommas() {
        while !atEnd && (ASCII.isSpace(peek) || peek == UInt8(ascii: ",")) { position += 1 }
    }

    private func failure(_ expected: String) -> DigestChallengeError {
        .malformed(offset: position, expected: expected)
    }

    private mutating func challenges() throws(DigestChallengeError) -> [RawChallenge] {
        var result: [RawChallenge] = []
        skipSpacesAndCommas()
        while !atEnd {
            let scheme = try token("authentication scheme")
            var challenge = RawChallenge(scheme: scheme)
            let spaced = skipSpaces()
            if !atEnd && peek != UInt8(ascii: ",") {
                guard spaced else { throw failure("space after authentication scheme") }
                // Digest takes parameters only: `realm=,` is then an empty
                // value, not the token68 "realm=".
                if !ASCII.equalsIgnoringCase(scheme, "digest"), let token68 = token68() {
                    challenge.token68 = token68
                } else {
                    try parameter(into: &challenge)
                }
            }
            while true {
                skipSpaces()
                if atEnd { break }
                guard peek == UInt8(ascii: ",") else { throw failure("comma") }
                skipSpacesAndCommas()
                if atEnd || !startsParameter() { break }
                try parameter(into: &challenge)
            }
            result.append(challenge)
        }
        return result
    }

    private mutating func token(_ what: String) throws(DigestChallengeError) -> String {
        let start = position
        while !atEnd && ASCII.isTokenChar(peek) { position += 1 }
        guard position > start else { throw failure(what) }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// After a comma: does `name =` follow (a parameter), rather than a scheme?
    private func startsParameter() -> Bool {
        var index = position
        while index < bytes.count && ASCII.isTokenChar(bytes[index]) { index += 1 }
        if index == position { return true }  // junk: let `parameter` report it
        while index < bytes.count && ASCII.isSpace(bytes[index]) { index += 1 }
        return index < bytes.count && bytes[index] == UInt8(ascii: "=")
    }

    /// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=",
    /// standing alone up to a comma or the end. Consumed only if it matches.
    private mutating func token68() -> String? {
        var index = position
        while index < bytes.count && Self.isToken68Char(bytes[index]) { index += 1 }
        guard index > position else { return nil }
        while index < bytes.count && bytes[index] == UInt8(ascii: "=") { index += 1 }
        var end = index
        while end < bytes.count && ASCII.isSpace(bytes[end]) { end += 1 }
        guard end == bytes.count || bytes[end] == UInt8(ascii: ",") else { return nil }
        let text = String(decoding: bytes[position..<index], as: UTF8.self)
        position = index
        return text
    }

    private static func isToken68Char(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    private mutating func parameter(into challenge: inout RawChallenge) throws(DigestChallengeError) {
        let name = try token("parameter name")
        skipSpaces()
        guard !atEnd && peek == UInt8(ascii: "=") else { throw failure("\"=\" after \(name)") }
        position += 1
        skipSpaces()
        let value: String
        if !atEnd && peek == UInt8(ascii: "\"") {
            value = try quotedString()
        } else {
            let start = position
            while !atEnd && !ASCII.isSpace(peek) && peek != UInt8(ascii: ",")
                    && peek != UInt8(ascii: "\"") {
                position += 1
            }
            guard position > start else { throw failure("value for \(name)") }
            value = String(decoding: bytes[start..<position], as: UTF8.self)
        }
        challenge.parameters.append(AuthParameter(name: ASCII.lowercased(name), value: value))
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; returns the
    /// content with quoted-pairs resolved.
    private mutating func quotedString() throws(DigestChallengeError) -> String {
        position += 1  // opening quote
        var content: [UInt8] = []
        while true {
            guard !atEnd else { throw failure("closing quote") }
            let byte = peek
            position += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                guard !atEnd else { throw failure("character after backslash") }
                content.append(peek)
                position += 1
            } else {
                content.append(byte)
            }
        }
        return String(decoding: content, as: UTF8.self)
    }
}
