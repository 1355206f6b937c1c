// Why a buffer did not yield a message, with what could be read of it.

public struct SIPParseError: Error {
    public enum Kind: Equatable, Sendable {
        /// Nothing but line breaks (a keep-alive).
        case empty
        /// Stream framing only: more bytes are needed.
        case incomplete
        case messageTooLarge
        case tooManyHeaders
        case headerTooLong
        case badStartLine
        case badStatusCode
        case badHeaderLine
        /// The header section has no terminating empty line (datagram).
        case missingEmptyLine
        case badContentLength
        case multipleContentLength
        /// Datagram: Content-Length is larger than the octets that follow the headers.
        case contentLengthExceedsDatagram
        /// Stream: a message without Content-Length cannot be framed.
        case missingContentLength
        /// Content-Length makes the message larger than `SIPLimits.maxMessageSize`.
        case bodyTooLarge
    }

    public let kind: Kind
    /// The start line and headers, when they could be read; its body is empty.
    /// A request here can still be answered (400, 413).
    public let partial: SIPMessage?

    public init(_ kind: Kind, partial: SIPMessage? = nil) {
        self.kind = kind
        self.partial = partial
    }

    /// The status a server answers with when the partial message is a request.
    public var status: Int {
        switch kind {
        case .messageTooLarge: return 513
        case .bodyTooLarge: return 413
        default: return 400
        }
    }

    /// A reason phrase that says what is wrong.
    public var reason: String {
        switch kind {
        case .empty: return "Empty Message"
        case .incomplete: return "Incomplete Message"
        case .messageTooLarge: return "Message Too Large"
        case .tooManyHeaders: return "Too Many Header Fields"
        case .headerTooLong: return "Header Field Too Long"
        case .badStartLine: return "Bad Request - Malformed Request-Line"
        case .badStatusCode: return "Malformed Status-Line"
        case .badHeaderLine: return "Bad Request - Malformed Header Field"
        case .missingEmptyLine: return "Bad Request - Missing Empty Line After Headers"
        case .badContentLength: return "Bad Request - Malformed Content-Length"
        case .multipleContentLength: return "Bad Request - Multiple Content-Length Values"
        case .contentLengthExceedsDatagram: return "Bad Request - Content-Length Larger Than Message"
        case .missingContentLength: return "Bad Request - Content-Length Required On Stream Transports"
        case .bodyTooLarge: return "Request Entity Too Large"
        }
    }
}
