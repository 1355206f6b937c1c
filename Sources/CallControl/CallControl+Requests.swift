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
            guard let call = calls[callID] else { return nil }
            return apply(call.incoming?.cancelReceived(request) ?? [], to: call)
        }
        guard request.to?.tag != nil else {
            guard method == .invite else { return nil }
            if let call = calls[callID] {
                if let incoming = call.incoming, incoming.isCopy(of: request) {
                    return apply(call.incoming?.inviteRetransmitted() ?? [], to: call)
                }
                // The same request reached us by two paths (§8.2.2.2).
                return [refusal(request, 482, "Loop Detected", to: origin.route)]
            }
            if line(ofCall: callID) != nil {
                return [refusal(request, 482, "Loop Detected", to: origin.route)]
            }
            return newCall(request, callID: callID, origin: origin)
        }
        guard let call = calls[callID] else {
            // A To tag of no call of ours: the dialog does not exist (§12.2.2).
            return refusedOutsideDialog(request, origin: origin)
        }
        let verdict: DialogIdentity.Verdict
        if call.incoming != nil {
            verdict = call.incoming?.admit(request) ?? .unknownDialog
        } else {
            verdict = call.outgoing?.admit(request) ?? .unknownDialog
        }
        switch verdict {
        case .accepted: return inDialog(request, method: method, call, origin: origin, at: now)
        case .unknownDialog: return refusedOutsideDialog(request, origin: origin)
        case .outOfOrder: return [refusal(request, 500, "Server Internal Error", to: origin.route)]
        }
    }

    /// A response whose CSeq names INVITE, CANCEL, BYE or INFO of one of
    /// our calls; nil for any other (registrations, keep-alives).
    public func receive(response: SIPMessage, at now: Instant) -> [Action]? {
        guard let method = response.cseq?.method, method == .invite || method == .cancel || method == .bye || method == .info,
              let callID = response.callID.map({ String(decoding: $0, as: UTF8.self) }), let call = calls[callID] else {
            return nil
        }
        if call.outgoing != nil {
            return apply(call.outgoing?.handle(response: response, at: now) ?? [], to: call, at: now)
        }
        guard method == .bye || method == .info else { return nil }
        return apply(call.incoming?.handle(response: response, at: now) ?? [], to: call)
    }

    /// With `dtmf_relay = info`: a key released on a call's line goes to
    /// the far end as SIP INFO (sent at release, so Duration is what the
    /// handset really sounded).
    public func keyReleased(_ digit: DTMFDigit, milliseconds: Int, callID: String, at now: Instant) -> [Action] {
        guard let call = calls[callID] else { return [] }
        let key = DTMFRelayBody(key: digit.rawValue, durationMilliseconds: max(milliseconds, 1))
        let note: Action = .log(.debug, "line \(call.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO")
        if call.incoming != nil {
            return [note] + apply(call.incoming?.sendKey(key, at: now) ?? [], to: call)
        } else {
            return [note] + apply(call.outgoing?.sendKey(key, at: now) ?? [], to: call, at: now)
        }
    }

    /// 481 to a request naming a dialog we do not have (an ACK gets nothing).
    private func refusedOutsideDialog(_ request: SIPMessage, origin: RequestOrigin<Route>) -> [Action] {
        guard request.method != .ack else { return [] }
        return [.log(.debug, "SIP: 481 to \(request.method?.name ?? "a request") for a dialog we do not have"),
                refusal(request, 481, "Call/Transaction Does Not Exist", to: origin.route)]
    }

    /// A request admitted to a call's dialog.
    private func inDialog(_ request: SIPMessage, method: SIPMethod, _ call: Call<Route>,
                          origin: RequestOrigin<Route>, at now: Instant) -> [Action]? {
        let cseq = request.cseq?.number ?? 0
        switch method {
        case .ack:
            if call.outgoing != nil {
                call.outgoing?.ackReceived(cseq: cseq)
                return []
            }
            return apply(call.incoming?.ackReceived(cseq: cseq, at: now) ?? [], to: call)
        case .bye:
            guard call.outgoing != nil else { return apply(call.incoming?.byeReceived(request) ?? [], to: call) }
            // Our 200 goes back the way the far end's BYE came.
            var actions: [Action] = []
            for output in call.outgoing?.byeReceived(request) ?? [] {
                if case .send(let bytes) = output { actions.append(.sip(bytes, origin.route)) } else {
                    actions += apply([output], to: call, at: now)
                }
            }
            return actions
        case .info:
            return infoReceived(request, call, origin: origin)
        case .invite:
            if call.incoming?.state == .ringing {
                // A re-INVITE before we answered the first (§14.2): 500 with Retry-After.
                return [refusal(request, 500, "Server Internal Error", to: origin.route,
                                retryAfter: "\(random() % 11)")]
            }
            if let state = call.outgoing?.state, state == .calling || state == .ringing {
                // Our own INVITE is still in progress: glare (§14.2).
                return [refusal(request, 491, "Request Pending", to: origin.route)]
            }
            return reinvite(request, call, origin: origin, at: now)
        default:
            // OPTIONS inside the dialog: answered as outside it.
            return nil
        }
    }

    /// A re-INVITE inside a call (hold, resume, a new address or codec):
    /// answered from the call's SDP session, and the media follows. An
    /// offer we cannot take gets 488 and the call goes on as it was (RFC
    /// 3261 §14.2). A 200 is repeated by the dialog until its ACK.
    private func reinvite(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>,
                          at now: Instant) -> [Action] {
        let cseq = request.cseq?.number ?? 0
        if let last = call.lastReinvite, last.cseq == cseq { return [.sip(last.response, origin.route)] }
        var actions: [Action] = []
        var offer: SessionDescription? = nil
        if !request.body.isEmpty {
            do throws(SDPError) { offer = try SessionDescription(parsing: Array(request.body)) } catch {
                actions.append(.log(.info, "line \(call.line): re-INVITE with invalid SDP: \(error.message)"))
            }
        }
        var response: SIPMessageBuilder
        var accepted = false
        let heldBefore = call.sdp.current?.heldByRemote ?? false
        if let offer, case .success(let answer) = call.sdp.answer(to: offer, ours: call.capabilities) {
            call.mediaStarted = true
            actions.append(.media(callID: call.callID, .start(line: call.line, answer.media, call.mediaSettings)))
            if heldBefore != answer.media.heldByRemote {
                actions.append(.log(.info, "line \(call.line): " + (answer.media.heldByRemote
                    ? "the far end put the call on hold" : "the far end resumed the call")))
            }
            response = .response(to: request, status: 200, reason: "OK")
            response.add(.contact, "<\(call.contact)>")
            response.add(.contentType, "application/sdp")
            response.body = answer.sdp.serializedBytes()
            response.add(.supported, AdvertisedCapabilities.supported)
            accepted = true
        } else {
            response = .response(to: request, status: 488, reason: "Not Acceptable Here")
        }
        response.add(.allow, AdvertisedCapabilities.allow)
        response.add(.server, userAgent)
        let bytes = response.serialize()
        call.lastReinvite = (cseq, bytes)
        if accepted {
            if call.incoming != nil {
                call.incoming?.reinviteAccepted(request, answer: bytes, at: now)
            } else {
                call.outgoing?.reinviteAccepted(request, answer: bytes, at: now)
            }
        }
        actions.append(.sip(bytes, origin.route))
        return actions
    }

    /// INFO inside a call: a key press (`application/dtmf-relay`) is played
    /// to the line; other INFO packages are refused with 415.
    private func infoReceived(_ request: SIPMessage, _ call: Call<Route>, origin: RequestOrigin<Route>) -> [Action] {
        var actions: [Action] = []
        var response: SIPMessageBuilder
        let type = request.value(of: .contentType).map { Array($0).map { $0 | 0x20 } } ?? []
        if type.starts(with: Array("application/dtmf-relay".utf8)), let relay = DTMFRelayBody(parsing: request.body),
           let digit = DTMFDigit(ascii: relay.key) {
            actions.append(.media(callID: call.callID, .playKey(digit, milliseconds: relay.durationMilliseconds)))
            actions.append(.log(.info, "line \(call.line): key \(digit.character) from the far end (SIP INFO, \(relay.durationMilliseconds) ms)"))
            response = .response(to: request, status: 200, reason: "OK")
        } else {
            response = .response(to: request, status: 415, reason: "Unsupported Media Type")
            response.add(.accept, "application/dtmf-relay")
        }
        response.add(.server, userAgent)
        actions.append(.sip(response.serialize(), origin.route))
        return actions
    }

    /// What became of keys sent by INFO: a refusal sends the next keys in
    /// band (one log line per call), a full queue drops a key.
    func keysNotice(_ notice: DTMFInfoOutput, on call: Call<Route>) -> [Action] {
        switch notice {
        case .refused(let reason, let lost):
            return [.media(callID: call.callID, .sendKeysInBand),
                    .log(.warn, "line \(call.line): the far end refused keys by SIP INFO (\(reason)); keys go in band for the rest of the call"
                         + (lost > 0 ? "; \(lost) waiting dropped" : ""))]
        case .dropped(let key):
            return [.log(.warn, "line \(call.line): key \(String(decoding: [key], as: UTF8.self)) dropped: "
                         + "\(DTMFInfoSender.queueLimit) keys already wait for the far end to answer INFO")]
        case .dialogGone(let reason):
            return [.log(.info, "line \(call.line): \(reason)")]
        case .send:
            return []
        }
    }
}
