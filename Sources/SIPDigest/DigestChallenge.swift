// SIPDigest: one Digest challenge, from a WWW-Authenticate (401) or
// Proxy-Authenticate (407) header value.

/// A parsed Digest challenge (RFC 7616 §3.3, RFC 3261 §22.4, RFC 8760).
public struct DigestChallenge: Sendable, Equatable {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    /// `algorithm`, MD5 when absent.
    public var algorithm: DigestAlgorithm
    /// Whether the challenge named its algorithm (answers echo it either way).
    public var algorithmGiven: Bool
    /// The `qop` options offered; empty for an RFC 2069-style challenge.
    public var qop: DigestQopOptions
    /// `stale=true`: the nonce expired, the credentials were fine.
    public var stale: Bool
    /// `domain`: the protection space as URIs (space-separated in the header).
    public var domain: [String]
    /// `userhash=true`: the server accepts a hashed username (RFC 7616 §3.4.4).
    public var userhash: Bool
    /// `charset=UTF-8` (RFC 7616 §3.3).
    public var charsetUTF8: Bool

    public init(realm: String, nonce: String, opaque: String? = nil,
                algorithm: DigestAlgorithm = .md5, algorithmGiven: Bool = false,
                qop: DigestQopOptions = DigestQopOptions(), stale: Bool = false,
                domain: [String] = [], userhash: Bool = false, charsetUTF8: Bool = false) {
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.algorithmGiven = algorithmGiven
        self.qop = qop
        self.stale = stale
        self.domain = domain
        self.userhash = userhash
        self.charsetUTF8 = charsetUTF8
    }

    /// All challenges in one header value, each parsed or refused.
    /// Non-Digest challenges come back as `.unsupportedScheme`. A value that
    /// breaks the grammar gives one `.malformed` entry.
    public static func parseEach(_ headerValue: String) -> [DigestChallengeResult] {
        let raw: [RawChallenge]
        do {
            raw = try ChallengeScanner.scan(headerValue)
        } catch {
            return [.refused(error)]
        }
        if raw.isEmpty { return [.refused(.empty)] }
        var results: [DigestChallengeResult] = []
        for challenge in raw {
            do {
                results.append(.parsed(try DigestChallenge(raw: challenge)))
            } catch {
                results.append(.refused(error))
            }
        }
        return results
    }

    /// The one challenge to answer among all header lines of a response:
    /// the strongest supported algorithm (SHA-512-256 > SHA-256 > MD5); among
    /// equals, the first offered. With no usable Digest challenge, throws the
    /// most telling refusal (a broken Digest challenge before a foreign scheme).
    public static func strongest(in headerValues: [String]) throws(DigestChallengeError) -> DigestChallenge {
        var best: DigestChallenge? = nil
        var refusal: DigestChallengeError? = nil
        for value in headerValues {
            for result in parseEach(value) {
                switch result {
                case .parsed(let challenge):
                    if best == nil || challenge.algorithm.strength > best!.algorithm.strength {
                        best = challenge
                    }
                case .refused(let error):
                    refusal = moreTelling(refusal, error)
                }
            }
        }
        if let best { return best }
        throw refusal ?? .empty
    }

    /// Parses a header value holding one Digest challenge (or several, of
    /// which the strongest is taken).
    public static func parse(_ headerValue: String) throws(DigestChallengeError) -> DigestChallenge {
        try strongest(in: [headerValue])
    }

    static func moreTelling(_ current: DigestChallengeError?, _ new: DigestChallengeError) -> DigestChallengeError {
        guard let current else { return new }
        func rank(_ error: DigestChallengeError) -> Int {
            switch error {
            case .empty: return 0
            case .unsupportedScheme: return 1
            default: return 2
            }
        }
        return rank(new) > rank(current) ? new : current
    }

    init(raw: RawChallenge) throws(DigestChallengeError) {
        guard ASCII.equalsIgnoringCase(raw.scheme, "digest") else {
            throw .unsupportedScheme(raw.scheme)
        }
        var realm: String? = nil
        var nonce: String? = nil
        var opaque: String? = nil
        var algorithm = DigestAlgorithm.md5
        var algorithmGiven = false
        var qop = DigestQopOptions()
        var qopGiven = false
        var stale = false
        var domain: [String] = []
        var userhash = false
        var charsetUTF8 = false

        var seen: [String] = []
        for parameter in raw.parameters {
            if seen.contains(parameter.name) { throw .duplicateParameter(parameter.name) }
            seen.append(parameter.name)
            let value = parameter.value
            switch parameter.name {
            case "realm":
                realm = value
            case "nonce":
                nonce = value
            case "opaque":
                opaque = value
            case "algorithm":
                guard let parsed = DigestAlgorithm(token: value) else {
                    throw .unsupportedAlgorithm(value)
                }
                algorithm = parsed
                algorithmGiven = true
            case "qop":
                qopGiven = true
                qop = Self.qopOptions(value)
                if qop.isEmpty { throw .unsupportedQop(value) }
            case "stale":
                stale = ASCII.equalsIgnoringCase(value, "true")
            case "domain":
                domain = Self.split(value, separator: { ASCII.isSpace($0) })
            case "userhash":
                userhash = ASCII.equalsIgnoringCase(value, "true")
            case "charset":
                charsetUTF8 = ASCII.equalsIgnoringCase(value, "utf-8")
            default:
                break  // RFC 7616 §3.3: unknown parameters are ignored.
            }
        }
        guard let realm else { throw .missingRealm }
        guard let nonce else { throw .missingNonce }
        if algorithm.isSession && !qopGiven { throw .sessionAlgorithmWithoutQop }
        self.init(realm: realm, nonce: nonce, opaque: opaque, algorithm: algorithm,
                  algorithmGiven: algorithmGiven, qop: qop, stale: stale, domain: domain,
                  userhash: userhash, charsetUTF8: charsetUTF8)
    }

    /// `qop="auth,auth-int"`: a comma list (spaces allowed); unknown options
    /// such as `auth-conf` are skipped.
    static func qopOptions(_ value: String) -> DigestQopOptions {
        var options = DigestQopOptions()
        for item in split(value, separator: { $0 == UInt8(ascii: ",") || ASCII.isSpace($0) }) {
            if ASCII.equalsIgnoringCase(item, "auth") { options.auth = true }
            else if ASCII.equalsIgnoringCase(item, "auth-int") { options.authInt = true }
        }
        return options
    }

    static func split(_ value: String, separator: (UInt8) -> Bool) -> [String] {
        var parts: [String] = []
        let bytes = Array(value.utf8)
        var start = 0
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || separator(bytes[index]) {
                if index > start { parts.append(String(decoding: bytes[start..<index], as: UTF8.self)) }
                start = index + 1
            }
            index += 1
        }
        return parts
    }
}

/// One challenge of a header value: parsed, or refused with the reason.
public enum DigestChallengeResult: Sendable, Equatable {
    case parsed(DigestChallenge)
    case refused(DigestChallengeError)
}
