import SIPDigest
import SIPMessage
import Timebase

/// 3xx redirects (RFC 3261 §8.1.3.4): the Contact with the highest q not
/// tried yet, a bounded number of times; call control finds the way there.
extension OutgoingCall {
    /// The place a 3xx names to call instead: its SIP Contact with the
    /// highest q not tried yet; nil past the bound, or when there is none.
    func redirectTarget(in response: SIPMessage) -> String? {
        guard targetsTried.count <= Self.maximumRedirects, let contacts = response.contacts else { return nil }
        var best: (uri: String, q: Int)?
        for contact in contacts {
            guard contact.sipURI?.scheme == .sip else { continue }
            // URI headers (`?...`) are not ours to copy into the INVITE.
            let uri = String(decoding: contact.uri.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
            let q = Self.thousandths(contact.parameters.value("q")) ?? 1000
            guard !targetsTried.contains(uri), best == nil || q > best!.q else { continue }
            best = (uri, q)
        }
        return best?.uri
    }

    /// A q-value ("1", "0.5", "0.25") in thousandths; nil when malformed.
    static func thousandths(_ value: SIPBytes?) -> Int? {
        guard let value, let first = value.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var result = Int(first - UInt8(ascii: "0")) * 1000
        var rest = value.dropFirst()
        guard !rest.isEmpty else { return result }
        guard rest.first == UInt8(ascii: "."), rest.count <= 4 else { return nil }
        rest = rest.dropFirst()
        var scale = 100
        for digit in rest {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            result += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return result <= 1000 ? result : nil
    }

    /// The way to the 3xx's target is found: the INVITE goes again, to the
    /// new Request-URI, in a new transaction with a higher CSeq. Credentials
    /// are the old server's: not shown to the new one unless it asks.
    public mutating func followRedirect(at now: Instant) -> [OutgoingCallAction] {
        guard state == .redirecting else { return [] }
        state = .calling
        digest.reset()
        return sendInvite(at: now)
    }

    /// No way to the 3xx's target: the call fails.
    public mutating func redirectFailed(_ reason: String) -> [OutgoingCallAction] {
        guard state == .redirecting else { return [] }
        state = .ended
        return [.event(.failed(busy: false, reason: reason))]
    }
}
