import CAtadSystem

/// Unix-domain stream sockets: the control socket and `atad ctl`.
public enum UnixSocket {
    /// Binds and listens on `path` (non-blocking). A stale socket file left by
    /// a crashed daemon is removed first; a live one is reported as EADDRINUSE.
    public static func listen(path: String, backlog: Int32 = 16) throws(Errno) -> FileDescriptor {
        if let existing = try? FileSystem.status(path), existing.isSocket {
            if let probe = try? connect(path: path) {
                probe.close()
                throw Errno(EADDRINUSE)
            }
            FileSystem.removeIfPresent(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { throw Errno.current }
        let descriptor = FileDescriptor(rawValue: fd)
        var address = sockaddr_un()
        let length = atad_sockaddr_un(&address, path)
        if length < 0 { descriptor.close(); throw Errno.nameTooLong }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        if bound != 0 { let error = Errno.current; descriptor.close(); throw error }
        if CAtadSystem.listen(fd, backlog) != 0 { let error = Errno.current; descriptor.close(); throw error }
        return descriptor
    }

    /// Accepts one pending connection (non-blocking), or nil when none waits.
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> FileDescriptor? {
        while true {
            let fd = atad_accept(listener.rawValue)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock || error.code == EWOULDBLOCK || error.code == ECONNABORTED { return nil }
            throw error
        }
    }

    /// Connects to `path` (blocking socket).
    public static func connect(path: String) throws(Errno) -> FileDescriptor {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw Errno.current }
        let descriptor = FileDescriptor(rawValue: fd)
        var address = sockaddr_un()
        let length = atad_sockaddr_un(&address, path)
        if length < 0 { descriptor.close(); throw Errno.nameTooLong }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { CAtadSystem.connect(fd, $0, socklen_t(length)) }
        }
        if connected != 0 { let error = Errno.current; descriptor.close(); throw error }
        return descriptor
    }
}
