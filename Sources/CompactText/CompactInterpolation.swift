/// Interpolation of the types atad's log lines and SIP messages are made
/// of, as calls rather than inlined code. The standard library's generic
/// `appendInterpolation` is specialized and inlined at every `\(...)` in
/// Embedded Swift; there are thousands, and on a 32-bit board their copies
/// are a good part of the binary. These overloads are concrete, so they win
/// over the generic one wherever this module is loaded, and one out-of-line
/// body serves every use. Text is not on the audio path: the call costs
/// nothing that matters.
extension DefaultStringInterpolation {
    @inline(never)
    public mutating func appendInterpolation(_ value: String) {
        appendLiteral(value)
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: Int) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: UInt16) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: UInt32) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: Int64) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: UInt8) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: UInt64) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: Int32) {
        appendLiteral(String(value))
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: Bool) {
        appendLiteral(value ? "true" : "false")
    }

    @inline(never)
    public mutating func appendInterpolation(_ value: Substring) {
        appendLiteral(String(value))
    }
}

/// The literal parts of an interpolation, and `+`, `+=` and `append` on
/// strings, as calls too. The standard library inlines `String.append`'s
/// small-string fast path at each of them (over a thousand in atad); these
/// have the same signatures, so they shadow the standard library's in every
/// file that imports this module, and one body serves them all.
extension DefaultStringInterpolation {
    @inline(never)
    public mutating func appendLiteral(_ literal: String) {
        write(literal)
    }
}

extension String {
    @inline(never)
    public mutating func append(_ other: String) {
        write(other)
    }

    @inline(never)
    public static func += (lhs: inout String, rhs: String) {
        lhs.write(rhs)
    }

    @inline(never)
    public static func + (lhs: String, rhs: String) -> String {
        var result = lhs
        result.write(rhs)
        return result
    }
}
