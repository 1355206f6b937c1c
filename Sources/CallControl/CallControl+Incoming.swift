import CallerID
import CompactText
import Config
import Line
import Media
import SDP
import SIPMessage
import SIPTransaction
import SIPUserAgent
import Timebase

/// A new INVITE that passed every check and waits for its media ports.
struct PendingInvite<Route> {
    let callID: String
    let invite: SIPMessage
    let origin: RequestOrigin<Route>
    /// Nil for a late offer (an INVITE without SDP): ours goes in the 200.
    let offer: SessionDescription?
    let line: Int
}

/// Calls that come in: the checks a new INVITE passes before it rings a
/// line, and what becomes of it after.
extension CallControl {
    /// The account a call to `line` comes in on: the line's own, else the
    /// first. Its codec, packet time and DTMF relay answer the offer.
    func account(ofLine line: Int) -> SiteConfig.Account? {
        site.lineSettings(line).account.flatMap(account(named:)) ?? site.accounts.first
    }

    /// A new INVITE (no To tag, no call of that Call-ID): 403 from a host
    /// that may not start calls, 503 when the table is full, 422 for a
    /// session interval below our Min-SE (RFC 4028), 488 for SDP
    /// that does not parse, 486 when every line is busy; else the first
    /// free line is kept for it and its media ports are asked for (the
    /// answer names them; an offer we cannot answer gets 488 then).
    func newCall(_ invite: SIPMessage, callID: String, origin: RequestOrigin<Route>) {
        guard origin.trusted else {
            refuse(invite, 403, "Forbidden", to: origin.route)
            return emit(.untrustedCallRefused(origin.route, callID: callID))
        }
        guard calls.count + pendingInvites.count + pendingPlacements.count < Self.maximumCalls else {
            return refuse(invite, 503, "Service Unavailable", to: origin.route)
        }
        if SessionTimerTerms.answering(invite) == .tooSmall {
            emit(.log(.debug, "SIP: 422 to INVITE \(callID): its session interval is below our Min-SE"))
            var response = SessionTimerTerms.refusal(to: invite, toTag: makeToken())
            response.add(.server, userAgent)
            return emit(.sip(response.serialize(), origin.route))
        }
        var offer: SessionDescription?
        if !invite.body.isEmpty {
            do throws(SDPError) {
                offer = try SessionDescription(parsing: Array(invite.body))
            } catch {
                emit(.log(.debug, "SIP: refusing INVITE \(callID): SDP: \(error.message)"))
                return refuse(invite, 488, "Not Acceptable Here", to: origin.route)
            }
        }
        let line: Int
        switch disposition() {
        case .ring(let free):
            line = free
            lines[line]?.active = callID
        case .wait(let busy):
            line = busy
            lines[line]?.waiting = callID
        case .forward(let target, let from):
            let uri = forwardingURI(target, line: from)
            emit(.log(.info, "line \(from): call \(callID) forwarded to \(uri)"))
            return refuse(invite, 302, "Moved Temporarily", to: origin.route, contact: uri)
        case .busy(let doNotDisturb):
            if doNotDisturb { emit(.log(.info, "call \(callID) refused: do-not-disturb")) }
            return refuse(invite, 486, "Busy Here", to: origin.route)
        }
        pendingInvites.append(PendingInvite(callID: callID, invite: invite, origin: origin, offer: offer, line: line))
        emit(.openMedia(callID: callID, host: nil, toward: origin.route))
    }

    /// The ports are bound: the answer is made, the line rings, 180 goes out.
    func ring(_ pending: PendingInvite<Route>, host: String, port: UInt16, publicContact: HostAndPort?,
              publicMedia: PublicMedia?, at now: Instant) {
        let callID = pending.callID
        let line = pending.line
        if let calls = lines[line], calls.waiting == callID, calls.active == nil {
            // The call it was to wait behind was hung up or held while the
            // ports opened: it goes where it would have gone arriving now,
            // to ring the line if the line is free, else to busy.
            lines[line]?.waiting = nil
            guard lines[line]?.canRing == true else {
                emit(.log(.info, "line \(line): call \(callID) was to wait, but the line is no longer in a call"))
                emit(.media(callID: callID, .close(line: line)))
                return refuse(pending.invite, 486, "Busy Here", to: pending.origin.route)
            }
            lines[line]?.active = callID
        }
        let lineAccount = account(ofLine: line)
        // A router that forwards our ports: the SDP and Contact give its address.
        let capabilities = capabilities(for: lineAccount, host: host, port: port, publicMedia: publicMedia)
        var sdp = SDPSession(sessionID: UInt64(random()) << 16 | UInt64(port))
        // The 200's body: our answer, or for a late offer our offer, whose
        // answer comes in the ACK (RFC 3261 §13.2.1, RFC 3264).
        let body: [UInt8]
        var settled: NegotiatedMedia?
        if let offer = pending.offer {
            switch sdp.answer(to: offer, ours: capabilities) {
            case .success(let answer):
                body = answer.sdp.serializedBytes()
                settled = answer.media
            case .failure(let error):
                lines[line]?.remove(callID)
                emit(.log(.info, "SIP: refusing INVITE \(callID): \(error.message)"))
                emit(.media(callID: callID, .close(line: line)))
                return refuse(pending.invite, 488, "Not Acceptable Here", to: pending.origin.route)
            }
        } else {
            body = sdp.makeOffer(capabilities).serializedBytes()
            emit(.log(.debug, "SIP: INVITE \(callID) has no offer: ours goes in the 200"))
        }
        let reliable = pending.origin.reliable
        let reachable = publicContact ?? HostAndPort(host: site.publicAddress ?? host, port: sipPort)
        let uriHost = reachable.host.utf8.contains(UInt8(ascii: ":")) ? "[\(reachable.host)]" : reachable.host
        let contact = "sip:atad@\(uriHost):\(reachable.port)" + (reliable ? ";transport=tcp" : "")
        let incoming = IncomingCall(invite: pending.invite, toTag: makeToken(), contact: contact, userAgent: userAgent,
                                    answerSDP: body, localHost: host, localPort: sipPort,
                                    transport: reliable ? .tcp : .udp, timers: reliable ? .reliable : .unreliable,
                                    digest: lineAccount.flatMap(CallSettings.digest(for:)), makeToken: makeToken)
        let settings = CallSettings.media(for: lineAccount, host: host, random: random)
        let call = Call(incoming: incoming, line: line, route: pending.origin.route, contact: contact,
                        sdp: sdp, capabilities: capabilities, mediaSettings: settings)
        calls[callID] = call
        if let calls = lines[line], let target = forwarding(.noAnswer, on: calls) {
            let seconds = site.lineSettings(line).forwardNoAnswerSeconds
            call.forwardUnanswered = (now + .seconds(Int64(seconds)), forwardingURI(target, line: line))
        }
        if lines[line]?.waiting == callID {
            let caller = CallerIdentity(invite: pending.invite)
            call.waitingCaller = caller
            emit(.line(line, .waitingCall(caller: caller)))
            emit(.log(.info, "line \(line): call \(callID) waits"))
        } else {
            emit(.line(line, .ring(caller: CallerIdentity(invite: pending.invite))))
            emit(.log(.info, "line \(line): incoming call \(callID)"))
        }
        if let settled {
            call.mediaStarted = true
            emit(.media(callID: callID, mediaStart(call, settled)))
        }
        apply(call.incoming?.start(at: now) ?? [], to: call)
    }

    /// The ACK of a 200 that carried our offer (a late offer, or an empty
    /// re-INVITE) carries the answer: the media starts or moves with it.
    /// Without one we can use, a new call cannot carry audio and is ended
    /// with a BYE (RFC 3261 §13.3.1.4 leaves the UAS no other way); a call
    /// already running keeps the media it had.
    func answerInAck(_ ack: SIPMessage, _ call: Call<Route>, at now: Instant) {
        var reason = "its ACK carries no SDP answer"
        if !ack.body.isEmpty {
            do throws(SDPError) {
                let answer = try SessionDescription(parsing: Array(ack.body))
                let running = call.mediaStarted
                let heldBefore = call.sdp.current?.heldByRemote ?? false
                switch call.sdp.negotiated(fromAnswer: answer) {
                case .success(let media):
                    call.mediaStarted = true
                    emit(.media(callID: call.callID, mediaStart(call, media)))
                    if running, heldBefore != media.heldByRemote {
                        emit(.log(.info, "line \(call.line): " + (media.heldByRemote
                            ? "the far end put the call on hold" : "the far end resumed the call")))
                    }
                    return
                case .failure(let error):
                    reason = "its ACK's answer: \(error.message)"
                }
            } catch {
                reason = "its ACK's SDP: \(error.message)"
            }
        }
        if call.mediaStarted {
            call.sdp.cancelPendingOffer()
            return emit(.log(.info, "line \(call.line): call \(call.callID): re-INVITE: \(reason); the media stays as it was"))
        }
        emit(.log(.info, "line \(call.line): call \(call.callID): \(reason); hanging up"))
        apply(call.incoming?.hangUp(at: now) ?? [], to: call)
        emit(.line(call.line, .input(.remoteHangUp)))
    }

    /// What an incoming call's state machine asked for.
    func apply(_ outputs: [CallAction], to call: Call<Route>, at now: Instant? = nil) {
        for output in outputs {
            switch output {
            case .send(let bytes):
                emit(.sip(bytes, call.route))
            case .keys(let notice):
                keysNotice(notice, on: call)
            case .reoffer(let outcome):
                if let now { reofferDone(outcome, call, at: now) }
            case .referred(let status):
                if let now { referAnswered(status, call, at: now) }
            case .ended(let reason, let remote):
                let input = lineInput(ending: call, remote: remote)
                emit(.log(.info, "line \(call.line): call \(call.callID) ended: \(reason)"))
                end(call)
                if let input { emit(.line(call.line, .input(input))) }
                return
            }
        }
    }
}
