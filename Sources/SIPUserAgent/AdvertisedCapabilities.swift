import SIPMessage

/// What atad tells peers it handles, in one place so INVITE, REGISTER,
/// responses and OPTIONS never disagree (RFC 3261 §20.5, §20.37).
public enum AdvertisedCapabilities {
    /// The methods atad answers (Allow).
    public static let allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, UPDATE, NOTIFY, REFER"
    /// The option tags atad supports (Supported): reliable provisional
    /// responses (RFC 3262) and session timers (RFC 4028), both ways.
    public static let supported = "100rel, timer"

    /// Adds Allow and Supported.
    public static func add(to builder: inout SIPMessageBuilder) {
        builder.add(.allow, allow)
        builder.add(.supported, supported)
    }
}
