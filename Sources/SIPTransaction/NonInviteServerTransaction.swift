import Timebase

/// The non-INVITE server transaction of RFC 3261 17.2.2.
///
///     Trying --1xx from TU--> Proceeding
///     Trying, Proceeding --200-699 from TU--> Completed --Timer J--> Terminated
///
/// The transaction never sends a response on its own (no 100 Trying for
/// non-INVITE requests, as RFC 4320 advises) and never retransmits by timer.
/// It answers request retransmissions: dropped in Trying (nothing to send
/// yet), answered with the latest provisional in Proceeding and with the
/// final response in Completed, where it stays for Timer J (64*T1 on UDP,
/// zero when reliable).
///
/// A transport error before Terminated ends the transaction and tells the TU.
public struct NonInviteServerTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case trying, proceeding, completed, terminated
    }

    public let timers: TransactionTimers
    public private(set) var state: State = .trying
    /// The status of the latest response the TU gave; `nil` before any.
    public private(set) var lastStatusCode: Int?

    private var timerJ: Instant?

    private init(timers: TransactionTimers) {
        self.timers = timers
    }

    /// Starts the transaction for a request received at `now`: the returned
    /// actions pass it to the TU.
    public static func start(timers: TransactionTimers, at now: Instant) -> (NonInviteServerTransaction, [TransactionAction]) {
        (NonInviteServerTransaction(timers: timers), [.passRequestToTU])
    }

    public var isTerminated: Bool { state == .terminated }

    /// Whether the transaction only lingers to answer retransmissions
    /// (Completed, waiting for Timer J): a table under pressure may evict it.
    public var isLingering: Bool { state == .completed }

    /// When `advance(to:)` must run next; `nil` when nothing is pending.
    public var nextDeadline: Instant? { timerJ }

    /// Applies an input received at `now`.
    public mutating func handle(_ input: ServerTransactionInput, at now: Instant) -> [TransactionAction] {
        var actions = advance(to: now)
        guard state != .terminated else { return actions }
        switch input {
        case .request:
            if state != .trying, let code = lastStatusCode {
                actions.append(.sendResponse(statusCode: code))
            }
        case .ack:
            break  // not part of a non-INVITE transaction
        case .tuResponse(let code):
            respond(code, at: now, &actions)
        case .transportError:
            actions.append(.transportError)
            terminate(&actions)
        }
        fireDue(at: now, &actions)
        return actions
    }

    /// Fires Timer J if it is due by `now`.
    public mutating func advance(to now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        fireDue(at: now, &actions)
        return actions
    }

    private mutating func respond(_ code: Int, at now: Instant, _ actions: inout [TransactionAction]) {
        guard state == .trying || state == .proceeding else { return }
        switch StatusClass(code) {
        case .invalid:
            break
        case .provisional:
            state = .proceeding
            lastStatusCode = code
            actions.append(.sendResponse(statusCode: code))
        case .success, .failure:
            state = .completed
            lastStatusCode = code
            timerJ = now + timers.timerJ
            actions.append(.sendResponse(statusCode: code))
        }
    }

    private mutating func fireDue(at now: Instant, _ actions: inout [TransactionAction]) {
        if state != .terminated, let j = timerJ, j <= now {
            terminate(&actions)
        }
    }

    private mutating func terminate(_ actions: inout [TransactionAction]) {
        state = .terminated
        timerJ = nil
        actions.append(.terminated)
    }
}
