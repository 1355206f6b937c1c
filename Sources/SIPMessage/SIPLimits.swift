// Resource limits applied while parsing; anything larger is an error.

public struct SIPLimits: Sendable {
    /// Largest message (start line, headers and body). A UDP datagram cannot exceed 65,535.
    public var maxMessageSize: Int
    /// Largest number of header fields.
    public var maxHeaders: Int
    /// Largest header field, folded continuation lines included, and largest start line.
    public var maxHeaderLineLength: Int

    public init(maxMessageSize: Int = 65_535, maxHeaders: Int = 100, maxHeaderLineLength: Int = 8_192) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaders = maxHeaders
        self.maxHeaderLineLength = maxHeaderLineLength
    }
}

/// How the bytes arrived: one datagram per message, or a byte stream (TCP, TLS).
public enum SIPFraming: Sendable {
    /// UDP: the buffer is the whole datagram. A missing Content-Length means
    /// the body runs to its end; octets after the body are ignored.
    case datagram
    /// TCP/TLS: the buffer is what has been read so far; Content-Length is mandatory.
    case stream
}
