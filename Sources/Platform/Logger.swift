import CAtadSystem
import CompactText
import Timebase

/// How much the daemon says.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case error = 0, warn, info, debug

    public var name: String {
        switch self {
        case .error: return "error"
        case .warn: return "warn"
        case .info: return "info"
        case .debug: return "debug"
        }
    }

    public init?(name: String) {
        switch name {
        case "error": self = .error
        case "warn", "warning": self = .warn
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    var syslogPriority: Int32 {
        switch self {
        case .error: return LOG_ERR
        case .warn: return LOG_WARNING
        case .info: return LOG_INFO
        case .debug: return LOG_DEBUG
        }
    }
}

/// The daemon's log: one line per event, to stderr with the monotonic time
/// and the level, or to syslog. Unbuffered, so nothing is lost on a crash.
public final class Logger {
    public var level: LogLevel
    public let useSyslog: Bool
    private let clock: any MonotonicClock

    public init(level: LogLevel, useSyslog: Bool, clock: any MonotonicClock) {
        self.level = level
        self.useSyslog = useSyslog
        self.clock = clock
        if useSyslog { openlog("atad", LOG_PID, LOG_DAEMON) }
    }

    public func error(_ message: String) { log(.error, message) }
    public func warn(_ message: String) { log(.warn, message) }
    public func info(_ message: String) { log(.info, message) }
    public func debug(_ message: String) { log(.debug, message) }

    public func log(_ messageLevel: LogLevel, _ message: String) {
        guard messageLevel <= level else { return }
        if useSyslog {
            atad_syslog(messageLevel.syslogPriority, message)
            return
        }
        let line = "[\(Logger.timestamp(clock.now))] \(messageLevel.name): \(message)\n"
        try? FileDescriptor.standardError.writeAll(line)
    }

    /// "12345.678": seconds and milliseconds of the monotonic clock.
    public static func timestamp(_ instant: Instant) -> String {
        let milliseconds = instant.nanoseconds / 1_000_000
        let seconds = milliseconds / 1000
        let fraction = milliseconds % 1000
        var fractionText = "\(fraction)"
        while fractionText.utf8.count < 3 { fractionText = "0" + fractionText }
        return "\(seconds).\(fractionText)"
    }
}
