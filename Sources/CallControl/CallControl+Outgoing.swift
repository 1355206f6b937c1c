import Config
import Line
import SDP
import SIPMessage
import SIPUserAgent
import Timebase

/// A number a line dialed, waiting for its media ports.
struct PendingPlacement<Route> {
    let callID: String
    let line: Int
    let number: String
    let account: SIPAccount
    let route: Route
}

/// Calls the lines place: the account's route, the offer, and what the
/// placed call's responses do to the line.
extension CallControl {
    /// `line` dialed `number`; `through` is the route of the line's account
    /// (nil when it has none: the line then plays congestion).
    public func lineDialed(_ line: Int, number: String, through account: (SIPAccount, Route)?,
                           at now: Instant) -> [Action] {
        guard let (settings, route) = account else {
            return [.log(.warn, "line \(line): no SIP account to call \(number) through"),
                    .line(line, .input(.callFailed(busy: false)))]
        }
        guard lines[line]?.active == nil else {
            return [.log(.warn, "line \(line): already has a call; \(number) not placed"),
                    .line(line, .input(.callFailed(busy: false)))]
        }
        let callID = makeToken() + "@atad"
        lines[line]?.active = callID
        pendingPlacements.append(PendingPlacement(callID: callID, line: line, number: number, account: settings, route: route))
        return [.openMedia(callID: callID, host: settings.localHost, toward: route)]
    }

    /// The ports are bound: the INVITE goes out with our offer.
    func place(_ pending: PendingPlacement<Route>, host: String, port: UInt16, at now: Instant) -> [Action] {
        let callID = pending.callID
        let account = account(named: pending.account.accountName)
        let capabilities = CallSettings.capabilities(for: account, host: host, port: port)
        var sdp = SDPSession(sessionID: UInt64(random()) << 16 | UInt64(port))
        let offer = sdp.makeOffer(capabilities)
        let outgoing = OutgoingCall(settings: pending.account, number: pending.number, offer: offer.serializedBytes(),
                                    callID: callID, makeToken: makeToken)
        let call = Call(outgoing: outgoing, line: pending.line, route: pending.route,
                        contact: pending.account.contactURI, sdp: sdp, capabilities: capabilities,
                        mediaSettings: CallSettings.media(for: account, host: host, random: random))
        calls[callID] = call
        let log: Action = .log(.info, "line \(pending.line): calling \(pending.number) through account \(pending.account.accountName)")
        return [log] + apply(call.outgoing?.start(at: now) ?? [], to: call, at: now)
    }

    /// What a placed call's state machine asked for.
    func apply(_ outputs: [OutgoingCallAction], to call: Call<Route>, at now: Instant) -> [Action] {
        var actions: [Action] = []
        for output in outputs {
            switch output {
            case .send(let bytes): actions.append(.sip(bytes, call.route))
            case .event(let event): actions += deliver(event, for: call)
            case .keys(let notice): actions += keysNotice(notice, on: call)
            }
        }
        if let placed = call.outgoing, placed.state == .ended { actions += end(call) }
        return actions
    }

    /// A placed call's progress, as the line hears it.
    private func deliver(_ event: OutgoingCallEvent, for call: Call<Route>) -> [Action] {
        var actions: [Action] = []
        let line = call.line
        switch event {
        case .earlyMedia, .answered: actions += startMedia(call)
        default: break
        }
        switch event {
        case .ringing:
            actions.append(.log(.info, "line \(line): the far end is ringing"))
            actions.append(.line(line, .input(.remoteRinging)))
        case .earlyMedia:
            actions.append(.log(.info, "line \(line): early media from the far end"))
            actions.append(.line(line, .hearEarlyMedia))
            if lines[line]?.state != .ringback { actions.append(.line(line, .input(.remoteRinging))) }
        case .answered:
            actions.append(.log(.info, "line \(line): call \(call.callID) answered"))
            actions.append(.line(line, .input(.remoteAnswered)))
        case .failed(let busy, let reason):
            actions.append(.log(.info, "line \(line): call failed: \(reason)"))
            actions.append(.line(line, .input(.callFailed(busy: busy))))
        case .ended(let remote):
            actions.append(.log(.info, "line \(line): call \(call.callID) ended by \(remote ? "the far end" : "us")"))
            if remote { actions.append(.line(line, .input(.remoteHangUp))) }
        }
        return actions
    }

    /// The far end's SDP answer arrived (183 or 2xx): start the media.
    private func startMedia(_ call: Call<Route>) -> [Action] {
        guard !call.mediaStarted, let placed = call.outgoing, let body = placed.remoteSDP else { return [] }
        let answer: SessionDescription
        do throws(SDPError) { answer = try SessionDescription(parsing: body) } catch {
            return [.log(.warn, "line \(call.line): the far end's SDP answer is invalid: \(error.message)")]
        }
        switch call.sdp.negotiated(fromAnswer: answer) {
        case .success(let media):
            call.mediaStarted = true
            return [.media(callID: call.callID, .start(line: call.line, media, call.mediaSettings))]
        case .failure(let error):
            return [.log(.warn, "line \(call.line): the far end's SDP answer: \(error.message)")]
        }
    }
}
