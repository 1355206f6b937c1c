import CompactText

// SIPDigest: why a challenge header cannot be answered.

/// Why a `WWW-Authenticate` / `Proxy-Authenticate` value yields no usable
/// Digest challenge. Each case names one thing to fix or log.
public enum DigestChallengeError: Error, Sendable, Equatable {
    /// The value holds no challenge at all.
    case empty
    /// Only challenges of other schemes (Basic, Bearer, ...): try another header.
    case unsupportedScheme(String)
    /// The value breaks the header grammar at this byte offset.
    case malformed(offset: Int, expected: String)
    /// A parameter appears twice in one challenge (RFC 7235 §2.1 forbids it).
    case duplicateParameter(String)
    case missingRealm
    case missingNonce
    /// An `algorithm` we do not implement (for example SHA-512-256-sess is
    /// implemented, but a made-up name is not).
    case unsupportedAlgorithm(String)
    /// `qop` was given but names no option we implement (only `auth-conf`, say).
    case unsupportedQop(String)
    /// A `-sess` algorithm needs a cnonce, which only exists with `qop`.
    case sessionAlgorithmWithoutQop

    /// One line for logs.
    public var text: String {
        switch self {
        case .empty:
            return "no authentication challenge"
        case .unsupportedScheme(let scheme):
            return "unsupported authentication scheme \"\(scheme)\""
        case .malformed(let offset, let expected):
            return "malformed challenge at byte \(offset): expected \(expected)"
        case .duplicateParameter(let name):
            return "parameter \"\(name)\" given twice"
        case .missingRealm:
            return "Digest challenge without realm"
        case .missingNonce:
            return "Digest challenge without nonce"
        case .unsupportedAlgorithm(let name):
            return "unsupported Digest algorithm \"\(name)\""
        case .unsupportedQop(let value):
            return "no supported qop in \"\(value)\""
        case .sessionAlgorithmWithoutQop:
            return "-sess algorithm offered without qop"
        }
    }
}
