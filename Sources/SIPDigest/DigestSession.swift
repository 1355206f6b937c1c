// SIPDigest: the client side across requests. No I/O: the user agent feeds
// in the challenges of each 401/407 and asks for the headers of each new
// request.
//
// Per (origin, realm) the session keeps the server's nonce, a cnonce of its
// own (one per nonce, so -sess HA1 stays fixed while the nonce lives), and the
// nonce count, which goes up by one for every request that uses the nonce
// (RFC 7616 §3.4: nc counts requests, so retransmissions reuse the header).

/// Who challenged: decides the header names.
public enum DigestChallengeOrigin: Sendable, Equatable {
    /// 401 with WWW-Authenticate, answered in Authorization.
    case server
    /// 407 with Proxy-Authenticate, answered in Proxy-Authorization.
    case proxy

    public var challengeHeaderName: String {
        switch self {
        case .server: return "WWW-Authenticate"
        case .proxy: return "Proxy-Authenticate"
        }
    }

    public var authorizationHeaderName: String {
        switch self {
        case .server: return "Authorization"
        case .proxy: return "Proxy-Authorization"
        }
    }
}

/// One header to put on an outgoing request.
public struct DigestHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public var origin: DigestChallengeOrigin
    public var realm: String
    public var nonce: String
    /// How many requests have used this nonce, this one included (equals
    /// nc when the challenge offered qop).
    public var nonceUse: UInt32
}

/// What the user agent should do after a 401/407.
public enum DigestOutcome: Sendable, Equatable {
    /// Send the request again (new CSeq) with `authorize(...)`'s headers.
    case retry
    /// The server refused the credentials we sent for this realm: log once
    /// and back off; retrying with the same password would be refused again.
    case rejected(realm: String)
    /// The server keeps calling our fresh nonces stale: give up for now.
    case staleLoop(realm: String)
    /// No provisioned credentials answer this realm.
    case noCredentials(realm: String)
    /// No Digest challenge we can answer (other schemes only, broken syntax,
    /// unknown algorithm...).
    case unusable(DigestChallengeError)
}

/// Digest authentication state of one user agent (or one account).
public struct DigestSession {
    /// Consecutive stale answers to a nonce's first use before giving up.
    public static let maximumStaleRetries: UInt32 = 3

    public var credentials: [DigestCredentials]
    /// Answer with qop=auth-int when offered (off by default: proxies that
    /// rewrite SDP break auth-int, and most servers only check auth).
    public var preferAuthInt: Bool

    private struct RealmState {
        var origin: DigestChallengeOrigin
        var challenge: DigestChallenge
        var credentials: DigestCredentials
        var cnonce: String
        var nonceUse: UInt32
        var staleRetries: UInt32
    }

    private var states: [RealmState] = []
    private let makeCnonce: () -> String

    public init(credentials: [DigestCredentials], preferAuthInt: Bool = false) {
        self.init(credentials: credentials, preferAuthInt: preferAuthInt,
                  cnonce: { ClientNonce.generate() })
    }

    public init(credentials: DigestCredentials, preferAuthInt: Bool = false) {
        self.init(credentials: [credentials], preferAuthInt: preferAuthInt)
    }

    /// `cnonce` supplies client nonces: for tests with fixed values.
    public init(credentials: [DigestCredentials], preferAuthInt: Bool = false,
                cnonce: @escaping () -> String) {
        self.credentials = credentials
        self.preferAuthInt = preferAuthInt
        self.makeCnonce = cnonce
    }

    /// Realms with a nonce to answer, in the order they were challenged.
    public var realms: [String] { states.map { $0.challenge.realm } }

    /// Drops every nonce (after re-provisioning, say).
    public mutating func reset() { states.removeAll() }

    /// Handles the challenge headers of one 401/407 response.
    ///
    /// - `headerValues`: every WWW-Authenticate (or Proxy-Authenticate) value
    ///   of the response. Per realm the strongest supported challenge wins.
    /// - `sent`: the headers that the challenged request carried (what
    ///   `authorize` returned for it; empty for a request sent without).
    ///   A realm we answered that challenges again without `stale=true` has
    ///   refused the credentials, whatever nonce it offers now.
    public mutating func receive(challenges headerValues: [String], from origin: DigestChallengeOrigin,
                                 sent: [DigestHeader]) -> DigestOutcome {
        var chosen: [DigestChallenge] = []
        var refusal: DigestChallengeError? = nil
        for value in headerValues {
            for result in DigestChallenge.parseEach(value) {
                switch result {
                case .parsed(let challenge):
                    if let index = chosen.firstIndex(where: { $0.realm == challenge.realm }) {
                        if challenge.algorithm.strength > chosen[index].algorithm.strength {
                            chosen[index] = challenge
                        }
                    } else {
                        chosen.append(challenge)
                    }
                case .refused(let error):
                    refusal = DigestChallenge.moreTelling(refusal, error)
                }
            }
        }
        if chosen.isEmpty { return .unusable(refusal ?? .empty) }

        var rejected: DigestOutcome? = nil
        var missing: DigestOutcome? = nil
        var retry = false
        for challenge in chosen {
            let realm = challenge.realm
            guard let account = credentials.first(where: { $0.realm == realm })
                    ?? credentials.first(where: { $0.realm == nil }) else {
                if missing == nil { missing = .noCredentials(realm: realm) }
                continue
            }
            let existing = states.firstIndex(where: { $0.origin == origin && $0.challenge.realm == realm })
            let answered = sent.first(where: { $0.origin == origin && $0.realm == realm })
            var staleRetries: UInt32 = 0
            if let answered {
                var refused: DigestOutcome? = nil
                if !challenge.stale {
                    refused = .rejected(realm: realm)
                } else if challenge.nonce == answered.nonce {
                    refused = .staleLoop(realm: realm)
                } else {
                    // A nonce that served several requests simply aged out;
                    // one that went stale on its first use counts towards a loop.
                    let previous = existing.map { states[$0].staleRetries } ?? 0
                    staleRetries = answered.nonceUse <= 1 ? previous + 1 : 1
                    if staleRetries > Self.maximumStaleRetries {
                        refused = .staleLoop(realm: realm)
                    }
                }
                if let refused {
                    if let existing { states.remove(at: existing) }
                    if rejected == nil { rejected = refused }
                    continue
                }
            } else if let existing, states[existing].challenge.nonce == challenge.nonce {
                // Same nonce, request sent without it (raced with the retry
                // that installed it): keep counting.
                retry = true
                continue
            }
            let state = RealmState(origin: origin, challenge: challenge, credentials: account,
                                   cnonce: makeCnonce(), nonceUse: 0, staleRetries: staleRetries)
            if let existing {
                states[existing] = state
            } else {
                states.append(state)
            }
            retry = true
        }
        if let rejected { return rejected }
        if retry { return .retry }
        return missing ?? .unusable(refusal ?? .empty)
    }

    /// The Authorization / Proxy-Authorization headers for one new request
    /// (not for a retransmission, which repeats the same headers). Each call
    /// counts one more use of every nonce.
    public mutating func authorize(method: String, uri: String, body: [UInt8] = []) -> [DigestHeader] {
        var headers: [DigestHeader] = []
        for index in states.indices {
            states[index].nonceUse &+= 1
            let state = states[index]
            let challenge = state.challenge
            let qop: DigestQop?
            if challenge.qop.isEmpty {
                qop = nil
            } else if challenge.qop.authInt && (preferAuthInt || !challenge.qop.auth) {
                qop = .authInt
            } else {
                qop = .auth
            }
            let answer = DigestAuthorization.compute(
                challenge: challenge, username: state.credentials.username,
                password: state.credentials.password, method: method, uri: uri, body: body,
                qop: qop, nonceCount: state.nonceUse, cnonce: state.cnonce)
            headers.append(DigestHeader(name: state.origin.authorizationHeaderName,
                                        value: answer.headerValue, origin: state.origin,
                                        realm: challenge.realm, nonce: challenge.nonce,
                                        nonceUse: state.nonceUse))
        }
        return headers
    }
}
