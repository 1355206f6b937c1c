// `;name[=value]` parameter lists, as used by URIs, Via and name-addr headers.

public struct SIPParameter: Sendable {
    public let name: SIPBytes
    /// Nil for a parameter without `=`; may be a quoted string in header parameters.
    public let value: SIPBytes?
}

public struct SIPParameters: Sendable {
    public let items: [SIPParameter]

    init(_ items: [SIPParameter]) { self.items = items }

    public static let empty = SIPParameters([])

    public var isEmpty: Bool { items.isEmpty }
    public var count: Int { items.count }

    /// Whether a parameter with this name (ASCII case-insensitive) is present.
    public func contains(_ name: String) -> Bool {
        for p in items where p.name.equalsIgnoringCase(name) { return true }
        return false
    }

    /// The value of the first parameter with this name. A present parameter
    /// without a value gives an empty slice; an absent one gives nil.
    public func value(_ name: String) -> SIPBytes? {
        for p in items where p.name.equalsIgnoringCase(name) {
            return p.value ?? p.name[p.name.endIndex..<p.name.endIndex]
        }
        return nil
    }

    /// Header parameters (after a header value): LWS is allowed around `;` and `=`;
    /// values are tokens, hosts (IPv6 references included) or quoted strings.
    /// Nil when a parameter is empty or malformed.
    static func parseHeaderParameters(_ scanner: inout SIPScanner) -> SIPParameters? {
        var items: [SIPParameter] = []
        while true {
            scanner.skipLWS()
            if scanner.atEnd { break }
            guard scanner.consume(SIPByte.semicolon) else { return nil }
            guard let name = scanner.token() else { return nil }
            var value: SIPBytes? = nil
            if scanner.consume(SIPByte.equals) {
                if scanner.peek == SIPByte.quote {
                    guard let q = scanner.quotedString() else { return nil }
                    value = q
                } else if scanner.peek == SIPByte.openBracket {
                    let v = scanner.take { $0 != SIPByte.closeBracket && !SIPByte.isLWS($0) && $0 != SIPByte.semicolon }
                    guard scanner.peek == SIPByte.closeBracket else { return nil }
                    scanner.index += 1
                    value = scanner.bytes[v.startIndex..<scanner.index]
                } else {
                    // token, host, or an unbracketed IPv6 address (Via received=)
                    let v = scanner.take { SIPByte.isToken($0) || $0 == SIPByte.colon }
                    guard !v.isEmpty else { return nil }
                    value = v
                }
            }
            items.append(SIPParameter(name: name, value: value))
        }
        return SIPParameters(items)
    }

    /// A header value's token and the parameters after it (`active;expires=60`,
    /// `message-summary;id=1`); nil when the parameters are malformed.
    public static func tokenAndParameters(_ value: SIPBytes) -> (token: SIPBytes, parameters: SIPParameters)? {
        let end = value.firstIndex(of: SIPByte.semicolon) ?? value.endIndex
        var scanner = SIPScanner(value[end...])
        guard let parameters = parseHeaderParameters(&scanner) else { return nil }
        return (value[..<end].trimmingLWS, parameters)
    }

    /// URI parameters: `;name[=value]` with paramchar and escapes, no LWS.
    static func parseURIParameters(_ bytes: SIPBytes) -> SIPParameters? {
        var items: [SIPParameter] = []
        if bytes.isEmpty { return .empty }
        for part in bytes.split(separator: SIPByte.semicolon, omittingEmptySubsequences: false) {
            if part.isEmpty { return nil }
            let eq = part.firstIndex(of: SIPByte.equals)
            let name = part[part.startIndex..<(eq ?? part.endIndex)]
            guard !name.isEmpty, SIPPercent.isValid(name, allowing: SIPByte.isParamChar) else { return nil }
            var value: SIPBytes? = nil
            if let eq {
                let v = part[(eq + 1)..<part.endIndex]
                guard !v.isEmpty, SIPPercent.isValid(v, allowing: SIPByte.isParamChar) else { return nil }
                value = v
            }
            items.append(SIPParameter(name: name, value: value))
        }
        return SIPParameters(items)
    }
}
