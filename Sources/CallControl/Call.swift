import CallerID
import Media
import SDP
import SIPUserAgent
import Timebase

/// One call as call control holds it: its SIP state machine (the INVITE
/// phase of either direction, then the dialog), the line it belongs to,
/// the way its messages travel, and our side of its offer/answer.
final class Call<Route> {
    let callID: String
    /// The call's SIP state machine: the INVITE phase of one direction or
    /// the other, then the dialog. Exactly one is set; kept as two
    /// optionals so that each is changed in place.
    var incoming: IncomingCall?
    var outgoing: OutgoingCall?
    let line: Int
    /// Over which our messages in the call go: back the way the INVITE
    /// came, or the account's route to its proxy (or, after a 3xx, the
    /// way to where it sent us).
    var route: Route
    /// The servers a placed call's INVITE went to, in order (failover).
    var serversTried: [Route]
    /// Our Contact URI in this dialog (for our answers to re-INVITEs).
    let contact: String
    /// Our `o=` line and what we offer or accept, across re-INVITEs.
    var sdp: SDPSession
    /// What we offer and accept; its direction is sendonly while held.
    var capabilities: MediaCapabilities
    /// The new call's RTP identity and DTMF relay.
    let mediaSettings: MediaSession.Settings
    /// The media has started (an answer or 183 settled it).
    var mediaStarted = false
    /// The `OutgoingCall.answerRevision` the media follows.
    var answerRevision = 0
    /// When the call was answered: the far end's silence before it (a long
    /// ring without early media) does not count toward the RTP timeout.
    var answeredAt: Instant?
    /// The last re-INVITE answered (its CSeq and our response), so a copy
    /// that outlived its server transaction gets the same response.
    var lastReinvite: (cseq: UInt32, response: [UInt8])?
    /// A flash put the call on hold: the line neither hears nor feeds it,
    /// and the far end is asked to be silent (`syncHold`).
    var onHold = false
    /// A re-INVITE for hold or resume was refused: it is tried again then
    /// (at most `resyncLimit` times in a row).
    var resyncAt: Instant?
    var resyncTries = 0
    /// Who calls, while the call waits on a line in another call: shown
    /// when it rings the line after a hang-up; its answer connects it.
    var waitingCaller: CallerIdentity?
    static var resyncLimit: Int { 3 }
    /// A ringing call not answered by then is forwarded to `target`.
    var forwardUnanswered: (at: Instant, target: String)?
    /// Left on hold by a hang-up, it rings the line back until then; not
    /// taken back, it is ended (its far end would wait on forever).
    var recallUntil: Instant?
    /// The transfer our REFER asked of its far end, until it is over.
    var transfer: CallTransfer<Route>?
    /// A call the line let go of (a transfer's consultation call), ended
    /// by us then should its far end not end it first.
    var hangUpAt: Instant?
    /// The call whose far end's REFER made us place this one: told by
    /// NOTIFY how it goes, until it is answered or fails.
    var referrer: Call<Route>?

    init(incoming: IncomingCall? = nil, outgoing: OutgoingCall? = nil, line: Int, route: Route, contact: String, sdp: SDPSession, capabilities: MediaCapabilities,
         mediaSettings: MediaSession.Settings) {
        self.incoming = incoming
        self.outgoing = outgoing
        callID = incoming?.callID ?? outgoing?.callID ?? ""
        self.line = line
        self.route = route
        serversTried = [route]
        self.contact = contact
        self.sdp = sdp
        self.capabilities = capabilities
        self.mediaSettings = mediaSettings
    }

    /// The earliest of the SIP machine's timers and the call's own (asked
    /// at every turn of the loop: no array is built for it).
    var nextDeadline: Instant? {
        Call.earlier(Call.earlier(Call.earlier(Call.earlier(incoming?.nextDeadline ?? outgoing?.nextDeadline, forwardUnanswered?.at),
                                               resyncAt), recallUntil), Call.earlier(transfer?.givesUpAt, hangUpAt))
    }

    private static func earlier(_ first: Instant?, _ second: Instant?) -> Instant? {
        guard let first else { return second }
        guard let second else { return first }
        return min(first, second)
    }
}
