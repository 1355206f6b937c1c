// SIPDigest: the answer to one challenge, for one request.
//
//   A1  = username ":" realm ":" password
//         (-sess: H(username ":" realm ":" password) ":" nonce ":" cnonce)
//   A2  = method ":" digest-uri        (auth-int: ... ":" H(entity-body))
//   response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
//              or, without qop (RFC 2069), H(H(A1) ":" nonce ":" H(A2))
//
// (RFC 2617 §3.2.2, RFC 7616 §3.4.) In SIP, digest-uri is the Request-URI
// and the entity body is the message body (RFC 3261 §22.4).

import CompactText

/// A computed Authorization / Proxy-Authorization value.
public struct DigestAuthorization: Sendable, Equatable {
    /// The username as sent: plain, or H(username ":" realm) with userhash.
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: DigestAlgorithm
    public var cnonce: String?
    public var opaque: String?
    public var qop: DigestQop?
    public var nonceCount: UInt32?
    public var userhash: Bool
    /// Send the username as RFC 7616 `username*` (non-ASCII, charset=UTF-8).
    public var extendedUsername: Bool

    /// Answers `challenge` for one request.
    ///
    /// - `qop`: which protection to use; must be one the challenge offers,
    ///   and nil exactly when the challenge offers none.
    /// - `nonceCount` and `cnonce`: required with a qop, ignored without.
    public static func compute(challenge: DigestChallenge,
                               username plainUsername: String, password: String,
                               method: String, uri: String, body: [UInt8] = [],
                               qop: DigestQop?, nonceCount: UInt32, cnonce: String) -> DigestAuthorization {
        let hash = challenge.algorithm.hash
        let realm = challenge.realm
        let nonce = challenge.nonce

        var ha1 = Hash.hex(hash, joining: plainUsername, realm, password)
        if challenge.algorithm.isSession {
            ha1 = Hash.hex(hash, joining: ha1, nonce, cnonce)
        }
        let ha2: String
        if qop == .authInt {
            ha2 = Hash.hex(hash, joining: method, uri, Hash.hex(hash, bytes: body))
        } else {
            ha2 = Hash.hex(hash, joining: method, uri)
        }
        let response: String
        let count = Hex.eightDigits(nonceCount)
        if let qop {
            response = Hash.hex(hash, joining: ha1, nonce, count, cnonce, qop.token, ha2)
        } else {
            response = Hash.hex(hash, joining: ha1, nonce, ha2)
        }

        var username = plainUsername
        var extended = false
        if challenge.userhash {
            username = Hash.hex(hash, joining: plainUsername, realm)
        } else if challenge.charsetUTF8 && !isASCII(plainUsername) {
            extended = true
        }
        return DigestAuthorization(
            username: username, realm: realm, nonce: nonce, uri: uri, response: response,
            algorithm: challenge.algorithm,
            cnonce: qop == nil ? nil : cnonce,
            opaque: challenge.opaque, qop: qop,
            nonceCount: qop == nil ? nil : nonceCount,
            userhash: challenge.userhash, extendedUsername: extended)
    }

    /// The header value: `Digest username="...", ...`. Quoted-string
    /// parameters are username, realm, nonce, uri, response, cnonce, opaque;
    /// algorithm, qop, nc and userhash go unquoted (RFC 3261 §25.1,
    /// RFC 7616 §3.4).
    public var headerValue: String {
        var out = "Digest "
        if extendedUsername {
            out += "username*=UTF-8''"
            out += Self.percentEncoded(username)
        } else {
            Self.append(&out, "username", quoted: username)
        }
        out += ", "
        Self.append(&out, "realm", quoted: realm)
        out += ", "
        Self.append(&out, "nonce", quoted: nonce)
        out += ", "
        Self.append(&out, "uri", quoted: uri)
        out += ", "
        Self.append(&out, "response", quoted: response)
        out += ", algorithm="
        out += algorithm.token
        if let cnonce {
            out += ", "
            Self.append(&out, "cnonce", quoted: cnonce)
        }
        if let opaque {
            out += ", "
            Self.append(&out, "opaque", quoted: opaque)
        }
        if let qop {
            out += ", qop="
            out += qop.token
        }
        if let nonceCount {
            out += ", nc="
            out += Hex.eightDigits(nonceCount)
        }
        if userhash {
            out += ", userhash=true"
        }
        return out
    }

    static func append(_ out: inout String, _ name: String, quoted value: String) {
        out += name
        out += "=\""
        var needsEscape = false
        for byte in value.utf8 where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            needsEscape = true
        }
        if needsEscape {
            var bytes: [UInt8] = []
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    bytes.append(UInt8(ascii: "\\"))
                }
                bytes.append(byte)
            }
            out += String(decoding: bytes, as: UTF8.self)
        } else {
            out += value
        }
        out += "\""
    }

    static func isASCII(_ text: String) -> Bool {
        for byte in text.utf8 where byte >= 0x80 { return false }
        return true
    }

    /// RFC 8187 value-chars: attr-char stays, everything else is %XX.
    static func percentEncoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        let upper: StaticString = "0123456789ABCDEF"
        for byte in text.utf8 {
            let isAttrChar: Bool
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"),
                 UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"),
                 UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                isAttrChar = true
            default:
                isAttrChar = false
            }
            if isAttrChar {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                upper.withUTF8Buffer { table in
                    bytes.append(table[Int(byte >> 4)])
                    bytes.append(table[Int(byte & 0x0f)])
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
