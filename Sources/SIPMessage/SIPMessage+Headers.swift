// Header access by name: first value, all fields, comma-separated values.

extension SIPMessage {
    public func name(of header: SIPHeader) -> SIPBytes { bytes[header.nameRange] }
    public func value(of header: SIPHeader) -> SIPBytes { bytes[header.valueRange] }

    /// The fields with this name, in order.
    public func headers(named name: HeaderName) -> [SIPHeader] {
        var out: [SIPHeader] = []
        for h in headers where h.name == name { out.append(h) }
        return out
    }

    /// The fields whose name matches `name` (for unknown headers), ignoring case.
    public func headers(named name: String) -> [SIPHeader] {
        let known = HeaderName(name)
        if known != .other { return headers(named: known) }
        var out: [SIPHeader] = []
        for h in headers where h.name == .other && bytes[h.nameRange].equalsIgnoringCase(name) {
            out.append(h)
        }
        return out
    }

    public func count(of name: HeaderName) -> Int {
        var n = 0
        for h in headers where h.name == name { n += 1 }
        return n
    }

    /// The whole value of the first field with this name.
    public func value(of name: HeaderName) -> SIPBytes? {
        for h in headers where h.name == name { return bytes[h.valueRange] }
        return nil
    }

    /// The value of the first field with this name as text, line folds replaced by SP.
    public func text(of name: HeaderName) -> String? {
        value(of: name)?.unfoldedText
    }

    /// Every value of a list header: all fields with this name, each split on
    /// commas that are outside quoted strings and `<...>`. Empty elements are skipped.
    public func values(of name: HeaderName) -> [SIPBytes] {
        var out: [SIPBytes] = []
        for h in headers where h.name == name {
            for part in bytes[h.valueRange].splitOutsideQuotes(SIPByte.comma) where !part.isEmpty {
                out.append(part)
            }
        }
        return out
    }

    /// Like `values(of:)`, but keeps empty elements (`a,,b` gives three).
    func rawValues(of name: HeaderName) -> [SIPBytes] {
        var out: [SIPBytes] = []
        for h in headers where h.name == name {
            out.append(contentsOf: bytes[h.valueRange].splitOutsideQuotes(SIPByte.comma))
        }
        return out
    }
}
