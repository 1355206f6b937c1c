/// What happens to a line: from the hook switch, the DTMF detector and call
/// control.
public enum LineInput: Equatable, Sendable {
    /// The hook switch, after hardware debounce.
    case hook(offHook: Bool)
    /// A DTMF digit detected on the line.
    case dtmf(Character)
    /// Call control: an incoming call wants the line to ring; with
    /// `callerID`, the line sends the caller's identity as its alerting
    /// method says (`LineMachine.callerIDAlerting`).
    case incomingCall(callerID: Bool)
    /// The caller ID burst `sendCallerID` (or `sendCallerIDDuringCall`)
    /// started has ended.
    case callerIDSent
    /// The phone's indicator has been told (or cannot be on this line):
    /// until then, every return to idle asks again.
    case messageWaitingIndicatorSent
    /// Call control: the incoming call went away before it was answered.
    case incomingCallEnded
    /// Call control: the far end is alerting (180).
    case remoteRinging
    /// Call control: the far end answered.
    case remoteAnswered
    /// Call control: the call failed; play busy or congestion.
    case callFailed(busy: Bool)
    /// Call control: the far end hung up.
    case remoteHangUp
    /// Call control: the talking call is on hold for a second call; the
    /// line gives recall dial tone. Only in `talking`.
    case callHeld
    /// Call control: the line is connected to a call again (the held one,
    /// or a swap); the line is talking and nothing is held.
    case callResumed
    /// Call control: the held call's far end hung up; the line goes on.
    case heldCallEnded
    /// Call control: a second call waits (true): the call-waiting tone
    /// plays over the call; or it stopped waiting (false).
    case callWaiting(Bool)
    /// Call control: a flash answered the waiting call and put the first
    /// on hold; the line talks on, the tone stops.
    case waitingCallAnswered
    /// Call control: the far end handed the call on (a REFER we took):
    /// the line waits for the new call as for one it placed (quiet, then
    /// ringback, then talking). Only in `talking` with nothing held.
    case transferred
    /// Message waiting changed: dial tone stutters while messages wait.
    case messageWaiting(Bool)
    /// Do-not-disturb or a forwarding is set (true) or none is: dial tone
    /// stutters while one is.
    case featuresActive(Bool)
}

/// What the line asks the daemon to do.
public enum LineAction: Equatable, Sendable {
    case playTone(ToneKind)
    case stopTone
    /// Ring voltage on or off (the cadence's on and off phases).
    case ringer(on: Bool)
    /// The line's polarity at rest: reversed to alert the phone that caller
    /// ID comes before the first ring, or while a call is connected
    /// (`reversesPolarityWhenConnected`), then back.
    case polarity(reversed: Bool)
    /// Cut (false) or restore the loop current: a disconnect pulse (CPC)
    /// when the far end hangs up.
    case loopCurrent(on: Bool)
    /// Send the caller's identity to the phone now (on hook); before-ring
    /// methods wait for `callerIDSent` to ring.
    case sendCallerID
    /// A waiting call's caller ID (type II): cut the call off both ways
    /// and play the CPE alerting signal (2130+2750 Hz, 80 ms).
    case alertForCallerID
    /// The phone acknowledged the alert: send the waiting caller's
    /// identity (off-hook FSK); its end is reported with `callerIDSent`.
    case sendCallerIDDuringCall
    /// The call is heard both ways again: the data was sent, or the phone
    /// did not acknowledge the alert (or the wait ended first).
    case callerIDDuringCallOver(acknowledged: Bool)
    /// Set (true) or clear the phone's message-waiting lamp or icon (VMWI),
    /// sent on hook: at once when the line is idle, else when it next is.
    case sendMessageWaitingIndicator(Bool)
    /// A number is complete: place the call.
    case dial(String)
    /// The handset answered the incoming call.
    case answer
    /// The handset hung up, or the line gave up on the call; also with
    /// only a call on hold (call control rings the line back for it).
    case hangUp
    /// A hook flash during a call (call waiting, transfer), or in any
    /// off-hook state while a call is held: return to or swap with it.
    case flash
    /// A digit pressed or dialed during a call (for DTMF relay).
    case digitInCall(Character)
    /// A feature code was dialed: change the setting (the confirmation
    /// tone is already playing).
    case feature(FeatureRequest)
    /// The dialed digits can never match the dial plan.
    case numberRejected(String)
    case stateChanged(LineState)
}
