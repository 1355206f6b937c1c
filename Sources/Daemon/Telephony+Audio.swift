import CompactText
import DSP
import Line
import LineHardware
import Platform
import Timebase

/// The line path's audio, one 10 ms frame at a time, whatever the board:
/// the earpiece gets the far end, a tone or silence; the mouthpiece goes
/// through the echo canceller and the DTMF detector to the far end.
extension Telephony {
    /// What the adapter sends to the earpiece: the far end's audio during a
    /// call (or its early media), else the current tone or silence. A copy
    /// is kept as the echo canceller's reference.
    func produceOutput(_ port: LinePort, _ buffer: UnsafeMutableBufferPointer<Int16>, at now: Instant) {
        if port.callMuted {
            // The far end's audio and the call-waiting tone are dropped
            // while the phone is signalled, but pulled as usual: the
            // jitter buffer does not back up, the tone keeps its cadence.
            port.media?.frame(earpiece: buffer, now: now)
            if port.toneGenerator != nil { port.toneGenerator!.generate(into: buffer) }
        }
        if playCallerID(port, buffer) {
            // On hook before the call is answered, or the phone signalled
            // during a call: nothing else plays.
        } else if let media = port.media, hearsFarEnd(port) {
            media.frame(earpiece: buffer, now: now)
            if let mix = port.threeWay, let second = mix.second { addSecondFarEnd(second, mix, into: buffer, at: now) }
            if port.machine.tone == .callWaiting { mixTone(port, into: buffer) }
        } else if port.toneGenerator != nil {
            port.toneGenerator!.generate(into: buffer)
        } else {
            buffer.update(repeating: 0)
        }
        port.lineOutput.withUnsafeMutableBufferPointer { copy in
            _ = copy.update(fromContentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// The call-waiting tone over the far end's voice (the copy for the
    /// canceller is made after, so it is scratch space here).
    private func mixTone(_ port: LinePort, into buffer: UnsafeMutableBufferPointer<Int16>) {
        guard port.toneGenerator != nil else { return }
        port.lineOutput.withUnsafeMutableBufferPointer { tone in
            port.toneGenerator!.generate(into: tone)
            mixSaturating(UnsafeBufferPointer(buffer), UnsafeBufferPointer(tone), into: buffer)
        }
    }

    /// A three-way call: the earpiece hears both far ends; each one's frame
    /// is kept for the other's mix.
    private func addSecondFarEnd(_ second: RTPConnection, _ mix: ThreeWayMix,
                                 into buffer: UnsafeMutableBufferPointer<Int16>, at now: Instant) {
        mix.firstHeard.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: UnsafeBufferPointer(buffer)) }
        mix.secondHeard.withUnsafeMutableBufferPointer { heard in
            second.frame(earpiece: heard, now: now)
            mixSaturating(UnsafeBufferPointer(buffer), UnsafeBufferPointer(heard), into: buffer)
        }
    }

    private func hearsFarEnd(_ port: LinePort) -> Bool {
        switch port.machine.state {
        case .talking: return true
        case .ringback: return port.earlyMedia
        default: return false
        }
    }

    /// What comes from the mouthpiece: DTMF digits are detected here, and
    /// during a call it goes to the far end (digits muted when they travel
    /// out of band).
    func consumeInput(_ port: LinePort, _ buffer: UnsafeBufferPointer<Int16>, at now: Instant) {
        port.mouthpiece.feed(buffer)
        if let canceller = port.echoCanceller, port.media != nil, hearsFarEnd(port), farEndRecentlyActive(port) {
            let restarts = port.hardware.audioRestarts
            if restarts != port.audioRestartsSeen {
                port.audioRestartsSeen = restarts
                canceller.echoPathMayHaveMoved()
            }
            port.echoFree.withUnsafeMutableBufferPointer { output in
                port.lineOutput.withUnsafeBufferPointer { farEnd in
                    canceller.process(farEnd: farEnd, nearEnd: buffer, output: output)
                    port.echoSuppressor.process(farEnd: farEnd, nearEnd: buffer, output: output,
                                                nearEndTalking: canceller.doubleTalk,
                                                echoEstimateMeanSquare: canceller.echoEstimateMeanSquare)
                }
            }
            if canceller.bulkDelaySamples != port.loggedBulkDelaySamples {
                port.loggedBulkDelaySamples = canceller.bulkDelaySamples
                log.debug("line \(port.number): echo canceller: bulk delay \(canceller.bulkDelaySamples * 1000 / canceller.sampleRate) ms")
            }
            port.echoFree.withUnsafeBufferPointer { detectAndSend(port, $0, at: now) }
        } else {
            detectAndSend(port, buffer, at: now)
        }
    }

    /// The canceller costs most of a call's CPU; with nothing from the far
    /// end for longer than the echo path can hold it (250 ms), there is no
    /// echo to cancel and the filter stays as it was adapted.
    private func farEndRecentlyActive(_ port: LinePort) -> Bool {
        let loud = port.lineOutput.contains { $0 > 32 || $0 < -32 }
        port.farEndQuietFrames = loud ? 0 : min(port.farEndQuietFrames + 1, 1000)
        return port.farEndQuietFrames < ResidualEchoSuppressor.reachFrames
    }

    /// Digits count only while the line is off hook as its hook edges say
    /// (not during a dial pulse's break).
    private func detectAndSend(_ port: LinePort, _ buffer: UnsafeBufferPointer<Int16>, at now: Instant) {
        let offHook = port.machine.physicallyOffHook
        if offHook {
            for digit in port.detector.process(buffer) { feed(port, .dtmf(digit.character), at: now) }
        }
        guard let media = port.media else { return }
        if port.callMuted {
            // Cut off while the phone is signalled: the far end hears
            // silence, and no key (the phone's acknowledgement is not one).
            return port.quiet.withUnsafeBufferPointer { silence in
                media.frame(mouth: silence, dtmf: .none, now: now, send: port.machine.state == .talking)
            }
        }
        let dtmf = offHook ? port.detector.status : .none
        let talking = port.machine.state == .talking
        guard let mix = port.threeWay, let second = mix.second else {
            return media.frame(mouth: buffer, dtmf: dtmf, now: now, send: talking)
        }
        // A three-way call: each far end gets the line and the other one.
        mix.outgoing.withUnsafeMutableBufferPointer { outgoing in
            mix.secondHeard.withUnsafeBufferPointer { mixSaturating(buffer, $0, into: outgoing) }
            media.frame(mouth: UnsafeBufferPointer(outgoing), dtmf: dtmf, now: now, send: talking)
            mix.firstHeard.withUnsafeBufferPointer { mixSaturating(buffer, $0, into: outgoing) }
            second.frame(mouth: UnsafeBufferPointer(outgoing), dtmf: dtmf, now: now, send: talking)
        }
    }

    /// A call's media started, changed or ended on `line`.
    /// Connects the line to a call's media (nil: to none). With `ifNow`,
    /// only when the line is connected to that call's (a held call that
    /// ends leaves the line with the other).
    func setMedia(line: Int, _ media: RTPConnection?, ifNow current: RTPConnection? = nil) {
        guard let port = port(line) else { return }
        if let current, let mix = port.threeWay, mix.second === current {
            // The second far end leaves the three-way call.
            mix.second = nil
            return
        }
        guard current == nil || port.media === current else { return }
        var media = media
        if let mix = port.threeWay, let second = mix.second, media == nil || media === second {
            // One far end leaves the three-way call, or the second becomes
            // the line's call: the line goes on with the other alone.
            mix.second = nil
            media = second
        }
        if media != nil && port.media == nil {
            port.echoCanceller?.reset()
            port.loggedBulkDelaySamples = 0
            port.audioRestartsSeen = port.hardware.audioRestarts
            port.echoSuppressor.reset()
        }
        port.media = media
        if media == nil { port.earlyMedia = false }
    }

    /// A call's media joins the line's call as the second far end of a
    /// three-way call.
    func joinMedia(line: Int, _ media: RTPConnection) {
        guard let port = port(line), port.media !== media else { return }
        let mix = port.threeWay ?? ThreeWayMix(frameSamples: Telephony.frameSamples)
        port.threeWay = mix
        if mix.second !== media { mix.join(media) }
    }
}
