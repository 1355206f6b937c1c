import CompactText
import Config
import Platform
import SIPMessage
import SIPUserAgent

/// Message waiting from a voicemail server's message-summary NOTIFYs (RFC
/// 3842): those of our subscriptions' dialogs, and those it sends without
/// one (the "unsolicited" NOTIFY Asterisk and most providers send to a
/// registered contact), which must come from a registrar or proxy of ours.
extension SIPService {
    func answerNotify(_ request: SIPMessage, from source: SocketAddress) -> [UInt8] {
        let status = takeNotify(request, from: source)
        var response = SIPMessageBuilder.response(to: request, status: status, reason: SIPService.reason(status),
                                                  toTag: RandomToken.hex(bytes: 4))
        // 489 for another package names ours; for `mwi = off` it names none.
        if status == 489, !isMessageSummary(request) {
            response.add(named: "Allow-Events", "message-summary")
        }
        response.add(.server, userAgent)
        return response.serialize()
    }

    /// The status the NOTIFY gets; a summary is taken on 200.
    private func takeNotify(_ request: SIPMessage, from source: SocketAddress) -> Int {
        guard isMessageSummary(request) else { return 489 }
        // One of our subscriptions' NOTIFYs: its dialog's tags vouch for
        // it, wherever it comes from (the voicemail server itself, often).
        if let (status, name) = subscriptionNotify(request) {
            guard status == 200, let name else { return status }
            if let summary = MessageSummary.parse(request.body) {
                remember(summary, for: name)
            } else {
                // A 4xx would end the subscription (RFC 6665 §4.2.2).
                log.info("account \(name): a message-summary NOTIFY without Messages-Waiting: ignored")
            }
            return 200
        }
        guard callSources.admits(source) else {
            log.info("SIP: message-summary NOTIFY from \(source.description) refused: not a registrar or proxy of ours")
            return 403
        }
        var account: SiteConfig.Account?
        if !site.accounts.isEmpty {
            guard let found = accountForNotify(request) else { return 404 }
            guard found.messageWaiting != .off else { return 489 }
            account = found
        }
        guard let summary = MessageSummary.parse(request.body) else { return 400 }
        remember(summary, for: account?.name)
        return 200
    }

    /// Keeps an account's summary (nil: the one without accounts) and
    /// tells the lines when it changed.
    private func remember(_ summary: MessageSummary, for account: String?) {
        let name = account ?? ""
        var changed = true
        if let index = messageSummaries.firstIndex(where: { $0.account == name }) {
            changed = messageSummaries[index].summary != summary
            messageSummaries[index].summary = summary
        } else {
            messageSummaries.append((name, summary))
        }
        if changed {
            log.info(messageWaitingStatus(name, summary))
            onMessageWaiting(account, summary)
        }
    }

    private func isMessageSummary(_ request: SIPMessage) -> Bool {
        let event = request.value(of: .event)?.prefix { $0 != UInt8(ascii: ";") }.trimmingLWS
        return event?.equalsIgnoringCase("message-summary") == true
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "No Messages-Waiting"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        default: return "Bad Event"
        }
    }

    /// The account a NOTIFY is for: by the user in its Request-URI (our
    /// Contact's, or the account's address of record), else the only
    /// account.
    private func accountForNotify(_ request: SIPMessage) -> SiteConfig.Account? {
        if let user = request.requestURI?.user, let account = site.accounts.first(where: { user.equals($0.user) }) {
            return account
        }
        return site.accounts.count == 1 ? site.accounts[0] : nil
    }

    /// After a reload: summaries of accounts gone or now `mwi = off` are
    /// forgotten.
    func forgetMessageSummaries(keeping accounts: [SiteConfig.Account]) {
        messageSummaries.removeAll { entry in
            !entry.account.isEmpty && !accounts.contains { $0.name == entry.account && $0.messageWaiting != .off }
        }
    }

    /// Whether messages wait for `account` (nil: the summary without accounts).
    func messagesWaiting(for account: String?) -> Bool {
        messageSummaries.first { $0.account == (account ?? "") }?.summary.waiting ?? false
    }

    /// `account NAME messages: ...` for `status`, once a summary came.
    var messageWaitingStatusLines: [String] {
        var lines: [String] = []
        for entry in messageSummaries { lines.append(messageWaitingStatus(entry.account, entry.summary)) }
        return lines
    }

    private func messageWaitingStatus(_ account: String, _ summary: MessageSummary) -> String {
        (account.isEmpty ? "messages: " : "account " + account + " messages: ") + summary.statusText
    }
}
