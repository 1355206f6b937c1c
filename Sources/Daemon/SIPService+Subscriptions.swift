import CompactText
import Config
import EventLoop
import Platform
import SIPMessage
import SIPLocation
import SIPUserAgent
import Timebase

/// One account's message-summary subscription as the SIP service holds it.
final class SubscriptionEntry {
    var subscription: MessageWaitingSubscription
    /// The account's server as the config names it (outbound proxy,
    /// registrar or domain), looked up before each new subscription.
    let host: String
    let port: UInt16?
    /// The socket address of each of `subscription.targets`.
    var addresses: [SocketAddress] = []
    var timer: TimerID?
    /// A reload removed or changed the account: the subscription is being
    /// ended, then the entry goes.
    var retiring = false

    init(subscription: MessageWaitingSubscription, host: String, port: UInt16?) {
        self.subscription = subscription
        self.host = host
        self.port = port
    }

    var destination: SocketAddress? {
        addresses.indices.contains(subscription.currentTarget) ? addresses[subscription.currentTarget] : nil
    }

    var accountName: String { subscription.settings.accountName }

    var isUnsubscribing: Bool {
        if case .unsubscribing = subscription.state { return true }
        return false
    }
}

/// Subscribing each `mwi = subscribe` account to its voicemail server's
/// message summary (RFC 3842, RFC 6665): the SUBSCRIBEs go the way the
/// account's REGISTERs and calls go; the NOTIFYs of the dialog they make
/// come back to `answerNotify`.
extension SIPService {
    @inline(never)
    func startSubscription(_ account: SiteConfig.Account, localPort: UInt16) {
        let (host, port) = SIPService.hostAndPort(SIPService.serverName(of: account))
        let settings = accountSettings(account, host: host, port: port ?? 5060, localHost: site.sipListenAddress,
                                       localPort: localPort)
        let subscription = MessageWaitingSubscription(settings: settings, voicemailURI: account.subscriptionURI,
                                                      makeToken: { RandomToken.hex() })
        let entry = SubscriptionEntry(subscription: subscription, host: host, port: port)
        subscriptions.append(entry)
        perform(entry.subscription.start(at: loop.now), on: entry)
        rearm(entry)
    }

    /// Ends every subscription (at shutdown).
    func unsubscribeAll() {
        let now = loop.now
        for entry in subscriptions {
            perform(entry.subscription.unsubscribe(at: now), on: entry)
            rearm(entry)
        }
    }

    var unsubscriptionPending: Bool { subscriptions.contains { $0.isUnsubscribing } }

    @inline(never)
    func rearm(_ entry: SubscriptionEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        if entry.retiring && !entry.isUnsubscribing {
            subscriptions.removeAll { $0 === entry }
            return
        }
        guard let deadline = entry.subscription.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.subscription.advance(to: self.loop.now), on: entry)
            self.rearm(entry)
        }
    }

    @inline(never)
    func perform(_ actions: [RegistrationAction], on entry: SubscriptionEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                guard let destination = entry.destination else { continue }
                if entry.subscription.settings.transport == .tcp {
                    sendOverStream(bytes, to: destination)
                } else {
                    send(bytes, to: destination)
                }
            case .locate:
                locateNotifier(of: entry)
            case .logInfo(let text): log.info(text)
            case .logWarning(let text): log.warn(text)
            case .logDebug(let text): log.debug(text)
            }
        }
    }

    /// A response to one of our SUBSCRIBEs, by its branch; false: none.
    func dispatchSubscriptionResponse(_ response: SIPMessage, branch: String) -> Bool {
        guard response.cseq?.method == .subscribe,
              let entry = subscriptions.first(where: { $0.subscription.branch == branch }) else { return false }
        perform(entry.subscription.handle(response: response, at: loop.now), on: entry)
        rearm(entry)
        return true
    }

    /// A NOTIFY of one of our subscriptions' dialogs: its status, and the
    /// account whose summary its body is (nil: none to take; a subscription
    /// a reload is ending has its NOTIFYs answered, not taken).
    func subscriptionNotify(_ request: SIPMessage) -> (status: Int, account: String?)? {
        guard let entry = subscriptions.first(where: { $0.subscription.owns(request) }) else { return nil }
        let (status, takeBody, actions) = entry.subscription.handle(notify: request, at: loop.now)
        perform(actions, on: entry)
        rearm(entry)
        return (status, takeBody && !entry.retiring ? entry.accountName : nil)
    }

    /// Looks the account's server up for a `.locate`; a NAT its
    /// registration found goes in the new subscription's Contact.
    private func locateNotifier(of entry: SubscriptionEntry) {
        dns.locate(entry.host, port: entry.port, transport: entry.subscription.settings.transport) { locator in
            guard self.subscriptions.contains(where: { $0 === entry }), entry.subscription.isLocating else { return }
            let now = self.loop.now
            switch self.reachableTargets(of: locator, named: entry.host) {
            case .failure(let failure):
                self.perform(entry.subscription.notLocated(failure.reason, at: now), on: entry)
            case .success(let (targets, addresses)):
                entry.addresses = addresses
                entry.subscription.usePublicAddress(self.registration(of: entry.accountName)?.registration.settings.publicAddress)
                self.perform(entry.subscription.located(targets, at: now), on: entry)
            }
            self.rearm(entry)
        }
    }

    /// A reload: subscriptions of accounts removed or changed end, those of
    /// accounts added or changed start.
    func reconfigureSubscriptions(from old: SiteConfig, localPort: UInt16) -> [String] {
        var notes: [String] = []
        for entry in subscriptions where !entry.retiring {
            let fresh = site.accounts.first { $0.name == entry.accountName }
            let before = old.accounts.first { $0.name == entry.accountName }
            guard fresh != before || fresh?.messageWaiting != .subscribe else { continue }
            entry.retiring = true
            perform(entry.subscription.unsubscribe(at: loop.now), on: entry)
            rearm(entry)
            if fresh?.messageWaiting != .subscribe {
                notes.append("account \(entry.accountName): message waiting subscription ended")
            }
        }
        for account in site.accounts where account.messageWaiting == .subscribe {
            guard !subscriptions.contains(where: { !$0.retiring && $0.accountName == account.name }) else { continue }
            notes.append("account \(account.name): subscribing to message waiting")
            startSubscription(account, localPort: localPort)
        }
        return notes
    }

    /// `account NAME mwi: STATE` lines, for `status`.
    var subscriptionStatusLines: [String] {
        let now = loop.now
        return subscriptions.map {
            "account \($0.accountName) mwi\($0.retiring ? " (before the reload)" : ""): \($0.subscription.statusText(at: now))"
        }
    }
}
