import CompactText
import Config
import Line
import SDP
import SIPMessage
import SIPUserAgent
import Timebase

/// Transfer by hanging up (RFC 5589): with a call on hold and a second
/// call the phone placed from there, hanging up on it asks the held
/// party, by REFER (RFC 3515), to call the second party itself. While the
/// second call still rings it is cancelled and the held party is sent to
/// the number dialed (blind); once answered, the held party is sent to
/// the answering phone with a Replaces (RFC 3891) for our call with it,
/// which that phone then ends (attended). Our call with the held party
/// ends with a BYE once the transfer is accepted (blind) or done
/// (attended, told by the NOTIFY carrying the new call's final response).
/// A transfer that fails rings the line back for the held party, as a
/// plain hang-up would.
extension CallControl {
    /// How long an accepted transfer may go without its final NOTIFY, and
    /// a consultation call without the target's BYE, before we end them.
    static var transferPatience: Interval { .seconds(32) }

    /// The handset hung up on `line`: true when that started a transfer
    /// (`transfer_on_hang_up`, a held call that is up, and as the active
    /// call the one the phone placed while it was held, ringing or
    /// answered; after a swap, or with a call that waited, the line rings
    /// back instead).
    func transferOnHangUp(_ line: Int, at now: Instant) -> Bool {
        // Confirmed, with no REFER of ours still out: a call whose ACK is
        // on the way cannot take one yet (it then rings back, as without
        // a transfer).
        guard site.lineSettings(line).transferOnHangUp, let held = heldCall(on: line),
              held.incoming?.mayRefer ?? held.outgoing?.mayRefer ?? false, held.transfer == nil,
              let second = activeCall(on: line), lines[line]?.consultation == second.callID,
              let placed = second.outgoing else { return false }
        let referTo: String
        var consultation: Call<Route>?
        switch placed.state {
        case .calling, .ringing:
            referTo = "<\(placed.requestURI)>"
        case .confirmed:
            let target = placed.dialog.requests.remoteTarget
            guard let remoteTag = placed.dialog.identity.remoteTag, !target.utf8.contains(0x3F) else { return false }
            let replaces = "\(second.callID);to-tag=\(remoteTag);from-tag=\(placed.dialog.identity.localTag)"
            referTo = "<\(target)?Replaces=\(SIPPercent.encodeHeaderValue(replaces))>"
            consultation = second
        default:
            return false
        }
        // Neither call is the line's any more: the handset is on hook, a
        // new call may ring it, and what they do next tells it nothing.
        lines[line]?.remove(held.callID)
        lines[line]?.remove(second.callID)
        held.transfer = CallTransfer(consultation: consultation)
        if consultation == nil {
            emit(.log(.info, "line \(line): transferring call \(held.callID) to \(placed.requestURI) (blind)"))
            hangUp(second, at: now)
        } else {
            emit(.log(.info, "line \(line): transferring call \(held.callID) to call \(second.callID) (attended)"))
            second.hangUpAt = now + CallControl.transferPatience
            if let media = second.sdp.current { emit(.media(callID: second.callID, mediaStart(second, media))) }
        }
        if held.incoming != nil {
            apply(held.incoming?.refer(to: referTo, at: now) ?? [], to: held, at: now)
        } else {
            apply(held.outgoing?.refer(to: referTo, at: now) ?? [], to: held, at: now)
        }
        return true
    }

    /// The final response to our REFER: accepted (a blind transfer's part
    /// is then done: our call ends), or refused.
    func referAnswered(_ status: Int, _ call: Call<Route>, at now: Instant) {
        guard var transfer = call.transfer, !transfer.accepted else { return }
        guard status < 300 else { return transferFailed(call, "the far end refused it (\(status))", at: now) }
        transfer.accepted = true
        emit(.log(.info, "line \(call.line): call \(call.callID): transfer accepted (\(status))"))
        guard let consultation = transfer.consultation else {
            call.transfer = transfer
            return hangUp(call, at: now)
        }
        let givesUpAt = now + CallControl.transferPatience
        transfer.givesUpAt = givesUpAt
        call.transfer = transfer
        // The target is to hear from the held party only now: our call
        // with it stays up for the INVITE with Replaces to find.
        if let due = consultation.hangUpAt, due < givesUpAt { consultation.hangUpAt = givesUpAt }
    }

    /// A NOTIFY in a call's dialog: the progress of the transfer we asked
    /// for (`Event: refer`, a `message/sipfrag` body with the status line
    /// of the held party's call to the target). 481 when we asked none.
    func notifyReceived(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>, at now: Instant) {
        guard let event = request.value(of: .event) else { return answer(request, 400, "Missing Event", origin) }
        // The package name, up to its parameters, without case (RFC 6665 §8.2.1).
        let package = Array(event.prefix { $0 != 0x3B && $0 != 0x20 && $0 != 0x09 }).map { $0 | 0x20 }
        guard package == Array("refer".utf8) else { return answer(request, 489, "Bad Event", origin) }
        guard call.transfer != nil else { return answer(request, 481, "Subscription Does Not Exist", origin) }
        answer(request, 200, "OK", origin)
        let status = CallControl.sipfragStatus(Array(request.body))
        let terminated = request.value(of: .subscriptionState).map { Array($0.prefix(10)).map { $0 | 0x20 } }
            == Array("terminated".utf8)
        emit(.log(.debug, "line \(call.line): call \(call.callID): transfer progress \(status.map { "\($0)" } ?? "?")"
                  + (terminated ? ", subscription over" : "")))
        guard let transfer = call.transfer, (status ?? 0) >= 200 || terminated else { return }
        guard let status, status >= 200 && status < 300 else {
            return transferFailed(call, "the new call failed (\(status.map { "\($0)" } ?? "no final answer"))", at: now)
        }
        emit(.log(.info, "line \(call.line): call \(call.callID): transfer done"))
        call.transfer = nil
        if let consultation = transfer.consultation, calls[consultation.callID] === consultation {
            consultation.hangUpAt = now + .seconds(4)
        }
        hangUp(call, at: now)
    }

    /// Our response to a request in a call's dialog (its To tag kept).
    func answer(_ request: SIPMessage, _ status: Int, _ reason: String, _ origin: RequestOrigin<Route>) {
        var response = SIPMessageBuilder.response(to: request, status: status, reason: reason)
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), origin.route))
    }

    /// The transfer did not happen: a consultation call ends, and the held
    /// party rings the line back (or is hung up on, should the line be
    /// busy by now, or our part of a blind transfer be over already).
    func transferFailed(_ call: Call<Route>, _ reason: String, at now: Instant) {
        guard let transfer = call.transfer else { return }
        call.transfer = nil
        if let consultation = transfer.consultation, calls[consultation.callID] === consultation {
            hangUp(consultation, at: now)
        }
        guard calls[call.callID] === call, call.incoming?.state == .confirmed || call.outgoing?.state == .confirmed,
              lines[call.line]?.canRing == true else {
            emit(.log(.info, "line \(call.line): call \(call.callID): transfer failed: \(reason)"))
            return hangUp(call, at: now)
        }
        emit(.log(.info, "line \(call.line): call \(call.callID): transfer failed: \(reason); ringing the line back"))
        lines[call.line]?.held = call.callID
        let seconds = site.lineSettings(call.line).holdRecallSeconds
        if seconds > 0 { call.recallUntil = now + .seconds(Int64(seconds)) }
        emit(.line(call.line, .input(.incomingCall(callerID: false))))
    }

    /// A transfer's time ran out: the held party's (no final word on the
    /// new call) or the consultation call's (the target never ended it).
    func transferTimedOut(_ call: Call<Route>, at now: Instant) {
        if let transfer = call.transfer, transfer.accepted, transfer.consultation == nil {
            return  // blind: our BYE went when it was accepted
        }
        if call.transfer != nil {
            call.transfer = nil
            emit(.log(.info, "line \(call.line): call \(call.callID): no word on the transfer; hanging up"))
        } else {
            emit(.log(.info, "line \(call.line): call \(call.callID): left by a transfer; hanging up"))
        }
        hangUp(call, at: now)
    }

    /// The status code of a `message/sipfrag` body's status line
    /// ("SIP/2.0 200 OK").
    static func sipfragStatus(_ body: [UInt8]) -> Int? {
        let prefix = Array("SIP/2.0 ".utf8)
        guard body.count >= prefix.count + 3, Array(body[0..<prefix.count]) == prefix else { return nil }
        var status = 0
        for byte in body[prefix.count..<prefix.count + 3] {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            status = status * 10 + Int(byte - 0x30)
        }
        return status >= 100 ? status : nil
    }
}

/// A transfer we asked a call's far end to make (our REFER).
struct CallTransfer<Route> {
    /// The answered call the far end is to replace (attended); nil when
    /// it is sent to the number dialed (blind). Kept as the object: a new
    /// call reusing its Call-ID is not it.
    let consultation: Call<Route>?
    /// The REFER was accepted (2xx).
    var accepted = false
    /// When we stop waiting for an accepted attended transfer's outcome.
    var givesUpAt: Instant?
}
