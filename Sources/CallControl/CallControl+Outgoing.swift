import CompactText
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
    /// A SIP URI to call instead of the number (a transfer's target), and
    /// the fields its INVITE carries (Replaces, Referred-By).
    var target: String? = nil
    var headers: [(HeaderName, String)] = []
    /// The call whose far end's REFER asked for this one.
    var referrer: Call<Route>? = nil
}

/// Calls the lines place: the account's route, the offer, and what the
/// placed call's responses do to the line.
extension CallControl {
    /// `line` dialed `number`; `through` is the route of the line's account
    /// (nil when it has none: the line then plays congestion).
    public func lineDialed(_ line: Int, number: String, through account: (SIPAccount, Route)?,
                           at now: Instant) -> [Action] {
        guard let (settings, route) = account, lines[line]?.active == nil else {
            let why = account == nil ? "no SIP account or reachable server to call \(number) through" : "already has a call; \(number) not placed"
            return [.log(.warn, "line \(line): " + why), .line(line, .input(.callFailed(busy: false)))]
        }
        let callID = makeToken() + "@atad"
        lines[line]?.active = callID
        if lines[line]?.held != nil { lines[line]?.consultation = callID }
        if lines[line]?.callWaitingCancelled == true {
            lines[line]?.callWaitingCancelled = false
            lines[line]?.callWithoutWaiting = callID
        }
        pendingPlacements.append(PendingPlacement(callID: callID, line: line, number: number, account: settings, route: route))
        return [.openMedia(callID: callID, host: settings.localHost, toward: route)]
    }

    /// The ports are bound: the INVITE goes out with our offer.
    func place(_ pending: PendingPlacement<Route>, host: String, port: UInt16, publicMedia: PublicMedia?,
               at now: Instant) {
        let account = account(named: pending.account.accountName)
        let capabilities = capabilities(for: account, host: host, port: port, publicMedia: publicMedia)
        var sdp = SDPSession(sessionID: UInt64(random()) << 16 | UInt64(port))
        let offer = sdp.makeOffer(capabilities)
        // One initializer for both: a number is called at the account's domain.
        let target = pending.target ?? OutgoingCall.requestURI(calling: pending.number, through: pending.account)
        let outgoing = OutgoingCall(settings: pending.account, target: target, headers: pending.headers,
                                    offer: offer.serializedBytes(), callID: pending.callID,
                                    sessionSeconds: UInt32(site.sessionExpiresSeconds), makeToken: makeToken)
        let call = Call(outgoing: outgoing, line: pending.line, route: pending.route,
                        contact: pending.account.contactURI, sdp: sdp, capabilities: capabilities,
                        mediaSettings: CallSettings.media(for: account, host: host, random: random))
        calls[pending.callID] = call
        call.referrer = pending.referrer
        emit(.log(.info, "line \(pending.line): calling \(pending.number) through account \(pending.account.accountName)"))
        apply(call.outgoing?.start(at: now) ?? [], to: call, at: now)
    }

    /// What a placed call's state machine asked for.
    func apply(_ outputs: [OutgoingCallAction], to call: Call<Route>, at now: Instant) {
        for output in outputs {
            switch output {
            case .send(let bytes): emit(.sip(bytes, call.route))
            case .sendToServer(let bytes, let index):
                emit(.sip(bytes, call.serversTried.indices.contains(index) ? call.serversTried[index] : call.route))
            case .event(let event):
                if event == .answered { call.answeredAt = now }
                if reportToReferrer(event, call, at: now) { continue }
                deliver(event, for: call)
            case .keys(let notice): keysNotice(notice, on: call)
            case .reoffer(let outcome): reofferDone(outcome, call, at: now)
            case .referred(let status): referAnswered(status, call, at: now)
            }
        }
        if call.outgoing?.state == .ended { end(call) }
    }

    /// A placed call's progress, as the line hears it.
    private func deliver(_ event: OutgoingCallEvent, for call: Call<Route>) {
        let line = call.line
        switch event {
        case .earlyMedia, .answered: startMedia(call)
        default: break
        }
        switch event {
        case .redirected(let target):
            emit(.log(.info, "line \(line): call \(call.callID) redirected to \(target)"))
            emit(.findRedirectRoute(callID: call.callID, target: target, from: call.route))
        case .serverFailed(let reason):
            emit(.log(.info, "line \(line): call \(call.callID): \(reason); trying another server"))
            emit(.findOtherServer(callID: call.callID, account: call.outgoing?.accountName ?? "", tried: call.serversTried))
        case .ringing:
            emit(.log(.info, "line \(line): the far end is ringing"))
            emit(.line(line, .input(.remoteRinging)))
        case .earlyMedia:
            emit(.log(.info, "line \(line): early media from the far end"))
            emit(.line(line, .hearEarlyMedia))
            if lines[line]?.state != .ringback { emit(.line(line, .input(.remoteRinging))) }
        case .answered:
            emit(.log(.info, "line \(line): call \(call.callID) answered"))
            emit(.line(line, .input(.remoteAnswered)))
        case .failed(let busy, let reason):
            emit(.log(.info, "line \(line): call failed: \(reason)"))
            emit(.line(line, .input(.callFailed(busy: busy))))
        case .ended(let remote):
            emit(.log(.info, "line \(line): call \(call.callID) ended by \(remote ? "the far end" : "us")"))
            if let input = lineInput(ending: call, remote: remote) { emit(.line(line, .input(input))) }
        }
    }

    /// The way to a redirected call's new place was found (nil: there is
    /// none): the INVITE goes there, or the call fails.
    public func redirectRouted(_ callID: String, route: Route?, at now: Instant) -> [Action] {
        guard let call = calls[callID], call.outgoing?.state == .redirecting else { return take() }
        guard let route else {
            apply(call.outgoing?.redirectFailed("no way to the place a 3xx named") ?? [], to: call, at: now)
            return take()
        }
        call.route = route
        apply(call.outgoing?.followRedirect(at: now) ?? [], to: call, at: now)
        return take()
    }

    /// A connection to a server could not be made: the placed calls whose
    /// INVITE was to go on it (`goesThere` picks their route) and that
    /// nothing answered yet fail over, or fail.
    public func connectionFailed(_ goesThere: (Route) -> Bool, at now: Instant) -> [Action] {
        for call in Array(calls.values) where call.outgoing != nil && goesThere(call.route) {
            apply(call.outgoing?.transportFailed(at: now) ?? [], to: call, at: now)
        }
        return take()
    }

    /// How many of an account's servers one call tries (RFC 3263 §4.3
    /// tries them all; a bound keeps a long SRV list from holding a
    /// caller for minutes).
    static var maximumServersPerCall: Int { 4 }

    /// Another of the account's servers for a call whose server failed
    /// (nil: none left): the INVITE goes there, or the call fails (or
    /// waits out a silent server).
    public func otherServerFound(_ callID: String, route: Route?, at now: Instant) -> [Action] {
        guard let call = calls[callID], call.outgoing?.state == .seekingServer else { return take() }
        guard let route, call.serversTried.count < Self.maximumServersPerCall else {
            emit(.log(.info, "line \(call.line): call \(callID): no other server to try"))
            apply(call.outgoing?.noOtherServer() ?? [], to: call, at: now)
            return take()
        }
        call.route = route
        call.serversTried.append(route)
        apply(call.outgoing?.tryOtherServer(at: now) ?? [], to: call, at: now)
        return take()
    }

    /// The far end's SDP answer arrived (183 or 2xx): start the media.
    /// A new answer from another place (a fork's 2xx after another's early
    /// media, or the target of a 3xx) answers our offer again.
    private func startMedia(_ call: Call<Route>) {
        guard let outgoing = call.outgoing, outgoing.answerRevision != call.answerRevision,
              let body = outgoing.remoteSDP else { return }
        call.answerRevision = outgoing.answerRevision
        if call.mediaStarted { _ = call.sdp.makeOffer(call.capabilities) }
        let answer: SessionDescription
        do throws(SDPError) { answer = try SessionDescription(parsing: body) } catch {
            return emit(.log(.warn, "line \(call.line): the far end's SDP answer is invalid: \(error.message)"))
        }
        switch call.sdp.negotiated(fromAnswer: answer) {
        case .success(let media):
            call.mediaStarted = true
            emit(.media(callID: call.callID, mediaStart(call, media)))
        case .failure(let error):
            emit(.log(.warn, "line \(call.line): the far end's SDP answer: \(error.message)"))
        }
    }
}
