import CallerID
import SIPMessage

/// Who the phone's display says is calling, read from an INVITE: the
/// network's asserted identity (P-Asserted-Identity, RFC 3325), else the
/// older Remote-Party-ID, else From. A Privacy header asking to hide the
/// identity (`id` or `header`, RFC 3323/3325) or an anonymous From (RFC
/// 3323 §4.1.1.3) withholds it; a caller without a number is "unavailable".
extension CallerIdentity {
    public init(invite: SIPMessage) {
        if CallerIdentity.asksForPrivacy(invite) {
            self = .anonymous
            return
        }
        // RFC 3325 allows a sip and a tel identity side by side: the one
        // with a number wins, a name from either.
        var asserted: CallerIdentity?
        for value in invite.values(of: .pAssertedIdentity) {
            guard let address = try? NameAddress.parse(value), let identity = CallerIdentity(address) else { continue }
            guard var best = asserted else {
                asserted = identity
                continue
            }
            if case .shown = identity.number, !(best.number.isShown) { best.number = identity.number }
            if case .shown = identity.name, !(best.name.isShown) { best.name = identity.name }
            asserted = best
        }
        if let asserted {
            self = asserted
            return
        }
        for header in invite.headers(named: "Remote-Party-ID") {
            for value in invite.value(of: header).splitOutsideQuotes(UInt8(ascii: ",")) where !value.isEmpty {
                guard let address = try? NameAddress.parse(value) else { continue }
                if let party = address.parameters.value("party"), !party.equalsIgnoringCase("calling") { continue }
                guard var identity = CallerIdentity(address) else { continue }
                if let privacy = address.parameters.value("privacy") {
                    if privacy.equalsIgnoringCase("full") { identity = .anonymous }
                    if privacy.equalsIgnoringCase("name") { identity.name = CallerIdentity.Field.withheld }
                    if privacy.equalsIgnoringCase("uri") { identity.number = CallerIdentity.Field.withheld }
                }
                self = identity
                return
            }
        }
        self = invite.from.flatMap { CallerIdentity($0) } ?? CallerIdentity(number: .unavailable, name: .unavailable)
    }

    /// Number and name from one name-addr; nil when its URI is not one we read.
    init?(_ address: NameAddress) {
        guard let uri = address.sipURI else { return nil }
        // A telephone-subscriber user part carries parameters after the
        // number (";phone-context=...", ";npdi"): the number ends there.
        let user = String(decoding: (uri.unescapedUser ?? []).prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
        let anonymousUser = CallerIdentity.isAnonymous(user) || uri.host.equalsIgnoringCase("anonymous.invalid")
        let number: Field
        if anonymousUser {
            number = .withheld
        } else if let digits = CallerIdentity.digits(of: user) {
            number = .shown(digits)
        } else {
            number = .unavailable
        }
        let display = address.displayNameText ?? ""
        let name: Field
        if CallerIdentity.isAnonymous(display) || (display.isEmpty && anonymousUser) {
            name = .withheld
        } else if !display.isEmpty {
            name = .shown(display)
        } else if !user.isEmpty, number == .unavailable {
            // A SIP user name ("alice") says more than nothing.
            name = .shown(user)
        } else {
            name = .unavailable
        }
        self.init(number: number, name: name)
    }

    static func isAnonymous(_ text: String) -> Bool {
        ArraySlice(text.utf8).equalsIgnoringCase("anonymous")
    }

    static func asksForPrivacy(_ message: SIPMessage) -> Bool {
        for value in message.values(of: .privacy) {
            for part in value.split(separator: UInt8(ascii: ";")) {
                let token = part.trimmingLWS
                if token.equalsIgnoringCase("id") || token.equalsIgnoringCase("header") { return true }
            }
        }
        return false
    }
}
