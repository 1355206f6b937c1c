import CAtadSystem

/// An open file descriptor. A plain value: whoever opened it closes it.
public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenFlags(rawValue: O_RDONLY)
        public static let writeOnly = OpenFlags(rawValue: O_WRONLY)
        public static let readWrite = OpenFlags(rawValue: O_RDWR)
        public static let create = OpenFlags(rawValue: O_CREAT)
        public static let truncate = OpenFlags(rawValue: O_TRUNC)
        public static let nonBlocking = OpenFlags(rawValue: O_NONBLOCK)
    }

    /// Opens a path (always close-on-exec).
    public static func open(_ path: String, _ flags: OpenFlags, mode: UInt32 = 0o644) throws(Errno) -> FileDescriptor {
        let fd = try retryingOnInterrupt { atad_open(path, flags.rawValue, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() {
        _ = CAtadSystem.close(rawValue)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { CAtadSystem.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes some of `buffer`; returns how many bytes went out.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { CAtadSystem.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Reads into the start of `buffer`, at most `limit` bytes (default: all
    /// of it); 0 means end of file.
    public func read(into buffer: inout [UInt8], limit: Int? = nil) throws(Errno) -> Int {
        let capacity = Swift.min(limit ?? buffer.count, buffer.count)
        let fd = rawValue
        return try retryingOnInterrupt {
            buffer.withUnsafeMutableBytes { CAtadSystem.read(fd, $0.baseAddress, capacity) }
        }
    }

    /// Writes some of `bytes[offset...]`; returns how many went out.
    public func write(_ bytes: [UInt8], from offset: Int = 0) throws(Errno) -> Int {
        let fd = rawValue
        return try retryingOnInterrupt {
            bytes.withUnsafeBytes { CAtadSystem.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        }
    }

    /// Writes all of `bytes`, waiting when the descriptor is blocking.
    @inline(never)
    public func writeAll(_ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            offset += try write(bytes, from: offset)
        }
    }

    @inline(never)
    public func writeAll(_ text: String) throws(Errno) {
        try writeAll(Array(text.utf8))
    }

    public func setNonBlocking(_ enabled: Bool = true) throws(Errno) {
        if atad_set_nonblocking(rawValue, enabled ? 1 : 0) != 0 { throw Errno.current }
    }
}
