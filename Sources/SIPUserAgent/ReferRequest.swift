import CompactText
import SIPMessage

/// What a REFER received in a call asks of us (RFC 3515): call `target`,
/// and, for an attended transfer, replace the call named by `replaces`
/// (RFC 3891) there. Read from its one Refer-To; a refusal carries the
/// status to answer with.
public struct ReferRequest: Equatable, Sendable {
    /// The SIP URI to call, without the URI's `?headers` part.
    public let target: String
    /// The Replaces value the Refer-To's URI carried, unescaped
    /// (`call-id;to-tag=...;from-tag=...`), for our INVITE.
    public let replaces: String?
    /// The REFER's Referred-By, to copy into our INVITE (RFC 3892).
    public let referredBy: String?

    public struct Refusal: Equatable, Error, Sendable {
        public let status: Int
        public let reason: String
    }

    /// Exactly one Refer-To, a sip or sips URI (§2.4.1: else 400).
    @inline(never)
    public static func parse(_ request: SIPMessage) -> Result<ReferRequest, Refusal> {
        let values = request.values(of: .referTo)
        guard values.count == 1, let value = values.first else {
            return .failure(Refusal(status: 400, reason: values.isEmpty ? "Missing Refer-To" : "More Than One Refer-To"))
        }
        guard let address = try? NameAddress.parse(value), let uri = address.sipURI else {
            return .failure(Refusal(status: 400, reason: "Bad Refer-To"))
        }
        guard uri.scheme != .tel else { return .failure(Refusal(status: 416, reason: "Unsupported URI Scheme")) }
        // Only a call is taken: a Refer-To asking for another request (BYE...) is not.
        if let method = uri.parameter("method"), !method.equalsIgnoringCase("INVITE") {
            return .failure(Refusal(status: 403, reason: "Only INVITE Is Referred"))
        }
        var replaces: String?
        for field in uri.headerFields where field.name.map({ $0 | 0x20 }) == Array("replaces".utf8) {
            guard !field.value.isEmpty, !field.value.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                return .failure(Refusal(status: 400, reason: "Bad Replaces"))
            }
            replaces = String(decoding: field.value, as: UTF8.self)
        }
        let target = String(decoding: uri.raw.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
        let referredBy = request.value(of: .referredBy).map { $0.unfoldedText }
        return .success(ReferRequest(target: target, replaces: replaces, referredBy: referredBy))
    }
}
