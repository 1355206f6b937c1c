import EventLoop
import Platform
import SIPUserAgent

/// One incoming call as the SIP service holds it: the call's state machine,
/// where its messages go, the line it rings, its timer, and its RTP socket
/// (bound so the SDP answer names a real port; the media path comes next).
final class CallEntry {
    var call: IncomingCall
    /// Where the INVITE came from; replies and our BYE go back that way:
    /// over UDP to `source`, or over the TCP connection `stream` (its fd).
    let source: SocketAddress
    let stream: Int32?
    let line: Int
    var timer: TimerID?
    let rtp: UDPSocket?

    init(call: IncomingCall, source: SocketAddress, stream: Int32?, line: Int, rtp: UDPSocket?) {
        self.call = call
        self.source = source
        self.stream = stream
        self.line = line
        self.rtp = rtp
    }
}

/// One call we placed: its state machine, the account's route to the far
/// end, the line, its timer and its RTP socket.
final class OutgoingEntry {
    var call: OutgoingCall
    let destination: SocketAddress
    let transport: String
    let line: Int
    var timer: TimerID?
    let rtp: UDPSocket?

    init(call: OutgoingCall, destination: SocketAddress, transport: String, line: Int, rtp: UDPSocket?) {
        self.call = call
        self.destination = destination
        self.transport = transport
        self.line = line
        self.rtp = rtp
    }
}
