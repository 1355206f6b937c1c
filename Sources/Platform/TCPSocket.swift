import CAtadSystem

/// Non-blocking TCP for SIP over streams: a listener, and connections in
/// both directions. Reads and writes go through `FileDescriptor`.
public enum TCPSocket {
    /// Binds and listens on `address` (non-blocking).
    public static func listen(on address: SocketAddress, backlog: Int32 = 16) throws(Errno) -> FileDescriptor {
        let fd = try open(address.family)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(address.length)) }
        }
        if bound != 0 || CAtadSystem.listen(fd, backlog) != 0 {
            let error = Errno.current
            _ = CAtadSystem.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Accepts one pending connection, or nil when none waits.
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> (FileDescriptor, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = atad_accept(listener.rawValue)
            if fd >= 0 {
                _ = withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
                }
                return (FileDescriptor(rawValue: fd), SocketAddress(storage: storage, length: UInt32(length)))
            }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock || error.code == ECONNABORTED { return nil }
            throw error
        }
    }

    /// Starts connecting to `address`; the descriptor turns writable when the
    /// connection is up (or failed: see `pendingError`).
    public static func connect(to address: SocketAddress) throws(Errno) -> FileDescriptor {
        let fd = try open(address.family)
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { CAtadSystem.connect(fd, $0, socklen_t(address.length)) }
        }
        if result != 0 {
            let error = Errno.current
            if error.code != EINPROGRESS {
                _ = CAtadSystem.close(fd)
                throw error
            }
        }
        return FileDescriptor(rawValue: fd)
    }

    /// The error a non-blocking connect ended with, nil when it succeeded.
    public static func pendingError(_ descriptor: FileDescriptor) -> Errno? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(descriptor.rawValue, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return Errno.current }
        return value == 0 ? nil : Errno(value)
    }

    private static func open(_ family: SocketAddress.Family) throws(Errno) -> Int32 {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { throw Errno.current }
        return fd
    }
}
