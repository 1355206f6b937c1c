// Via header values (RFC 3261 §20.42, rport from RFC 3581).

public struct Via: Sendable {
    public let protocolName: SIPBytes
    public let protocolVersion: SIPBytes
    /// UDP, TCP, TLS, SCTP, WS... as written.
    public let transport: SIPBytes
    /// The sent-by host; an IPv6 reference without its brackets.
    public let host: SIPBytes
    public let isIPv6Reference: Bool
    public let port: UInt16?
    public let parameters: SIPParameters

    public var branch: SIPBytes? { parameters.value("branch") }
    public var received: SIPBytes? { parameters.value("received") }
    public var maddr: SIPBytes? { parameters.value("maddr") }

    public var ttl: UInt8? {
        guard let v = parameters.value("ttl"), let n = v.decimalValue(limit: 255) else { return nil }
        return UInt8(n)
    }

    /// Whether `rport` is present, with or without a value.
    public var hasRport: Bool { parameters.contains("rport") }

    /// The value of `rport=N` (filled in by a server), nil when absent or empty.
    public var rport: UInt16? {
        guard let v = parameters.value("rport"), let n = v.decimalValue(limit: 65535) else { return nil }
        return UInt16(n)
    }

    /// A branch that starts with the RFC 3261 magic cookie `z9hG4bK`.
    public var hasRFC3261Branch: Bool {
        guard let b = branch, b.count >= 7 else { return false }
        return b[b.startIndex..<(b.startIndex + 7)].equals("z9hG4bK")
    }

    /// Parses one Via value (split a field on commas first: `SIPMessage.vias`).
    public static func parse(_ value: SIPBytes) throws(SIPHeaderError) -> Via {
        var s = SIPScanner(value)
        s.skipLWS()
        guard let name = s.token() else { throw .malformed }
        guard s.consume(SIPByte.slash), let version = s.token() else { throw .malformed }
        guard s.consume(SIPByte.slash), let transport = s.token() else { throw .malformed }
        let beforeHost = s.index
        s.skipLWS()
        guard s.index > beforeHost else { throw .malformed }
        let host: SIPBytes
        var isIPv6 = false
        if s.peek == SIPByte.openBracket {
            s.index += 1
            let h = s.take { $0 != SIPByte.closeBracket }
            guard s.peek == SIPByte.closeBracket, SIPURI.isIPv6Address(h) else { throw .malformed }
            s.index += 1
            host = h
            isIPv6 = true
        } else {
            host = s.take(while: SIPURI.isHostChar)
            guard !host.isEmpty else { throw .malformed }
        }
        var port: UInt16? = nil
        if s.consume(SIPByte.colon) {
            guard let p = s.take(while: SIPByte.isDigit).decimalValue(limit: 65535) else { throw .malformed }
            port = UInt16(p)
        }
        guard let params = SIPParameters.parseHeaderParameters(&s) else { throw .malformed }
        return Via(protocolName: name, protocolVersion: version, transport: transport, host: host,
                   isIPv6Reference: isIPv6, port: port, parameters: params)
    }
}

extension SIPMessage {
    /// Every Via value, top first; nil if any of them is malformed.
    public var vias: [Via]? {
        var out: [Via] = []
        for v in rawValues(of: .via) {
            guard let via = try? Via.parse(v) else { return nil }
            out.append(via)
        }
        return out
    }

    public var topVia: Via? {
        guard let first = rawValues(of: .via).first else { return nil }
        return try? Via.parse(first)
    }
}
