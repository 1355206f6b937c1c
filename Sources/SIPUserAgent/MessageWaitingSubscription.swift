import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// Where an account's message-summary subscription stands, for `status`.
public enum MessageWaitingSubscriptionState: Equatable, Sendable {
    /// Looking the server up before a new subscription.
    case resolving
    case subscribing
    case active(until: Instant)
    /// The server took the subscription but has not allowed it yet.
    case pending(until: Instant)
    /// The last attempt failed; the next one is at `retryAt`.
    case failed(reason: String, retryAt: Instant)
    /// The server ended it and wants no other (rejected, noresource).
    case refused(reason: String)
    case unsubscribing
    case ended
}

/// One account's subscription to its voicemail server's message summary
/// (RFC 3842 over RFC 6665): SUBSCRIBE to `voicemailURI` through the
/// account's server, digest challenges, the dialog its 2xx or first NOTIFY
/// makes, refreshes inside that dialog ahead of expiry, a new subscription
/// when the server ends one or forgets it (481), back-off after failures,
/// and Expires: 0 on the way out. The NOTIFYs' bodies are the daemon's to
/// read; this machine answers for the dialog and the subscription's life.
/// No I/O: lookups, responses, NOTIFYs and time come in; bytes go out, as
/// a registration's actions do (`send` goes to `currentTarget`).
public struct MessageWaitingSubscription {
    public typealias Action = RegistrationAction

    public private(set) var settings: SIPAccount
    public let voicemailURI: String
    public private(set) var targets: [RegistrarTarget] = []
    public private(set) var currentTarget = 0
    public private(set) var state: MessageWaitingSubscriptionState = .resolving
    /// The branch of the SUBSCRIBE in flight, to match its responses.
    public private(set) var branch: String?
    /// A `.locate` went out and its answer has not come.
    public private(set) var isLocating = false
    /// How many SUBSCRIBEs were answered 2xx (the first and each refresh).
    public private(set) var acceptedCount = 0

    private var dialog: DialogRequests?
    private var localTag = ""
    /// Whether the far end's tag is known (its 2xx or a NOTIFY came).
    private var established = false
    private var notifier = DialogIdentity(callID: "", localTag: "", remoteTag: nil)
    private var digest: DigestSession
    private var sentAuthorization: [DigestHeader] = []
    private var transaction: NonInviteClientTransaction?
    private var request: [UInt8] = []
    private var requestedExpires = MessageWaitingSubscription.requestedLifetime
    /// When the next refresh goes (inside the dialog).
    public private(set) var refreshAt: Instant?
    private var retryAt: Instant?
    private var failures = 0
    /// When the last SUBSCRIBE was accepted, and how many subscriptions in
    /// a row the server ended soon after (a loop to slow down).
    private var acceptedAt: Instant?
    private var quickEnds = 0
    private var lastLoggedFailure: String?
    private let timers: TransactionTimers
    private var makeToken: () -> String

    /// The lifetime asked for, seconds (what commercial ATAs ask).
    public static let requestedLifetime = 3600
    /// Refreshes never come closer than this, whatever lifetime is granted.
    static let shortestRefresh = Interval.seconds(2)

    public init(settings: SIPAccount, voicemailURI: String, timers: TransactionTimers = .unreliable,
                makeToken: @escaping () -> String) {
        self.settings = settings
        self.voicemailURI = voicemailURI
        self.timers = settings.transport.isReliable ? timers.with(reliableTransport: true) : timers
        self.makeToken = makeToken
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

    /// "subscribed to sip:...; expires in 3540 s", "failed: 489 Bad Event, retry in 20 s", ...
    @inline(never)
    public func statusText(at now: Instant) -> String {
        func seconds(_ until: Instant) -> Int64 { max(0, (until - now).milliseconds / 1000) }
        switch state {
        case .resolving, .subscribing: return "subscribing to \(voicemailURI)"
        case .active(let until): return "subscribed to \(voicemailURI), expires in \(seconds(until)) s"
        case .pending(let until): return "pending at \(voicemailURI), expires in \(seconds(until)) s"
        case .failed(let reason, let retry): return "failed: \(reason), retry in \(seconds(retry)) s"
        case .refused(let reason): return "ended by the server (\(reason))"
        case .unsubscribing: return "unsubscribing"
        case .ended: return "ended"
        }
    }

    // MARK: Inputs

    public mutating func start(at now: Instant) -> [Action] {
        locate()
    }

    /// The lookup a `.locate` asked for found these servers, best first.
    @inline(never)
    public mutating func located(_ found: [RegistrarTarget], at now: Instant) -> [Action] {
        guard isLocating else { return [] }
        isLocating = false
        guard !found.isEmpty else { return fail("no address for the server", network: true, at: now) }
        targets = found
        return use(0, at: now)
    }

    public mutating func notLocated(_ reason: String, at now: Instant) -> [Action] {
        guard isLocating else { return [] }
        isLocating = false
        return fail(reason, network: true, at: now)
    }

    /// A NAT between us and the server was learned (by the account's
    /// registration): the next new subscription's Contact gives it.
    public mutating func usePublicAddress(_ address: HostAndPort?) {
        if settings.fixedPublicHost == nil { settings.publicAddress = address }
    }

    /// Ends the subscription (Expires: 0); the daemon sends it on shutdown.
    @inline(never)
    public mutating func unsubscribe(at now: Instant) -> [Action] {
        refreshAt = nil
        retryAt = nil
        isLocating = false
        if established, dialog != nil, validUntil != nil {
            state = .unsubscribing
            return sendSubscribe(expires: 0, at: now)
        }
        state = .ended
        transaction = nil
        return []
    }

    /// Whether a NOTIFY belongs to this subscription: its Call-ID, our tag
    /// in its To, and the notifier's tag once one is known.
    @inline(never)
    public func owns(_ notify: SIPMessage) -> Bool {
        guard let dialog, let callID = notify.callID, callID.elementsEqual(dialog.callID.utf8),
              let to = notify.to?.tag, to.elementsEqual(localTag.utf8) else { return false }
        return !established || notifier.owns(notify)
    }

    /// A NOTIFY that `owns` matched: the status to answer it with and
    /// whether its body is the summary to take. The first one may come
    /// before the SUBSCRIBE's 2xx and makes the dialog; its
    /// Subscription-State moves the refresh earlier, or ends the
    /// subscription (a new one at once, later, or never, by its reason).
    @inline(never)
    public mutating func handle(notify: SIPMessage, at now: Instant) -> (status: Int, takeBody: Bool, actions: [Action]) {
        guard let value = notify.value(of: .subscriptionState),
              let subscription = SubscriptionStateHeader.parse(value) else { return (400, false, []) }
        if !established, var current = dialog {
            let contact = notify.headers(named: .contact).first.flatMap { try? NameAddress.parse(notify.bytes[$0.valueRange]) }
            let remoteTag = notify.from?.tag.map { String(decoding: $0, as: UTF8.self) }
            current.establish(remoteTag: remoteTag, remoteTarget: contact.map { String(decoding: $0.uri, as: UTF8.self) },
                              routeSet: notify.headers(named: .recordRoute)
                                  .map { String(decoding: notify.bytes[$0.valueRange], as: UTF8.self) })
            dialog = current
            establish(remoteTag: remoteTag ?? "")
        }
        guard notifier.admit(notify) == .accepted else { return (500, false, []) }
        // A NOTIFY refreshes the target (RFC 6665 §4.4.1): later refreshes
        // go to its Contact.
        dialog?.refreshTarget(from: notify)
        var actions: [Action] = []
        switch subscription.phase {
        case .active, .pending:
            if case .unsubscribing = state { break }
            if let offered = subscription.expires {
                let seconds = min(offered, requestedExpires)
                let until = now + .seconds(Int64(seconds))
                state = subscription.phase == .active ? .active(until: until) : .pending(until: until)
                let refresh = refreshTime(granted: seconds, at: now)
                if refreshAt == nil || refresh < refreshAt! { refreshAt = refresh }
            } else if case .pending(let until) = state, subscription.phase == .active {
                state = .active(until: until)
            }
        case .terminated:
            actions += ended(by: subscription, at: now)
        }
        return (200, !notify.body.isEmpty, actions)
    }

    /// A response whose top Via branch is `branch`.
    @inline(never)
    public mutating func handle(response: SIPMessage, at now: Instant) -> [Action] {
        guard let status = response.statusCode, var current = transaction else { return [] }
        var actions: [Action] = []
        let transactionActions = current.handle(.response(statusCode: status), at: now)
        transaction = current.isTerminated ? nil : current
        for action in transactionActions { actions += perform(action, at: now) }
        // A final response's copies stop at the transaction.
        let passed = transactionActions.contains { if case .passResponseToTU = $0 { return true } else { return false } }
        guard status >= 200, passed else { return actions }
        if case .unsubscribing = state {
            state = .ended
            return actions + [.logInfo("account \(settings.accountName): message waiting unsubscribed (\(status))")]
        }
        let reason = "\(status) " + (response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? "")
        switch status {
        case 200..<300:
            actions += accepted(response, at: now)
        case 401, 407:
            if let reason = digest.answer(challenge: response, status: status, sent: sentAuthorization) {
                actions += attemptFailed(reason, at: now)
            } else {
                actions += sendSubscribe(expires: requestedExpires, at: now)
            }
        case 423:
            if let minimum = response.value(of: .minExpires).flatMap({ SIPScalar.deltaSeconds($0) }),
               minimum <= 86_400, Int(minimum) > requestedExpires {
                requestedExpires = Int(minimum)
                actions += sendSubscribe(expires: requestedExpires, at: now)
            } else {
                actions += attemptFailed("423 Interval Too Brief without a usable Min-Expires", at: now)
            }
        case 481 where established:
            // The server forgot the subscription (it restarted): a new one.
            dialog = nil
            actions.append(.logInfo("account \(settings.accountName): the voicemail server no longer knows "
                                    + "the message waiting subscription; subscribing again"))
            actions += locate()
        case 408, 503:
            actions += attemptFailed(reason, failOver: true, at: now)
        default:
            actions += attemptFailed(reason, at: now)
        }
        return actions
    }

    /// The connection to the server broke (a stream transport): the
    /// SUBSCRIBE in flight fails at once rather than on its timer.
    public mutating func transportFailed(at now: Instant) -> [Action] {
        guard var current = transaction else { return [] }
        var actions: [Action] = []
        let transactionActions = current.handle(.transportError, at: now)
        transaction = current.isTerminated ? nil : current
        for action in transactionActions { actions += perform(action, at: now) }
        return actions
    }

    /// Runs what is due: transaction timers, the refresh, the retry.
    @inline(never)
    public mutating func advance(to now: Instant) -> [Action] {
        var actions: [Action] = []
        if var current = transaction, let due = current.nextDeadline, due <= now {
            let transactionActions = current.advance(to: now)
            transaction = current.isTerminated ? nil : current
            for action in transactionActions { actions += perform(action, at: now) }
        }
        if let due = refreshAt, due <= now {
            refreshAt = nil
            actions += sendSubscribe(expires: requestedExpires, at: now)
        }
        if let due = retryAt, due <= now {
            retryAt = nil
            digest.reset()
            sentAuthorization = []
            requestedExpires = MessageWaitingSubscription.requestedLifetime
            actions += locate()
        }
        return actions
    }

    // MARK: Internals

    private mutating func perform(_ action: TransactionAction, at now: Instant) -> [Action] {
        switch action {
        case .sendRequest:
            return [.send(request)]
        case .timeout, .transportError:
            if case .unsubscribing = state { state = .ended; return [] }
            let reason = action == .timeout ? "no response from the server" : "cannot reach the server"
            return attemptFailed(reason, failOver: true, at: now)
        default:
            return []
        }
    }

    private mutating func accepted(_ response: SIPMessage, at now: Instant) -> [Action] {
        if !established, var current = dialog {
            current.establish(from: response)
            dialog = current
            establish(remoteTag: response.to?.tag.map { String(decoding: $0, as: UTF8.self) } ?? "")
        } else {
            dialog?.refreshTarget(from: response)
        }
        // A notifier may shorten the lifetime, never lengthen it.
        let granted = response.expires.map { $0 < UInt32(requestedExpires) ? Int($0) : requestedExpires } ?? requestedExpires
        let until = now + .seconds(Int64(granted))
        // A NOTIFY's pending state holds until one says active.
        if case .pending = state { state = .pending(until: until) } else { state = .active(until: until) }
        // A NOTIFY that came first with a shorter lifetime keeps its refresh.
        let refresh = refreshTime(granted: granted, at: now)
        if refreshAt == nil || refresh < refreshAt! { refreshAt = refresh }
        acceptedCount += 1
        acceptedAt = now
        failures = 0
        let first = acceptedCount == 1 || lastLoggedFailure != nil
        lastLoggedFailure = nil
        let text = "account \(settings.accountName): message waiting subscribed to \(voicemailURI) for \(granted) s"
        return [first ? .logInfo(text) : .logDebug(text)]
    }

    /// Refresh at 85 % of the lifetime, so a lost refresh still has time
    /// for its retransmissions; never sooner than `shortestRefresh`.
    private func refreshTime(granted seconds: Int, at now: Instant) -> Instant {
        let refresh = Interval.milliseconds(Int64(seconds) * 850)
        return now + (refresh < MessageWaitingSubscription.shortestRefresh ? MessageWaitingSubscription.shortestRefresh : refresh)
    }

    private mutating func establish(remoteTag: String) {
        established = true
        notifier = DialogIdentity(callID: dialog?.callID ?? "", localTag: localTag, remoteTag: remoteTag)
    }

    /// The server ended the subscription (RFC 6665 §4.1.3).
    private mutating func ended(by header: SubscriptionStateHeader, at now: Instant) -> [Action] {
        refreshAt = nil
        transaction = nil
        dialog = nil
        let reason = header.reason ?? "no reason"
        if case .unsubscribing = state {
            state = .ended
            return []
        }
        let note = "account \(settings.accountName): the voicemail server ended the message waiting subscription (\(reason))"
        if header.forbidsResubscription {
            state = .refused(reason: reason)
            return [.logWarning(note + " and wants no other")]
        }
        if header.invitesResubscription && header.retryAfter == nil {
            // Once at once; a server that keeps ending them within a minute
            // of their start gets them after a growing back-off.
            let quick = acceptedAt.map { now - $0 < .seconds(60) } ?? true
            quickEnds = quick ? quickEnds + 1 : 0
            if quickEnds <= 1 { return [.logInfo(note + "; subscribing again")] + locate() }
            let backoff = Registration.backoff(afterFailures: quickEnds - 1, network: false)
            state = .failed(reason: "ended by the server (\(reason))", retryAt: now + backoff)
            retryAt = now + backoff
            return [.logDebug(note + "; subscribing again in \(backoff.milliseconds / 1000) s")]
        }
        if let seconds = header.retryAfter {
            let retry = now + .seconds(Int64(seconds))
            state = .failed(reason: "ended by the server (\(reason))", retryAt: retry)
            retryAt = retry
            return [.logInfo(note + "; subscribing again in \(seconds) s")]
        }
        return fail("ended by the server (\(reason))", at: now)
    }

    /// Asks for a lookup before a new subscription.
    private mutating func locate() -> [Action] {
        isLocating = true
        transaction = nil
        dialog = nil
        state = .resolving
        return [.locate]
    }

    /// A new subscription (a new dialog) through target `index`.
    @inline(never)
    private mutating func use(_ index: Int, at now: Instant) -> [Action] {
        currentTarget = index
        if settings.fixedPublicHost == nil, targets[index].localHost != settings.localHost { settings.publicAddress = nil }
        settings.registrarHost = targets[index].host
        settings.registrarPort = targets[index].port
        settings.localHost = targets[index].localHost
        localTag = makeToken()
        let display = settings.displayName.map { "\"\($0)\" " } ?? ""
        dialog = DialogRequests(callID: makeToken() + "@atad", local: "\(display)<\(settings.addressOfRecord)>;tag=\(localTag)",
                                remote: "<\(voicemailURI)>", remoteTarget: voicemailURI,
                                host: settings.localHost, port: settings.localPort, transport: settings.transport,
                                userAgent: settings.userAgent)
        established = false
        notifier = DialogIdentity(callID: "", localTag: "", remoteTag: nil)
        refreshAt = nil
        state = .subscribing
        return sendSubscribe(expires: requestedExpires, at: now)
    }

    /// Until when the server keeps the subscription we hold, if we hold one.
    private var validUntil: Instant? {
        switch state {
        case .active(let until), .pending(let until): return until
        default: return nil
        }
    }

    /// A SUBSCRIBE failed (not with 481). A refresh's failure leaves the
    /// subscription as it is until its expiry (RFC 6665 §4.1.2.2): the
    /// refresh goes again after the shortest back-off while there is time;
    /// otherwise the next server, or a back-off before a new subscription.
    private mutating func attemptFailed(_ reason: String, failOver next: Bool = false, at now: Instant) -> [Action] {
        if established, dialog != nil, let until = validUntil, until > now + Registration.minimumBackoff {
            transaction = nil
            refreshAt = now + Registration.minimumBackoff
            return [.logDebug("account \(settings.accountName): message waiting refresh failed: \(reason); "
                              + "the subscription holds until it expires")]
        }
        return next ? failOver(reason, at: now) : fail(reason, at: now)
    }

    /// The server did not answer, could not be reached or is unavailable:
    /// a new subscription through the next one, or a failure when none is
    /// left.
    private mutating func failOver(_ reason: String, at now: Instant) -> [Action] {
        guard currentTarget + 1 < targets.count else { return fail(reason, network: true, at: now) }
        digest.reset()
        sentAuthorization = []
        return [.logInfo("account \(settings.accountName): message waiting: \(reason); trying the next server")]
            + use(currentTarget + 1, at: now)
    }

    @inline(never)
    private mutating func fail(_ reason: String, network: Bool = false, at now: Instant) -> [Action] {
        failures += 1
        let backoff = Registration.backoff(afterFailures: failures, network: network)
        let retry = now + backoff
        state = .failed(reason: reason, retryAt: retry)
        retryAt = retry
        refreshAt = nil
        transaction = nil
        dialog = nil
        let message = "account \(settings.accountName): message waiting subscription failed: \(reason); "
            + "retrying in \(backoff.milliseconds / 1000) s"
        if lastLoggedFailure == reason { return [.logDebug(message)] }
        lastLoggedFailure = reason
        return [.logWarning(message)]
    }

    /// A SUBSCRIBE: the first of a dialog to the voicemail URI, or a
    /// refresh (or Expires: 0) inside it to the notifier's Contact.
    @inline(never)
    private mutating func sendSubscribe(expires: Int, at now: Instant) -> [Action] {
        guard var current = dialog else { return [] }
        let newBranch = "z9hG4bK" + makeToken()
        branch = newBranch
        var builder: SIPMessageBuilder
        let uri: String
        if established {
            builder = current.next(.subscribe, branch: newBranch)
            uri = current.remoteTarget
        } else {
            let cseq = current.nextCSeq()
            builder = current.request(.subscribe, uri: voicemailURI, to: current.remote, cseq: cseq,
                                      branch: newBranch, routed: false)
            uri = voicemailURI
        }
        dialog = current
        builder.add(.contact, "<\(settings.contactURI)>")
        builder.add(.event, "message-summary")
        builder.add(.accept, "application/simple-message-summary")
        builder.add(.expires, "\(expires)")
        sentAuthorization = digest.authorize(method: "SUBSCRIBE", uri: uri)
        for header in sentAuthorization { builder.add(named: header.name, header.value) }
        request = builder.serialize()
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        var result: [Action] = [.logDebug("account \(settings.accountName): SUBSCRIBE message-summary expires \(expires)")]
        for action in actions { result += perform(action, at: now) }
        return result
    }
}
