import Timebase

/// The non-INVITE client transaction of RFC 3261 17.1.2 (REGISTER, BYE,
/// OPTIONS, CANCEL, INFO, ...).
///
///     Trying --1xx--> Proceeding
///     Trying, Proceeding --200-699--> Completed --Timer K--> Terminated
///     Trying, Proceeding --Timer F--> Terminated (timeout)
///
/// Over UDP the request is resent when Timer E fires: T1 first, doubling up
/// to T2 in Trying, and every T2 once in Proceeding (the retransmission
/// already scheduled when the 1xx arrives still happens on time). With the
/// defaults: sends at 0, 0.5, 1.5, 3.5, 7.5, 11.5, ... 31.5 s, timeout at
/// 32 s. The final response is passed up once; retransmissions of it are
/// absorbed until Timer K.
///
/// A transport error in Trying or Proceeding ends the transaction and tells
/// the TU; in Completed the transaction sends nothing, so it is ignored.
public struct NonInviteClientTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case trying, proceeding, completed, terminated
    }

    public let timers: TransactionTimers
    public private(set) var state: State = .trying

    private var timerE: Instant?
    private var timerEInterval: Interval = .zero
    private var timerF: Instant?
    private var timerK: Instant?

    private init(timers: TransactionTimers) {
        self.timers = timers
    }

    /// Starts the transaction: the returned actions send the request.
    public static func start(timers: TransactionTimers, at now: Instant) -> (NonInviteClientTransaction, [TransactionAction]) {
        var transaction = NonInviteClientTransaction(timers: timers)
        if let interval = timers.timerE {
            transaction.timerEInterval = interval
            transaction.timerE = now + interval
        }
        transaction.timerF = now + timers.timerF
        return (transaction, [.sendRequest])
    }

    public var isTerminated: Bool { state == .terminated }

    /// Whether the transaction only lingers to absorb retransmissions
    /// (Completed, waiting for Timer K): a table under pressure may evict it.
    public var isLingering: Bool { state == .completed }

    /// When `advance(to:)` must run next; `nil` when nothing is pending.
    public var nextDeadline: Instant? { earliest(timerE, timerF, timerK) }

    /// Applies a response or a transport error received at `now`.
    public mutating func handle(_ input: ClientTransactionInput, at now: Instant) -> [TransactionAction] {
        var actions = advance(to: now)
        guard state != .terminated else { return actions }
        switch input {
        case .response(let code):
            receive(code, at: now, &actions)
        case .transportError:
            // Completed sends nothing and the TU has its final response.
            guard state != .completed else { break }
            actions.append(.transportError)
            terminate(&actions)
        }
        fireDue(at: now, &actions)
        return actions
    }

    /// Fires every timer due by `now`, in time order. A retransmission
    /// timer that fell behind sends once, not once per missed interval.
    public mutating func advance(to now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        fireDue(at: now, &actions)
        return actions
    }

    private mutating func receive(_ code: Int, at now: Instant, _ actions: inout [TransactionAction]) {
        guard state == .trying || state == .proceeding else { return }  // Completed absorbs
        switch StatusClass(code) {
        case .invalid:
            break
        case .provisional:
            state = .proceeding
            actions.append(.passResponseToTU(statusCode: code))
        case .success, .failure:
            state = .completed
            timerE = nil
            timerF = nil
            timerK = now + timers.timerK
            actions.append(.passResponseToTU(statusCode: code))
        }
    }

    private mutating func fireDue(at now: Instant, _ actions: inout [TransactionAction]) {
        var retransmitted = false
        while state != .terminated, let due = nextDeadline, due <= now {
            if let f = timerF, f <= due {
                actions.append(.timeout)
                terminate(&actions)
            } else if let k = timerK, k <= due {
                terminate(&actions)
            } else if let e = timerE, e <= due {
                if !retransmitted { actions.append(.sendRequest) }
                retransmitted = true
                timerEInterval = state == .proceeding ? timers.t2 : timers.backedOff(timerEInterval)
                timerE = e + timerEInterval
            }
        }
    }

    private mutating func terminate(_ actions: inout [TransactionAction]) {
        state = .terminated
        timerE = nil
        timerF = nil
        timerK = nil
        actions.append(.terminated)
    }
}
