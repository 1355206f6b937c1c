// What a user agent server accepts; request validation answers from it.

public struct SIPUASProfile: Sendable {
    /// Methods the UAS handles (listed in Allow of 405/501 responses).
    public var allowedMethods: [SIPMethod]
    /// Option tags the UAS supports (Require entries outside this list get 420).
    public var supportedExtensions: [String]
    /// Media types accepted in request bodies (others get 415).
    public var acceptedContentTypes: [String]
    /// Content codings accepted in request bodies.
    public var acceptedContentEncodings: [String]
    /// Request-URI schemes the UAS serves (others get 416).
    public var uriSchemes: [SIPURI.Scheme]

    public init(allowedMethods: [SIPMethod] = [.invite, .ack, .bye, .cancel, .options, .info,
                                               .update, .prack, .refer, .notify, .message],
                supportedExtensions: [String] = ["replaces", "timer", "100rel", "norefersub"],
                acceptedContentTypes: [String] = ["application/sdp"],
                acceptedContentEncodings: [String] = ["identity"],
                uriSchemes: [SIPURI.Scheme] = [.sip, .sips, .tel]) {
        self.allowedMethods = allowedMethods
        self.supportedExtensions = supportedExtensions
        self.acceptedContentTypes = acceptedContentTypes
        self.acceptedContentEncodings = acceptedContentEncodings
        self.uriSchemes = uriSchemes
    }

    public func allows(_ method: SIPMethod) -> Bool { allowedMethods.contains(method) }

    func supports(_ tag: SIPBytes) -> Bool {
        for t in supportedExtensions where tag.equalsIgnoringCase(t) { return true }
        return false
    }

    func accepts(contentType: SIPBytes) -> Bool {
        for t in acceptedContentTypes where contentType.equalsIgnoringCase(t) { return true }
        return false
    }

    func accepts(encoding: SIPBytes) -> Bool {
        for e in acceptedContentEncodings where encoding.equalsIgnoringCase(e) { return true }
        return false
    }

    var allowHeaderValue: String { joined(allowedMethods.map { $0.name }) }
    var acceptHeaderValue: String { joined(acceptedContentTypes) }
    var acceptEncodingHeaderValue: String { joined(acceptedContentEncodings) }
}

func joined(_ items: [String]) -> String {
    var out = ""
    for (i, item) in items.enumerated() {
        if i > 0 { out += ", " }
        out += item
    }
    return out
}
