import Platform
import Timebase

/// One SIP-over-TCP connection, either direction: bytes read but not yet
/// framed into messages, and bytes waiting to be written. Bounded both ways.
final class SIPStreamConnection {
    static let maximumInput = 128 * 1024
    static let maximumOutput = 256 * 1024

    let descriptor: FileDescriptor
    let remote: SocketAddress
    /// We opened it (to a registrar or proxy) rather than accepted it.
    let outbound: Bool
    var connected: Bool
    var input: [UInt8] = []
    var output: [UInt8] = []
    var lastActivity: Instant

    init(descriptor: FileDescriptor, remote: SocketAddress, outbound: Bool, connected: Bool, now: Instant) {
        self.descriptor = descriptor
        self.remote = remote
        self.outbound = outbound
        self.connected = connected
        lastActivity = now
        input.reserveCapacity(4096)
    }

    /// Drops the CR and LF bytes between messages; true when they held a
    /// keep-alive ping (a double CRLF) that wants a single CRLF back.
    func stripKeepAlives() -> Bool {
        var count = 0
        while count < input.count && (input[count] == 13 || input[count] == 10) { count += 1 }
        guard count > 0 else { return false }
        input.removeFirst(count)
        return count >= 4
    }
}
