import Timebase

/// The INVITE server transaction of RFC 3261 17.2.1, with the Accepted
/// state of RFC 6026.
///
///     Proceeding --2xx from TU--> Accepted --Timer L--> Terminated
///     Proceeding --300-699 from TU--> Completed
///     Completed --ACK--> Confirmed --Timer I--> Terminated
///     Completed --Timer H--> Terminated (timeout: the ACK never came)
///
/// 100 Trying: the transaction sends one `tryingDelay` (200 ms by default)
/// after the INVITE arrived unless the TU has responded by then, as RFC 3261
/// 17.2.1 allows. A UA that rings the phone answers 180 within that time,
/// so the 100 is usually never sent; a TU that is slow (a DNS lookup, a busy
/// line check) still stops the caller's Timer A early. A retransmitted
/// INVITE before any response gets the 100 at once.
///
/// In Proceeding a retransmitted INVITE gets the latest provisional response
/// again. A 300-699 final response is retransmitted on Timer G (T1, doubling
/// up to T2, UDP only) and on every retransmitted INVITE until the ACK
/// arrives; the ACK moves to Confirmed, where ACK copies are absorbed until
/// Timer I.
///
/// RFC 6026: a 2xx from the TU moves to Accepted for Timer L (64*T1).
/// There the transaction does not retransmit the 2xx itself (the UA core
/// does, RFC 3261 13.3.1.4) but sends each 2xx the TU gives it; it absorbs
/// retransmitted INVITEs, which would otherwise look like new requests, and
/// passes ACKs up to the TU.
///
/// A transport error in Proceeding or Completed ends the transaction and
/// tells the TU. In Accepted it concerns the TU's 2xx: it is reported and
/// the transaction stays, still absorbing INVITE copies. In Confirmed
/// nothing is sent and it is ignored.
public struct InviteServerTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case proceeding, accepted, completed, confirmed, terminated
    }

    public let timers: TransactionTimers
    public private(set) var state: State = .proceeding
    /// The status of the latest response sent: the TU's, or 100 for the
    /// transaction's own 100 Trying. `nil` before any.
    public private(set) var lastStatusCode: Int?

    private var sentOwnTrying = false
    private var tryingTimer: Instant?
    private var timerG: Instant?
    private var timerGInterval: Interval = .zero
    private var timerH: Instant?
    private var timerI: Instant?
    private var timerL: Instant?

    private init(timers: TransactionTimers) {
        self.timers = timers
    }

    /// Starts the transaction for an INVITE received at `now`: the returned
    /// actions pass it to the TU (and, with a zero `tryingDelay`, send 100).
    public static func start(timers: TransactionTimers, at now: Instant) -> (InviteServerTransaction, [TransactionAction]) {
        var transaction = InviteServerTransaction(timers: timers)
        transaction.tryingTimer = now + timers.tryingDelay
        var actions: [TransactionAction] = [.passRequestToTU]
        transaction.fireDue(at: now, &actions)
        return (transaction, actions)
    }

    public var isTerminated: Bool { state == .terminated }

    /// Whether the transaction only lingers to absorb retransmissions
    /// (Confirmed, waiting for Timer I): a table under pressure may evict it.
    public var isLingering: Bool { state == .confirmed }

    /// When `advance(to:)` must run next; `nil` when nothing is pending.
    public var nextDeadline: Instant? { earliest(tryingTimer, timerG, timerH, timerI, timerL) }

    /// Applies an input received at `now`.
    public mutating func handle(_ input: ServerTransactionInput, at now: Instant) -> [TransactionAction] {
        var actions = advance(to: now)
        guard state != .terminated else { return actions }
        switch input {
        case .request:
            retransmittedRequest(&actions)
        case .ack:
            receivedAck(at: now, &actions)
        case .tuResponse(let code):
            respond(code, at: now, &actions)
        case .transportError:
            switch state {
            case .proceeding, .completed:
                actions.append(.transportError)
                terminate(&actions)
            case .accepted:
                actions.append(.transportError)
            case .confirmed, .terminated:
                break
            }
        }
        fireDue(at: now, &actions)
        return actions
    }

    /// Fires every timer due by `now`, in time order. Timer G that fell
    /// behind sends once, not once per missed interval.
    public mutating func advance(to now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        fireDue(at: now, &actions)
        return actions
    }

    private mutating func retransmittedRequest(_ actions: inout [TransactionAction]) {
        switch state {
        case .proceeding:
            if sentOwnTrying || lastStatusCode == nil {
                sendOwnTrying(&actions)
            } else if let code = lastStatusCode {
                actions.append(.sendResponse(statusCode: code))
            }
        case .completed:
            if let code = lastStatusCode { actions.append(.sendResponse(statusCode: code)) }
        case .accepted, .confirmed, .terminated:
            break
        }
    }

    private mutating func receivedAck(at now: Instant, _ actions: inout [TransactionAction]) {
        switch state {
        case .completed:
            state = .confirmed
            timerG = nil
            timerH = nil
            timerI = now + timers.timerI
        case .accepted:
            actions.append(.passAckToTU)
        case .proceeding, .confirmed, .terminated:
            break
        }
    }

    private mutating func respond(_ code: Int, at now: Instant, _ actions: inout [TransactionAction]) {
        let kind = StatusClass(code)
        switch (state, kind) {
        case (_, .invalid):
            break
        case (.proceeding, .provisional):
            tryingTimer = nil
            sentOwnTrying = false
            lastStatusCode = code
            actions.append(.sendResponse(statusCode: code))
        case (.proceeding, .success):
            state = .accepted
            tryingTimer = nil
            sentOwnTrying = false
            lastStatusCode = code
            timerL = now + timers.timerL
            actions.append(.sendResponse(statusCode: code))
        case (.proceeding, .failure):
            state = .completed
            tryingTimer = nil
            sentOwnTrying = false
            lastStatusCode = code
            if let interval = timers.timerG {
                timerGInterval = interval
                timerG = now + interval
            }
            timerH = now + timers.timerH
            actions.append(.sendResponse(statusCode: code))
        case (.accepted, .success):
            lastStatusCode = code
            actions.append(.sendResponse(statusCode: code))
        case (.accepted, _), (.completed, _), (.confirmed, _), (.terminated, _):
            break  // the TU already gave its final answer
        }
    }

    private mutating func sendOwnTrying(_ actions: inout [TransactionAction]) {
        tryingTimer = nil
        sentOwnTrying = true
        lastStatusCode = 100
        actions.append(.sendTrying)
    }

    private mutating func fireDue(at now: Instant, _ actions: inout [TransactionAction]) {
        var retransmitted = false
        while state != .terminated, let due = nextDeadline, due <= now {
            if let h = timerH, h <= due {
                actions.append(.timeout)
                terminate(&actions)
            } else if let i = timerI, i <= due {
                terminate(&actions)
            } else if let l = timerL, l <= due {
                terminate(&actions)
            } else if let trying = tryingTimer, trying <= due {
                sendOwnTrying(&actions)
            } else if let g = timerG, g <= due {
                if !retransmitted, let code = lastStatusCode { actions.append(.sendResponse(statusCode: code)) }
                retransmitted = true
                timerGInterval = timers.backedOff(timerGInterval)
                timerG = g + timerGInterval
            }
        }
    }

    private mutating func terminate(_ actions: inout [TransactionAction]) {
        state = .terminated
        tryingTimer = nil
        timerG = nil
        timerH = nil
        timerI = nil
        timerL = nil
        actions.append(.terminated)
    }
}
