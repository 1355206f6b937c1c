// Request methods. Method names are case-sensitive (RFC 3261 §7.1).

public enum SIPMethod: Equatable, Sendable {
    case invite, ack, bye, cancel, options, register
    case prack, subscribe, notify, publish, info, refer, message, update
    case other(String)

    static let known: [SIPMethod] = [
        .invite, .ack, .bye, .cancel, .options, .register,
        .prack, .subscribe, .notify, .publish, .info, .refer, .message, .update,
    ]

    public var name: String {
        switch self {
        case .invite: return "INVITE"
        case .ack: return "ACK"
        case .bye: return "BYE"
        case .cancel: return "CANCEL"
        case .options: return "OPTIONS"
        case .register: return "REGISTER"
        case .prack: return "PRACK"
        case .subscribe: return "SUBSCRIBE"
        case .notify: return "NOTIFY"
        case .publish: return "PUBLISH"
        case .info: return "INFO"
        case .refer: return "REFER"
        case .message: return "MESSAGE"
        case .update: return "UPDATE"
        case .other(let name): return name
        }
    }

    /// True for the methods of RFC 3261 and its common extensions.
    public var isStandard: Bool {
        if case .other = self { return false }
        return true
    }

    public init(_ bytes: ArraySlice<UInt8>) {
        for m in SIPMethod.known where bytes.equals(m.name) {
            self = m
            return
        }
        self = .other(bytes.sipText)
    }

    public init(_ name: String) {
        self.init(ArraySlice(name.utf8))
    }
}
