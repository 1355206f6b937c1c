import CompactText
import Config
import Line
import Media
import SDP
import SIPMessage
import SIPUserAgent
import Timebase

/// Decides what every call does, with no I/O: which line a new call rings,
/// what a request for a call gets, what a response or a line's hook does
/// to a call, when a call's timers fire, and what its media does. Inputs
/// come with the time; each returns the actions for the daemon to carry
/// out (`CallControlAction`). It holds the only map between lines and
/// calls (`lines`).
///
/// `Route` is the daemon's way of sending a SIP message: back the way a
/// request came, or over an account's route; call control only stores it.
public final class CallControl<Route> {
    public typealias Action = CallControlAction<Route>

    /// The running config (accounts, each line's account, user agent).
    public var site: SiteConfig
    /// Our SIP port, for the Contact of calls that come in.
    public var sipPort: UInt16 = 0
    /// At most this many calls at once, ringing or placed or up.
    public static var maximumCalls: Int { 64 }

    /// Each line's calls, and its state as it last reported it.
    public internal(set) var lines: LineTable
    var calls: [String: Call<Route>] = [:]
    /// Calls that wait for their media ports (`mediaOpened`).
    var pendingInvites: [PendingInvite<Route>] = []
    var pendingPlacements: [PendingPlacement<Route>] = []
    /// Transfers asked of us whose target's route is being found.
    var pendingReferrals: [PendingReferral<Route>] = []
    /// The actions of the input being handled (`emit`, `take`).
    var output: [Action] = []
    let makeToken: () -> String
    let random: () -> UInt32

    /// - makeToken: random tokens for tags, branches and Call-IDs.
    /// - random: random numbers for RTP identities and SDP session ids.
    /// - defaultUserAgent: our User-Agent and Server when the config names none.
    public init(site: SiteConfig, lines: [Int], defaultUserAgent: String, makeToken: @escaping () -> String,
                random: @escaping () -> UInt32) {
        self.site = site
        self.defaultUserAgent = defaultUserAgent
        self.lines = LineTable(numbers: lines)
        self.makeToken = makeToken
        self.random = random
    }

    let defaultUserAgent: String
    var userAgent: String { site.userAgent ?? defaultUserAgent }

    /// The line a call belongs to, while it lasts.
    public func line(ofCall callID: String) -> Int? {
        calls[callID]?.line ?? pendingInvites.first { $0.callID == callID }?.line
            ?? pendingPlacements.first { $0.callID == callID }?.line
    }

    // MARK: Actions

    /// Every input's actions are gathered here, then handed out at once.
    func emit(_ action: Action) { output.append(action) }

    func take() -> [Action] {
        let actions = output
        output = []
        return actions
    }

    // MARK: The lines

    /// A line's state machine changed state. Idle ends what *70 did.
    public func lineStateChanged(_ line: Int, to state: LineState) {
        lines[line]?.state = state
        if state == .idle {
            lines[line]?.callWaitingCancelled = false
            lines[line]?.callWithoutWaiting = nil
        }
    }

    /// The handset on `line` answered the call ringing it, or the ring
    /// that calls it back to a held call.
    public func lineAnswered(_ line: Int, at now: Instant) -> [Action] {
        if let call = activeCall(on: line), call.waitingCaller != nil {
            answerWaiting(call, at: now)
        } else if let call = activeCall(on: line) {
            if call.incoming?.state == .ringing { call.answeredAt = now }
            call.forwardUnanswered = nil
            apply(call.incoming?.answer(at: now) ?? [], to: call)
        } else if let held = heldCall(on: line) {
            takeBack(held, at: now)
        }
        return take()
    }

    /// The handset on `line` hung up (or the line gave up on its call): a
    /// call still on hold is transferred to the second call
    /// (`transferOnHangUp`) or rings the line back.
    public func lineHungUp(_ line: Int, at now: Instant) -> [Action] {
        if endConference(line, at: now) || transferOnHangUp(line, at: now) { return take() }
        endActiveCall(on: line, at: now)
        if let held = heldCall(on: line) {
            // The call hung up may wait for its BYE's answer: it is no
            // longer the line's.
            lines[line]?.active = nil
            emit(.log(.info, "line \(line): call \(held.callID) is still on hold: ringing the line back"))
            let seconds = site.lineSettings(line).holdRecallSeconds
            if seconds > 0 { held.recallUntil = now + .seconds(Int64(seconds)) }
            emit(.line(line, .input(.incomingCall(callerID: false))))
        } else if let waiting = waitingCall(on: line), let caller = waiting.waitingCaller {
            lines[line]?.waiting = nil
            lines[line]?.active = waiting.callID
            // No-answer forwarding counts from this ring, not from the tone.
            if let forward = waiting.forwardUnanswered {
                let seconds = site.lineSettings(line).forwardNoAnswerSeconds
                waiting.forwardUnanswered = (now + .seconds(Int64(seconds)), forward.target)
            }
            emit(.log(.info, "line \(line): call \(waiting.callID) still waits: ringing the line"))
            emit(.line(line, .ring(caller: caller)))
        } else if let second = lines[line]?.waiting, calls[second] == nil {
            // A second call still getting its media ports: the hung-up
            // call (waiting for its BYE's answer) is no longer the line's,
            // so once the ports are ready the second rings the line.
            lines[line]?.active = nil
        }
        return take()
    }

    /// Ends the line's active call (or the one still getting its ports),
    /// as when the handset hangs up.
    func endActiveCall(on line: Int, at now: Instant) {
        if let index = pendingPlacements.firstIndex(where: { $0.line == line }) {
            // Hung up while the media ports were being readied: nothing
            // went out yet.
            let pending = pendingPlacements.remove(at: index)
            lines[line]?.remove(pending.callID)
            // A transfer's new call: the old call ends with it.
            if let referrer = pending.referrer {
                referralFailed(referrer, callID: pending.callID, line: line, status: 487, reason: "Request Terminated", at: now)
            }
            return emit(.media(callID: pending.callID, .close(line: line)))
        }
        if dropReferral(on: line, at: now) { return }
        guard let call = activeCall(on: line) else { return }
        if let referrer = call.referrer {
            // A transfer the far end asked for, left before it was made:
            // the old call ends with the new one (the line is on hook, so
            // `referralFailed` hangs it up).
            call.referrer = nil
            referralFailed(referrer, callID: call.callID, line: line, status: 487, reason: "Request Terminated", at: now)
        }
        hangUp(call, at: now)
    }

    /// The far end of an answered call sent no RTP or RTCP since
    /// `lastHeard` (nor since the answer) for `seconds`: it is gone without
    /// a BYE. The call ends with ours, and the line hears what it hears
    /// when the far end hangs up.
    public func mediaTimedOut(_ callID: String, lastHeard: Instant, seconds: Int, at now: Instant) -> [Action] {
        guard let call = calls[callID], call.mediaStarted, !call.onHold, let answered = call.answeredAt,
              call.incoming?.state == .confirmed || call.outgoing?.state == .confirmed,
              now - max(lastHeard, answered) >= .seconds(Int64(seconds)) else { return [] }
        emit(.log(.info, "line \(call.line): call \(callID): nothing from the far end for \(seconds) s; hanging up"))
        if leaveConference(call) {
            hangUp(call, at: now)
            return take()
        }
        let input = lineInput(ending: call, remote: true)
        hangUp(call, at: now)
        if let input { emit(.line(call.line, .input(input))) }
        return take()
    }

    /// Our end of `call`, whichever way it went: BYE once up, else a
    /// CANCEL or a refusal.
    func hangUp(_ call: Call<Route>, at now: Instant) {
        if call.incoming != nil {
            apply(call.incoming?.hangUp(at: now) ?? [], to: call)
        } else {
            apply(call.outgoing?.hangUp(at: now) ?? [], to: call, at: now)
        }
    }

    func activeCall(on line: Int) -> Call<Route>? {
        lines[line]?.active.flatMap { calls[$0] }
    }

    // MARK: Time

    /// The earliest time a call has something to do without new input.
    public var nextDeadline: Instant? {
        var earliest: Instant?
        for call in calls.values {
            if let due = call.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    /// Runs every call's timers that are due by `now`.
    public func advance(to now: Instant) -> [Action] {
        for call in Array(calls.values) {
            guard calls[call.callID] === call, let due = call.nextDeadline, due <= now else { continue }
            if let forward = call.forwardUnanswered, forward.at <= now {
                call.forwardUnanswered = nil
                forwardUnanswered(call, to: forward.target)
                guard calls[call.callID] === call else { continue }
            }
            if let recall = call.recallUntil, recall <= now {
                call.recallUntil = nil
                recallUnanswered(call, at: now)
                guard calls[call.callID] === call else { continue }
            }
            if let due = call.transfer?.givesUpAt, due <= now {
                call.transfer?.givesUpAt = nil
                transferTimedOut(call, at: now)
                guard calls[call.callID] === call else { continue }
            }
            if let due = call.hangUpAt, due <= now {
                call.hangUpAt = nil
                transferTimedOut(call, at: now)
                guard calls[call.callID] === call else { continue }
            }
            if let resync = call.resyncAt, resync <= now {
                call.resyncAt = nil
                syncHold(call, at: now)
                guard calls[call.callID] === call else { continue }
            }
            if call.incoming != nil {
                apply(call.incoming?.advance(to: now) ?? [], to: call, at: now)
            } else {
                apply(call.outgoing?.advance(to: now) ?? [], to: call, at: now)
            }
        }
        return take()
    }

    // MARK: Media

    /// The ports asked for by `openMedia` are bound: the call goes on.
    /// `publicContact` is where the caller reaches our SIP port through a
    /// NAT, when its registrar showed us one: an answered call's Contact.
    /// `publicMedia` is where a STUN server saw the media sockets: the SDP
    /// gives it instead of `host` and `port`.
    public func mediaOpened(_ callID: String, host: String, port: UInt16, publicContact: HostAndPort? = nil,
                            publicMedia: PublicMedia? = nil, at now: Instant) -> [Action] {
        if let index = pendingInvites.firstIndex(where: { $0.callID == callID }) {
            ring(pendingInvites.remove(at: index), host: host, port: port, publicContact: publicContact,
                 publicMedia: publicMedia, at: now)
        } else if let index = pendingPlacements.firstIndex(where: { $0.callID == callID }) {
            place(pendingPlacements.remove(at: index), host: host, port: port, publicMedia: publicMedia, at: now)
        }
        return take()
    }

    /// What our SDP gives for a call's media: where STUN saw it, else the
    /// configured public address with our ports, else our own address.
    func capabilities(for account: SiteConfig.Account?, host: String, port: UInt16,
                      publicMedia: PublicMedia?) -> MediaCapabilities {
        guard let publicMedia else {
            return CallSettings.capabilities(for: account, host: site.publicAddress ?? host, port: port)
        }
        var capabilities = CallSettings.capabilities(for: account, host: publicMedia.host, port: publicMedia.rtpPort)
        capabilities.rtcpPort = publicMedia.rtcpPort
        return capabilities
    }

    /// No ports could be bound for the call: it cannot go on.
    public func mediaUnavailable(_ callID: String, at now: Instant) -> [Action] {
        if let index = pendingInvites.firstIndex(where: { $0.callID == callID }) {
            let pending = pendingInvites.remove(at: index)
            lines[pending.line]?.remove(callID)
            emit(.log(.warn, "SIP: no port for the media of incoming call \(callID)"))
            refuse(pending.invite, 500, "Server Internal Error", to: pending.origin.route)
        } else if let index = pendingPlacements.firstIndex(where: { $0.callID == callID }) {
            let pending = pendingPlacements.remove(at: index)
            emit(.log(.warn, "line \(pending.line): no port for the call's media"))
            // A transfer's new call: back to the old call if the line waits.
            if let referrer = pending.referrer,
               referralFailed(referrer, callID: callID, line: pending.line, status: 503, reason: "Service Unavailable",
                              at: now) {
                return take()
            }
            lines[pending.line]?.remove(callID)
            emit(.line(pending.line, .input(.callFailed(busy: false))))
        }
        return take()
    }

    /// The daemon stops: every call's media closes (no BYEs are sent).
    public func endAll() -> [Action] {
        for call in Array(calls.values) { end(call) }
        for pending in pendingInvites { lines[pending.line]?.remove(pending.callID) }
        for pending in pendingPlacements { lines[pending.line]?.remove(pending.callID) }
        pendingInvites.removeAll()
        pendingPlacements.removeAll()
        return take()
    }

    /// The connection some calls' messages travel on is gone (a TCP
    /// connection closed): those calls cannot be reached and end.
    /// Whether some call travels the way `carries` picks (a TCP connection
    /// the daemon would like to close).
    public func hasCall(_ carries: (Route) -> Bool) -> Bool {
        calls.values.contains { carries($0.route) }
    }

    public func connectionLost(_ carries: (Route) -> Bool) -> [Action] {
        for call in Array(calls.values) where carries(call.route) {
            let input = lineInput(ending: call, remote: true)
            emit(.log(.info, "line \(call.line): call \(call.callID) ended: its TCP connection closed"))
            end(call)
            if let input { emit(.line(call.line, .input(input))) }
        }
        return take()
    }

    /// Takes `call` out of the tables and closes its media.
    func end(_ call: Call<Route>) {
        guard calls[call.callID] === call else { return }
        calls.removeValue(forKey: call.callID)
        // The held party left before taking the transfer: the call it was
        // to replace has nobody on our side, and ends at the next turn.
        if let transfer = call.transfer, !transfer.accepted, let consultation = transfer.consultation,
           calls[consultation.callID] === consultation {
            consultation.hangUpAt = .zero
        }
        call.transfer = nil
        let leavesConference = lines[call.line].map { $0.conference && $0.active == call.callID } ?? false
        lines[call.line]?.remove(call.callID)
        emit(.media(callID: call.callID, .close(line: call.line)))
        if leavesConference { conferencePartyLeft(call.line) }
    }

    /// A response with a random To tag and our Server header, sent back.
    func refuse(_ request: SIPMessage, _ status: Int, _ reason: String, to route: Route,
                retryAfter: String? = nil, toTag: String? = nil, contact: String? = nil) {
        var response = SIPMessageBuilder.response(to: request, status: status, reason: reason, toTag: toTag ?? makeToken())
        if let retryAfter { response.add(.retryAfter, retryAfter) }
        if let contact { response.add(.contact, "<\(contact)>") }
        response.add(.server, userAgent)
        emit(.sip(response.serialize(), route))
    }

    func account(named name: String) -> SiteConfig.Account? {
        site.accounts.first { $0.name == name }
    }
}
