// SIPDigest: the hash functions HTTP Digest uses, over OpenSSL's EVP interface.
import COpenSSL

/// A hash function named by an HTTP Digest `algorithm` (RFC 7616 §6.1).
public enum HashFunction: Sendable, Equatable {
    case md5
    case sha256
    /// SHA-512/256: SHA-512 with its own initial values, cut to 256 bits.
    case sha512_256

    /// Length of the binary digest in bytes.
    public var digestLength: Int {
        switch self {
        case .md5: return 16
        case .sha256, .sha512_256: return 32
        }
    }

    var evp: OpaquePointer? {
        switch self {
        case .md5: return EVP_md5()
        case .sha256: return EVP_sha256()
        case .sha512_256: return EVP_sha512_256()
        }
    }
}

/// One running hash computation. Feed it with `update`, then `finalizeHex()`.
///
/// The EVP context is freed when the value goes away; the only Swift
/// allocation is the hex string that `finalizeHex()` returns.
public struct Hash: ~Copyable {
    public let function: HashFunction
    private let context: OpaquePointer

    public init(_ function: HashFunction) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("SIPDigest: EVP_MD_CTX_new failed")
        }
        guard EVP_DigestInit_ex(context, function.evp, nil) == 1 else {
            EVP_MD_CTX_free(context)
            fatalError("SIPDigest: EVP_DigestInit_ex failed")
        }
        self.function = function
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // Only fails for a context that was never initialised.
        _ = EVP_DigestUpdate(context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the string's UTF-8 bytes.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Feeds one ASCII byte (the `:` between Digest fields).
    public mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    /// Ends the computation: the digest as lowercase hex.
    public consuming func finalizeHex() -> String {
        let length = function.digestLength
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
            var written: UInt32 = 0
            let ok = EVP_DigestFinal_ex(context, digest.baseAddress, &written)
            precondition(ok == 1, "SIPDigest: EVP_DigestFinal_ex failed")
            precondition(Int(written) == length, "SIPDigest: unexpected digest length")
            return Hex.encode(UnsafeBufferPointer(rebasing: digest[0..<length]))
        }
    }

    /// The hex digest of `text` in one call.
    public static func hex(_ function: HashFunction, _ text: String) -> String {
        var hash = Hash(function)
        hash.update(text)
        return hash.finalizeHex()
    }

    /// The hex digest of `bytes` in one call.
    public static func hex(_ function: HashFunction, bytes: [UInt8]) -> String {
        var hash = Hash(function)
        hash.update(bytes)
        return hash.finalizeHex()
    }

    /// The hex digest of `parts` joined by `:` (how every Digest value is built),
    /// without building the joined string.
    public static func hex(_ function: HashFunction, joining parts: String...) -> String {
        var hash = Hash(function)
        for (index, part) in parts.enumerated() {
            if index > 0 { hash.update(byte: UInt8(ascii: ":")) }
            hash.update(part)
        }
        return hash.finalizeHex()
    }
}

enum Hex {
    static let digits: StaticString = "0123456789abcdef"

    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            digits.withUTF8Buffer { table in
                var index = 0
                for byte in bytes {
                    out[index] = table[Int(byte >> 4)]
                    out[index + 1] = table[Int(byte & 0x0f)]
                    index += 2
                }
            }
            return bytes.count * 2
        }
    }

    /// `value` as exactly eight lowercase hex digits (the nonce-count format).
    static func eightDigits(_ value: UInt32) -> String {
        String(unsafeUninitializedCapacity: 8) { out in
            digits.withUTF8Buffer { table in
                for index in 0..<8 {
                    let shift = UInt32(28 - 4 * index)
                    out[index] = table[Int((value >> shift) & 0x0f)]
                }
            }
            return 8
        }
    }
}

/// Random client nonces from OpenSSL's CSPRNG.
public enum ClientNonce {
    /// `byteCount` random bytes as lowercase hex (32 hex digits by default).
    public static func generate(byteCount: Int = 16) -> String {
        precondition(byteCount > 0 && byteCount <= 64, "SIPDigest: cnonce length out of range")
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { buffer in
            let ok = RAND_bytes(buffer.baseAddress, Int32(byteCount))
            precondition(ok == 1, "SIPDigest: RAND_bytes failed")
            return Hex.encode(UnsafeBufferPointer(buffer))
        }
    }
}
