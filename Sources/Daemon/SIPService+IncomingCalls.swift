import Config
import DSP
import Media
import EventLoop
import Platform
import SDP
import SIPDigest
import SIPMessage
import SIPTransaction
import SIPUserAgent
import Timebase

/// Calls the SIP side receives: INVITEs, re-INVITEs, INFO, and the
/// line's answer and hang-up, each call run by its `CallEntry`.
extension SIPService {
    // MARK: Calls

    /// Requests for calls: a new INVITE rings a line; CANCEL finds its
    /// INVITE's transaction; a request with a To tag must belong to a
    /// call's dialog by Call-ID and both tags (else 481) and come in CSeq
    /// order (else 500). Returns false for what is not a call's (OPTIONS,
    /// and requests without a To tag other than INVITE).
    func handleCallRequest(_ request: SIPMessage, from source: SocketAddress, stream: Int32?) -> Bool {
        guard let method = request.method, let callIDBytes = request.callID else { return false }
        let callID = String(decoding: callIDBytes, as: UTF8.self)
        if method == .cancel {
            // RFC 3261 §9.2: a CANCEL names its INVITE's transaction.
            guard let entry = calls[callID], serverTransactions.holdsInvite(cancelledBy: request) else { return false }
            perform(entry.call.cancelReceived(request), on: entry)
            return true
        }
        guard request.to?.tag != nil else {
            guard method == .invite else { return false }
            if let entry = calls[callID] {
                if entry.call.isCopy(of: request) {
                    perform(entry.call.inviteRetransmitted(), on: entry)
                } else {
                    // The same request reached us by two paths (§8.2.2.2).
                    refuse(request, 482, "Loop Detected", to: source, stream: stream)
                }
                return true
            }
            if outgoing[callID] != nil {
                refuse(request, 482, "Loop Detected", to: source, stream: stream)
                return true
            }
            guard callSources.admits(source) else {
                refuseCall(request, callID: callID, from: source, stream: stream)
                return true
            }
            startCall(request, callID: callID, from: source, stream: stream)
            return true
        }
        if let placed = outgoing[callID] {
            switch placed.call.admit(request) {
            case .accepted: inPlacedCall(request, method: method, placed, from: source, stream: stream)
            case .unknownDialog: refuseOutsideDialog(request, to: source, stream: stream)
            case .outOfOrder: refuse(request, 500, "Server Internal Error", to: source, stream: stream)
            }
            rearm(placed)
            return true
        }
        if let entry = calls[callID] {
            switch entry.call.admit(request) {
            case .accepted: inReceivedCall(request, method: method, entry, from: source, stream: stream)
            case .unknownDialog: refuseOutsideDialog(request, to: source, stream: stream)
            case .outOfOrder: refuse(request, 500, "Server Internal Error", to: source, stream: stream)
            }
            rearm(entry)
            return true
        }
        // A To tag of no call of ours: the dialog does not exist (§12.2.2).
        refuseOutsideDialog(request, to: source, stream: stream)
        return true
    }

    /// A request admitted to a call we placed.
    private func inPlacedCall(_ request: SIPMessage, method: SIPMethod, _ placed: OutgoingEntry,
                              from source: SocketAddress, stream: Int32?) {
        switch method {
        case .bye:
            for action in placed.call.byeReceived(request) {
                if case .send(let bytes) = action { reply(bytes, to: source, stream: stream) }
                if case .event(let event) = action { deliver(event, for: placed) }
            }
        case .ack:
            placed.call.ackReceived(cseq: request.cseq?.number ?? 0)
        case .info:
            reply(infoReceived(request, media: placed.media, line: placed.line), to: source, stream: stream)
        case .invite:
            // Our own INVITE is still in progress: glare (RFC 3261 §14.2).
            if placed.call.state == .calling || placed.call.state == .ringing {
                reply(refuseOverlappingInvite(request, status: 491, reason: "Request Pending"), to: source, stream: stream)
                return
            }
            let (response, accepted) = reinvite(request, media: placed.media, contact: placed.contact, line: placed.line)
            if accepted { placed.call.reinviteAccepted(request, answer: response, at: loop.now) }
            reply(response, to: source, stream: stream)
        default:
            if let response = answer(request) { reply(response, to: source, stream: stream) }
        }
    }

    /// A request admitted to a call that came in.
    private func inReceivedCall(_ request: SIPMessage, method: SIPMethod, _ entry: CallEntry,
                                from source: SocketAddress, stream: Int32?) {
        switch method {
        case .ack:
            perform(entry.call.ackReceived(cseq: request.cseq?.number ?? 0, at: loop.now), on: entry)
        case .bye:
            perform(entry.call.byeReceived(request), on: entry)
        case .info:
            reply(infoReceived(request, media: entry.media, line: entry.line), to: source, stream: stream)
        case .invite:
            if entry.call.state == .ringing {
                // A re-INVITE before we answered the first (§14.2): 500 with Retry-After.
                reply(refuseOverlappingInvite(request, status: 500, reason: "Server Internal Error"), to: source, stream: stream)
                return
            }
            let (response, accepted) = reinvite(request, media: entry.media, contact: entry.contact, line: entry.line)
            if accepted { entry.call.reinviteAccepted(request, answer: response, at: loop.now) }
            reply(response, to: source, stream: stream)
        default:
            if let response = answer(request) { reply(response, to: source, stream: stream) }
        }
    }

    /// 481 to a request naming a dialog we do not have (an ACK gets nothing).
    func refuseOutsideDialog(_ request: SIPMessage, to source: SocketAddress, stream: Int32?) {
        guard request.method != .ack else { return }
        log.debug("SIP: 481 to \(request.method?.name ?? "a request") for a dialog we do not have, from \(source.description)")
        refuse(request, 481, "Call/Transaction Does Not Exist", to: source, stream: stream)
    }

    func refuse(_ request: SIPMessage, _ status: Int, _ reason: String, to source: SocketAddress, stream: Int32?) {
        var response = SIPMessageBuilder.response(to: request, status: status, reason: reason,
                                                  toTag: RandomToken.hex(bytes: 4))
        response.add(.server, userAgent)
        reply(response.serialize(), to: source, stream: stream)
    }

    /// A re-INVITE inside a call (hold, resume, a new address or codec):
    /// answered from the call's SDP session, and the media follows. A
    /// retransmission gets the same response; an offer we cannot take gets
    /// 488 and the call goes on as it was (RFC 3261 §14.2).
    /// `accepted`: a new re-INVITE got 200 (the caller refreshes the
    /// dialog's remote target from it).
    func reinvite(_ request: SIPMessage, media: CallMedia, contact: String,
                          line: Int) -> (response: [UInt8], accepted: Bool) {
        let cseq = request.cseq?.number ?? 0
        if let last = media.lastReinvite, last.cseq == cseq { return (last.response, false) }
        var response: SIPMessageBuilder
        var accepted = false
        var offer: SessionDescription? = nil
        if !request.body.isEmpty {
            do throws(SDPError) { offer = try SessionDescription(parsing: Array(request.body)) } catch {
                log.info("line \(line): re-INVITE with invalid SDP: \(error.message)")
            }
        }
        if let offer, case .success(let answer) = media.sdp.answer(to: offer, ours: media.capabilities) {
            let before = media.session?.media
            media.start(answer.media, settings: MediaSession.Settings())
            if before?.heldByRemote != answer.media.heldByRemote {
                log.info("line \(line): " + (answer.media.heldByRemote ? "the far end put the call on hold" : "the far end resumed the call"))
            }
            onMedia(line, media)
            response = .response(to: request, status: 200, reason: "OK")
            response.add(.contact, "<\(contact)>")
            response.add(.contentType, "application/sdp")
            response.body = answer.sdp.serializedBytes()
            response.add(.supported, AdvertisedCapabilities.supported)
            accepted = true
        } else {
            response = .response(to: request, status: 488, reason: "Not Acceptable Here")
        }
        response.add(.allow, SIPService.allowedMethods)
        response.add(.server, userAgent)
        let bytes = response.serialize()
        media.lastReinvite = (cseq, bytes)
        return (bytes, accepted)
    }

    /// The answer to a re-INVITE that overlaps an INVITE transaction still in
    /// progress on the dialog (RFC 3261 §14.2): 491 when it is ours, 500 with
    /// a random Retry-After of 0–10 s when it is the far end's first INVITE.
    func refuseOverlappingInvite(_ request: SIPMessage, status: Int, reason: String) -> [UInt8] {
        var response = SIPMessageBuilder.response(to: request, status: status, reason: reason)
        if status == 500 { response.add(.retryAfter, "\(RandomToken.number() % 11)") }
        response.add(.server, userAgent)
        return response.serialize()
    }

    /// INFO inside a call: a key press (`application/dtmf-relay`) is played
    /// to the line; other INFO packages are refused with 415.
    func infoReceived(_ request: SIPMessage, media: CallMedia, line: Int) -> [UInt8] {
        var response: SIPMessageBuilder
        let type = request.value(of: .contentType).map { Array($0).map { $0 | 0x20 } } ?? []
        if type.starts(with: Array("application/dtmf-relay".utf8)), let relay = DTMFRelayBody(parsing: request.body),
           let digit = DTMFDigit(ascii: relay.key) {
            media.session?.playKey(digit, milliseconds: relay.durationMilliseconds)
            log.info("line \(line): key \(digit.character) from the far end (SIP INFO, \(relay.durationMilliseconds) ms)")
            response = .response(to: request, status: 200, reason: "OK")
        } else {
            response = .response(to: request, status: 415, reason: "Unsupported Media Type")
            response.add(.accept, "application/dtmf-relay")
        }
        response.add(.server, userAgent)
        return response.serialize()
    }

    /// 403 to an INVITE from a host that is not a registrar or proxy of ours.
    func refuseCall(_ invite: SIPMessage, callID: String, from source: SocketAddress, stream: Int32?) {
        if callSources.noteRefusal(from: source, callID: callID) {
            log.info("SIP: refused a call from \(source.description): not a registrar or proxy of ours (accept_calls_from = proxy)")
        } else {
            log.debug("SIP: refused INVITE \(callID) from \(source.description)")
        }
        refuse(invite, 403, "Forbidden", to: source, stream: stream)
    }

    func startCall(_ invite: SIPMessage, callID: String, from source: SocketAddress, stream: Int32?) {
        func refuse(_ status: Int, _ reason: String) { self.refuse(invite, status, reason, to: source, stream: stream) }
        guard calls.count < SIPService.maximumCalls else { return refuse(503, "Service Unavailable") }
        let localHost = source.localAddressToward()?.host ?? site.sipListenAddress
        guard let localPort = (try? socket?.localAddress())?.port else { return refuse(500, "Server Internal Error") }
        // The media sockets first, so the answer names ports that are really ours.
        guard let media = CallMedia.open(host: localHost, loop: loop) else { return refuse(500, "Server Internal Error") }
        let offer: SessionDescription
        do throws(SDPError) {
            offer = try SessionDescription(parsing: Array(invite.body))
        } catch {
            media.close()
            log.debug("SIP: refusing INVITE \(callID): SDP: \(error.message)")
            return refuse(488, "Not Acceptable Here")
        }
        let account = incomingAccount
        media.capabilities = capabilities(for: account, host: localHost, port: media.localPort)
        let answer: SDPAnswer
        switch media.sdp.answer(to: offer, ours: media.capabilities) {
        case .success(let settled): answer = settled
        case .failure(let error):
            media.close()
            log.info("SIP: refusing INVITE \(callID): \(error.message)")
            return refuse(488, "Not Acceptable Here")
        }
        guard let line = onIncomingCall(callID) else {
            media.close()
            return refuse(486, "Busy Here")
        }
        let host = localHost.utf8.contains(UInt8(ascii: ":")) ? "[\(localHost)]" : localHost
        let transportParameter = stream == nil ? "" : ";transport=tcp"
        let contact = "sip:atad@\(host):\(localPort)\(transportParameter)"
        let lineAccount = site.lineSettings(line).account.flatMap(account(named:)) ?? account
        let call = IncomingCall(invite: invite, toTag: RandomToken.hex(bytes: 6), contact: contact,
                                userAgent: userAgent, answerSDP: answer.sdp.serializedBytes(),
                                localHost: localHost, localPort: localPort, transport: stream == nil ? .udp : .tcp,
                                timers: stream == nil ? .unreliable : .reliable, digest: lineAccount.flatMap(digest(for:)),
                                makeToken: { RandomToken.hex() })
        let entry = CallEntry(call: call, source: source, stream: stream, line: line, media: media, contact: contact)
        calls[callID] = entry
        media.start(answer.media, settings: mediaSettings(for: lineAccount, host: localHost))
        media.onKeyReleased = { digit, milliseconds in self.keyReleased(digit, milliseconds: milliseconds, callID: callID) }
        onMedia(line, media)
        log.info("line \(line): incoming call \(callID)")
        perform(entry.call.start(), on: entry)
    }

    /// Call control: the handset on `line` answered.
    func answerCall(line: Int) {
        guard let entry = calls.values.first(where: { $0.line == line }) else { return }
        perform(entry.call.answer(at: loop.now), on: entry)
    }

    /// Call control: the handset on `line` hung up.
    func hangUpCall(line: Int) {
        if let placed = outgoing.values.first(where: { $0.line == line }) {
            perform(placed.call.hangUp(at: loop.now), on: placed)
            return
        }
        guard let entry = calls.values.first(where: { $0.line == line }) else { return }
        perform(entry.call.hangUp(at: loop.now), on: entry)
    }

    /// The account's digest credentials, for a far end that challenges the
    /// requests we send inside an incoming call (INFO).
    func digest(for account: SiteConfig.Account) -> DigestSession? {
        guard let password = account.password else { return nil }
        return DigestSession(credentials: DigestCredentials(username: account.authUser ?? account.user, password: password))
    }

    /// With `dtmf_relay = info`: a key released on a call's line goes to
    /// the far end as SIP INFO (sent at release, so Duration is what the
    /// handset really sounded).
    func keyReleased(_ digit: DTMFDigit, milliseconds: Int, callID: String) {
        let key = DTMFRelayBody(key: digit.rawValue, durationMilliseconds: max(milliseconds, 1))
        if let entry = outgoing[callID] {
            log.debug("line \(entry.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO")
            perform(entry.call.sendKey(key, at: loop.now), on: entry)
        } else if let entry = calls[callID] {
            log.debug("line \(entry.line): key \(digit.character) (\(key.durationMilliseconds) ms) to the far end by SIP INFO")
            perform(entry.call.sendKey(key, at: loop.now), on: entry)
        }
    }

    /// What became of keys sent by INFO: a refusal sends the next keys in
    /// band (one log line per call), a full queue drops a key.
    func keysNotice(_ output: DTMFInfoOutput, line: Int, media: CallMedia) {
        switch output {
        case .refused(let reason, let lost):
            media.session?.sendKeysInBand()
            log.warn("line \(line): the far end refused keys by SIP INFO (\(reason)); keys go in band for the rest of the call"
                     + (lost > 0 ? "; \(lost) waiting dropped" : ""))
        case .dropped(let key):
            log.warn("line \(line): key \(String(decoding: [key], as: UTF8.self)) dropped: "
                     + "\(DTMFInfoSender.queueLimit) keys already wait for the far end to answer INFO")
        case .dialogGone(let reason):
            log.info("line \(line): \(reason)")
        case .send:
            break
        }
    }

    func perform(_ actions: [CallAction], on entry: CallEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                reply(bytes, to: entry.source, stream: entry.stream)
            case .keys(let output):
                keysNotice(output, line: entry.line, media: entry.media)
            case .ended(let reason, let remote):
                log.info("line \(entry.line): call \(entry.call.callID) ended: \(reason)")
                endCall(entry)
                onCallEnded(entry.line, remote)
                return
            }
        }
        rearm(entry)
    }
}
