// What to do with received bytes: hand a request or response up, answer a
// request with an error status, wait for more stream bytes, or drop.

public struct SIPRejection: Sendable {
    public let status: Int
    public let reason: String
    /// The request being answered (for a parse error, its headers only).
    public let request: SIPMessage
    /// Headers the error response must carry (Allow, Unsupported, Accept...).
    public var extraHeaders: [SIPHeaderField]
    /// Stream framing error: after answering, close the connection.
    public var closeConnection: Bool

    public init(status: Int, reason: String, request: SIPMessage,
                extraHeaders: [SIPHeaderField] = [], closeConnection: Bool = false) {
        self.status = status
        self.reason = reason
        self.request = request
        self.extraHeaders = extraHeaders
        self.closeConnection = closeConnection
    }

    /// The error response, ready to serialize (RFC 3261 §8.2.6).
    public func response(toTag: String? = nil) -> SIPMessageBuilder {
        var r = SIPMessageBuilder.response(to: request, status: status, reason: reason, toTag: toTag)
        for h in extraHeaders { r.headers.append(h) }
        return r
    }
}

public enum SIPParseOutcome: Sendable {
    case request(SIPMessage)
    case response(SIPMessage)
    /// An answerable request that must be refused with `status`.
    case reject(SIPRejection)
    /// Cannot be answered (no Via, garbage, a bad response, any bad ACK): discard.
    /// On a stream, close the connection.
    case drop(reason: String)
    /// Stream framing: the message is not complete yet.
    case needMoreData

    /// Parses and validates in one step, as a UAS receiving `bytes` does.
    public static func evaluate(_ bytes: [UInt8], framing: SIPFraming,
                                parser: SIPParser = SIPParser(),
                                uas: SIPUASProfile = SIPUASProfile()) -> SIPParseOutcome {
        let message: SIPMessage
        do {
            message = try parser.parse(bytes, framing: framing)
        } catch {
            if error.kind == .incomplete { return .needMoreData }
            guard let partial = error.partial, partial.isRequest else { return .drop(reason: error.reason) }
            guard partial.count(of: .via) > 0 else { return .drop(reason: "No Via header field") }
            if partial.method == .ack { return .drop(reason: "Malformed ACK") }
            return .reject(SIPRejection(status: error.status, reason: error.reason, request: partial,
                                        closeConnection: framing == .stream))
        }
        if message.isRequest { return message.validateRequest(for: uas) }
        return message.validateResponse()
    }
}
