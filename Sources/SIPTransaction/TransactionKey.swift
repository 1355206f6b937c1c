/// The sent-by of a Via header field: host and optional port. The host is
/// kept in ASCII lower case (host names compare case-insensitively); the
/// port is compared as given, so `host` and `host:5060` differ, as the
/// literal comparison of RFC 3261 17.2.3 has it (a retransmission carries
/// the very same Via).
public struct SentBy: Hashable, Sendable {
    public let host: String
    public let port: Int?

    public init(host: String, port: Int? = nil) {
        self.host = asciiLowercased(host)
        self.port = port
    }
}

/// The RFC 2543 identity of a server transaction (RFC 3261 17.2.3), used
/// when the top Via's branch lacks the magic cookie: Request-URI, To tag,
/// From tag, Call-ID, CSeq number and method, and the whole top Via.
///
/// The strings are compared exactly: give them in the form the parser
/// normalizes them to (the same form for every message).
public struct LegacyTransactionIdentity: Hashable, Sendable {
    public let requestURI: String
    public let toTag: String?
    public let fromTag: String?
    public let callID: String
    public let cseqNumber: UInt32
    /// The CSeq method as received (an ACK keeps "ACK").
    public let method: String
    public let topVia: String
}

/// What a message is matched to a transaction by (RFC 3261 17.1.3 and
/// 17.2.3). Built from plain values the parser extracts.
///
/// - Client: the branch of the top Via and the CSeq method. The method
///   tells apart an INVITE and the CANCEL for it, which share the branch.
/// - Server, RFC 3261 (branch starts with `z9hG4bK`): branch, the top Via's
///   sent-by, and the method, an ACK counting as INVITE (the ACK for a
///   non-2xx response carries the INVITE's branch).
/// - Server, RFC 2543 fallback (no magic cookie): `LegacyTransactionIdentity`.
///   An INVITE or other request matches when every field is equal. An ACK
///   matches the INVITE transaction with the same Request-URI, From tag,
///   Call-ID, CSeq number and top Via when its To tag is the one the server
///   put in its response (`TransactionTable.setResponseToTag`).
///
/// Client and server keys never equal each other, so one table can hold both.
public struct TransactionKey: Hashable, Sendable {
    /// The magic cookie that starts every RFC 3261 branch.
    public static let magicCookie = "z9hG4bK"

    public enum Side: Hashable, Sendable {
        case client, server
    }

    enum Storage: Hashable, Sendable {
        case client(branch: String, method: String)
        case server(branch: String, sentBy: SentBy, method: String)
        case legacy(LegacyTransactionIdentity)
    }

    let storage: Storage

    /// The key of a client transaction: from the request sent (its branch and
    /// method), or from a response received (top Via branch, CSeq method).
    public static func client(branch: String, method: String) -> TransactionKey {
        TransactionKey(storage: .client(branch: branch, method: method))
    }

    /// The RFC 3261 key of a request received, or `nil` when the branch does
    /// not start with the magic cookie (use the full `server` form then).
    public static func server(method: String, branch: String, sentBy: SentBy) -> TransactionKey? {
        guard hasMagicCookie(branch) else { return nil }
        return TransactionKey(storage: .server(branch: branch, sentBy: sentBy, method: method == "ACK" ? "INVITE" : method))
    }

    /// The RFC 2543 key of a request received, whatever its branch.
    public static func legacyServer(method: String, requestURI: String, toTag: String?, fromTag: String?,
                                    callID: String, cseqNumber: UInt32, topVia: String) -> TransactionKey {
        TransactionKey(storage: .legacy(LegacyTransactionIdentity(
            requestURI: requestURI, toTag: toTag, fromTag: fromTag, callID: callID,
            cseqNumber: cseqNumber, method: method, topVia: topVia)))
    }

    /// The key of a request received: the RFC 3261 key when the top Via's
    /// branch has the magic cookie, the RFC 2543 one otherwise (including
    /// when there is no branch at all).
    public static func server(method: String, branch: String?, sentBy: SentBy, requestURI: String, toTag: String?,
                              fromTag: String?, callID: String, cseqNumber: UInt32, topVia: String) -> TransactionKey {
        if let branch, let key = server(method: method, branch: branch, sentBy: sentBy) { return key }
        return legacyServer(method: method, requestURI: requestURI, toTag: toTag, fromTag: fromTag,
                            callID: callID, cseqNumber: cseqNumber, topVia: topVia)
    }

    /// Whether a branch is an RFC 3261 one.
    public static func hasMagicCookie(_ branch: String) -> Bool {
        branch.utf8.starts(with: magicCookie.utf8)
    }

    public var side: Side {
        switch storage {
        case .client: return .client
        case .server, .legacy: return .server
        }
    }

    /// For the key of a CANCEL received, the key of the INVITE server
    /// transaction it cancels: RFC 3261 9.2 matches a CANCEL by the rules of
    /// 17.2.3 with INVITE as the method. `nil` for any other key.
    public var cancelledInviteKey: TransactionKey? {
        switch storage {
        case .server(let branch, let sentBy, "CANCEL"):
            return TransactionKey(storage: .server(branch: branch, sentBy: sentBy, method: "INVITE"))
        case .legacy(let identity) where identity.method == "CANCEL":
            return TransactionKey(storage: .legacy(LegacyTransactionIdentity(
                requestURI: identity.requestURI, toTag: identity.toTag, fromTag: identity.fromTag,
                callID: identity.callID, cseqNumber: identity.cseqNumber, method: "INVITE", topVia: identity.topVia)))
        default:
            return nil
        }
    }

    /// Whether this is an RFC 2543 (no magic cookie) server key.
    public var isLegacy: Bool {
        if case .legacy = storage { return true }
        return false
    }

    /// Whether `incoming`, the key of a message received, belongs to the
    /// transaction stored under this key. `responseToTag` is the To tag of
    /// the response that transaction sent, for RFC 2543 ACK matching; `nil`
    /// means the request's own To tag (a request inside a dialog).
    public func matches(_ incoming: TransactionKey, responseToTag: String?) -> Bool {
        switch (storage, incoming.storage) {
        case (.legacy(let stored), .legacy(let message)) where message.method == "ACK" && stored.method != "ACK":
            return stored.method == "INVITE"
                && stored.requestURI == message.requestURI
                && stored.fromTag == message.fromTag
                && stored.callID == message.callID
                && stored.cseqNumber == message.cseqNumber
                && stored.topVia == message.topVia
                && message.toTag == (responseToTag ?? stored.toTag)
        default:
            return self == incoming
        }
    }
}

/// ASCII upper case to lower case, leaving every other byte alone (no
/// Unicode tables needed, so it is cheap in Embedded Swift).
func asciiLowercased(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return text }
    return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
}
