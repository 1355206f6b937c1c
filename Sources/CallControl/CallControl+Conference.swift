import CompactText
import Config
import Line
import SDP
import SIPUserAgent
import Timebase

/// Three-way calling (Telcordia GR-577's shape): with a call on hold and
/// the second call the phone dialed from there answered, a flash joins
/// the three. The held call is taken off hold (re-INVITE `sendrecv`) and
/// its audio is mixed in atad with the line's and the second call's, each
/// far end hearing the other two; each call keeps its own codec and
/// jitter buffer. A flash in the conference drops the second party and
/// leaves the phone with the first; a party that hangs up leaves the
/// phone talking with the other; hanging up ends both calls.
/// `three_way_calling = no` makes the flash swap the two calls instead.
extension CallControl {
    /// Whether a flash on `line` now joins its held call and the second
    /// call into a conference: three-way calling is on, the active call is
    /// the one dialed while the other was held, and both are up.
    func mayJoin(_ line: Int, active: Call<Route>, held: Call<Route>) -> Bool {
        guard site.lineSettings(line).threeWayCalling, let calls = lines[line], !calls.conference,
              calls.consultation == active.callID else { return false }
        return held.incoming?.state == .confirmed || held.outgoing?.state == .confirmed
    }

    /// The flash that makes a three-way call: the held call comes off hold
    /// and its media joins the line's call's (`.join`).
    func join(_ line: Int, active: Call<Route>, held: Call<Route>, at now: Instant) {
        lines[line]?.conference = true
        held.recallUntil = nil
        held.onHold = false
        emit(.log(.info, "line \(line): three-way call: \(held.callID) and \(active.callID)"))
        if let media = held.sdp.current { emit(.media(callID: held.callID, mediaStart(held, media))) }
        syncHold(held, at: now)
    }

    /// A flash in the conference: the second party is hung up on, and the
    /// phone talks with the first alone.
    func dropSecondParty(_ line: Int, at now: Instant) {
        guard let second = activeCall(on: line), let first = heldCall(on: line) else { return }
        emit(.log(.info, "line \(line): three-way call over: dropping \(second.callID)"))
        lines[line]?.conference = false
        lines[line]?.remove(second.callID)
        hangUp(second, at: now)
        takeBack(first, at: now)
        emit(.line(line, .input(.callResumed)))
    }

    /// The second party left the conference (its call already out of the
    /// line's places): the first one stays as the line's only call. (The
    /// first leaving needs nothing: the second is the line's call already.)
    func conferencePartyLeft(_ line: Int) {
        guard let other = lines[line]?.held, let call = calls[other] else { return }
        lines[line]?.held = nil
        lines[line]?.active = other
        emit(.log(.info, "line \(line): three-way call over: talking with \(other)"))
        if let media = call.sdp.current { emit(.media(callID: other, mediaStart(call, media))) }
    }

    /// We end `call` while it is in the line's conference (its BYE's
    /// answer still to come): it leaves the line's places and audio now,
    /// and the other party stays as the line's call. False when `call` is
    /// in no conference.
    func leaveConference(_ call: Call<Route>) -> Bool {
        guard let calls = lines[call.line], calls.conference,
              calls.active == call.callID || calls.held == call.callID else { return false }
        let wasActive = calls.active == call.callID
        lines[call.line]?.remove(call.callID)
        emit(.media(callID: call.callID, .hold(line: call.line, nil, call.mediaSettings)))
        if wasActive { conferencePartyLeft(call.line) }
        emit(.line(call.line, .input(.heldCallEnded)))
        return true
    }

    /// Hanging up in the conference ends both calls.
    func endConference(_ line: Int, at now: Instant) -> Bool {
        guard lines[line]?.conference == true, let first = heldCall(on: line) else { return false }
        emit(.log(.info, "line \(line): hung up in a three-way call: ending both calls"))
        lines[line]?.conference = false
        lines[line]?.remove(first.callID)
        // Off the line now: the daemon is not to fall back on it should
        // the other call close first.
        emit(.media(callID: first.callID, .hold(line: line, nil, first.mediaSettings)))
        hangUp(first, at: now)
        endActiveCall(on: line, at: now)
        return true
    }
}
