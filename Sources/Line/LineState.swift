/// Where a telephone line is, as `status` shows it.
public enum LineState: String, Sendable {
    /// On hook, nothing happening.
    case idle
    /// Off hook, dial tone playing, no digit yet.
    case dialTone = "dialtone"
    /// Digits are being collected against the dial plan.
    case dialing
    /// A feature code was dialed: the confirmation tone, then dial tone.
    case confirmation
    /// The number is complete and handed to call control.
    case calling
    /// The far end is alerting; ringback (or early media) is heard.
    case ringback
    /// On hook, the bell rings for an incoming call.
    case ringing
    /// A call is up.
    case talking
    /// The far end was busy.
    case busy
    /// The call could not be completed (or the number was invalid).
    case congestion
    /// Off hook for too long: the off-hook warning tone.
    case howler
    /// Off hook after the howler: silence until the handset is hung up.
    case lockout
}
