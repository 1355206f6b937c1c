import CAtadSystem
import CompactText
import Timebase

/// The systemd notification protocol (sd_notify), spoken directly: READY
/// when the daemon serves, WATCHDOG while the loop turns, STOPPING on the
/// way out. Without $NOTIFY_SOCKET every call does nothing.
public struct ServiceNotifier {
    private let socketPath: String?
    /// Half the watchdog period systemd asked for, if it asked.
    public let watchdogInterval: Interval?

    public init() {
        socketPath = environmentValue("NOTIFY_SOCKET")
        if let text = environmentValue("WATCHDOG_USEC"), let microseconds = Int64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    public var isActive: Bool { socketPath != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)\nMAINPID=\(currentProcessID)") }
    public func reloading() { send("RELOADING=1") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1") }
    public func status(_ text: String) { send("STATUS=\(text)") }

    private func send(_ message: String) {
        guard let socketPath else { return }
        _ = atad_notify_send(socketPath, message)
    }
}
