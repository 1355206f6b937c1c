import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// When the server a call's INVITE went to fails before anything rang
/// (RFC 3263 §4.3: a 503, no response at all, a connection that cannot be
/// made), call control gives the call another of the account's servers;
/// the INVITE left behind is cancelled or hung up there should it answer.
extension OutgoingCall {
    /// The server in use failed (`reason`) while nothing rang: another of
    /// the account's servers may take the call, unless the call follows a
    /// 3xx (its target is not the account's) or none is left.
    mutating func serverFailed(_ reason: String) -> [OutgoingCallAction]? {
        guard otherServersLeft, targetsTried.count == 1 else { return nil }
        state = .seekingServer
        serverFailure = reason
        return [.event(.serverFailed(reason: reason))]
    }

    /// Call control routed the call to another of the account's servers:
    /// the INVITE goes there in a new transaction. The one that failed is
    /// left behind (`abandoned`): should it answer after all, it is
    /// cancelled or hung up at its own server.
    public mutating func tryOtherServer(at now: Instant) -> [OutgoingCallAction] {
        guard state == .seekingServer else { return [] }
        state = .calling
        if abandoned.count < ForkedAnswers.limit {
            abandoned.append((cseq, inviteBranch, serverIndex, false, false))
        }
        serverIndex += 1
        inviteTransaction = nil
        // The first server's nonce means nothing to the next one: sent
        // there, it would make its challenge look like a refusal.
        digest.reset()
        return sendInvite(at: now)
    }

    /// A response to an INVITE failover left behind (`abandoned[index]`):
    /// a 1xx gets a CANCEL, a 2xx an ACK and a BYE, a final failure its
    /// ACK; all to that INVITE's own server.
    mutating func abandonedServerAnswered(_ response: SIPMessage, status: Int,
                                                  index: Int) -> [OutgoingCallAction] {
        let entry = abandoned[index]
        if status < 200 {
            guard !entry.cancelled else { return [] }
            abandoned[index].cancelled = true
            let cancel = outOfDialog(.cancel, branch: entry.branch, to: "<\(toURI)>", cseq: entry.cseq)
            return [.sendToServer(cancel.serialize(), index: entry.server)]
        }
        if status < 300 {
            var requests = requestsBeforeAnswer
            requests.establish(from: response)
            let ack = requests.inDialog(.ack, cseq: entry.cseq, branch: "z9hG4bK" + makeToken()).serialize()
            guard !entry.hungUp else { return [.sendToServer(ack, index: entry.server)] }
            abandoned[index].hungUp = true
            let bye = requests.inDialog(.bye, cseq: entry.cseq &+ 1, branch: "z9hG4bK" + makeToken()).serialize()
            return [.sendToServer(ack, index: entry.server), .sendToServer(bye, index: entry.server)]
        }
        let to = response.value(of: .to).map { String(decoding: $0, as: UTF8.self) } ?? "<\(toURI)>"
        return [.sendToServer(outOfDialog(.ack, branch: entry.branch, to: to, cseq: entry.cseq).serialize(),
                              index: entry.server)]
    }

    /// No other server is left: a silent server's INVITE runs on to its
    /// timeout; any other failure is the call's.
    public mutating func noOtherServer() -> [OutgoingCallAction] {
        guard state == .seekingServer else { return [] }
        otherServersLeft = false
        if let transaction = inviteTransaction, transaction.state == .calling {
            state = .calling
            return []
        }
        state = .ended
        return [.event(.failed(busy: false, reason: serverFailure))]
    }

    /// The connection the INVITE was to go on could not be made (TCP
    /// refused, reset or unreachable) before anything answered it: the
    /// server counts as failed at once (RFC 3263 §4.3).
    public mutating func transportFailed(at now: Instant) -> [OutgoingCallAction] {
        guard state == .calling || state == .seekingServer, let transaction = inviteTransaction,
              transaction.state == .calling else { return [] }
        inviteTransaction = nil
        let reason = "cannot connect to the server"
        if state == .calling, let failing = serverFailed(reason) { return failing }
        if state == .seekingServer {
            // Found silent before; call control is on it.
            serverFailure = reason
            return []
        }
        state = .ended
        return [.event(.failed(busy: false, reason: reason))]
    }

    /// When the INVITE in flight has gone unanswered long enough for its
    /// server to count as down; nil once anything answered it.
    var silentServerDeadline: Instant? {
        guard otherServersLeft, targetsTried.count == 1, let sent = inviteSentAt,
              let transaction = inviteTransaction, transaction.state == .calling else { return nil }
        return sent + timers.t1 * Self.silentServerT1s
    }
}
