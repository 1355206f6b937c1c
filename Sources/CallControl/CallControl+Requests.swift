import CompactText
import DSP
import SDP
import SIPMessage
import SIPUserAgent
import Timebase

/// Requests for calls, after the server transaction layer let them
/// through (copies never get here), and responses to the requests our
/// calls sent.
extension CallControl {
    /// A request that may be a call's. A CANCEL reaches here only when
    /// its INVITE's transaction is still held (RFC 3261 §9.2). A request
    /// with a To tag must belong to a call's dialog by Call-ID and both
    /// tags (else 481) and come in CSeq order (else 500). Returns nil for
    /// what is no call's: OPTIONS, and requests without a To tag other
    /// than INVITE, or a CANCEL for no call.
    public func receive(request: SIPMessage, from origin: RequestOrigin<Route>, at now: Instant) -> [Action]? {
        guard let method = request.method, let callIDBytes = request.callID else { return nil }
        let callID = String(decoding: callIDBytes, as: UTF8.self)
        if method == .cancel {
            if let index = pendingInvites.firstIndex(where: { $0.callID == callID }) {
                // Cancelled before it rang (its media ports were being
                // readied): 200 for the CANCEL, 487 for the INVITE (§9.2).
                let pending = pendingInvites.remove(at: index)
                lines[pending.line]?.remove(callID)
                emit(.media(callID: callID, .close(line: pending.line)))
                // One To tag for both (§9.2).
                let toTag = makeToken()
                refuse(request, 200, "OK", to: origin.route, toTag: toTag)
                refuse(pending.invite, 487, "Request Terminated", to: pending.origin.route, toTag: toTag)
                return take()
            }
            guard let call = calls[callID] else { return nil }
            apply(call.incoming?.cancelReceived(request) ?? [], to: call)
        } else if request.to?.tag == nil {
            guard method == .invite else { return nil }
            if let call = calls[callID], call.incoming?.isCopy(of: request) == true {
                apply(call.incoming?.inviteRetransmitted() ?? [], to: call)
            } else if line(ofCall: callID) != nil {
                // The same request reached us by two paths (§8.2.2.2).
                refuse(request, 482, "Loop Detected", to: origin.route)
            } else {
                newCall(request, callID: callID, origin: origin)
            }
        } else if let call = calls[callID] {
            let verdict = call.incoming?.admit(request) ?? call.outgoing?.admit(request) ?? .unknownDialog
            switch verdict {
            case .accepted: if !inDialog(request, method: method, call, origin: origin, at: now) { return nil }
            case .unknownDialog: refuseOutsideDialog(request, origin: origin)
            case .outOfOrder: refuse(request, 500, "Server Internal Error", to: origin.route)
            }
        } else {
            // A To tag of no call of ours: the dialog does not exist (§12.2.2).
            refuseOutsideDialog(request, origin: origin)
        }
        return take()
    }

    /// A response whose CSeq names INVITE, CANCEL, BYE, INFO, UPDATE,
    /// REFER or NOTIFY of one of our calls; nil for any other (registrations,
    /// keep-alives).
    public func receive(response: SIPMessage, at now: Instant) -> [Action]? {
        guard let method = response.cseq?.method,
              method == .invite || method == .cancel || method == .bye || method == .info || method == .update
                  || method == .refer || method == .notify,
              let callID = response.callID.map({ String(decoding: $0, as: UTF8.self) }), let call = calls[callID] else {
            return nil
        }
        if call.outgoing != nil {
            apply(call.outgoing?.handle(response: response, at: now) ?? [], to: call, at: now)
        } else {
            guard method != .cancel else { return nil }
            apply(call.incoming?.handle(response: response, at: now) ?? [], to: call, at: now)
        }
        return take()
    }

    /// With `dtmf_relay = info`: a key released on a call's line goes to
    /// the far end as SIP INFO (sent at release, so Duration is what the
    /// handset really sounded).
    public func keyReleased(_ digit: DTMFDigit, milliseconds: Int, callID: String, at now: Instant) -> [Action] {
        guard let call = calls[callID] else { return [] }
        let key = DTMFRelayBody(key: digit.rawValue, durationMilliseconds: max(milliseconds, 1))
        emit(.log(.debug, "line \(call.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO"))
        if call.incoming != nil {
            apply(call.incoming?.sendKey(key, at: now) ?? [], to: call)
        } else {
            apply(call.outgoing?.sendKey(key, at: now) ?? [], to: call, at: now)
        }
        return take()
    }

    /// 481 to a request naming a dialog we do not have (an ACK gets nothing).
    private func refuseOutsideDialog(_ request: SIPMessage, origin: RequestOrigin<Route>) {
        guard request.method != .ack else { return }
        emit(.log(.debug, "SIP: 481 to \(request.method?.name ?? "a request") for a dialog we do not have"))
        refuse(request, 481, "Call/Transaction Does Not Exist", to: origin.route)
    }

    /// A request admitted to a call's dialog; false for one that is not
    /// the call's business (OPTIONS: answered as outside any call).
    private func inDialog(_ request: SIPMessage, method: SIPMethod, _ call: Call<Route>,
                          origin: RequestOrigin<Route>, at now: Instant) -> Bool {
        let cseq = request.cseq?.number ?? 0
        switch method {
        case .ack:
            if call.outgoing != nil {
                call.outgoing?.ackReceived(cseq: cseq)
            } else {
                apply(call.incoming?.ackReceived(cseq: cseq, at: now) ?? [], to: call)
            }
            // Our offer went in a 200 (late offer): the ACK answers it. Our
            // own re-INVITE's offer is pending only while it is (and then
            // a far end's re-INVITE gets 491), so a pending offer on a call
            // whose media runs is the one of an empty re-INVITE's 200.
            if call.sdp.pendingOffer != nil, calls[call.callID] != nil,
               call.incoming?.isReoffering != true, call.outgoing?.isReoffering != true,
               !call.mediaStarted || call.lastReinvite?.cseq == cseq {
                answerInAck(request, call, at: now)
            }
            // A hold or resume that waited for this offer/answer to close.
            if calls[call.callID] === call { syncHold(call, at: now) }
        case .bye:
            guard call.outgoing != nil else {
                apply(call.incoming?.byeReceived(request) ?? [], to: call)
                return true
            }
            // Our 200 goes back the way the far end's BYE came.
            for output in call.outgoing?.byeReceived(request) ?? [] {
                if case .send(let bytes) = output { emit(.sip(bytes, origin.route)) } else { apply([output], to: call, at: now) }
            }
        case .info:
            infoReceived(request, call, origin: origin)
        case .prack where call.incoming != nil:
            apply(call.incoming?.prackReceived(request) ?? [], to: call)
        case .update:
            updateReceived(request, call, origin: origin, at: now)
        case .notify:
            notifyReceived(request, call, origin: origin, at: now)
        case .refer:
            referReceived(request, call, origin: origin, at: now)
        case .invite:
            if call.incoming?.state == .ringing {
                // A re-INVITE before we answered the first (§14.2): 500 with Retry-After.
                refuse(request, 500, "Server Internal Error", to: origin.route, retryAfter: "\(random() % 11)")
            } else if call.lastReinvite?.cseq != cseq, call.outgoing?.state == .calling || call.outgoing?.state == .ringing
                        || call.incoming?.isReoffering == true || call.outgoing?.isReoffering == true {
                // Our own INVITE or re-INVITE is still in progress: glare (§14.2).
                refuse(request, 491, "Request Pending", to: origin.route)
            } else {
                reinvite(request, call, origin: origin, at: now)
            }
        default:
            return false
        }
        return true
    }

    /// A re-INVITE inside a call (hold, resume, a new address or codec):
    /// answered from the call's SDP session, and the media follows. One
    /// without SDP asks for our offer (RFC 3264 §8): the 200 carries the
    /// session as it stands and the media changes only with the ACK's
    /// answer (`answerInAck`). An offer we cannot take gets 488 and the
    /// call goes on as it was (RFC 3261 §14.2). A 200 is repeated by the
    /// dialog until its ACK.
    private func reinvite(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>, at now: Instant) {
        let cseq = request.cseq?.number ?? 0
        if let last = call.lastReinvite, last.cseq == cseq { return emit(.sip(last.response, origin.route)) }
        let session = SessionTimerTerms.answering(request)
        if session == .tooSmall { return refuseSessionInterval(request, origin: origin) }
        let body: [UInt8]?
        if request.body.isEmpty {
            body = call.sdp.makeOffer(call.capabilities).serializedBytes()
            emit(.log(.debug, "line \(call.line): re-INVITE without SDP: our offer goes in the 200"))
        } else {
            body = answerReoffer(request, call)
        }
        var response: SIPMessageBuilder
        if let body {
            response = .response(to: request, status: 200, reason: "OK")
            response.add(.contact, "<\(call.contact)>")
            response.add(.contentType, "application/sdp")
            response.body = body
            response.add(.supported, AdvertisedCapabilities.supported)
            session.add(to: &response)
        } else {
            response = .response(to: request, status: 488, reason: "Not Acceptable Here")
        }
        response.add(.allow, AdvertisedCapabilities.allow)
        response.add(.server, userAgent)
        let bytes = response.serialize()
        call.lastReinvite = (cseq, bytes)
        if body != nil {
            call.incoming?.reinviteAccepted(request, answer: bytes, session: session, at: now)
            call.outgoing?.reinviteAccepted(request, answer: bytes, session: session, at: now)
        }
        emit(.sip(bytes, origin.route))
    }

    /// UPDATE inside a call (RFC 3311): most often a session refresh
    /// (RFC 4028) without a body; one with an offer moves the media as a
    /// re-INVITE would, and 488 leaves it as it was. The 200 gives the
    /// session terms and is a target refresh.
    private func updateReceived(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>, at now: Instant) {
        if !request.body.isEmpty, call.incoming?.isReoffering == true || call.outgoing?.isReoffering == true {
            // An offer while ours is out (RFC 3311 §5.2).
            return refuse(request, 491, "Request Pending", to: origin.route)
        }
        let session = SessionTimerTerms.answering(request)
        if session == .tooSmall { return refuseSessionInterval(request, origin: origin) }
        var response = SIPMessageBuilder.response(to: request, status: 200, reason: "OK")
        var accepted = true
        if !request.body.isEmpty {
            if let body = answerReoffer(request, call) {
                response.add(.contentType, "application/sdp")
                response.body = body
            } else {
                response = .response(to: request, status: 488, reason: "Not Acceptable Here")
                accepted = false
            }
        }
        if accepted {
            response.add(.contact, "<\(call.contact)>")
            response.add(.supported, AdvertisedCapabilities.supported)
            session.add(to: &response)
            call.incoming?.updateAccepted(request, session: session, at: now)
            call.outgoing?.updateAccepted(request, session: session, at: now)
        }
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), origin.route))
    }

    /// 422 with our Min-SE: the re-INVITE or UPDATE asked for a session
    /// interval below it; the call goes on as it was.
    private func refuseSessionInterval(_ request: SIPMessage, origin: RequestOrigin<Route>) {
        var response = SessionTimerTerms.refusal(to: request, toTag: nil)
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), origin.route))
    }

    /// Our answer to a re-INVITE's offer, the media moved to it; nil when
    /// the offer does not parse or offers nothing we take.
    private func answerReoffer(_ request: SIPMessage, _ call: Call<Route>) -> [UInt8]? {
        let offer: SessionDescription
        do throws(SDPError) { offer = try SessionDescription(parsing: Array(request.body)) } catch {
            emit(.log(.info, "line \(call.line): re-INVITE with invalid SDP: \(error.message)"))
            return nil
        }
        let heldBefore = call.sdp.current?.heldByRemote ?? false
        guard case .success(let answer) = call.sdp.answer(to: offer, ours: call.capabilities) else { return nil }
        call.mediaStarted = true
        emit(.media(callID: call.callID, mediaStart(call, answer.media)))
        if heldBefore != answer.media.heldByRemote {
            emit(.log(.info, "line \(call.line): " + (answer.media.heldByRemote
                ? "the far end put the call on hold" : "the far end resumed the call")))
        }
        return answer.sdp.serializedBytes()
    }

    /// INFO inside a call: a key press (`application/dtmf-relay`) is played
    /// to the line; other INFO packages are refused with 415.
    private func infoReceived(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>) {
        var response: SIPMessageBuilder
        let type = request.value(of: .contentType).map { Array($0).map { $0 | 0x20 } } ?? []
        if type.starts(with: Array("application/dtmf-relay".utf8)), let relay = DTMFRelayBody(parsing: request.body),
           let digit = DTMFDigit(ascii: relay.key) {
            emit(.media(callID: call.callID, .playKey(digit, milliseconds: relay.durationMilliseconds)))
            emit(.log(.info, "line \(call.line): key \(digit.character) from the far end (SIP INFO, \(relay.durationMilliseconds) ms)"))
            response = .response(to: request, status: 200, reason: "OK")
        } else {
            response = .response(to: request, status: 415, reason: "Unsupported Media Type")
            response.add(.accept, "application/dtmf-relay")
        }
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), origin.route))
    }

    /// What became of keys sent by INFO: a refusal sends the next keys in
    /// band (one log line per call), a full queue drops a key.
    func keysNotice(_ notice: DTMFInfoOutput, on call: Call<Route>) {
        switch notice {
        case .refused(let reason, let lost):
            emit(.media(callID: call.callID, .sendKeysInBand))
            emit(.log(.warn, "line \(call.line): the far end refused keys by SIP INFO (\(reason)); keys go in band for the rest of the call"
                      + (lost > 0 ? "; \(lost) waiting dropped" : "")))
        case .dropped(let key):
            emit(.log(.warn, "line \(call.line): key \(String(decoding: [key], as: UTF8.self)) dropped: "
                      + "\(DTMFInfoSender.queueLimit) keys already wait for the far end to answer INFO"))
        case .dialogGone(let reason):
            emit(.log(.info, "line \(call.line): \(reason)"))
        case .send:
            break
        }
    }
}
