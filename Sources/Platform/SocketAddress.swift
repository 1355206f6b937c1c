import CAtadSystem
import CompactText

/// An IPv4 or IPv6 address with a port, as the socket calls take it.
public struct SocketAddress: Equatable, Sendable {
    public enum Family: Sendable { case ipv4, ipv6 }

    /// sockaddr_in or sockaddr_in6 bytes.
    var storage: sockaddr_storage
    public var length: UInt32

    public var family: Family {
        Int32(storage.ss_family) == AF_INET6 ? .ipv6 : .ipv4
    }

    /// Parses a numeric address ("192.0.2.1", "::1", "[::1]" also accepted)
    /// with a port; nil when the text is not an IP literal.
    public init?(ip text: String, port: UInt16) {
        var host = text
        if host.utf8.first == UInt8(ascii: "["), host.utf8.last == UInt8(ascii: "]") {
            host = String(decoding: host.utf8.dropFirst().dropLast(), as: UTF8.self)
        }
        storage = sockaddr_storage()
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = v4
            length = UInt32(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = v6
            length = UInt32(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            return
        }
        return nil
    }

    /// An address as a protocol carries it: 4 bytes (IPv4) or 16 (IPv6)
    /// in network order; nil for any other length.
    public init?(addressBytes bytes: [UInt8], port: UInt16) {
        storage = sockaddr_storage()
        if bytes.count == 4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
            length = UInt32(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        } else if bytes.count == 16 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            length = UInt32(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        } else {
            return nil
        }
    }

    /// Copies a sockaddr a C library handed over; nil when it is neither
    /// IPv4 nor IPv6.
    public init?(raw: UnsafePointer<sockaddr>, length: UInt32) {
        let family = Int32(raw.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6,
              length <= UInt32(MemoryLayout<sockaddr_storage>.size) else { return nil }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(length))) }
        self.init(storage: storage, length: length)
    }

    init(storage: sockaddr_storage, length: UInt32) {
        self.storage = storage
        self.length = length
    }

    public var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            family == .ipv4
                ? UInt16(bigEndian: raw.load(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_port)!, as: UInt16.self))
                : UInt16(bigEndian: raw.load(fromByteOffset: MemoryLayout<sockaddr_in6>.offset(of: \.sin6_port)!, as: UInt16.self))
        }
    }

    /// The address without the port: "192.0.2.1" or "2001:db8::1".
    public var host: String {
        var text = [CChar](repeating: 0, count: 64)
        withUnsafeBytes(of: storage) { raw in
            if family == .ipv4 {
                let offset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
                _ = inet_ntop(AF_INET, raw.baseAddress! + offset, &text, 64)
            } else {
                let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                _ = inet_ntop(AF_INET6, raw.baseAddress! + offset, &text, 64)
            }
        }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Same family and IP, whatever the ports: for checking where media
    /// comes from, per packet, without making text.
    public func sameHost(as other: SocketAddress) -> Bool {
        guard family == other.family else { return false }
        return withUnsafeBytes(of: storage) { a in
            withUnsafeBytes(of: other.storage) { b in
                if family == .ipv4 {
                    let offset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
                    return memcmp(a.baseAddress! + offset, b.baseAddress! + offset, MemoryLayout<in_addr>.size) == 0
                }
                let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                return memcmp(a.baseAddress! + offset, b.baseAddress! + offset, MemoryLayout<in6_addr>.size) == 0
            }
        }
    }

    /// 0.0.0.0 or ::, "any address" to bind to.
    public var isWildcard: Bool {
        withUnsafeBytes(of: storage) { raw in
            let (offset, count) = family == .ipv4
                ? (MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!, MemoryLayout<in_addr>.size)
                : (MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!, MemoryLayout<in6_addr>.size)
            return !raw[offset..<(offset + count)].contains { $0 != 0 }
        }
    }

    /// "192.0.2.1:5060" or "[2001:db8::1]:5060".
    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return withUnsafeBytes(of: lhs.storage) { a in
            withUnsafeBytes(of: rhs.storage) { b in
                memcmp(a.baseAddress!, b.baseAddress!, Int(lhs.length)) == 0
            }
        }
    }
}

extension SocketAddress {
    /// Looks `host` up (a name or an IP literal) and returns its first
    /// address with `port`; the error text says why not. Blocking.
    public static func resolve(_ host: String, port: UInt16) -> Result<SocketAddress, ResolveError> {
        var storage = sockaddr_storage()
        var bare = host
        if bare.utf8.first == UInt8(ascii: "["), bare.utf8.last == UInt8(ascii: "]") {
            bare = String(decoding: bare.utf8.dropFirst().dropLast(), as: UTF8.self)
        }
        let length = atad_resolve(bare, port, AF_UNSPEC, &storage)
        if length <= 0 {
            let text = atad_resolve_error(length).map { String(cString: $0) } ?? "error \(length)"
            return .failure(ResolveError(message: "cannot resolve \(host): \(text)"))
        }
        return .success(SocketAddress(storage: storage, length: UInt32(length)))
    }

    /// The local address this machine uses to reach `self` (no packet sent).
    public func localAddressToward() -> SocketAddress? {
        var remote = storage
        var local = sockaddr_storage()
        let length = atad_local_address_toward(&remote, Int32(self.length), &local)
        return length > 0 ? SocketAddress(storage: local, length: UInt32(length)) : nil
    }
}

public struct ResolveError: Error, Sendable {
    public var message: String
}

/// Random tokens for SIP tags, branches and Call-IDs, from the kernel.
public enum RandomToken {
    /// A random 32-bit number (RTP SSRC, sequence and timestamp starts).
    public static func number() -> UInt32 {
        var value: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &value) { atad_random_bytes($0.baseAddress, $0.count) }
        return value
    }

    /// `count` random bytes as lower-case hex.
    public static func hex(bytes count: Int = 8) -> String {
        var raw = [UInt8](repeating: 0, count: count)
        _ = raw.withUnsafeMutableBytes { atad_random_bytes($0.baseAddress, $0.count) }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in raw {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
