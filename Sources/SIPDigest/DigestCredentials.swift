// SIPDigest: what the user provisioned.

/// A SIP account's credentials. `realm` nil answers any realm; a set realm
/// answers only challenges with exactly that realm (realms compare as the
/// exact string, RFC 3261 §22.1).
public struct DigestCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    public var realm: String?

    public init(username: String, password: String, realm: String? = nil) {
        self.username = username
        self.password = password
        self.realm = realm
    }

    public func answers(realm challenged: String) -> Bool {
        realm == nil || realm == challenged
    }
}
