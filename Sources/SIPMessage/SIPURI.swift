// sip:, sips: and tel: URIs (RFC 3261 §19.1, RFC 3966), as slices of the text.

public enum SIPURIError: Error, Equatable, Sendable {
    case malformed
    /// A syntactically valid URI of a scheme other than sip, sips and tel.
    case unsupportedScheme
}

public struct SIPURI: Sendable {
    public enum Scheme: Equatable, Sendable {
        case sip, sips, tel

        public var name: String {
            switch self {
            case .sip: return "sip"
            case .sips: return "sips"
            case .tel: return "tel"
            }
        }
    }

    public let scheme: Scheme
    /// The whole URI.
    public let raw: SIPBytes
    /// The user part, still escaped (for tel: the number).
    public let user: SIPBytes?
    public let password: SIPBytes?
    /// The host; an IPv6 reference without its brackets. Empty for tel:.
    public let host: SIPBytes
    public let isIPv6Reference: Bool
    public let port: UInt16?
    public let parameters: SIPParameters
    /// The headers part after `?`, still escaped (`name=value&...`).
    public let headers: SIPBytes?

    /// The user part with %HH escapes resolved (may contain NUL bytes).
    public var unescapedUser: [UInt8]? {
        guard let user else { return nil }
        return SIPPercent.decode(user)
    }

    public var userText: String? {
        guard let u = unescapedUser else { return nil }
        return String(decoding: u, as: UTF8.self)
    }

    public var hostText: String { host.sipText }

    /// `transport`, `maddr`, `user`, `lr`... (ASCII case-insensitive names).
    public func parameter(_ name: String) -> SIPBytes? { parameters.value(name) }

    public var isLooseRouting: Bool { parameters.contains("lr") }

    /// The URI headers as (name, value) pairs, values unescaped.
    public var headerFields: [(name: [UInt8], value: [UInt8])] {
        guard let headers else { return [] }
        var out: [(name: [UInt8], value: [UInt8])] = []
        for pair in headers.split(separator: SIPByte.ampersand) {
            let eq = pair.firstIndex(of: SIPByte.equals) ?? pair.endIndex
            let value = eq < pair.endIndex ? pair[(eq + 1)...] : pair[pair.endIndex...]
            out.append((SIPPercent.decode(pair[pair.startIndex..<eq]), SIPPercent.decode(value)))
        }
        return out
    }

    /// The scheme of any absolute URI (`ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":"`),
    /// or nil when `bytes` does not start with one.
    public static func schemeName(of bytes: SIPBytes) -> SIPBytes? {
        var i = bytes.startIndex
        guard i < bytes.endIndex, SIPByte.isAlpha(bytes[i]) else { return nil }
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == SIPByte.colon { return bytes[bytes.startIndex..<i] }
            guard SIPByte.isAlnum(c) || c == 43 || c == 45 || c == 46 else { return nil }
            i += 1
        }
        return nil
    }

    /// Whether `bytes` is a syntactically acceptable absolute URI of any scheme:
    /// a scheme, a non-empty remainder, no white space and no `<`, `>` or `"`.
    public static func isAbsoluteURI(_ bytes: SIPBytes) -> Bool {
        guard let scheme = schemeName(of: bytes), scheme.count + 1 < bytes.count else { return false }
        for c in bytes {
            if SIPByte.isLWS(c) || c < 0x21 || c > 0x7E || c == SIPByte.lessThan
                || c == SIPByte.greaterThan || c == SIPByte.quote { return false }
        }
        return true
    }

    public static func parse(_ bytes: SIPBytes) throws(SIPURIError) -> SIPURI {
        guard let schemeBytes = schemeName(of: bytes) else { throw .malformed }
        let scheme: Scheme
        if schemeBytes.equalsIgnoringCase("sip") {
            scheme = .sip
        } else if schemeBytes.equalsIgnoringCase("sips") {
            scheme = .sips
        } else if schemeBytes.equalsIgnoringCase("tel") {
            scheme = .tel
        } else {
            guard isAbsoluteURI(bytes) else { throw .malformed }
            throw .unsupportedScheme
        }
        let rest = bytes[(schemeBytes.endIndex + 1)...]
        if scheme == .tel { return try parseTel(bytes, rest) }
        return try parseSIP(bytes, scheme, rest)
    }

    static func parseTel(_ raw: SIPBytes, _ rest: SIPBytes) throws(SIPURIError) -> SIPURI {
        let semi = rest.firstIndex(of: SIPByte.semicolon) ?? rest.endIndex
        let number = rest[rest.startIndex..<semi]
        guard !number.isEmpty else { throw .malformed }
        for c in number {
            guard SIPByte.isAlnum(c) || c == 43 || c == 45 || c == 46 || c == 40 || c == 41
                || c == 42 || c == 35 || c == SIPByte.percent else { throw .malformed }
        }
        var params = SIPParameters.empty
        if semi < rest.endIndex {
            guard let p = SIPParameters.parseURIParameters(rest[(semi + 1)...]) else { throw .malformed }
            params = p
        }
        return SIPURI(scheme: .tel, raw: raw, user: number, password: nil, host: rest[semi..<semi],
                      isIPv6Reference: false, port: nil, parameters: params, headers: nil)
    }

    static func parseSIP(_ raw: SIPBytes, _ scheme: Scheme, _ rest: SIPBytes) throws(SIPURIError) -> SIPURI {
        var user: SIPBytes? = nil
        var password: SIPBytes? = nil
        var i = rest.startIndex
        // userinfo: everything up to the first '@' (user and password cannot hold a raw '@').
        if let at = rest.firstIndex(of: SIPByte.at) {
            let userinfo = rest[rest.startIndex..<at]
            let colon = userinfo.firstIndex(of: SIPByte.colon) ?? userinfo.endIndex
            let u = userinfo[userinfo.startIndex..<colon]
            guard !u.isEmpty, SIPPercent.isValid(u, allowing: { SIPByte.isUnreserved($0) || SIPByte.isUserUnreserved($0) }) else {
                throw .malformed
            }
            user = u
            if colon < userinfo.endIndex {
                let p = userinfo[(colon + 1)...]
                guard SIPPercent.isValid(p, allowing: { SIPByte.isUnreserved($0) || SIPByte.isPasswordExtra($0) }) else {
                    throw .malformed
                }
                password = p
            }
            i = at + 1
        }
        // host
        let host: SIPBytes
        var isIPv6 = false
        if i < rest.endIndex && rest[i] == SIPByte.openBracket {
            guard let close = rest.firstIndex(of: SIPByte.closeBracket, from: i) else { throw .malformed }
            host = rest[(i + 1)..<close]
            guard isIPv6Address(host) else { throw .malformed }
            isIPv6 = true
            i = close + 1
        } else {
            let s = i
            while i < rest.endIndex && isHostChar(rest[i]) { i += 1 }
            host = rest[s..<i]
            guard !host.isEmpty else { throw .malformed }
        }
        // port
        var port: UInt16? = nil
        if i < rest.endIndex && rest[i] == SIPByte.colon {
            let s = i + 1
            i = s
            while i < rest.endIndex && SIPByte.isDigit(rest[i]) { i += 1 }
            guard let p = rest[s..<i].decimalValue(limit: 65535) else { throw .malformed }
            port = UInt16(p)
        }
        // parameters, then headers
        var params = SIPParameters.empty
        var headers: SIPBytes? = nil
        if i < rest.endIndex && rest[i] == SIPByte.semicolon {
            let s = i + 1
            let q = rest.firstIndex(of: SIPByte.question, from: s) ?? rest.endIndex
            guard s < q, let p = SIPParameters.parseURIParameters(rest[s..<q]) else { throw .malformed }
            params = p
            i = q
        }
        if i < rest.endIndex && rest[i] == SIPByte.question {
            let h = rest[(i + 1)...]
            guard !h.isEmpty, SIPPercent.isValid(h, allowing: {
                SIPByte.isHeaderChar($0) || $0 == SIPByte.equals || $0 == SIPByte.ampersand
            }) else { throw .malformed }
            headers = h
            i = rest.endIndex
        }
        guard i == rest.endIndex else { throw .malformed }
        return SIPURI(scheme: scheme, raw: raw, user: user, password: password, host: host,
                      isIPv6Reference: isIPv6, port: port, parameters: params, headers: headers)
    }

    /// Host names and IPv4 addresses: alphanumerics, `-` and `.` (and `_`, seen in the wild).
    static func isHostChar(_ c: UInt8) -> Bool {
        SIPByte.isAlnum(c) || c == 45 || c == 46 || c == 95
    }

    /// Hex digits, colons and dots (for an embedded IPv4 part), at least one colon.
    static func isIPv6Address(_ bytes: SIPBytes) -> Bool {
        var colons = 0
        for c in bytes {
            if c == SIPByte.colon { colons += 1; continue }
            guard SIPByte.hexValue(c) != nil || c == 46 else { return false }
        }
        return colons >= 2 && bytes.count <= 45
    }
}
