import CompactText
import Line
import SDP
import SIPUserAgent
import Timebase

/// Hold and a second call on one line, by hook flash: a flash in a call
/// holds it and the line gets recall dial tone for another; a flash in
/// the second call swaps the two; a flash before the second is up drops
/// it and takes the held one back; hanging up with a call on hold rings
/// the line back to it. (With three-way calling, a flash in the second
/// call joins the three instead: CallControl+Conference.) The far end is held by re-INVITE with `sendonly`
/// and taken back with `sendrecv` (RFC 3264 §8.4); the line leaves a held
/// call's audio at once, whatever the far end answers.
extension CallControl {
    /// A hook flash on `line` (during a call, or while a call is held).
    public func lineFlashed(_ line: Int, at now: Instant) -> [Action] {
        let active = activeCall(on: line)
        let held = heldCall(on: line)
        let activeUp = active.map(isUp) ?? false
        if let active, activeUp, let waiting = waitingCall(on: line) {
            // Call waiting: the first call is held, the waiting one answered.
            lines[line]?.waiting = nil
            lines[line]?.held = active.callID
            lines[line]?.active = waiting.callID
            setOnHold(active, true, at: now)
            emit(.log(.info, "line \(line): call \(active.callID) on hold, answering waiting call \(waiting.callID)"))
            answerWaiting(waiting, at: now)
            emit(.line(line, .input(.waitingCallAnswered)))
        } else if lines[line]?.conference == true {
            dropSecondParty(line, at: now)
        } else if let active, activeUp, let held, mayJoin(line, active: active, held: held) {
            join(line, active: active, held: held, at: now)
        } else if let active, activeUp {
            lines[line]?.active = held?.callID
            lines[line]?.held = active.callID
            setOnHold(active, true, at: now)
            if let held {
                setOnHold(held, false, at: now)
                emit(.log(.info, "line \(line): call \(active.callID) on hold, back to call \(held.callID)"))
            } else {
                emit(.log(.info, "line \(line): call \(active.callID) on hold"))
                emit(.line(line, .input(.callHeld)))
            }
        } else if active == nil, let waiting = waitingCall(on: line) {
            // The first call's far end hung up while this one waited: the
            // flash on the busy tone answers it.
            lines[line]?.waiting = nil
            lines[line]?.active = waiting.callID
            emit(.log(.info, "line \(line): answering waiting call \(waiting.callID)"))
            answerWaiting(waiting, at: now)
            emit(.line(line, .input(.waitingCallAnswered)))
        } else if let held {
            // The second call was not up yet (dialing, ringing, busy): it
            // ends, and the held one comes back.
            endActiveCall(on: line, at: now)
            takeBack(held, at: now)
            emit(.line(line, .input(.callResumed)))
        } else {
            emit(.log(.info, "line \(line): flash"))
        }
        return take()
    }

    /// The handset talks in `call`: it is confirmed, or answered and only
    /// its ACK is still on the way (a flash then holds it like any call in
    /// progress; the far end is told once the ACK is in).
    private func isUp(_ call: Call<Route>) -> Bool {
        switch call.incoming?.state {
        case .answered?, .confirmed?: return true
        default: return call.outgoing?.state == .confirmed
        }
    }

    /// `line N held: CALL-ID` (or `waiting:`) for `status`, while the
    /// line holds a call or one waits.
    public func heldStatus(ofLine line: Int) -> String? {
        guard let calls = lines[line] else { return nil }
        if calls.conference, let held = calls.held, let active = calls.active {
            return "line \(line) three-way: \(held) \(active)"
        }
        if let held = calls.held { return "line \(line) held: \(held)" }
        return calls.waiting.map { "line \(line) waiting: \($0)" }
    }

    func heldCall(on line: Int) -> Call<Route>? {
        lines[line]?.held.flatMap { calls[$0] }
    }

    func waitingCall(on line: Int) -> Call<Route>? {
        lines[line]?.waiting.flatMap { calls[$0] }
    }

    /// The waiting call (now the line's active one) is answered: 200, and
    /// its media joins the line.
    func answerWaiting(_ call: Call<Route>, at now: Instant) {
        call.waitingCaller = nil
        call.answeredAt = now
        call.forwardUnanswered = nil
        if let media = call.sdp.current { emit(.media(callID: call.callID, mediaStart(call, media))) }
        apply(call.incoming?.answer(at: now) ?? [], to: call)
    }

    /// The held call is the line's call again (a flash, or the ring-back
    /// answered).
    func takeBack(_ call: Call<Route>, at now: Instant) {
        call.recallUntil = nil
        lines[call.line]?.held = nil
        lines[call.line]?.active = call.callID
        setOnHold(call, false, at: now)
        emit(.log(.info, "line \(call.line): back to call \(call.callID)"))
    }

    /// The line leaves or rejoins the call's audio now; the far end
    /// follows by re-INVITE.
    private func setOnHold(_ call: Call<Route>, _ onHold: Bool, at now: Instant) {
        call.onHold = onHold
        if let media = call.sdp.current {
            emit(.media(callID: call.callID, mediaStart(call, media)))
        }
        syncHold(call, at: now)
    }

    /// Offers the far end the direction the call should have (sendonly
    /// while held), unless our last offer already did or a re-INVITE is
    /// still out: its outcome calls this again, so quick flashes end in
    /// the state the last one asked for.
    func syncHold(_ call: Call<Route>, at now: Instant) {
        let wanted: MediaDirection = call.onHold ? .sendonly : .sendrecv
        guard call.capabilities.direction != wanted, call.incoming?.mayReoffer ?? call.outgoing?.mayReoffer ?? false
        else { return }
        call.capabilities.direction = wanted
        // The session as agreed, only the direction new:
        // offering every codec again could move the call to another.
        var offered = call.capabilities
        if let current = call.sdp.current {
            offered.codecs = [current.codec]
            offered.comfortNoise = current.comfortNoisePayloadType != nil
            offered.telephoneEventPayloadType = current.receiveTelephoneEventPayloadType
        }
        let offer = call.sdp.makeOffer(offered).serializedBytes()
        if call.incoming != nil {
            apply(call.incoming?.reoffer(offer, at: now) ?? [], to: call, at: now)
        } else {
            apply(call.outgoing?.reoffer(offer, at: now) ?? [], to: call, at: now)
        }
    }

    /// What came of our re-INVITE: its answer moves the media. A refusal
    /// (or an answer we cannot use) leaves the session as it was (§14.1):
    /// the line keeps its own hold, and the direction is asked for again
    /// a little later, so a far end refusing a resume is not left silent.
    func reofferDone(_ outcome: ReofferOutcome, _ call: Call<Route>, at now: Instant) {
        var problem: String
        switch outcome {
        case .answered(let body):
            do throws(SDPError) {
                switch call.sdp.negotiated(fromAnswer: try SessionDescription(parsing: body)) {
                case .success(let media):
                    call.resyncTries = 0
                    emit(.media(callID: call.callID, mediaStart(call, media)))
                    return syncHold(call, at: now)
                case .failure(let error):
                    problem = "its answer: \(error.message)"
                }
            } catch {
                problem = "its answer: \(error.message)"
            }
        case .refused(let status):
            problem = "refused (\(status))"
        }
        call.sdp.cancelPendingOffer()
        // Back to the direction in force; `syncHold` offers it again.
        call.capabilities.direction = call.capabilities.direction == .sendonly ? .sendrecv : .sendonly
        let retry = call.resyncTries < Call<Route>.resyncLimit
        if retry {
            call.resyncTries += 1
            call.resyncAt = now + .seconds(4)
        }
        emit(.log(.warn, "line \(call.line): call \(call.callID): our re-INVITE: \(problem)" + (retry ? "; trying again in 4 s" : "")))
    }

    /// The media command for a call's settled media: to the line when
    /// it is the line's call, else kept off it (held, or let go and
    /// waiting for its BYE's answer).
    func mediaStart(_ call: Call<Route>, _ media: NegotiatedMedia) -> MediaCommand {
        guard let calls = lines[call.line] else { return .hold(line: call.line, media, call.mediaSettings) }
        if calls.active == call.callID { return .start(line: call.line, media, call.mediaSettings) }
        if calls.conference && calls.held == call.callID { return .join(line: call.line, media, call.mediaSettings) }
        return .hold(line: call.line, media, call.mediaSettings)
    }

    /// The ring-back for a call left on hold went unanswered for
    /// `hold_recall_seconds`: the call ends (BYE) and the ring stops.
    func recallUnanswered(_ call: Call<Route>, at now: Instant) {
        guard lines[call.line]?.held == call.callID else { return }
        emit(.log(.info, "line \(call.line): held call \(call.callID) not taken back; hanging it up"))
        let input = lineInput(ending: call, remote: false)
        hangUp(call, at: now)
        // Its BYE's answer is still to come: the line is free already.
        lines[call.line]?.remove(call.callID)
        if let input { emit(.line(call.line, .input(input))) }
    }

    /// What the line is told when `call` is over: a ring (or ring-back)
    /// for it stops, a held call goes quietly, the call in the handset's
    /// ear gives busy tone when the far end ended it. A call the line has
    /// already let go (its BYE still out) tells it nothing.
    func lineInput(ending call: Call<Route>, remote: Bool) -> LineInput? {
        guard let line = lines[call.line] else { return nil }
        if line.waiting == call.callID { return .callWaiting(false) }
        guard line.active == call.callID || line.held == call.callID else { return nil }
        // A three-way call goes on with the other party: no call is held.
        if line.conference { return .heldCallEnded }
        if line.state == .ringing { return .incomingCallEnded }
        if line.held == call.callID { return .heldCallEnded }
        return remote ? .remoteHangUp : nil
    }
}
