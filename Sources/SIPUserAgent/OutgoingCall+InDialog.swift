import SIPMessage
import Timebase

/// What a placed call does in its dialog once it is up, through its
/// `CallDialog`: keys by INFO, re-offers (hold, resume), REFER both ways
/// (ours, and the NOTIFYs for one we took), and the dialog's outputs
/// turned into the call's actions.
extension OutgoingCall {
    /// A key released on the line, to go out by INFO: at once, or after
    /// the INFO in flight has its answer. Only while the call is up.
    public mutating func sendKey(_ key: DTMFRelayBody, at now: Instant) -> [OutgoingCallAction] {
        guard state == .confirmed else { return [] }
        return apply(dialog.sendKey(key, send: true, at: now))
    }

    /// The far end refused keys by INFO: none are sent in this call any more.
    public var keysRefused: Bool { dialog.keysRefused }

    /// A new offer for the far end (hold, resume) by re-INVITE, once the
    /// call is up and no other re-INVITE is pending.
    public mutating func reoffer(_ body: [UInt8], at now: Instant) -> [OutgoingCallAction] {
        guard state == .confirmed else { return [] }
        return apply(dialog.reoffer(body, ownsCallID: true, at: now))
    }

    /// Asks the far end to call `referTo` instead (a transfer, RFC 3515).
    public mutating func refer(to referTo: String, at now: Instant) -> [OutgoingCallAction] {
        guard mayRefer else { return [] }
        return apply(dialog.refer(to: referTo, at: now))
    }

    /// The call is up and no REFER of ours is out: `refer` may send one.
    public var mayRefer: Bool { state == .confirmed && dialog.mayRefer }

    /// We accepted the far end's REFER (CSeq `cseq`): "100 Trying" by NOTIFY.
    public mutating func referAccepted(cseq: UInt32, at now: Instant) -> [OutgoingCallAction] {
        guard state == .confirmed else { return [] }
        return apply(dialog.referAccepted(cseq: cseq, at: now))
    }

    /// How the call the far end's REFER asked for goes, by NOTIFY.
    public mutating func reportReferral(status: Int, reason: String, at now: Instant) -> [OutgoingCallAction] {
        guard state == .confirmed || state == .ending else { return [] }
        return apply(dialog.reportReferral(status: status, reason: reason, at: now))
    }

    /// A REFER we took is still being carried out: another gets 491.
    public var isReferred: Bool { dialog.isReferred }

    /// Our re-INVITE waits for its answer.
    public var isReoffering: Bool { dialog.isReoffering }

    /// The call is up and no offer/answer is open: a re-INVITE may go.
    public var mayReoffer: Bool { state == .confirmed && dialog.mayReoffer }

    /// The dialog's outputs as the call's actions (a dialog gone is logged
    /// with its reason, then ends the call as if the far end had hung up).
    mutating func apply(_ outputs: [DialogOutput]) -> [OutgoingCallAction] {
        var actions: [OutgoingCallAction] = []
        for output in outputs {
            switch output {
            case .send(let bytes): actions.append(.send(bytes))
            case .keys(let notice): actions.append(.keys(notice))
            case .reoffer(let outcome): actions.append(.reoffer(outcome))
            case .referred(let status): actions.append(.referred(status: status))
            case .ended(_, let remote):
                state = .ended
                actions.append(.event(.ended(remote: remote)))
            }
        }
        return actions
    }
}
