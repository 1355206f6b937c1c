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
