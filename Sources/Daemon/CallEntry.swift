import EventLoop
import Media
import SDP
import SIPMessage
import Platform
import SIPUserAgent

/// One incoming call as the SIP service holds it: the call's state machine,
/// where its messages go, the line it rings, its timer, and its media.
final class CallEntry {
    var call: IncomingCall
    /// Where the INVITE came from; replies and our BYE go back that way:
    /// over UDP to `source`, or over the TCP connection `stream` (its fd).
    let source: SocketAddress
    let stream: Int32?
    let line: Int
    var timer: TimerID?
    let media: CallMedia
    /// Our Contact URI in this dialog (for responses to re-INVITEs).
    let contact: String

    init(call: IncomingCall, source: SocketAddress, stream: Int32?, line: Int, media: CallMedia, contact: String) {
        self.call = call
        self.source = source
        self.stream = stream
        self.line = line
        self.media = media
        self.contact = contact
    }
}

/// One call we placed: its state machine, the account's route to the far
/// end, the line, its timer and the call's media.
final class OutgoingEntry {
    var call: OutgoingCall
    let destination: SocketAddress
    let transport: SIPTransport
    let line: Int
    var timer: TimerID?
    let media: CallMedia
    let mediaSettings: MediaSession.Settings
    let contact: String

    init(call: OutgoingCall, destination: SocketAddress, transport: SIPTransport, line: Int, media: CallMedia,
         mediaSettings: MediaSession.Settings, contact: String) {
        self.call = call
        self.destination = destination
        self.transport = transport
        self.line = line
        self.media = media
        self.mediaSettings = mediaSettings
        self.contact = contact
    }
}
