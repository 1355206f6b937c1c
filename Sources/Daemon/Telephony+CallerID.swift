import CallerID
import CompactText
import CountryPresets
import DSP
import EventLoop
import Line
import Platform

/// Caller ID on the line: the burst the line state machine asks for, made
/// from the ringing call's identity, the line's signalling and the board's
/// clock, and played to the phone on hook until it ends.
extension Telephony {
    /// The level of DTMF caller ID digits, per tone.
    static let callerIDDTMFLevel = -8.0

    func sendCallerID(_ port: LinePort) {
        guard let signalling = port.callerIDSignalling, let caller = port.caller else {
            feed(port, .callerIDSent, at: loop.now)
            return
        }
        let transmitter: CallerIDTransmitter?
        switch signalling.modulation {
        case .bell202, .v23:
            transmitter = fskCallerID(caller, signalling, duringCall: false)
        case .dtmf:
            transmitter = CallerIDMessage.dtmf(caller, signalling: signalling).flatMap {
                CallerIDTransmitter(dtmf: $0, levelDBm0: Telephony.callerIDDTMFLevel)
            }
        }
        guard let transmitter else {
            log.info("line \(port.number): no caller ID to send")
            feed(port, .callerIDSent, at: loop.now)
            return
        }
        log.info("line \(port.number): sending caller ID (\(signalling.modulation.rawValue))")
        port.burstIsIndicator = false
        port.callerIDTransmitter = transmitter
    }

    /// The CPE alerting signal for a waiting call's caller ID: 2130+2750 Hz
    /// for 80 ms (8 frames), each tone at -13 dBm0, with the call cut off
    /// both ways until `callerIDDuringCallOver`.
    func alertForCallerID(_ port: LinePort) {
        port.callMuted = true
        port.alertTone = ToneGenerator(spec: ToneSpec(frequencies: [2130, 2750], levelDBm0: -13))
        port.alertFramesLeft = 8
        log.debug("line \(port.number): alerting the phone to the waiting call's caller ID")
    }

    /// The phone acknowledged the alert: the waiting caller's identity, by
    /// the line's FSK modem without a channel seizure (off-hook data).
    func sendCallerIDDuringCall(_ port: LinePort) {
        port.alertTone = nil
        port.alertFramesLeft = 0
        guard let signalling = port.callerIDSignalling, signalling.modulation != .dtmf, let caller = port.waitingCaller,
              let transmitter = fskCallerID(caller, signalling, duringCall: true) else {
            feed(port, .callerIDSent, at: loop.now)
            return
        }
        log.info("line \(port.number): sending the waiting call's caller ID (\(signalling.modulation.rawValue))")
        port.burstIsIndicator = false
        port.callerIDTransmitter = transmitter
    }

    /// The call is heard both ways again.
    func callerIDDuringCallOver(_ port: LinePort, acknowledged: Bool) {
        port.callMuted = false
        port.alertTone = nil
        port.alertFramesLeft = 0
        // Data cut short (the waiting call went, or its end never came)
        // stops: the phone hears the call again.
        port.callerIDTransmitter = nil
        if !acknowledged {
            log.info("line \(port.number): the phone did not acknowledge the alert: no caller ID for the waiting call")
        }
    }

    /// An FSK caller ID burst of `caller` with the board's date: on hook
    /// with the channel seizure and 180 marks (80 after BT's dual-tone
    /// alert), during a call with 80 marks and no seizure.
    private func fskCallerID(_ caller: CallerIdentity, _ signalling: CallerIDSignalling,
                             duringCall: Bool) -> CallerIDTransmitter? {
        let date = WallClock.localTime().map { CallerIDDate(month: $0.month, day: $0.day, hour: $0.hour, minute: $0.minute) }
        let message = CallerIDMessage.mdmf(caller, date: date, modulation: signalling.modulation)
        let dualTone = !duringCall && signalling.alerting == .lineReversalAndDualTone
        return CallerIDTransmitter(message: message, modem: signalling.modulation == .bell202 ? .bell202 : .v23,
                                   dualToneAlert: dualTone, markBits: dualTone || duringCall ? 80 : 180,
                                   channelSeizure: !duringCall)
    }

    /// Sets or clears the phone's message-waiting indicator (VMWI) with an
    /// FSK message on hook, the line's caller ID modem: Bell 202 as it is
    /// (GR-30 on-hook data without ringing), V.23 after the dual-tone alert
    /// that EN 300 659-1 puts before data not tied to ringing. DTMF lines
    /// have no such message, and BT's idle-state data wants a line reversal
    /// first (not built): their phones hear only the stutter dial tone.
    func sendMessageWaitingIndicator(_ port: LinePort, on: Bool) {
        guard let signalling = port.callerIDSignalling, signalling.modulation != .dtmf,
              signalling.alerting != .lineReversalAndDualTone else {
            feed(port, .messageWaitingIndicatorSent, at: loop.now)
            return
        }
        let dualTone = signalling.modulation == .v23
        guard let transmitter = CallerIDTransmitter(message: CallerIDMessage.messageWaiting(on),
                                                    modem: dualTone ? .v23 : .bell202,
                                                    dualToneAlert: dualTone, markBits: dualTone ? 80 : 180) else { return }
        log.info("line \(port.number): sending message waiting indicator \(on ? "on" : "off") (\(signalling.modulation.rawValue))")
        port.burstIsIndicator = true
        port.callerIDTransmitter = transmitter
    }

    /// The burst's next frame; true while it plays. Its end lets the line
    /// ring (before-ring methods).
    func playCallerID(_ port: LinePort, _ buffer: UnsafeMutableBufferPointer<Int16>) -> Bool {
        if port.callMuted, port.callerIDTransmitter == nil {
            // The alerting signal, then silence while the phone answers.
            if port.alertFramesLeft > 0, port.alertTone != nil {
                port.alertTone!.generate(into: buffer)
                port.alertFramesLeft -= 1
            } else {
                buffer.update(repeating: 0)
            }
            return true
        }
        guard let transmitter = port.callerIDTransmitter else { return false }
        transmitter.generate(into: buffer)
        if transmitter.isDone {
            port.callerIDTransmitter = nil
            log.info("line \(port.number): " + (port.burstIsIndicator ? "message waiting indicator" : "caller ID") + " sent")
            feed(port, port.burstIsIndicator ? .messageWaitingIndicatorSent : .callerIDSent, at: loop.now)
        }
        return true
    }
}
