import EventLoop
import Platform
import SIPUserAgent

/// One incoming call as the SIP service holds it: the call's state machine,
/// where its messages go, the line it rings, its timer, and its RTP socket
/// (bound so the SDP answer names a real port; the media path comes next).
final class CallEntry {
    var call: IncomingCall
    let source: SocketAddress
    let line: Int
    var timer: TimerID?
    let rtp: UDPSocket?

    init(call: IncomingCall, source: SocketAddress, line: Int, rtp: UDPSocket?) {
        self.call = call
        self.source = source
        self.line = line
        self.rtp = rtp
    }
}
