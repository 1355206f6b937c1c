import CompactText
import Line
import SDP
import SIPUserAgent
import Timebase

/// Hold and a second call on one line, by hook flash: a flash in a call
/// holds it and the line gets recall dial tone for another; a flash in
/// the second call swaps the two; a flash before the second is up drops
/// it and takes the held one back; hanging up with a call on hold rings
/// the line back to it. The far end is held by re-INVITE with `sendonly`
/// and taken back with `sendrecv` (RFC 3264 §8.4); the line leaves a held
/// call's audio at once, whatever the far end answers.
extension CallControl {
    /// A hook flash on `line` (during a call, or while a call is held).
    public func lineFlashed(_ line: Int, at now: Instant) -> [Action] {
        let active = activeCall(on: line)
        let held = heldCall(on: line)
        if let active, active.incoming?.state == .confirmed || active.outgoing?.state == .confirmed {
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

    /// `line N held: CALL-ID` for `status`, while the line holds a call.
    public func heldStatus(ofLine line: Int) -> String? {
        lines[line]?.held.map { "line \(line) held: \($0)" }
    }

    func heldCall(on line: Int) -> Call<Route>? {
        lines[line]?.held.flatMap { calls[$0] }
    }

    /// The held call is the line's call again (a flash, or the ring-back
    /// answered).
    func takeBack(_ call: Call<Route>, at now: Instant) {
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
        guard call.capabilities.direction != wanted, call.incoming?.isReoffering != true,
              call.outgoing?.isReoffering != true,
              call.incoming?.state == .confirmed || call.outgoing?.state == .confirmed else { return }
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

    /// What came of our re-INVITE: its answer moves the media; a refusal
    /// leaves the session as it was (the line keeps its own hold anyway).
    func reofferDone(_ outcome: ReofferOutcome, _ call: Call<Route>, at now: Instant) {
        switch outcome {
        case .answered(let body):
            do throws(SDPError) {
                switch call.sdp.negotiated(fromAnswer: try SessionDescription(parsing: body)) {
                case .success(let media):
                    emit(.media(callID: call.callID, mediaStart(call, media)))
                case .failure(let error):
                    call.sdp.cancelPendingOffer()
                    emit(.log(.warn, "line \(call.line): call \(call.callID): the answer to our re-INVITE: \(error.message)"))
                }
            } catch {
                call.sdp.cancelPendingOffer()
                emit(.log(.warn, "line \(call.line): call \(call.callID): the answer to our re-INVITE: \(error.message)"))
            }
        case .refused(let status):
            call.sdp.cancelPendingOffer()
            emit(.log(.info, "line \(call.line): call \(call.callID): the far end refused our re-INVITE (\(status))"))
        }
        guard calls[call.callID] === call else { return }
        syncHold(call, at: now)
    }

    /// The media command for a call's settled media: to the line, or kept
    /// off it while the call is held.
    func mediaStart(_ call: Call<Route>, _ media: NegotiatedMedia) -> MediaCommand {
        call.onHold ? .hold(line: call.line, media, call.mediaSettings) : .start(line: call.line, media, call.mediaSettings)
    }

    /// What the line is told when `call` is over: a ring (or ring-back)
    /// for it stops, a held call goes quietly, the call in the handset's
    /// ear gives busy tone when the far end ended it. A call the line has
    /// already let go (its BYE still out) tells it nothing.
    func lineInput(ending call: Call<Route>, remote: Bool) -> LineInput? {
        guard let line = lines[call.line], line.active == call.callID || line.held == call.callID else { return nil }
        if line.state == .ringing { return .incomingCallEnded }
        if line.held == call.callID { return .heldCallEnded }
        return remote ? .remoteHangUp : nil
    }
}
