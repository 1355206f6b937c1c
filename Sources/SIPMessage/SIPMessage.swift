// A parsed SIP message: the received bytes plus ranges into them.
// Nothing is copied; typed views (URIs, Via, CSeq...) are parsed on demand.

/// One header field: its name and the range of its value, trimmed of
/// surrounding white space. A folded value keeps its CRLF+WS inside the range.
public struct SIPHeader: Sendable {
    public let name: HeaderName
    public let nameRange: Range<Int>
    public var valueRange: Range<Int>
}

public struct SIPRequestLine: Sendable {
    public let method: SIPMethod
    public let methodRange: Range<Int>
    public let uriRange: Range<Int>
    public let versionRange: Range<Int>
}

public struct SIPStatusLine: Sendable {
    public let versionRange: Range<Int>
    /// Three digits, 000-999 as received; validation drops codes outside 100-699.
    public let statusCode: Int
    public let reasonRange: Range<Int>
}

public enum SIPStartLine: Sendable {
    case request(SIPRequestLine)
    case response(SIPStatusLine)
}

/// A transport source address, as text for Via parameters.
public struct SIPSource: Equatable, Sendable {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }
}

public struct SIPMessage: Sendable {
    /// The buffer the message was parsed from (a whole datagram, or a stream buffer).
    public let bytes: [UInt8]
    public let startLine: SIPStartLine
    /// Header fields in the order received.
    public let headers: [SIPHeader]
    public let bodyRange: Range<Int>
    /// Octets of `bytes` this message used, leading line breaks included.
    /// On a stream the next message starts here.
    public let frameLength: Int
    /// Where the transport received the message from (set by the daemon):
    /// responses built from a request put it in the top Via as
    /// `received`/`rport` (RFC 3261 §18.2.1, RFC 3581).
    public var source: SIPSource?

    init(bytes: [UInt8], startLine: SIPStartLine, headers: [SIPHeader], bodyRange: Range<Int>, frameLength: Int) {
        self.bytes = bytes
        self.startLine = startLine
        self.headers = headers
        self.bodyRange = bodyRange
        self.frameLength = frameLength
    }

    public subscript(range: Range<Int>) -> SIPBytes { bytes[range] }

    public var body: SIPBytes { bytes[bodyRange] }

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    public var requestLine: SIPRequestLine? {
        if case .request(let line) = startLine { return line }
        return nil
    }

    public var statusLine: SIPStatusLine? {
        if case .response(let line) = startLine { return line }
        return nil
    }

    public var method: SIPMethod? { requestLine?.method }

    public var requestURIBytes: SIPBytes? {
        guard let line = requestLine else { return nil }
        return bytes[line.uriRange]
    }

    /// The Request-URI, parsed on demand (nil if it is not a valid sip/sips/tel URI).
    public var requestURI: SIPURI? {
        guard let raw = requestURIBytes else { return nil }
        return try? SIPURI.parse(raw)
    }

    public var versionBytes: SIPBytes {
        switch startLine {
        case .request(let line): return bytes[line.versionRange]
        case .response(let line): return bytes[line.versionRange]
        }
    }

    public var statusCode: Int? { statusLine?.statusCode }

    public var reasonPhrase: SIPBytes? {
        guard let line = statusLine else { return nil }
        return bytes[line.reasonRange]
    }
}
