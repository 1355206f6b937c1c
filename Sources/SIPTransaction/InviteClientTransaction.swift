import Timebase

/// The INVITE client transaction of RFC 3261 17.1.1, with the Accepted
/// state of RFC 6026.
///
///     Calling --1xx--> Proceeding
///     Calling, Proceeding --2xx--> Accepted --Timer M--> Terminated
///     Calling, Proceeding --300-699 (ACK)--> Completed --Timer D--> Terminated
///     Calling --Timer B--> Terminated (timeout)
///
/// Over UDP the INVITE is resent when Timer A fires, T1 first and doubling
/// each time, until a response arrives or Timer B (64*T1) gives up: sends
/// at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, timeout at 32 s.
///
/// A 300-699 response is passed up once and ACKed; its retransmissions are
/// ACKed again (the same ACK) and absorbed until Timer D.
///
/// A 2xx is never ACKed here: the UA core builds that ACK (RFC 3261
/// 13.2.2.4). With RFC 6026 the transaction moves to Accepted instead of
/// ending, and passes every further 2xx (retransmissions, and 2xx from other
/// branches of a forked INVITE) up to the TU for 64*T1, so the UA can ACK
/// each one; other responses are dropped there.
///
/// A transport error in Calling, Proceeding or Completed ends the
/// transaction and tells the TU. In Accepted the transaction sends nothing,
/// so a transport error there concerns the TU's own ACK: it is reported and
/// the transaction stays.
public struct InviteClientTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case calling, proceeding, accepted, completed, terminated
    }

    public let timers: TransactionTimers
    public private(set) var state: State = .calling

    private var timerA: Instant?
    private var timerAInterval: Interval = .zero
    private var timerB: Instant?
    private var timerD: Instant?
    private var timerM: Instant?

    private init(timers: TransactionTimers) {
        self.timers = timers
    }

    /// Starts the transaction: the returned actions send the INVITE.
    public static func start(timers: TransactionTimers, at now: Instant) -> (InviteClientTransaction, [TransactionAction]) {
        var transaction = InviteClientTransaction(timers: timers)
        if let interval = timers.timerA {
            transaction.timerAInterval = interval
            transaction.timerA = now + interval
        }
        transaction.timerB = now + timers.timerB
        return (transaction, [.sendRequest])
    }

    public var isTerminated: Bool { state == .terminated }

    /// Whether the transaction only lingers to absorb retransmissions
    /// (Completed, waiting for Timer D): a table under pressure may evict it.
    public var isLingering: Bool { state == .completed }

    /// When `advance(to:)` must run next; `nil` when nothing is pending.
    public var nextDeadline: Instant? { earliest(timerA, timerB, timerD, timerM) }

    /// Applies a response or a transport error received at `now`.
    public mutating func handle(_ input: ClientTransactionInput, at now: Instant) -> [TransactionAction] {
        var actions = advance(to: now)
        guard state != .terminated else { return actions }
        switch input {
        case .response(let code):
            receive(code, at: now, &actions)
        case .transportError:
            actions.append(.transportError)
            if state != .accepted { terminate(&actions) }
        }
        fireDue(at: now, &actions)
        return actions
    }

    /// Fires every timer due by `now`, in time order. A retransmission
    /// timer that fell behind (the loop was late) sends once, not once per
    /// missed interval.
    public mutating func advance(to now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        fireDue(at: now, &actions)
        return actions
    }

    private mutating func receive(_ code: Int, at now: Instant, _ actions: inout [TransactionAction]) {
        let kind = StatusClass(code)
        switch (state, kind) {
        case (_, .invalid):
            break
        case (.calling, .provisional), (.proceeding, .provisional):
            state = .proceeding
            timerA = nil
            timerB = nil
            actions.append(.passResponseToTU(statusCode: code))
        case (.calling, .success), (.proceeding, .success):
            state = .accepted
            timerA = nil
            timerB = nil
            timerM = now + timers.timerM
            actions.append(.passResponseToTU(statusCode: code))
        case (.calling, .failure), (.proceeding, .failure):
            state = .completed
            timerA = nil
            timerB = nil
            timerD = now + timers.timerD
            actions.append(.passResponseToTU(statusCode: code))
            actions.append(.sendAck)
        case (.completed, .failure):
            actions.append(.sendAck)
        case (.accepted, .success):
            actions.append(.passResponseToTU(statusCode: code))
        case (.completed, _), (.accepted, _), (.terminated, _):
            break
        }
    }

    private mutating func fireDue(at now: Instant, _ actions: inout [TransactionAction]) {
        var retransmitted = false
        while state != .terminated, let due = nextDeadline, due <= now {
            if let b = timerB, b <= due {
                actions.append(.timeout)
                terminate(&actions)
            } else if let d = timerD, d <= due {
                terminate(&actions)
            } else if let m = timerM, m <= due {
                terminate(&actions)
            } else if let a = timerA, a <= due {
                if !retransmitted { actions.append(.sendRequest) }
                retransmitted = true
                timerAInterval = timerAInterval * 2
                timerA = a + timerAInterval
            }
        }
    }

    private mutating func terminate(_ actions: inout [TransactionAction]) {
        state = .terminated
        timerA = nil
        timerB = nil
        timerD = nil
        timerM = nil
        actions.append(.terminated)
    }
}
