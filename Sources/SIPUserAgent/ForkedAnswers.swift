import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// The 2xx answers of forks other than the one a call took (RFC 3261
/// §13.2.2.4): a forking proxy may let several phones answer one INVITE.
/// Each extra dialog gets its ACK, then a BYE, so that no far end is left
/// thinking a call is up (and billing it). A fork's 2xx repeated (its ACK
/// lost) gets the same ACK again; the BYE is repeated on its transaction's
/// timers until answered. Bounded: forks past `limit` are ignored.
struct ForkedAnswers {
    private struct Fork {
        let tag: String
        let ack: [UInt8]
        let bye: [UInt8]
        let byeBranch: String
        var transaction: NonInviteClientTransaction?
    }

    static let limit = 8
    private var forks: [Fork] = []
    private let timers: TransactionTimers

    init(timers: TransactionTimers) {
        self.timers = timers
    }

    /// A 2xx from the fork `tag`: its ACK and our BYE, built on `requests`
    /// (the call's dialog requests: Call-ID, our tag and address) with the
    /// fork's own tag, Contact and route set. `credentials` go on the ACK,
    /// as on the call's own.
    mutating func answered(_ response: SIPMessage, tag: String, requests template: DialogRequests, inviteCSeq: UInt32,
                           credentials: [DigestHeader], makeToken: () -> String, at now: Instant) -> [[UInt8]] {
        if let known = forks.first(where: { $0.tag == tag }) { return [known.ack] }
        guard forks.count < Self.limit else { return [] }
        var requests = template
        requests.establish(from: response)
        var ack = requests.inDialog(.ack, cseq: inviteCSeq, branch: "z9hG4bK" + makeToken())
        for line in credentials { ack.add(named: line.name, line.value) }
        let branch = "z9hG4bK" + makeToken()
        let bye = requests.inDialog(.bye, cseq: inviteCSeq &+ 1, branch: branch).serialize()
        let (transaction, _) = NonInviteClientTransaction.start(timers: timers, at: now)
        forks.append(Fork(tag: tag, ack: ack.serialize(), bye: bye, byeBranch: branch, transaction: transaction))
        return [forks[forks.count - 1].ack, bye]
    }

    /// A response to one of our BYEs to a fork; false when it is not one.
    mutating func byeAnswered(_ response: SIPMessage, at now: Instant) -> Bool {
        guard let status = response.statusCode, let branch = response.topVia?.branch,
              let index = forks.firstIndex(where: { branch.elementsEqual($0.byeBranch.utf8) }) else { return false }
        if var transaction = forks[index].transaction {
            _ = transaction.handle(.response(statusCode: status), at: now)
            forks[index].transaction = transaction.isTerminated ? nil : transaction
        }
        return true
    }

    var nextDeadline: Instant? {
        var earliest: Instant?
        for fork in forks {
            if let due = fork.transaction?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    /// BYEs repeated on their timers; one never answered is given up.
    mutating func advance(to now: Instant) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for index in forks.indices {
            guard var transaction = forks[index].transaction, let due = transaction.nextDeadline, due <= now else { continue }
            for action in transaction.advance(to: now) where action == .sendRequest { out.append(forks[index].bye) }
            forks[index].transaction = transaction.isTerminated ? nil : transaction
        }
        return out
    }
}
