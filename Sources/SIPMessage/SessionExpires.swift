import CompactText

// Session-Expires and Min-SE (RFC 4028 §4, §5): how long a session lives
// without a refresh, and who refreshes it.

public struct SessionExpires: Equatable, Sendable {
    /// The side that sends the refreshes; nil when the header names none
    /// (the answerer then chooses).
    public enum Refresher: Equatable, Sendable { case uac, uas }

    public var seconds: UInt32
    public var refresher: Refresher?

    public init(seconds: UInt32, refresher: Refresher? = nil) {
        self.seconds = seconds
        self.refresher = refresher
    }

    /// `delta-seconds *(;param)`; nil for anything else (RFC 4028 §4 gives
    /// the header no other form). An unknown refresher value is malformed.
    public static func parse(_ value: SIPBytes) -> SessionExpires? {
        var parts = value.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)[...]
        guard let first = parts.popFirst(), let seconds = SIPScalar.deltaSeconds(first), seconds > 0 else { return nil }
        var result = SessionExpires(seconds: seconds)
        for part in parts {
            let pair = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard pair[0].trimmingLWS.equalsIgnoringCase("refresher") else { continue }
            guard pair.count == 2 else { return nil }
            let who = pair[1].trimmingLWS
            if who.equalsIgnoringCase("uac") {
                result.refresher = .uac
            } else if who.equalsIgnoringCase("uas") {
                result.refresher = .uas
            } else {
                return nil
            }
        }
        return result
    }

    /// The header's value as we send it.
    public var text: String {
        switch refresher {
        case .uac: return "\(seconds);refresher=uac"
        case .uas: return "\(seconds);refresher=uas"
        case nil: return "\(seconds)"
        }
    }
}

extension SIPMessage {
    /// Session-Expires (or its compact form `x`); nil when absent or malformed.
    public var sessionExpires: SessionExpires? {
        value(of: .sessionExpires).flatMap(SessionExpires.parse)
    }

    /// Min-SE: the smallest session interval the sender takes (RFC 4028 §5).
    public var minimumSessionExpires: UInt32? {
        guard let value = value(of: .minSE) else { return nil }
        let delta = value.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        return SIPScalar.deltaSeconds(delta)
    }
}
