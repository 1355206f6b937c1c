// Option-tag lists (Require, Proxy-Require, Supported, Unsupported) and Allow.

extension SIPMessage {
    /// The option tags of every field with this name.
    public func optionTags(_ name: HeaderName) -> [SIPBytes] {
        values(of: name)
    }

    /// The methods listed in Allow.
    public var allowedMethods: [SIPMethod] {
        var out: [SIPMethod] = []
        for v in values(of: .allow) { out.append(SIPMethod(v)) }
        return out
    }
}
