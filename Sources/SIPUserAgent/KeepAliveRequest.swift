import CompactText
import SIPMessage

/// What keeps the path to the registrar open between registrations: NATs
/// and firewalls forget a UDP flow after 30–180 s of silence, and then the
/// registrar's INVITEs no longer reach us. A CRLF datagram (RFC 5626 §3.5.1
/// uses CRLFCRLF on streams; a bare CRLF is what most UDP peers ignore
/// silently) is the lightest; an OPTIONS request also proves the registrar
/// is alive, since it is answered.
public enum KeepAliveMethod: Equatable, Sendable {
    case crlf
    case options

    /// The CRLF keep-alive: two line breaks, ignored by a SIP parser.
    public static let crlfBytes: [UInt8] = [13, 10, 13, 10]

    /// Keep-alive OPTIONS branches start with this, so their answers are
    /// recognised (and not counted as stray responses).
    public static let branchPrefix = "z9hG4bKka"

    /// An out-of-dialog OPTIONS to the account's registrar (or its outbound
    /// proxy, where the datagram is sent), from the account's address.
    public static func optionsRequest(_ settings: SIPAccount, token: String) -> [UInt8] {
        let target = "sip:\(SIPAccount.uriHost(settings.registrarHost)):\(settings.registrarPort)"
        var builder = SIPMessageBuilder(request: .options, uri: target)
        let sentBy = "\(SIPAccount.uriHost(settings.localHost)):\(settings.localPort)"
        builder.add(.via, "SIP/2.0/\(settings.transport.viaName) \(sentBy);branch=\(branchPrefix)\(token);rport")
        builder.add(.maxForwards, "70")
        builder.add(.from, "<\(settings.addressOfRecord)>;tag=\(token)")
        builder.add(.to, "<\(target)>")
        builder.add(.callID, "ka-\(token)")
        builder.add(.cseq, "1 OPTIONS")
        builder.add(.userAgent, settings.userAgent)
        return builder.serialize()
    }
}
