import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What registration asks the daemon to do.
public enum RegistrationAction: Equatable, Sendable {
    /// Send these bytes to the registrar: the target `currentTarget` names.
    case send([UInt8])
    /// Look the registrar up (RFC 3263), then call `located` with what was
    /// found or `notLocated` with why nothing was.
    case locate
    case logInfo(String)
    case logWarning(String)
    case logDebug(String)
}

/// Where an account's registration stands, for `status`.
public enum RegistrationState: Equatable, Sendable {
    case idle
    /// Looking the registrar up before the first REGISTER or a retry.
    case resolving
    case registering
    case registered(until: Instant)
    /// The last attempt failed; the next one is at `retryAt`.
    case failed(reason: String, retryAt: Instant)
    case unregistering
    case unregistered
}

/// One server a registrar's name led to, as the daemon found it.
public struct RegistrarTarget: Equatable, Sendable {
    /// The server's address and port.
    public var host: String
    public var port: UInt16
    /// Our own address on the way to it: what Via and Contact carry.
    public var localHost: String

    public init(host: String, port: UInt16, localHost: String) {
        self.host = host
        self.port = port
        self.localHost = localHost
    }
}

/// One account's registration (RFC 3261 §10): a lookup of the registrar
/// before each attempt and refresh (RFC 3263), REGISTER, digest challenges,
/// the next server on a timeout, a transport error or 503, refresh ahead
/// of expiry, back-off after failures, un-REGISTER on the way out. No I/O:
/// lookups, responses and time come in, bytes to send go out. The failure
/// reason is logged when it changes, not on every retry.
public struct Registration {
    /// The account; the registrar and local address follow the target in use.
    public private(set) var settings: SIPAccount
    /// Where the registrar's name led, best first, and the one in use.
    public private(set) var targets: [RegistrarTarget] = []
    public private(set) var currentTarget = 0
    public private(set) var state: RegistrationState = .idle
    /// The branch of the REGISTER in flight, to match its responses.
    public private(set) var branch: String?

    private let callID: String
    private let fromTag: String
    private var cseq: UInt32 = 0
    private var digest: DigestSession
    private var sentAuthorization: [DigestHeader] = []
    private var transaction: NonInviteClientTransaction?
    private var request: [UInt8] = []
    private var requestedExpires: Int
    private var refreshAt: Instant?
    private var retryAt: Instant?
    private var failures = 0
    /// A `.locate` went out and its answer has not come.
    public var isLocating: Bool { awaitingLocation }
    private var awaitingLocation = false
    private var lastLoggedFailure: String?
    /// A Contact we registered before a NAT was seen, taken away
    /// (expires=0) by the REGISTERs until one succeeds.
    private var staleContact: String?
    /// Contacts moved in a row by what the registrar saw, without a 2xx
    /// that confirmed one: bounds the moves when its view keeps changing.
    private var contactMoves = 0
    private let timers: TransactionTimers
    private var makeToken: () -> String

    public static let minimumBackoff = Interval.seconds(5)
    public static let maximumBackoff = Interval.seconds(300)
    /// The longest wait after a failure of the network (no answer, no
    /// route, no DNS) rather than of the account: a board that booted
    /// before its network registers soon after the network comes.
    public static let maximumNetworkBackoff = Interval.seconds(30)

    public init(settings: SIPAccount, timers: TransactionTimers = .unreliable,
                makeToken: @escaping () -> String) {
        self.settings = settings
        self.timers = settings.transport.isReliable ? timers.with(reliableTransport: true) : timers
        self.makeToken = makeToken
        callID = makeToken() + "@atad"
        fromTag = makeToken()
        requestedExpires = settings.expires
        digest = DigestSession(credentials: DigestCredentials(username: settings.authUser ?? settings.user,
                                                              password: settings.password ?? ""))
    }

    public var nextDeadline: Instant? {
        var earliest = transaction?.nextDeadline
        for candidate in [refreshAt, retryAt] {
            guard let candidate else { continue }
            if earliest == nil || candidate < earliest! { earliest = candidate }
        }
        return earliest
    }

    /// "registered, expires in 3540 s", "failed: 403 Forbidden, retry in 20 s", ...
    public func statusText(at now: Instant) -> String {
        switch state {
        case .idle: return "idle"
        case .resolving: return "resolving"
        case .registering: return "registering"
        case .registered(let until):
            return "registered, expires in \(max(0, (until - now).milliseconds / 1000)) s, with \(serverLabel)"
        case .failed(let reason, let retry): return "failed: \(reason), retry in \(max(0, (retry - now).milliseconds / 1000)) s"
        case .unregistering: return "unregistering"
        case .unregistered: return "unregistered"
        }
    }

    // MARK: Inputs

    /// The server in use, "192.0.2.1:5060/udp".
    public var serverLabel: String {
        "\(SIPAccount.uriHost(settings.registrarHost)):\(settings.registrarPort)/\(settings.transport.rawValue)"
    }

    public mutating func start(at now: Instant) -> [RegistrationAction] {
        requestedExpires = settings.expires
        return locate()
    }

    /// The lookup a `.locate` asked for found these servers, best first.
    public mutating func located(_ found: [RegistrarTarget], at now: Instant) -> [RegistrationAction] {
        guard awaitingLocation else { return [] }
        awaitingLocation = false
        guard !found.isEmpty else { return fail("no address for the registrar", network: true, at: now) }
        targets = found
        return use(0, at: now)
    }

    /// The lookup failed. A refresh goes on with the servers found before
    /// (a DNS outage alone does not end a registration); otherwise this is
    /// a failure like any other, retried after a back-off.
    public mutating func notLocated(_ reason: String, at now: Instant) -> [RegistrationAction] {
        guard awaitingLocation else { return [] }
        awaitingLocation = false
        if !targets.isEmpty, case .registered = state {
            return [.logDebug("account \(settings.accountName): \(reason); refreshing with \(serverLabel)")]
                + sendRegister(expires: requestedExpires, at: now)
        }
        return fail(reason, network: true, at: now)
    }

    /// Removes the binding (Expires: 0); the daemon sends it on shutdown.
    public mutating func unregister(at now: Instant) -> [RegistrationAction] {
        refreshAt = nil
        retryAt = nil
        awaitingLocation = false
        guard case .registered = state else {
            state = .unregistered
            transaction = nil
            return []
        }
        var actions = sendRegister(expires: 0, at: now)
        state = .unregistering
        actions.append(.logInfo("account \(settings.accountName): unregistering"))
        return actions
    }

    /// A response whose top Via branch is `branch`.
    public mutating func handle(response: SIPMessage, at now: Instant) -> [RegistrationAction] {
        guard let status = response.statusCode, var current = transaction else { return [] }
        var actions: [RegistrationAction] = []
        let transactionActions = current.handle(.response(statusCode: status), at: now)
        transaction = current.isTerminated ? nil : current
        for action in transactionActions { actions += perform(action, at: now) }
        guard status >= 200 else { return actions }
        if case .unregistering = state {
            state = .unregistered
            actions.append(.logInfo("account \(settings.accountName): unregistered (\(status))"))
            return actions
        }
        switch status {
        case 200..<300:
            actions += registered(response, at: now)
        case 401, 407:
            if let reason = digest.answer(challenge: response, status: status, sent: sentAuthorization) {
                actions += fail(reason, at: now)
            } else {
                actions += sendRegister(expires: requestedExpires, at: now)
            }
        case 423:
            // Interval Too Brief: ask again with the registrar's minimum.
            if let minimum = response.value(of: .minExpires).flatMap({ SIPScalar.deltaSeconds($0) }),
               Int(minimum) > requestedExpires, minimum <= 86_400 {
                requestedExpires = Int(minimum)
                actions += sendRegister(expires: requestedExpires, at: now)
            } else {
                actions += fail("423 Interval Too Brief without a usable Min-Expires", at: now)
            }
        case 503:
            // Service Unavailable: the next server, if there is one (RFC 3263 §4.3).
            let reason = response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? ""
            actions += failOver("\(status) \(reason) from \(serverLabel)", at: now)
        default:
            let reason = response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? ""
            actions += fail("\(status) \(reason)", at: now)
        }
        return actions
    }

    /// A keep-alive OPTIONS to the registrar was answered. Its top Via shows
    /// where the registrar sees us now: a NAT that forgot us and made a new
    /// binding gives another port, and the registrar can no longer reach
    /// the old one, so we register the new one at once.
    public mutating func keepAliveAnswered(_ response: SIPMessage, at now: Instant) -> [RegistrationAction] {
        guard case .registered = state, transaction?.isLingering ?? true, !awaitingLocation else { return [] }
        return followNAT(response, at: now)
    }

    /// Our own address toward the registrar is no longer the one our Via
    /// and Contact give (DHCP gave another, the route moved to another
    /// interface): register again at once, after a fresh lookup, with the
    /// new address; the old Contact is taken away.
    public mutating func ownAddressChanged(to host: String, at now: Instant) -> [RegistrationAction] {
        guard case .registered = state, !awaitingLocation, host != settings.localHost else { return [] }
        transaction = nil
        refreshAt = nil
        return [.logInfo("account \(settings.accountName): our address toward \(serverLabel) is now \(host) "
                         + "(was \(settings.localHost)); registering again")] + locate()
    }

    /// Keep-alives to the registrar went unanswered: it restarted, or a NAT
    /// on the way forgot us. A registration in place registers again at
    /// once (after a fresh lookup, so another server may take over).
    public mutating func registrarSilent(at now: Instant) -> [RegistrationAction] {
        guard case .registered = state, !awaitingLocation else { return [] }
        transaction = nil
        refreshAt = nil
        return [.logInfo("account \(settings.accountName): \(serverLabel) does not answer keep-alives; registering again")]
            + locate()
    }

    /// The connection to the registrar broke (a stream transport): the
    /// REGISTER in flight fails over; a registration in place is refreshed
    /// at once, since the registrar reaches us only over that connection.
    public mutating func transportFailed(at now: Instant) -> [RegistrationAction] {
        if case .registered = state {
            guard !awaitingLocation else { return [] }
            transaction = nil
            refreshAt = nil
            return [.logInfo("account \(settings.accountName): the connection to \(serverLabel) closed; registering again")]
                + locate()
        }
        guard var current = transaction else { return [] }
        var actions: [RegistrationAction] = []
        let transactionActions = current.handle(.transportError, at: now)
        transaction = current.isTerminated ? nil : current
        for action in transactionActions { actions += perform(action, at: now) }
        return actions
    }

    /// Runs what is due: transaction timers, the refresh, the retry.
    public mutating func advance(to now: Instant) -> [RegistrationAction] {
        var actions: [RegistrationAction] = []
        if var current = transaction, let due = current.nextDeadline, due <= now {
            let transactionActions = current.advance(to: now)
            transaction = current.isTerminated ? nil : current
            for action in transactionActions { actions += perform(action, at: now) }
        }
        if let due = refreshAt, due <= now {
            // A fresh lookup first: a server preferred again is used again.
            refreshAt = nil
            actions += locate()
        }
        if let due = retryAt, due <= now {
            retryAt = nil
            digest.reset()
            sentAuthorization = []
            requestedExpires = settings.expires
            actions += locate()
        }
        return actions
    }

    // MARK: Internals

    private mutating func perform(_ action: TransactionAction, at now: Instant) -> [RegistrationAction] {
        switch action {
        case .sendRequest:
            return [.send(request)]
        case .timeout:
            if case .unregistering = state { state = .unregistered; return [] }
            return failOver("no response from \(serverLabel)", at: now)
        case .transportError:
            if case .unregistering = state { state = .unregistered; return [] }
            return failOver("cannot reach \(serverLabel)", at: now)
        default:
            return []
        }
    }

    private mutating func registered(_ response: SIPMessage, at now: Instant) -> [RegistrationAction] {
        // The lifetime granted: our Contact's expires parameter, else Expires,
        // else what we asked for.
        var granted = requestedExpires
        if let expires = response.expires { granted = Int(expires) }
        for value in response.values(of: .contact) {
            let text = String(decoding: value, as: UTF8.self)
            guard text.utf8.starts(with: "<\(settings.contactURI)>".utf8) || contains(text, settings.contactURI) else { continue }
            if let range = find(text, ";expires="), let seconds = Int(prefixDigits(text, from: range)) { granted = seconds }
        }
        granted = max(granted, 10)
        let wasRegistered: Bool
        if case .registered = state { wasRegistered = true } else { wasRegistered = false }
        state = .registered(until: now + .seconds(Int64(granted)))
        // Refresh at 85 % of the lifetime, so a lost refresh still has time
        // for its retransmissions.
        refreshAt = now + .milliseconds(Int64(granted) * 850)
        failures = 0
        var actions: [RegistrationAction] = []
        if !wasRegistered || lastLoggedFailure != nil {
            actions.append(.logInfo("account \(settings.accountName): registered \(settings.addressOfRecord) at \(settings.registrarHost):\(settings.registrarPort) for \(granted) s"))
        } else {
            actions.append(.logDebug("account \(settings.accountName): refreshed for \(granted) s"))
        }
        lastLoggedFailure = nil
        staleContact = nil
        return actions + followNAT(response, at: now)
    }

    /// RFC 3581: the registrar's `received`/`rport` say where our REGISTER
    /// came from. When that is not the address our Contact gives, a NAT
    /// stands between (or went away): the Contact takes that address, the
    /// old one is removed, and we register again at once, as PJSIP does.
    /// Only over UDP: over TCP the registrar reaches us on our connection.
    private mutating func followNAT(_ response: SIPMessage, at now: Instant) -> [RegistrationAction] {
        guard !settings.transport.isReliable, settings.fixedPublicHost == nil,
              let seen = HostAndPort.observed(in: response) else { return [] }
        let wanted = seen == HostAndPort(host: settings.localHost, port: settings.localPort) ? nil : seen
        guard wanted != settings.publicAddress else {
            contactMoves = 0
            return []
        }
        guard contactMoves < 2 else {
            return [.logDebug("account \(settings.accountName): the registrar sees us at \(seen.host):\(seen.port) now; "
                              + "it keeps changing, so the Contact stays")]
        }
        contactMoves += 1
        staleContact = settings.contactURI
        settings.publicAddress = wanted
        let note = wanted == nil
            ? "account \(settings.accountName): the registrar sees our own address again; registering it"
            : "account \(settings.accountName): the registrar sees us at \(SIPAccount.uriHost(seen.host)):\(seen.port) "
                + "(a NAT is on the way); registering that as our Contact"
        return [.logInfo(note)] + sendRegister(expires: requestedExpires, at: now)
    }

    /// Asks for a lookup; a registration not yet up shows `resolving`.
    private mutating func locate() -> [RegistrationAction] {
        awaitingLocation = true
        if case .registered = state {} else { state = .resolving }
        return [.locate]
    }

    /// REGISTER to target `index`: its address becomes the registrar's, our
    /// address toward it goes in Via and Contact.
    private mutating func use(_ index: Int, at now: Instant) -> [RegistrationAction] {
        currentTarget = index
        // What a NAT showed holds for one path: another server or another
        // own address starts again from our own address.
        // (A configured public address holds for every path.)
        if settings.fixedPublicHost == nil, targets[index].host != settings.registrarHost
            || targets[index].port != settings.registrarPort || targets[index].localHost != settings.localHost {
            // A binding in place under the old Contact is taken away by the
            // next REGISTER (when the Contact really changes).
            if case .registered = state { staleContact = settings.contactURI }
            settings.publicAddress = nil
        }
        settings.registrarHost = targets[index].host
        settings.registrarPort = targets[index].port
        settings.localHost = targets[index].localHost
        return sendRegister(expires: requestedExpires, at: now)
    }

    /// The server in use did not answer, could not be reached or is
    /// unavailable: the next one at once, with fresh credentials (a nonce
    /// is one server's), or a failure when none is left.
    private mutating func failOver(_ reason: String, at now: Instant) -> [RegistrationAction] {
        guard currentTarget + 1 < targets.count else { return fail(reason, network: true, at: now) }
        digest.reset()
        sentAuthorization = []
        let next = targets[currentTarget + 1]
        let note = RegistrationAction.logInfo(
            "account \(settings.accountName): \(reason); trying \(SIPAccount.uriHost(next.host)):\(next.port)")
        return [note] + use(currentTarget + 1, at: now)
    }

    private mutating func fail(_ reason: String, network: Bool = false, at now: Instant) -> [RegistrationAction] {
        failures += 1
        let backoff = Registration.backoff(afterFailures: failures, network: network)
        let retry = now + backoff
        state = .failed(reason: reason, retryAt: retry)
        retryAt = retry
        refreshAt = nil
        transaction = nil
        let message = "account \(settings.accountName): registration failed: \(reason); retrying in \(backoff.milliseconds / 1000) s"
        if lastLoggedFailure == reason { return [.logDebug(message)] }
        lastLoggedFailure = reason
        return [.logWarning(message)]
    }

    private mutating func sendRegister(expires: Int, at now: Instant) -> [RegistrationAction] {
        cseq += 1
        let newBranch = "z9hG4bK" + makeToken()
        branch = newBranch
        let requestURI = "sip:\(SIPAccount.uriHost(settings.domain))"
        var builder = SIPMessageBuilder(request: .register, uri: requestURI)
        let sentBy = "\(SIPAccount.uriHost(settings.localHost)):\(settings.localPort)"
        builder.add(.via, "SIP/2.0/\(settings.transport.viaName) \(sentBy);branch=\(newBranch);rport")
        builder.add(.maxForwards, "70")
        let display = settings.displayName.map { "\"\($0)\" " } ?? ""
        builder.add(.from, "\(display)<\(settings.addressOfRecord)>;tag=\(fromTag)")
        builder.add(.to, "<\(settings.addressOfRecord)>")
        builder.add(.callID, callID)
        builder.add(.cseq, "\(cseq) REGISTER")
        builder.add(.contact, "<\(settings.contactURI)>")
        if let staleContact, staleContact != settings.contactURI {
            builder.add(.contact, "<\(staleContact)>;expires=0")
        }
        builder.add(.expires, "\(expires)")
        AdvertisedCapabilities.add(to: &builder)
        builder.add(.userAgent, settings.userAgent)
        sentAuthorization = digest.authorize(method: "REGISTER", uri: requestURI)
        for header in sentAuthorization { builder.add(named: header.name, header.value) }
        request = builder.serialize()
        if expires > 0 { state = .registering }
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        var result: [RegistrationAction] = [.logDebug("account \(settings.accountName): REGISTER cseq \(cseq) expires \(expires)")]
        for action in actions { result += perform(action, at: now) }
        return result
    }

    private func contains(_ text: String, _ part: String) -> Bool { find(text, part) != nil }

    private func find(_ text: String, _ part: String) -> Int? {
        let haystack = Array(text.utf8), needle = Array(part.utf8)
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<(start + needle.count)]) == needle {
            return start + needle.count
        }
        return nil
    }

    private func prefixDigits(_ text: String, from offset: Int) -> String {
        var digits: [UInt8] = []
        for byte in Array(text.utf8)[offset...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            digits.append(byte)
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
