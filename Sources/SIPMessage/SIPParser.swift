// Tokenizes a SIP message: start line, header fields (with folding), body
// framing by Content-Length. It checks structure and limits only; the meaning
// of header values is checked by `SIPMessage.validateRequest(for:)`.

public struct SIPParser: Sendable {
    public var limits: SIPLimits

    public init(limits: SIPLimits = SIPLimits()) {
        self.limits = limits
    }

    public func parse(_ bytes: [UInt8], framing: SIPFraming) throws(SIPParseError) -> SIPMessage {
        if framing == .datagram && bytes.count > limits.maxMessageSize {
            throw SIPParseError(.messageTooLarge)
        }
        let end = bytes.count
        // RFC 3261 §7.5: ignore line breaks before the start line (keep-alives).
        var i = 0
        while i < end && (bytes[i] == SIPByte.cr || bytes[i] == SIPByte.lf) { i += 1 }
        if i == end {
            throw SIPParseError(framing == .stream && end == 0 ? .incomplete : .empty)
        }

        // Start line.
        guard let first = SIPParser.line(bytes, from: i) else {
            if framing == .stream && end - i <= limits.maxHeaderLineLength {
                throw SIPParseError(.incomplete)
            }
            throw SIPParseError(end - i > limits.maxHeaderLineLength ? .headerTooLong : .badStartLine)
        }
        if first.content.count > limits.maxHeaderLineLength { throw SIPParseError(.headerTooLong) }
        var firstError: SIPParseError.Kind? = nil
        let startLine: SIPStartLine
        switch SIPStartLineParser.parse(bytes, first.content) {
        case .success(let line): startLine = line
        case .badButAnswerable(let line):
            startLine = line
            firstError = .badStartLine
        case .failure(let kind): throw SIPParseError(kind)
        }
        i = first.next

        // Header fields.
        var headers: [SIPHeader] = []
        headers.reserveCapacity(16)
        var headerStart = 0
        var bodyStart: Int? = nil
        while let line = SIPParser.line(bytes, from: i) {
            i = line.next
            let content = line.content
            if content.isEmpty {
                bodyStart = line.next
                break
            }
            if SIPByte.isWS(bytes[content.lowerBound]) {
                // A folded continuation of the previous field.
                guard let last = headers.popLast() else {
                    if firstError == nil { firstError = .badHeaderLine }
                    continue
                }
                var trimmedEnd = content.upperBound
                while trimmedEnd > content.lowerBound && SIPByte.isWS(bytes[trimmedEnd - 1]) { trimmedEnd -= 1 }
                var updated = last
                if trimmedEnd > content.lowerBound {
                    if last.valueRange.isEmpty {
                        var s = content.lowerBound
                        while SIPByte.isWS(bytes[s]) { s += 1 }
                        updated.valueRange = s..<trimmedEnd
                    } else {
                        updated.valueRange = last.valueRange.lowerBound..<trimmedEnd
                    }
                }
                if content.upperBound - headerStart > limits.maxHeaderLineLength {
                    throw SIPParseError(.headerTooLong)
                }
                headers.append(updated)
                continue
            }
            if content.count > limits.maxHeaderLineLength { throw SIPParseError(.headerTooLong) }
            guard let header = SIPParser.headerField(bytes, content) else {
                if firstError == nil { firstError = .badHeaderLine }
                continue
            }
            if headers.count >= limits.maxHeaders { throw SIPParseError(.tooManyHeaders) }
            headerStart = content.lowerBound
            headers.append(header)
        }

        guard let bodyStart else {
            // No empty line after the headers.
            if framing == .stream {
                if end > limits.maxMessageSize { throw SIPParseError(.messageTooLarge) }
                throw SIPParseError(.incomplete)
            }
            let partial = SIPMessage(bytes: bytes, startLine: startLine, headers: headers,
                                     bodyRange: end..<end, frameLength: end)
            throw SIPParseError(firstError ?? .missingEmptyLine, partial: partial)
        }

        let headerOnly = SIPMessage(bytes: bytes, startLine: startLine, headers: headers,
                                    bodyRange: bodyStart..<bodyStart, frameLength: bodyStart)
        if let firstError { throw SIPParseError(firstError, partial: headerOnly) }

        // Body framing (RFC 3261 §18.3).
        var contentLength: Int? = nil
        for h in headers where h.name == .contentLength {
            if contentLength != nil { throw SIPParseError(.multipleContentLength, partial: headerOnly) }
            guard let value = bytes[h.valueRange].decimalValue(limit: UInt64(Int32.max)) else {
                throw SIPParseError(.badContentLength, partial: headerOnly)
            }
            contentLength = Int(value)
        }
        let available = end - bodyStart
        let bodyEnd: Int
        switch framing {
        case .datagram:
            if let cl = contentLength {
                if cl > available { throw SIPParseError(.contentLengthExceedsDatagram, partial: headerOnly) }
                bodyEnd = bodyStart + cl
            } else {
                bodyEnd = end
            }
        case .stream:
            guard let cl = contentLength else { throw SIPParseError(.missingContentLength, partial: headerOnly) }
            if bodyStart + cl > limits.maxMessageSize { throw SIPParseError(.bodyTooLarge, partial: headerOnly) }
            if cl > available { throw SIPParseError(.incomplete) }
            bodyEnd = bodyStart + cl
        }
        return SIPMessage(bytes: bytes, startLine: startLine, headers: headers,
                          bodyRange: bodyStart..<bodyEnd, frameLength: bodyEnd)
    }

    /// The next line from `from`: its content (without CRLF or a bare LF) and
    /// where the following line starts. Nil when no line break follows.
    static func line(_ bytes: [UInt8], from: Int) -> (content: Range<Int>, next: Int)? {
        var i = from
        let end = bytes.count
        while i < end {
            if bytes[i] == SIPByte.lf {
                let contentEnd = (i > from && bytes[i - 1] == SIPByte.cr) ? i - 1 : i
                return (from..<contentEnd, i + 1)
            }
            i += 1
        }
        return nil
    }

    /// `token *WS ":" value` on one line.
    static func headerField(_ bytes: [UInt8], _ content: Range<Int>) -> SIPHeader? {
        var i = content.lowerBound
        while i < content.upperBound && SIPByte.isToken(bytes[i]) { i += 1 }
        let nameRange = content.lowerBound..<i
        if nameRange.isEmpty { return nil }
        while i < content.upperBound && SIPByte.isWS(bytes[i]) { i += 1 }
        guard i < content.upperBound, bytes[i] == SIPByte.colon else { return nil }
        i += 1
        while i < content.upperBound && SIPByte.isWS(bytes[i]) { i += 1 }
        var e = content.upperBound
        while e > i && SIPByte.isWS(bytes[e - 1]) { e -= 1 }
        return SIPHeader(name: HeaderName(bytes[nameRange]), nameRange: nameRange, valueRange: i..<e)
    }
}
