// Known SIP header field names, their compact forms (RFC 3261 §7.3.3 and the
// extensions that registered one), matched case-insensitively.

public enum HeaderName: Equatable, Sendable {
    case accept, acceptContact, acceptEncoding, acceptLanguage, alertInfo, allow, allowEvents
    case authenticationInfo, authorization
    case callID, callInfo, contact, contentDisposition, contentEncoding, contentLanguage
    case contentLength, contentType, cseq
    case date, errorInfo, event, expires, from, identity, inReplyTo
    case maxForwards, minExpires, minSE, mimeVersion, organization
    case pAssertedIdentity, pPreferredIdentity, path, priority, privacy
    case proxyAuthenticate, proxyAuthorization, proxyRequire
    case rack, reason, recordRoute, referTo, referredBy, rejectContact, replaces, replyTo
    case requestDisposition, require, retryAfter, route, rseq
    case server, serviceRoute, sessionExpires, sipETag, sipIfMatch, subject, subscriptionState, supported
    case timestamp, to, unsupported, userAgent, via, warning, wwwAuthenticate
    /// A name this table does not know; the header keeps its name range.
    case other

    static let known: [HeaderName] = [
        .accept, .acceptContact, .acceptEncoding, .acceptLanguage, .alertInfo, .allow, .allowEvents,
        .authenticationInfo, .authorization,
        .callID, .callInfo, .contact, .contentDisposition, .contentEncoding, .contentLanguage,
        .contentLength, .contentType, .cseq,
        .date, .errorInfo, .event, .expires, .from, .identity, .inReplyTo,
        .maxForwards, .minExpires, .minSE, .mimeVersion, .organization,
        .pAssertedIdentity, .pPreferredIdentity, .path, .priority, .privacy,
        .proxyAuthenticate, .proxyAuthorization, .proxyRequire,
        .rack, .reason, .recordRoute, .referTo, .referredBy, .rejectContact, .replaces, .replyTo,
        .requestDisposition, .require, .retryAfter, .route, .rseq,
        .server, .serviceRoute, .sessionExpires, .sipETag, .sipIfMatch, .subject, .subscriptionState,
        .supported, .timestamp, .to, .unsupported, .userAgent, .via, .warning, .wwwAuthenticate,
    ]

    /// The full name as it is written when serializing.
    public var canonicalName: String {
        switch self {
        case .accept: return "Accept"
        case .acceptContact: return "Accept-Contact"
        case .acceptEncoding: return "Accept-Encoding"
        case .acceptLanguage: return "Accept-Language"
        case .alertInfo: return "Alert-Info"
        case .allow: return "Allow"
        case .allowEvents: return "Allow-Events"
        case .authenticationInfo: return "Authentication-Info"
        case .authorization: return "Authorization"
        case .callID: return "Call-ID"
        case .callInfo: return "Call-Info"
        case .contact: return "Contact"
        case .contentDisposition: return "Content-Disposition"
        case .contentEncoding: return "Content-Encoding"
        case .contentLanguage: return "Content-Language"
        case .contentLength: return "Content-Length"
        case .contentType: return "Content-Type"
        case .cseq: return "CSeq"
        case .date: return "Date"
        case .errorInfo: return "Error-Info"
        case .event: return "Event"
        case .expires: return "Expires"
        case .from: return "From"
        case .identity: return "Identity"
        case .inReplyTo: return "In-Reply-To"
        case .maxForwards: return "Max-Forwards"
        case .minExpires: return "Min-Expires"
        case .minSE: return "Min-SE"
        case .mimeVersion: return "MIME-Version"
        case .organization: return "Organization"
        case .pAssertedIdentity: return "P-Asserted-Identity"
        case .pPreferredIdentity: return "P-Preferred-Identity"
        case .path: return "Path"
        case .priority: return "Priority"
        case .privacy: return "Privacy"
        case .proxyAuthenticate: return "Proxy-Authenticate"
        case .proxyAuthorization: return "Proxy-Authorization"
        case .proxyRequire: return "Proxy-Require"
        case .rack: return "RAck"
        case .reason: return "Reason"
        case .recordRoute: return "Record-Route"
        case .referTo: return "Refer-To"
        case .referredBy: return "Referred-By"
        case .rejectContact: return "Reject-Contact"
        case .replaces: return "Replaces"
        case .replyTo: return "Reply-To"
        case .requestDisposition: return "Request-Disposition"
        case .require: return "Require"
        case .retryAfter: return "Retry-After"
        case .route: return "Route"
        case .rseq: return "RSeq"
        case .server: return "Server"
        case .serviceRoute: return "Service-Route"
        case .sessionExpires: return "Session-Expires"
        case .sipETag: return "SIP-ETag"
        case .sipIfMatch: return "SIP-If-Match"
        case .subject: return "Subject"
        case .subscriptionState: return "Subscription-State"
        case .supported: return "Supported"
        case .timestamp: return "Timestamp"
        case .to: return "To"
        case .unsupported: return "Unsupported"
        case .userAgent: return "User-Agent"
        case .via: return "Via"
        case .warning: return "Warning"
        case .wwwAuthenticate: return "WWW-Authenticate"
        case .other: return ""
        }
    }

    /// The one-letter compact form, if the header has one.
    public var compactForm: UInt8? {
        switch self {
        case .acceptContact: return 0x61        // a
        case .referredBy: return 0x62           // b
        case .contentType: return 0x63          // c
        case .requestDisposition: return 0x64   // d
        case .contentEncoding: return 0x65      // e
        case .from: return 0x66                 // f
        case .callID: return 0x69               // i
        case .rejectContact: return 0x6A        // j
        case .supported: return 0x6B            // k
        case .contentLength: return 0x6C        // l
        case .contact: return 0x6D              // m
        case .event: return 0x6F                // o
        case .referTo: return 0x72              // r
        case .subject: return 0x73              // s
        case .to: return 0x74                   // t
        case .allowEvents: return 0x75          // u
        case .via: return 0x76                  // v
        case .sessionExpires: return 0x78       // x
        case .identity: return 0x79             // y
        default: return nil
        }
    }

    /// Looks a name up, full or compact, ignoring ASCII case.
    public init(_ name: ArraySlice<UInt8>) {
        if name.count == 1 {
            let c = SIPByte.lower(name[name.startIndex])
            for candidate in HeaderName.known where candidate.compactForm == c {
                self = candidate
                return
            }
            self = .other
            return
        }
        for candidate in HeaderName.known where candidate.canonicalName.utf8.count == name.count {
            if name.equalsIgnoringCase(candidate.canonicalName) {
                self = candidate
                return
            }
        }
        self = .other
    }

    public init(_ name: String) {
        self.init(ArraySlice(name.utf8))
    }
}
