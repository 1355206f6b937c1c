import CAtadSystem

/// The events poll() reports for a descriptor.
public struct PollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
    public static let priority = PollEvents(rawValue: Int16(POLLPRI))
}

/// One entry of a poll set.
public typealias PollDescriptor = pollfd

extension PollDescriptor {
    public init(descriptor: FileDescriptor, events: PollEvents) {
        self.init(fd: descriptor.rawValue, events: events.rawValue, revents: 0)
    }
    public var returnedEvents: PollEvents { PollEvents(rawValue: revents) }
}

public enum Poll {
    /// Waits until a descriptor is ready or `timeoutMilliseconds` pass
    /// (-1: forever). Returns how many descriptors are ready; an interrupted
    /// wait returns 0.
    public static func wait(_ set: inout [PollDescriptor], timeoutMilliseconds: Int32) throws(Errno) -> Int {
        let count = set.withUnsafeMutableBufferPointer { buffer in
            poll(buffer.baseAddress, nfds_t(buffer.count), timeoutMilliseconds)
        }
        if count < 0 {
            let error = Errno.current
            if error == .interrupted { return 0 }
            throw error
        }
        return Int(count)
    }
}
