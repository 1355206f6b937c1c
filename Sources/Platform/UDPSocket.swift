import CAtadSystem

/// A non-blocking UDP socket: SIP over UDP and RTP.
public struct UDPSocket {
    public let descriptor: FileDescriptor
    public let family: SocketAddress.Family

    /// Opens and binds to `address` (port 0 picks a free port).
    public init(binding address: SocketAddress) throws(Errno) {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { throw Errno.current }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(address.length)) }
        }
        if bound != 0 { let error = Errno.current; _ = CAtadSystem.close(fd); throw error }
        descriptor = FileDescriptor(rawValue: fd)
        family = address.family
    }

    public func close() { descriptor.close() }

    /// The address the socket is bound to (with the port the kernel chose).
    public func localAddress() throws(Errno) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor.rawValue, $0, &length) }
        }
        if result != 0 { throw Errno.current }
        return SocketAddress(storage: storage, length: UInt32(length))
    }

    /// Receives one datagram into `buffer`; nil when none is waiting. A
    /// datagram longer than the buffer is cut (`truncated`).
    public func receive(into buffer: inout [UInt8]) throws(Errno) -> (count: Int, from: SocketAddress, truncated: Bool)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = descriptor.rawValue
        let capacity = buffer.count
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, raw.baseAddress, capacity, Int32(MSG_TRUNC), $0, &length)
                    }
                }
            }
            if count >= 0 {
                return (min(count, capacity), SocketAddress(storage: storage, length: UInt32(length)), count > capacity)
            }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return nil }
            throw error
        }
    }

    /// Sends one datagram; false when the socket buffer is full (dropped,
    /// as UDP allows).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(Errno) -> Bool {
        var storage = address.storage
        let fd = descriptor.rawValue
        while true {
            let sent = withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(address.length))
                }
            }
            if sent >= 0 { return true }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return false }
            throw error
        }
    }

    @discardableResult
    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(Errno) -> Bool {
        var result: Result<Bool, Errno> = .success(false)
        bytes.withUnsafeBytes { raw in
            do throws(Errno) { result = .success(try send(raw, to: address)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
