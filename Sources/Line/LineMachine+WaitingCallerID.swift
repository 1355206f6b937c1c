import CountryPresets
import Timebase

/// Caller ID for a waiting call (type II, "caller ID on call waiting":
/// Telcordia GR-30 off-hook data, ETSI EN 300 659-2). After the first
/// burst of the call-waiting tone the far end is cut off both ways and the
/// phone hears the CPE alerting signal (2130+2750 Hz, 80 ms). A phone
/// that can show the data answers with DTMF D (A for an ADSI set) within
/// 160 ms of the signal's end (260 ms as this side hears it); it then gets the caller's identity by FSK,
/// and the far end is back once the data ends. A phone that does not
/// answer gets nothing more: the far end is back at once and the tone
/// alone announces the call. Sources: docs/research/caller-id.md.
extension LineMachine {
    /// Where a waiting call's caller ID is.
    enum WaitingCallerIDStep: Equatable {
        /// The alerting signal follows the call-waiting tone's first burst.
        case alertAt(Instant)
        /// The signal plays (the call muted); then the phone may answer.
        case alerting(until: Instant)
        case awaitingAcknowledgement(until: Instant)
        /// Data is on the line; its end is reported (`callerIDSent`), or
        /// the call comes back at the limit should it never be.
        case sending(limit: Instant)

        var deadline: Instant {
            switch self {
            case .alertAt(let at), .alerting(let at), .awaitingAcknowledgement(let at), .sending(let at): return at
            }
        }
    }

    /// The alerting signal's length (GR-30: 75-85 ms) and how long after
    /// it the phone may answer: GR-30's phone answers 0-100 ms after the
    /// signal and the exchange gives up at 160 ms, but here the signal's
    /// end is the loop's (the sound card plays it up to ~30 ms later) and
    /// the detector confirms a key 30-40 ms into it: 100 ms more.
    static let alertLength: Interval = .milliseconds(80)
    static let acknowledgementWait: Interval = .milliseconds(260)
    /// Off-hook data: 80 marks and at most ~40 bytes, under 0.5 s.
    static let waitingDataLimit: Interval = .seconds(2)

    /// A call started waiting: the alert comes once the tone's first burst
    /// (every on/off part of its cadence but the long pause) is over.
    mutating func scheduleWaitingCallerID(at now: Instant) {
        guard sendsCallerIDDuringCall else { return }
        let cadence = preset.callWaiting.cadence
        var milliseconds = 300
        if cadence.count >= 2 {
            milliseconds = 0
            for part in cadence.dropLast() { milliseconds += Int(part) }
        }
        waitingCallerIDStep = .alertAt(now + .milliseconds(Int64(milliseconds)))
    }

    mutating func waitingCallerIDDue(_ step: WaitingCallerIDStep, at due: Instant, _ actions: inout [LineAction]) {
        switch step {
        case .alertAt:
            actions.append(.alertForCallerID)
            waitingCallerIDStep = .alerting(until: due + LineMachine.alertLength)
        case .alerting:
            waitingCallerIDStep = .awaitingAcknowledgement(until: due + LineMachine.acknowledgementWait)
        case .awaitingAcknowledgement:
            waitingCallerIDStep = nil
            actions.append(.callerIDDuringCallOver(acknowledged: false))
        case .sending:
            waitingCallerIDStep = nil
            actions.append(.callerIDDuringCallOver(acknowledged: true))
        }
    }

    /// A digit while the phone may acknowledge the alert: D (or A, from an
    /// ADSI set) starts the data; true when the digit was that answer (it
    /// is the phone's, not the user's: it is not dialed or relayed).
    mutating func acknowledgesAlert(_ digit: Character, at now: Instant, _ actions: inout [LineAction]) -> Bool {
        switch waitingCallerIDStep {
        case .alerting?, .awaitingAcknowledgement?:
            guard digit == "D" || digit == "A" else { return false }
            actions.append(.sendCallerIDDuringCall)
            waitingCallerIDStep = .sending(limit: now + LineMachine.waitingDataLimit)
            return true
        default:
            return false
        }
    }

    /// The data's end was reported: true when it was a waiting call's.
    mutating func waitingCallerIDSent(_ actions: inout [LineAction]) -> Bool {
        guard case .sending? = waitingCallerIDStep else { return false }
        waitingCallerIDStep = nil
        actions.append(.callerIDDuringCallOver(acknowledged: true))
        return true
    }

    /// The waiting call was answered or went away, or the call ended: no
    /// more caller ID for it, and the call is heard again if it was cut.
    mutating func stopWaitingCallerID(_ actions: inout [LineAction]) {
        guard let step = waitingCallerIDStep else { return }
        waitingCallerIDStep = nil
        if case .alertAt = step { return }
        actions.append(.callerIDDuringCallOver(acknowledged: false))
    }
}
