import CompactText
import SIPDigest
import SIPMessage
import Timebase

/// A 401 or 407 to a request a registration or subscription sends: whether
/// the request goes again with credentials, or why it cannot. One place for
/// both, so the firmware carries the reasons once.
extension DigestSession {
    /// nil: send the request again (its Authorization is ready); else the
    /// failure's reason, for the log and `status`.
    @inline(never)
    mutating func answer(challenge response: SIPMessage, status: Int, sent: [DigestHeader]) -> String? {
        let origin: DigestChallengeOrigin = status == 401 ? .server : .proxy
        let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
            .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
        switch receive(challenges: challenges, from: origin, sent: sent) {
        case .retry: return nil
        case .rejected(let realm): return "authentication failed for realm \"\(realm)\" (wrong user or password?)"
        case .staleLoop(let realm): return "the server keeps sending stale nonces for realm \"\(realm)\""
        case .noCredentials(let realm): return "no credentials for realm \"\(realm)\""
        case .unusable(let error): return "unusable challenge: \(error.text)"
        }
    }
}

extension Registration {
    /// The wait before the next attempt after `failures` failures in a row:
    /// 5 s, doubling, up to 5 min (30 s when the network, not the account,
    /// failed). Registrations and subscriptions back off alike.
    @inline(never)
    static func backoff(afterFailures failures: Int, network: Bool) -> Interval {
        let ceiling = network ? maximumNetworkBackoff : maximumBackoff
        var backoff = minimumBackoff
        for _ in 1..<min(max(failures, 1), 10) where backoff < ceiling { backoff = backoff * 2 }
        return backoff > ceiling ? ceiling : backoff
    }
}
