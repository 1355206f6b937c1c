// CSeq: sequence number (at most 2^32-1) and method (RFC 3261 §20.16).

public struct CSeq: Equatable, Sendable {
    public let number: UInt32
    public let method: SIPMethod

    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public static func parse(_ value: SIPBytes) throws(SIPHeaderError) -> CSeq {
        var s = SIPScanner(value)
        s.skipLWS()
        guard let n = s.take(while: SIPByte.isDigit).decimalValue(limit: UInt64(UInt32.max)) else {
            throw .malformed
        }
        let gap = s.index
        s.skipLWS()
        guard s.index > gap, let m = s.token() else { throw .malformed }
        s.skipLWS()
        guard s.atEnd else { throw .malformed }
        return CSeq(number: UInt32(n), method: SIPMethod(m))
    }
}

extension SIPMessage {
    public var cseq: CSeq? {
        guard let v = value(of: .cseq) else { return nil }
        return try? CSeq.parse(v)
    }
}
