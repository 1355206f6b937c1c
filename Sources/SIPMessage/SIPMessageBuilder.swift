// Building and serializing requests and responses.

public struct SIPHeaderField: Sendable {
    public var name: String
    public var value: [UInt8]

    public init(_ name: HeaderName, _ value: String) {
        self.name = name.canonicalName
        self.value = Array(value.utf8)
    }

    public init(_ name: HeaderName, bytes: SIPBytes) {
        self.name = name.canonicalName
        self.value = Array(bytes)
    }

    public init(named name: String, _ value: String) {
        self.name = name
        self.value = Array(value.utf8)
    }
}

public struct SIPMessageBuilder: Sendable {
    public enum Start: Sendable {
        case request(method: SIPMethod, uri: String)
        case response(status: Int, reason: String)
    }

    public var start: Start
    /// Header fields in order. Content-Length is computed when serializing;
    /// one given here is ignored.
    public var headers: [SIPHeaderField]
    public var body: [UInt8]

    public init(request method: SIPMethod, uri: String) {
        start = .request(method: method, uri: uri)
        headers = []
        body = []
    }

    public init(response status: Int, reason: String) {
        start = .response(status: status, reason: reason)
        headers = []
        body = []
    }

    // Out of line: hundreds of call sites would otherwise each carry a
    // copy of the append (issue 17).
    @inline(never)
    public mutating func add(_ name: HeaderName, _ value: String) {
        headers.append(SIPHeaderField(name, value))
    }

    @inline(never)
    public mutating func add(named name: String, _ value: String) {
        headers.append(SIPHeaderField(named: name, value))
    }

    /// The wire form: start line, headers in order, Content-Length, empty line, body.
    /// CR and LF inside names or values (including unfolded copies of received
    /// values) become SP, so a value cannot inject header lines.
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        func putClean<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            var lastWasSpace = false
            for c in bytes {
                if c == SIPByte.cr || c == SIPByte.lf || c == SIPByte.tab {
                    if !lastWasSpace { out.append(SIPByte.sp) }
                    lastWasSpace = true
                    continue
                }
                if c == SIPByte.sp && lastWasSpace { continue }
                lastWasSpace = (c == SIPByte.sp)
                out.append(c)
            }
        }
        func crlf() { out.append(SIPByte.cr); out.append(SIPByte.lf) }

        switch start {
        case .request(let method, let uri):
            putClean(method.name.utf8)
            out.append(SIPByte.sp)
            putClean(uri.utf8)
            put(" SIP/2.0")
        case .response(let status, let reason):
            put("SIP/2.0 ")
            put(SIPMessageBuilder.threeDigits(status))
            out.append(SIPByte.sp)
            putClean(reason.utf8)
        }
        crlf()
        for h in headers {
            if HeaderName(h.name) == .contentLength { continue }
            putClean(h.name.utf8)
            put(": ")
            putClean(h.value)
            crlf()
        }
        put("Content-Length: ")
        put(SIPMessageBuilder.decimal(body.count))
        crlf()
        crlf()
        out.append(contentsOf: body)
        return out
    }

    static func decimal(_ value: Int) -> String {
        if value == 0 { return "0" }
        var digits: [UInt8] = []
        var v = value < 0 ? -value : value
        while v > 0 {
            digits.append(UInt8(48 + v % 10))
            v /= 10
        }
        if value < 0 { digits.append(45) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    static func threeDigits(_ status: Int) -> String {
        let s = status < 100 ? 100 : (status > 699 ? 699 : status)
        return decimal(s)
    }
}
