import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What a call's dialog asks of the call that owns it.
public enum DialogOutput: Equatable, Sendable {
    /// Send this request or 2xx the way the call's messages go.
    case send([UInt8])
    /// Keys sent by INFO: refused by the far end, or one dropped.
    case keys(DTMFInfoOutput)
    /// The dialog is over; `remote` when it was the far end's doing (or
    /// its silence), not our handset's.
    case ended(reason: String, remote: Bool)
}

/// The dialog of a call, the same whichever side placed it (RFC 3261
/// §12-§15): who may send requests in it (both tags, CSeq order), the
/// requests we send in it (BYE, with credentials when challenged; keys by
/// INFO), and our 2xx to the far end's INVITE or re-INVITE, repeated until
/// its ACK. The INVITE that set it up stays with `IncomingCall` or
/// `OutgoingCall`. No I/O.
public struct CallDialog {
    /// How requests in the dialog are built (and, before it exists, the
    /// INVITE and CANCEL of a call we place).
    public var requests: DialogRequests
    public private(set) var identity: DialogIdentity
    private var keys: DTMFInfoSender
    private var bye: ByeSender?
    private var answer: AnswerRetransmission?
    /// What ends the dialog when our 2xx is never acknowledged.
    private var unacknowledgedReason = ""
    private let digest: DigestSession?
    private let timers: TransactionTimers
    private let makeToken: () -> String
    /// Our BYE is out; nothing else is sent.
    public private(set) var isEnding = false
    public private(set) var isOver = false

    /// - digest: the account's credentials, for a far end or proxy that
    ///   challenges our BYE or INFO.
    public init(requests: DialogRequests, identity: DialogIdentity, timers: TransactionTimers,
                digest: DigestSession?, makeToken: @escaping () -> String) {
        self.requests = requests
        self.identity = identity
        self.timers = timers
        self.digest = digest
        self.makeToken = makeToken
        keys = DTMFInfoSender(timers: timers, digest: digest, makeToken: makeToken)
    }

    public var nextDeadline: Instant? {
        var earliest = answer?.nextDeadline
        if let due = bye?.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        if let due = keys.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        return earliest
    }

    /// The far end's tag, from a tagged response to our INVITE.
    public mutating func learnRemoteTag(_ tag: String) {
        identity.learnRemoteTag(tag)
    }

    /// Checks a request the far end sends in the call: its tags, then its
    /// CSeq order. Only an accepted request may act on the call.
    public mutating func admit(_ request: SIPMessage) -> DialogIdentity.Verdict {
        identity.admit(request)
    }

    /// We accepted the far end's re-INVITE with the 2xx `answer`: its
    /// Contact is the new remote target (§12.2.2), and the 2xx is repeated
    /// until its ACK.
    public mutating func reinviteAccepted(_ request: SIPMessage, answer: [UInt8], at now: Instant) {
        requests.refreshTarget(from: request)
        answered(answer, cseq: request.cseq?.number ?? 0, at: now)
    }

    /// We sent a 2xx to the INVITE with CSeq `cseq`: it is repeated until
    /// the ACK. Without one in 64*T1, the dialog ends with `reason`.
    public mutating func answered(_ response: [UInt8], cseq: UInt32, at now: Instant,
                                  unacknowledged reason: String = "no ACK for our answer to a re-INVITE") {
        answer = AnswerRetransmission(response: response, cseq: cseq, timers: timers, at: now)
        unacknowledgedReason = reason
    }

    /// An ACK from the far end: true when it acknowledges the 2xx we
    /// repeat (same CSeq), which then stops.
    public mutating func ackReceived(cseq: UInt32) -> Bool {
        guard let pending = answer, pending.cseq == cseq else { return false }
        answer = nil
        return true
    }

    // MARK: Keys by INFO

    /// Queues a key; `send` says whether it may go now (the call is up).
    public mutating func sendKey(_ key: DTMFRelayBody, send: Bool, at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        var outputs = keys.enqueue(key)
        if send { outputs += keys.pump(dialog: &requests, at: now) }
        return apply(outputs)
    }

    /// Sends keys that waited (pressed between our 2xx and its ACK).
    public mutating func sendWaitingKeys(at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        return apply(keys.pump(dialog: &requests, at: now))
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { keys.refused }

    // MARK: Ending

    /// Our handset hung up: BYE.
    public mutating func hangUp(at now: Instant) -> [DialogOutput] {
        guard !isEnding, !isOver else { return [] }
        isEnding = true
        keys.finish()
        answer = nil
        let (started, outputs) = ByeSender.start(dialog: &requests, digest: digest, timers: timers,
                                                 makeToken: makeToken, at: now)
        bye = started
        return outputs.compactMap { if case .send(let bytes) = $0 { return .send(bytes) } else { return nil } }
    }

    /// The far end's BYE (accepted by `admit`): the dialog is over.
    public mutating func farEndHungUp() {
        finish()
    }

    /// A response to a request we sent in the dialog (BYE or INFO).
    public mutating func handle(response: SIPMessage, at now: Instant) -> [DialogOutput] {
        guard !isOver, let method = response.cseq?.method else { return [] }
        if method == .bye, var sender = bye {
            let outputs = sender.handle(response: response, dialog: &requests, at: now)
            bye = sender
            return byeOutputs(outputs)
        }
        if method == .info && !isEnding {
            return apply(keys.handle(response: response, dialog: &requests, at: now))
        }
        return []
    }

    public mutating func advance(to now: Instant) -> [DialogOutput] {
        guard !isOver else { return [] }
        var outputs: [DialogOutput] = []
        if var pending = answer, pending.nextDeadline <= now {
            for output in pending.advance(to: now) {
                switch output {
                case .send(let bytes):
                    outputs.append(.send(bytes))
                    answer = pending
                case .unacknowledged:
                    // §13.3.1.4: the session ends with a BYE; the far end
                    // is gone as far as the handset is concerned.
                    let reason = unacknowledgedReason
                    outputs += hangUp(at: now)
                    finish()
                    return outputs + [.ended(reason: reason, remote: true)]
                }
            }
        }
        if var sender = bye, let due = sender.nextDeadline, due <= now {
            let byeResult = sender.advance(to: now)
            bye = sender
            outputs += byeOutputs(byeResult)
        }
        if !isEnding && !isOver { outputs += apply(keys.advance(to: now)) }
        return outputs
    }

    private mutating func byeOutputs(_ outputs: [ByeOutput]) -> [DialogOutput] {
        outputs.map { output in
            switch output {
            case .send(let bytes): return .send(bytes)
            case .finished(let answered):
                finish()
                return .ended(reason: answered ? "hung up" : "no answer to our BYE", remote: false)
            }
        }
    }

    /// The sender's outputs; a dialog gone (RFC 3261 §12.2.1.2) ends the
    /// call as if the far end had hung up.
    private mutating func apply(_ outputs: [DTMFInfoOutput]) -> [DialogOutput] {
        var result: [DialogOutput] = []
        for output in outputs {
            switch output {
            case .send(let bytes):
                result.append(.send(bytes))
            case .dialogGone(let reason):
                finish()
                result.append(.keys(output))
                result.append(.ended(reason: reason, remote: true))
            case .refused, .dropped:
                result.append(.keys(output))
            }
        }
        return result
    }

    private mutating func finish() {
        isOver = true
        keys.finish()
        answer = nil
        bye = nil
    }
}
