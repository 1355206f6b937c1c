// WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization:
// `scheme LWS auth-param *(COMMA auth-param)` (RFC 3261 §25.1).

public struct SIPAuthParams: Sendable {
    public let scheme: SIPBytes
    /// Parameters as written; values may be quoted strings.
    public let parameters: [SIPParameter]

    /// The value of a parameter without quotes, quoted-pairs resolved.
    public func value(_ name: String) -> [UInt8]? {
        for p in parameters where p.name.equalsIgnoringCase(name) {
            guard let v = p.value else { return [] }
            return SIPQuoted.unquote(v)
        }
        return nil
    }

    public func text(_ name: String) -> String? {
        guard let v = value(name) else { return nil }
        return String(decoding: v, as: UTF8.self)
    }

    public static func parse(_ value: SIPBytes) throws(SIPHeaderError) -> SIPAuthParams {
        var s = SIPScanner(value)
        s.skipLWS()
        guard let scheme = s.token() else { throw .malformed }
        var params: [SIPParameter] = []
        s.skipLWS()
        while !s.atEnd {
            if !params.isEmpty { guard s.consume(SIPByte.comma) else { throw .malformed } }
            guard let name = s.token() else { throw .malformed }
            guard s.consume(SIPByte.equals) else { throw .malformed }
            let v: SIPBytes
            if s.peek == SIPByte.quote {
                guard let q = s.quotedString() else { throw .malformed }
                v = q
            } else {
                guard let t = s.token() else { throw .malformed }
                v = t
            }
            params.append(SIPParameter(name: name, value: v))
            s.skipLWS()
        }
        return SIPAuthParams(scheme: scheme, parameters: params)
    }
}

extension SIPMessage {
    /// Every challenge or credential of this header kind, in order; nil if one is malformed.
    public func authParams(_ name: HeaderName) -> [SIPAuthParams]? {
        var out: [SIPAuthParams] = []
        for h in headers where h.name == name {
            guard let a = try? SIPAuthParams.parse(bytes[h.valueRange]) else { return nil }
            out.append(a)
        }
        return out
    }
}
