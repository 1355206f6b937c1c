import CAtadSystem

/// The signals the daemon acts on.
public enum Signal: Int32, Sendable {
    case hangUp = 1
    case interrupt = 2
    case terminate = 15

    public var name: String {
        switch self {
        case .hangUp: return "SIGHUP"
        case .interrupt: return "SIGINT"
        case .terminate: return "SIGTERM"
        }
    }
}

/// Signals delivered as a readable descriptor (signalfd), so they arrive in
/// the poll loop like everything else instead of interrupting it.
public struct SignalDescriptor {
    public let descriptor: FileDescriptor

    public init(signals: [Signal]) throws(Errno) {
        atad_ignore_sigpipe()
        let numbers = signals.map { $0.rawValue }
        let fd = numbers.withUnsafeBufferPointer { atad_signalfd_open($0.baseAddress, Int32($0.count)) }
        if fd < 0 { throw Errno.current }
        descriptor = FileDescriptor(rawValue: fd)
    }

    /// The next pending signal, or nil when none is pending.
    public func next() throws(Errno) -> Int32? {
        let number = atad_signalfd_read(descriptor.rawValue)
        if number < 0 { throw Errno.current }
        return number == 0 ? nil : number
    }
}
