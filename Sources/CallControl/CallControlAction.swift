import CallerID
import DSP
import Line
import Media
import SDP

/// How far a log line from call control reaches (the daemon maps it to its
/// logger's levels).
public enum CallLogLevel: Equatable, Sendable {
    case debug, info, warn
}

/// Where a request came from, as call control needs to know it: the way
/// back (opaque to call control), whether that way is a stream (TCP), and
/// whether its host may start calls (`accept_calls_from`).
public struct RequestOrigin<Route> {
    public let route: Route
    public let reliable: Bool
    public let trusted: Bool

    public init(route: Route, reliable: Bool, trusted: Bool) {
        self.route = route
        self.reliable = reliable
        self.trusted = trusted
    }
}

/// What call control asks the line of a call to do.
public enum LineCommand: Equatable, Sendable {
    /// An input for the line's state machine (ring, far end answered, ...).
    case input(LineInput)
    /// The far end's early media (183) replaces the local ringback tone.
    case hearEarlyMedia
    /// An incoming call: ring, and show the phone who calls.
    case ring(caller: CallerIdentity)
    /// A second call waits: the call-waiting tone over the call, and the
    /// phone is shown who calls where it can take data during a call.
    case waitingCall(caller: CallerIdentity)
}

/// What call control asks of a call's media (its RTP and RTCP sockets
/// and its media session, which the daemon keeps by Call-ID).
public enum MediaCommand: Sendable {
    /// Offer/answer settled: start the audio path, or re-point it (a
    /// re-INVITE: `settings` then change nothing), and connect it to `line`.
    case start(line: Int, NegotiatedMedia, MediaSession.Settings)
    /// The call is on hold: its sockets stay (re-pointed to the media
    /// given, after an offer/answer), but `line` neither hears nor feeds
    /// it, and its far end's silence ends nothing.
    case hold(line: Int, NegotiatedMedia?, MediaSession.Settings)
    /// The call is the second far end of the line's three-way call: its
    /// audio is mixed with the line's and the line's call's, both ways.
    case join(line: Int, NegotiatedMedia, MediaSession.Settings)
    /// A key the far end sent by SIP INFO: play it to the line.
    case playKey(DTMFDigit, milliseconds: Int)
    /// The far end refused keys by INFO: send the next ones in band.
    case sendKeysInBand
    /// The call is over: log its figures, close the sockets, free `line`.
    case close(line: Int)
}

/// What call control asks the daemon to do. Nothing else does I/O.
public enum CallControlAction<Route> {
    /// Send a SIP message the way `Route` says: a response (which the
    /// daemon passes through its server transaction) or a request.
    case sip([UInt8], Route)
    case line(Int, LineCommand)
    /// Bind a call's RTP and RTCP ports on `host`, or (nil) on the address
    /// that reaches `toward`; the answer is `mediaOpened` or
    /// `mediaUnavailable` for `callID`.
    case openMedia(callID: String, host: String?, toward: Route)
    case media(callID: String, MediaCommand)
    /// A placed call was redirected (3xx) to `target`, a SIP URI: find the
    /// way there (`from` is the way the call went so far: through an
    /// account's proxy, the proxy takes it on) and answer with
    /// `redirectRouted` for `callID`.
    case findRedirectRoute(callID: String, target: String, from: Route)
    /// A placed call's server failed before anything rang: find another
    /// server of `account` (not one of `tried`, in its lookup's order) and
    /// answer with `otherServerFound` for `callID`.
    case findOtherServer(callID: String, account: String, tried: [Route])
    /// The far end of a call on `line` transferred us to `target`, a SIP
    /// URI: find the way there from the line's account (its proxy, or the
    /// target's host) and answer with `transferRouted` for `callID`.
    case findTransferRoute(callID: String, line: Int, target: String)
    case log(CallLogLevel, String)
    /// A new call from a host that may not start calls got 403: for the
    /// daemon's count and its one log line per host.
    case untrustedCallRefused(Route, callID: String)
    /// A phone changed its do-not-disturb or forwarding: keep the
    /// settings (`featureSettings`) for the next start.
    case featuresChanged
}
