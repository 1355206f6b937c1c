// Single-number headers: Max-Forwards, Content-Length, Expires (RFC 3261 §20).

public enum SIPScalar {
    /// Max-Forwards: digits, 0-255.
    public static func maxForwards(_ value: SIPBytes) -> UInt8? {
        guard let n = value.trimmingLWS.decimalValue(limit: 255) else { return nil }
        return UInt8(n)
    }

    /// Content-Length: digits, no sign.
    public static func contentLength(_ value: SIPBytes) -> Int? {
        guard let n = value.trimmingLWS.decimalValue(limit: UInt64(Int32.max)) else { return nil }
        return Int(n)
    }

    /// Expires and the `expires` parameter: delta-seconds. Values above 2^32-1
    /// are taken as 2^32-1 rather than rejected.
    public static func deltaSeconds(_ value: SIPBytes) -> UInt32? {
        let v = value.trimmingLWS
        if v.isEmpty { return nil }
        for c in v where !SIPByte.isDigit(c) { return nil }
        guard let n = v.decimalValue(limit: UInt64(UInt32.max)) else { return UInt32.max }
        return UInt32(n)
    }
}

extension SIPMessage {
    public var maxForwards: UInt8? {
        guard let v = value(of: .maxForwards) else { return nil }
        return SIPScalar.maxForwards(v)
    }

    public var contentLength: Int? {
        guard let v = value(of: .contentLength) else { return nil }
        return SIPScalar.contentLength(v)
    }

    public var expires: UInt32? {
        guard let v = value(of: .expires) else { return nil }
        return SIPScalar.deltaSeconds(v)
    }

    public var callID: SIPBytes? { value(of: .callID) }

    public var from: NameAddress? {
        guard let v = value(of: .from) else { return nil }
        return try? NameAddress.parse(v)
    }

    public var to: NameAddress? {
        guard let v = value(of: .to) else { return nil }
        return try? NameAddress.parse(v)
    }

    /// Contact values; nil if one is malformed. `Contact: *` gives an empty list.
    public var contacts: [NameAddress]? {
        var out: [NameAddress] = []
        for v in values(of: .contact) {
            if v.count == 1 && v[v.startIndex] == 42 { continue }
            guard let na = try? NameAddress.parse(v) else { return nil }
            out.append(na)
        }
        return out
    }

    /// The media type of Content-Type (`type/subtype`, parameters cut), trimmed.
    public var contentType: SIPBytes? {
        guard let v = value(of: .contentType) else { return nil }
        let semi = v.firstIndex(of: SIPByte.semicolon) ?? v.endIndex
        return v[v.startIndex..<semi].trimmingLWS
    }
}
