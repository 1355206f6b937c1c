import CAtadSystem
import CompactText

/// A POSIX error number, thrown by every wrapper in this module.
public struct Errno: Error, Equatable, Sendable {
    public var code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The error of the last failed system call.
    public static var current: Errno { Errno(atad_errno()) }

    public static let wouldBlock = Errno(EAGAIN)
    public static let interrupted = Errno(EINTR)
    public static let notFound = Errno(ENOENT)
    public static let noDevice = Errno(ENODEV)
    public static let accessDenied = Errno(EACCES)
    public static let fileTooLarge = Errno(EFBIG)
    public static let nameTooLong = Errno(ENAMETOOLONG)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let timedOut = Errno(ETIMEDOUT)
    public static let brokenPipe = Errno(EPIPE)
    public static let invalidArgument = Errno(EINVAL)
    public static let isDirectory = Errno(EISDIR)
    public static let addressInUse = Errno(EADDRINUSE)

    /// The C library's text for this error, e.g. "No such file or directory".
    public var message: String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}

/// Retries a system call while it fails with EINTR; returns its result or
/// throws the errno it failed with.
@inline(__always)
func retryingOnInterrupt<R: BinaryInteger>(_ call: () -> R) throws(Errno) -> R {
    while true {
        let result = call()
        if result >= 0 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}
