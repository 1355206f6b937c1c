// SIPDigest: the `algorithm` and `qop` values of HTTP Digest
// (RFC 2617, RFC 7616 §3.3, and RFC 8760 for SIP).

/// A Digest algorithm: a hash function, plain or in its `-sess` form.
public enum DigestAlgorithm: Sendable, Equatable {
    case md5
    case md5Session
    case sha256
    case sha256Session
    case sha512_256
    case sha512_256Session

    /// The hash function under the algorithm.
    public var hash: HashFunction {
        switch self {
        case .md5, .md5Session: return .md5
        case .sha256, .sha256Session: return .sha256
        case .sha512_256, .sha512_256Session: return .sha512_256
        }
    }

    /// `-sess` variants fold the server nonce and client nonce into HA1.
    public var isSession: Bool {
        switch self {
        case .md5Session, .sha256Session, .sha512_256Session: return true
        case .md5, .sha256, .sha512_256: return false
        }
    }

    /// The token as written in headers.
    public var token: String {
        switch self {
        case .md5: return "MD5"
        case .md5Session: return "MD5-sess"
        case .sha256: return "SHA-256"
        case .sha256Session: return "SHA-256-sess"
        case .sha512_256: return "SHA-512-256"
        case .sha512_256Session: return "SHA-512-256-sess"
        }
    }

    /// Preference when a server offers several: SHA-512-256 > SHA-256 > MD5.
    /// A `-sess` variant ranks with its hash function.
    public var strength: Int {
        switch hash {
        case .md5: return 1
        case .sha256: return 2
        case .sha512_256: return 3
        }
    }

    /// Parses an `algorithm` value, ignoring ASCII case.
    public init?(token: String) {
        let bytes = ArraySlice(token.utf8)
        if ASCII.equalsIgnoringCase(bytes, "md5") { self = .md5 }
        else if ASCII.equalsIgnoringCase(bytes, "md5-sess") { self = .md5Session }
        else if ASCII.equalsIgnoringCase(bytes, "sha-256") { self = .sha256 }
        else if ASCII.equalsIgnoringCase(bytes, "sha-256-sess") { self = .sha256Session }
        else if ASCII.equalsIgnoringCase(bytes, "sha-512-256") { self = .sha512_256 }
        else if ASCII.equalsIgnoringCase(bytes, "sha-512-256-sess") { self = .sha512_256Session }
        else { return nil }
    }
}

/// A quality of protection the client can answer with.
public enum DigestQop: Sendable, Equatable {
    /// Authentication only: HA2 covers method and URI.
    case auth
    /// Authentication with integrity: HA2 also covers the hash of the body.
    case authInt

    public var token: String {
        switch self {
        case .auth: return "auth"
        case .authInt: return "auth-int"
        }
    }
}

/// The set of `qop` values a challenge offers.
public struct DigestQopOptions: Sendable, Equatable {
    public var auth: Bool
    public var authInt: Bool

    public init(auth: Bool = false, authInt: Bool = false) {
        self.auth = auth
        self.authInt = authInt
    }

    public var isEmpty: Bool { !auth && !authInt }

    public func contains(_ qop: DigestQop) -> Bool {
        switch qop {
        case .auth: return auth
        case .authInt: return authInt
        }
    }
}
