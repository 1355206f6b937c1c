// name-addr / addr-spec header values: From, To, Contact, Route, Refer-To...
// (RFC 3261 §20.10, §25.1).

public enum SIPHeaderError: Error, Equatable, Sendable {
    case malformed
}

public struct NameAddress: Sendable {
    /// The display name as written: a quoted string with its quotes, or a run of tokens.
    public let displayName: SIPBytes?
    /// The URI: inside `<...>`, or the bare addr-spec.
    public let uri: SIPBytes
    /// Whether the URI was enclosed in `<...>`.
    public let isBracketed: Bool
    /// Header parameters (`tag`, `expires`, `q`...). With a bare addr-spec every
    /// `;param` belongs here, never to the URI (RFC 3261 §20.10).
    public let parameters: SIPParameters

    /// The display name without quotes and with quoted-pairs resolved.
    public var displayNameText: String? {
        guard let displayName else { return nil }
        return String(decoding: SIPQuoted.unquote(displayName), as: UTF8.self)
    }

    public var tag: SIPBytes? { parameters.value("tag") }

    /// The URI parsed as sip/sips/tel, or nil for other schemes.
    public var sipURI: SIPURI? { try? SIPURI.parse(uri) }

    public var scheme: SIPBytes? { SIPURI.schemeName(of: uri) }

    public static func parse(_ value: SIPBytes) throws(SIPHeaderError) -> NameAddress {
        var s = SIPScanner(value)
        s.skipLWS()
        var displayName: SIPBytes? = nil
        var bracketed = false
        if s.peek == SIPByte.quote {
            guard let q = s.quotedString() else { throw .malformed }
            displayName = q
            s.skipLWS()
            guard s.peek == SIPByte.lessThan else { throw .malformed }
            bracketed = true
        } else {
            // Display name made of tokens, or no display name at all.
            let start = s.index
            var lastEnd = start
            while s.token() != nil {
                lastEnd = s.index
                s.skipLWS()
            }
            if s.peek == SIPByte.lessThan {
                bracketed = true
                if lastEnd > start { displayName = value[start..<lastEnd] }
            } else {
                s.index = start
            }
        }

        let uri: SIPBytes
        if bracketed {
            s.index += 1
            let u = s.take { $0 != SIPByte.greaterThan }
            guard s.peek == SIPByte.greaterThan else { throw .malformed }
            s.index += 1
            uri = u
        } else {
            uri = s.take { $0 != SIPByte.semicolon && !SIPByte.isLWS($0) }
            // A URI holding ',', '?' or ';' must be bracketed; ';' has been cut already.
            for c in uri where c == SIPByte.comma || c == SIPByte.question { throw .malformed }
        }
        guard SIPURI.isAbsoluteURI(uri) else { throw .malformed }
        do {
            _ = try SIPURI.parse(uri)
        } catch {
            if error == .malformed { throw .malformed }
        }
        guard let params = SIPParameters.parseHeaderParameters(&s) else { throw .malformed }
        return NameAddress(displayName: displayName, uri: uri, isBracketed: bracketed, parameters: params)
    }
}
