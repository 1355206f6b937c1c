import CountryPresets
import Timebase

/// The line machine's signals on the wire besides tones and ringing:
/// caller ID's place in the ring cadence (data after a reversal or between
/// rings), the loop-current disconnect pulse at a far-end hang-up, and the
/// polarity reversal of a call in progress.
extension LineMachine {
    // MARK: Caller ID

    mutating func callerIDStepDue(_ step: CallerIDStep, due: Instant, now: Instant,
                                          _ actions: inout [LineAction]) {
        switch step {
        case .awaitingPause:
            break
        case .sendAt:
            // Data that starts late could still be on the line when the
            // next ring (or the ring after a reversal) comes: the phone
            // would not read it, so after a stall none is sent.
            let late = now - due > LineMachine.lateDataLimit
            if callerIDAlerting == .afterFirstRing {
                // The cadence goes on by itself.
                callerIDStep = nil
                if !late { actions.append(.sendCallerID) }
            } else if late {
                startRingingAfterCallerID(at: due, &actions)
            } else {
                actions.append(.sendCallerID)
                callerIDStep = .sending(limit: now + LineMachine.dataLimit)
            }
        case .sending, .ringAt:
            startRingingAfterCallerID(at: due, &actions)
        }
    }

    mutating func startRingingAfterCallerID(at due: Instant, _ actions: inout [LineAction]) {
        callerIDStep = nil
        restorePolarity(&actions)
        ringer.start(at: due)
        actions.append(.ringer(on: true))
    }

    // MARK: Line signals

    /// A connected call ended from the far side (or failed): the loop
    /// opens, unless the handset is already on its way down or a call is
    /// still held (an answering machine would let that one go too).
    mutating func startDisconnectPulse(at now: Instant, _ actions: inout [LineAction]) {
        guard state == .talking, !holdingCall, !callWaits, let pulse = disconnectPulse, loopPulse == nil, breakStart == nil else { return }
        actions.append(.loopCurrent(on: false))
        loopPulse = .open(until: now + pulse)
    }

    mutating func loopPulseDue(_ pulse: LoopPulse, at due: Instant, _ actions: inout [LineAction]) {
        switch pulse {
        case .open:
            actions.append(.loopCurrent(on: true))
            loopPulse = .settling(until: due + LineMachine.pulseSettling)
            pulseClosedAt = due
        case .settling:
            loopPulse = nil
            // The handset really moved during the pulse: that edge, dated
            // no earlier than the loop closed (before, the SLIC could not tell).
            if let seen = hookSeenDuringPulse, seen.offHook != physicallyOffHook {
                physicallyOffHook = seen.offHook
                let at = max(seen.at, pulseClosedAt ?? seen.at)
                if seen.offHook { hookWentOff(at: at, &actions) } else { hookWentOn(at: at, &actions) }
            }
            hookSeenDuringPulse = nil
        }
    }

    /// The line goes idle during a pulse (the handset was already going
    /// down): the loop closes now, so nothing is left open.
    mutating func endDisconnectPulse(_ actions: inout [LineAction]) {
        guard let pulse = loopPulse else { return }
        if case .open = pulse { actions.append(.loopCurrent(on: true)) }
        loopPulse = nil
        hookSeenDuringPulse = nil
    }

    mutating func reverseForCall(_ wanted: Bool, _ actions: inout [LineAction]) {
        guard wanted, !polarityReversed else { return }
        polarityReversed = true
        actions.append(.polarity(reversed: true))
    }

    mutating func restorePolarity(_ actions: inout [LineAction]) {
        guard polarityReversed else { return }
        polarityReversed = false
        actions.append(.polarity(reversed: false))
    }
}
