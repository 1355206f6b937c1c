import DSP
import Timebase

/// What a `JitterBuffer` has done so far, for call statistics and logs.
public struct JitterBufferStatistics: Equatable, Sendable {
    /// Frames of received audio handed out.
    public var playedFrames = 0
    /// Frames the caller had to conceal: gaps in the stream and the frames
    /// inserted to grow the delay.
    public var missingFrames = 0
    /// Frames of silence before the stream started or while it paused.
    public var idleFrames = 0
    /// Packets that came after their audio was due, dropped.
    public var latePackets = 0
    /// Packets whose audio was all there already, dropped.
    public var duplicatePackets = 0
    /// Packets too far ahead for the ring, dropped.
    public var overflowPackets = 0
    /// Times the buffer restarted on a new timeline (timestamp jump).
    public var resynchronizations = 0
    /// Frames inserted (concealed, playout held) to grow the delay.
    public var insertedFrames = 0
    /// Frames skipped to shrink the delay.
    public var droppedFrames = 0

    public init() {}

    public var delayChanges: Int { insertedFrames + droppedFrames }
}

/// The adaptive jitter buffer for one received RTP audio stream.
///
/// The daemon inserts each packet's decoded samples as it arrives and
/// pulls one frame per frame tick. Samples are placed by RTP timestamp in a
/// ring allocated once, with one "received" bit per sample, so reordered
/// packets fall into place, duplicates are recognised (also after they were
/// played: bits stay set for a history as long as the ring) and a packet
/// that overlaps audio already played keeps the part still ahead.
///
/// Delay. A packet's margin is the time from its arrival to the frame tick
/// that plays its first sample; `JitterEstimator` keeps envelopes of the
/// margins. The buffer aims to give the most-delayed recent packets a
/// margin of a few milliseconds (`guardInterval`), so the target delay —
/// buffered audio just after the least-delayed packets arrive — is one
/// packet + the measured jitter + that guard, within the settings' floor
/// and ceiling. On a clean network that is one packet plus at most a frame.
///
/// Changing the delay moves the playout point by about a frame, so margins
/// move by about one frame tick and the control cannot oscillate:
/// - grow: at a frame that is missing anyway or quiet, hold the playout
///   point for one tick and return `.missing` (the caller's concealment
///   makes the extra 10 ms). Done at once when packets already come late;
///   otherwise then, or just before a talk-spurt start (RTP marker).
/// - shrink: skip one frame, when it is missing or quiet (silence between
///   talk spurts, or the gap silence suppression leaves).
/// In continuous loud audio a wanted change is forced after a patience of
/// up to half a second (shorter the further off the delay is). Then the
/// change is made where the waveform repeats itself (`SeamlessLag`): the
/// playout point skips, or steps back over, the 5-15 ms that best match
/// what was just played, a whole number of a tone's or a voice's periods,
/// so a tone or a vowel goes on without a break in its phase. A whole
/// frame cut out of a 941 Hz tone (9.41 periods) was heard as a click
/// and a second, detuned component.
///
/// Start and pauses: the first packet anchors the timeline and playout
/// begins once its target margin has passed. When nothing has arrived for
/// `idleAfterMilliseconds` and nothing is buffered, the buffer goes idle
/// (hold, silence suppression) and the next packet re-anchors it. A packet
/// far off the timeline (ahead of the ring, or seconds behind) is dropped;
/// a second one that continues it means the far end restarted its stream,
/// and the buffer resynchronizes on it.
///
/// After `init` nothing allocates.
public final class JitterBuffer {
    public struct Settings: Equatable, Sendable {
        public var sampleRate = 8000
        /// Samples pulled per playout call (10 ms at 8 kHz).
        public var frameSamples = 80
        /// Floor for the target delay; the effective floor is one packet.
        public var minimumDelayMilliseconds = 0
        /// Ceiling for the target delay.
        public var maximumDelayMilliseconds = 200
        /// Audio the ring holds ahead of the playout point; packets further
        /// ahead are dropped as overflow.
        public var capacityMilliseconds = 500
        /// With nothing arriving for this long and nothing buffered, the
        /// stream counts as paused: playout turns `.idle` instead of asking
        /// for concealment, and the next packet re-anchors the timeline.
        public var idleAfterMilliseconds = 100

        public init() {}
    }

    public enum InsertOutcome: Equatable, Sendable {
        case stored, duplicate, late, overflow, resynchronized
    }

    public enum PlayoutOutcome: Equatable, Sendable {
        /// The frame holds received audio.
        case audio
        /// A gap inside the stream: the frame is silence and the caller runs
        /// packet loss concealment on it.
        case missing
        /// Nothing to play (not started, or the stream paused): silence.
        case idle
    }

    private enum State {
        case empty
        case waiting(startAt: Instant)
        case playing
        case idle
    }

    /// Margin the most-delayed packets are given on top of the jitter, for
    /// scheduling noise on either side.
    public static let guardInterval = Interval.milliseconds(5)
    /// Frames below this level may be dropped or stretched unnoticed.
    public static let quietLevelDBm0 = -45.0
    /// The longest a wanted delay change waits for a good moment, in frames.
    static let patienceFrames = 50

    public let settings: Settings
    private let ring: UnsafeMutableBufferPointer<Int16>
    private let received: UnsafeMutableBufferPointer<UInt64>
    private let ringSamples: Int64
    private let aheadSamples: Int64
    private let historySamples: Int64
    private let farBehindSamples: Int64
    private let frameSamples: Int
    private let frameInterval: Interval
    private let quietSumOfSquares: Int64

    private var state = State.empty
    /// Timeline position (samples) of the next sample to play.
    private var playhead: Int64 = 0
    /// History before this position has been freed for audio ahead.
    private var historyCleared: Int64 = 0
    /// Where playout would have gone on before the last seamless skip or
    /// step back; the next frame fades in from there.
    private var crossfadeFrom: Int64?
    /// The audio around the playout point, for finding a seamless lag.
    private let scratch: UnsafeMutableBufferPointer<Int16>
    /// One past the newest sample stored.
    private var bufferedEnd: Int64 = 0
    private var packetSamples: Int
    private var lastPull = Instant.zero
    private var lastArrival = Instant.zero
    private var anchorPosition: Int64 = 0
    private var anchorArrival = Instant.zero
    private var talkSpurtStart: Int64?
    /// End timestamp of the last packet that was far off the timeline.
    private var strayEnd: UInt32?
    private var framesAwaitingChange = 0
    private var estimator = JitterEstimator()
    public private(set) var statistics = JitterBufferStatistics()

    public init(settings: Settings = Settings()) {
        precondition(settings.sampleRate > 0 && settings.frameSamples > 0, "jitter buffer needs a rate and a frame")
        self.settings = settings
        frameSamples = settings.frameSamples
        let rate = Int64(settings.sampleRate)
        aheadSamples = max(Int64(settings.capacityMilliseconds) * rate / 1000, Int64(4 * settings.frameSamples))
        historySamples = aheadSamples
        // A power of two, so that a position's place in the ring is a mask,
        // not a 64-bit division for every sample in and out.
        var powerOfTwo: Int64 = 64
        while powerOfTwo < aheadSamples + historySamples { powerOfTwo *= 2 }
        ringSamples = powerOfTwo
        farBehindSamples = max(8 * rate, 2 * (aheadSamples + historySamples))
        frameInterval = Interval(nanoseconds: Int64(settings.frameSamples) * 1_000_000_000 / rate)
        quietSumOfSquares = Int64(Level.meanSquare(dBm0: JitterBuffer.quietLevelDBm0) * Double(settings.frameSamples))
        packetSamples = 2 * settings.frameSamples
        ring = .allocate(capacity: Int(ringSamples))
        ring.initialize(repeating: 0)
        received = .allocate(capacity: Int((ringSamples + 63) / 64))
        received.initialize(repeating: 0)
        scratch = .allocate(capacity: SeamlessLag.longestLag(frameSamples: settings.frameSamples)
                            + SeamlessLag.windowSamples(frameSamples: settings.frameSamples) + settings.frameSamples)
        scratch.initialize(repeating: 0)
    }

    deinit {
        ring.deallocate()
        received.deallocate()
        scratch.deallocate()
    }

    // MARK: Reading the state

    /// The delay aimed for: buffered audio just after the least-delayed
    /// packets arrive (one packet + jitter + guard, within the settings).
    public var targetDelayMilliseconds: Int { Int(targetDelay.milliseconds) }

    /// Audio buffered ahead of the playout point now.
    public var currentDelayMilliseconds: Int {
        Int(max(0, bufferedEnd - playhead) * 1000 / Int64(settings.sampleRate))
    }

    /// The measured arrival-time spread.
    public var jitterMilliseconds: Int { Int(estimator.jitter.milliseconds) }

    /// Forgets the stream and the statistics; keeps the storage.
    public func reset() {
        received.update(repeating: 0)
        state = .empty
        playhead = 0
        historyCleared = -historySamples
        crossfadeFrom = nil
        bufferedEnd = 0
        packetSamples = 2 * frameSamples
        talkSpurtStart = nil
        strayEnd = nil
        framesAwaitingChange = 0
        estimator.reset()
        statistics = JitterBufferStatistics()
    }

    // MARK: Insert

    /// One packet's decoded samples at RTP timestamp `timestamp` (clock =
    /// sample rate), arrived at `arrival`. `marker` marks a talk-spurt start.
    public func insert(_ samples: UnsafeBufferPointer<Int16>, timestamp: UInt32, marker: Bool,
                       arrival: Instant) -> InsertOutcome {
        let count = Int64(samples.count)
        guard count > 0 else { return .stored }
        guard count <= aheadSamples else {
            statistics.overflowPackets += 1
            return .overflow
        }
        var offset = offset(of: timestamp)
        let farOff = offset >= aheadSamples || offset <= -farBehindSamples

        switch state {
        case .empty:
            anchor(samples, timestamp: timestamp, marker: marker, arrival: arrival)
            return .stored
        case .idle:
            if !farOff && offset + count <= 0 {
                // Stale audio from before the pause.
                lastArrival = arrival
                return classifyBehind(at: playhead + offset, count: count)
            }
            // A new talk spurt, wherever its timestamps went meanwhile.
            anchor(samples, timestamp: timestamp, marker: marker, arrival: arrival)
            return .stored
        case .waiting, .playing:
            break
        }

        if farOff {
            if let end = strayEnd, abs(Int64(Int32(bitPattern: timestamp &- end))) <= aheadSamples {
                anchor(samples, timestamp: timestamp, marker: marker, arrival: arrival)
                statistics.resynchronizations += 1
                return .resynchronized
            }
            strayEnd = timestamp &+ UInt32(truncatingIfNeeded: count)
            if offset > 0 {
                statistics.overflowPackets += 1
                return .overflow
            }
            statistics.latePackets += 1
            return .late
        }
        strayEnd = nil
        lastArrival = arrival

        if case .waiting = state, offset < 0, bufferedEnd - (playhead + offset) <= aheadSamples {
            // It overtook the packet that anchored the timeline: start here,
            // and time the start from this packet.
            playhead += offset
            offset = 0
            anchorPosition = playhead
            anchorArrival = arrival
            state = .waiting(startAt: arrival + max(.zero, targetDelay - packetDuration))
        }
        if offset + count > aheadSamples {
            statistics.overflowPackets += 1
            return .overflow
        }
        let position = playhead + offset
        if offset + count <= 0 {
            let outcome = classifyBehind(at: position, count: count)
            if outcome == .late { learn(position: position, arrival: arrival) }
            return outcome
        }
        if store(samples, at: position) == 0 {
            statistics.duplicatePackets += 1
            return .duplicate
        }
        learn(position: position, arrival: arrival)
        bufferedEnd = max(bufferedEnd, position + count)
        packetSamples = samples.count
        if marker { talkSpurtStart = position }
        return .stored
    }

    /// Starts a new timeline at this packet: playout begins once the packet
    /// has had the target margin.
    private func anchor(_ samples: UnsafeBufferPointer<Int16>, timestamp: UInt32, marker: Bool, arrival: Instant) {
        received.update(repeating: 0)
        playhead = Int64(timestamp)
        historyCleared = playhead - historySamples
        crossfadeFrom = nil
        packetSamples = samples.count
        bufferedEnd = playhead + Int64(samples.count)
        anchorPosition = playhead
        anchorArrival = arrival
        lastArrival = arrival
        talkSpurtStart = nil
        strayEnd = nil
        framesAwaitingChange = 0
        _ = store(samples, at: playhead)
        state = .waiting(startAt: arrival + max(.zero, targetDelay - packetDuration))
    }

    /// A packet entirely behind the playout point: a duplicate if every
    /// sample of it is remembered as received, else late.
    private func classifyBehind(at position: Int64, count: Int64) -> InsertOutcome {
        var allReceived = position >= playhead - historySamples
        if allReceived {
            for k in 0..<Int(count) where !isReceived(position + Int64(k)) {
                allReceived = false
                break
            }
        }
        if allReceived {
            statistics.duplicatePackets += 1
            return .duplicate
        }
        statistics.latePackets += 1
        return .late
    }

    /// Stores the part at or after the playhead that is not there yet;
    /// returns how many samples that was.
    private func store(_ samples: UnsafeBufferPointer<Int16>, at position: Int64) -> Int {
        var fresh = 0
        let skipped = Int(max(0, playhead - position))
        for k in skipped..<samples.count where !isReceived(position + Int64(k)) {
            let index = ringIndex(position + Int64(k))
            ring[index] = samples[k]
            received[index &>> 6] |= (1 as UInt64) &<< UInt64(index & 63)
            fresh += 1
        }
        return fresh
    }

    private func learn(position: Int64, arrival: Instant) {
        guard case .playing = state else { return }
        estimator.add(margin: margin(of: position, arrival: arrival, nextPull: lastPull + frameInterval),
                      at: arrival)
    }

    /// Time from `arrival` to the tick that plays the sample at `position`,
    /// the tick at `nextPull` playing the frame at the playhead.
    private func margin(of position: Int64, arrival: Instant, nextPull: Instant) -> Interval {
        let frame = Int64(frameSamples)
        let distance = position - playhead
        let frames = distance >= 0 ? distance / frame : -((-distance + frame - 1) / frame)
        return (nextPull + frameInterval * frames) - arrival
    }

    // MARK: Playout

    /// Fills one frame (`frame.count` must be `settings.frameSamples`).
    public func playout(into frame: UnsafeMutableBufferPointer<Int16>, at now: Instant) -> PlayoutOutcome {
        precondition(frame.count == frameSamples, "playout frame must be settings.frameSamples long")
        switch state {
        case .empty:
            return idle(frame)
        case .idle:
            advance()
            lastPull = now
            return idle(frame)
        case .waiting(let startAt):
            if now < startAt {
                lastPull = now
                return idle(frame)
            }
            state = .playing
            estimator.prime(margin: margin(of: anchorPosition, arrival: anchorArrival, nextPull: now),
                            jitter: estimator.jitter, at: now)
        case .playing:
            break
        }
        lastPull = now

        let present = receivedCount(inFrameAt: playhead)
        if present == 0 && bufferedEnd <= playhead
            && now - lastArrival >= Interval.milliseconds(Int64(settings.idleAfterMilliseconds)) {
            state = .idle
            advance()
            return idle(frame)
        }

        switch wantedChange(frameIsEmpty: present == 0) {
        case .grow:
            framesAwaitingChange = 0
            statistics.insertedFrames += 1
            // Only at a change (rare) is the frame judged loud or not.
            let loud = present == frameSamples && !isQuiet(frameAt: playhead)
            if loud, let lag = seamlessLag(backward: true) {
                // Step back over audio already played: it plays again,
                // joined where it matches.
                crossfadeFrom = playhead
                playhead -= Int64(lag)
                estimator.shift(by: duration(ofSamples: lag))
                return play(into: frame)
            }
            estimator.shift(by: frameInterval)
            return missing(frame)
        case .shrink:
            framesAwaitingChange = 0
            statistics.droppedFrames += 1
            let loud = present == frameSamples && !isQuiet(frameAt: playhead)
            let lag = loud ? (seamlessLag(backward: false) ?? frameSamples) : frameSamples
            if loud { crossfadeFrom = playhead }
            estimator.shift(by: .zero - duration(ofSamples: lag))
            advance(by: lag)
        case .none:
            break
        }
        return play(into: frame)
    }

    /// The lag (samples, about a frame) at which the audio around the
    /// playout point best continues what was just played: forward, the
    /// samples to skip; backward, the samples to play again. nil when the
    /// audio needed is not all there.
    private func seamlessLag(backward: Bool) -> Int? {
        let window = SeamlessLag.windowSamples(frameSamples: frameSamples)
        let longest = SeamlessLag.longestLag(frameSamples: frameSamples)
        let from = backward ? playhead - Int64(longest + window) : playhead - Int64(window)
        let to = backward ? playhead : playhead + Int64(longest + frameSamples)
        guard to - from <= Int64(scratch.count) else { return nil }
        var index = 0
        var position = from
        while position < to {
            guard isReceived(position) else { return nil }
            scratch[index] = ring[ringIndex(position)]
            index += 1
            position += 1
        }
        let audio = UnsafeBufferPointer(rebasing: scratch[0..<index])
        return backward
            ? SeamlessLag.best(in: audio, reference: index - window, frameSamples: frameSamples, direction: -1)
            : SeamlessLag.best(in: audio, reference: 0, frameSamples: frameSamples, direction: 1)
    }

    private func duration(ofSamples count: Int) -> Interval {
        Interval(nanoseconds: Int64(count) * 1_000_000_000 / Int64(settings.sampleRate))
    }

    private enum Change { case grow, shrink, none }

    /// Whether to move the playout point at this frame (see the type's
    /// documentation for the policy).
    private func wantedChange(frameIsEmpty: Bool) -> Change {
        let latest = estimator.latestMargin
        let desired = desiredLatestMargin.nanoseconds
        let tick = frameInterval.nanoseconds
        if latest < desired {
            let spurtStartsHere = talkSpurtStart.map { $0 >= playhead && $0 < playhead + Int64(frameSamples) } ?? false
            if latest < 0 || frameIsEmpty || spurtStartsHere || isQuiet(frameAt: playhead)
                || patienceRanOut(offBy: desired - latest) {
                return .grow
            }
            return .none
        }
        if latest >= desired + tick {
            if frameIsEmpty || isQuiet(frameAt: playhead) || patienceRanOut(offBy: latest - desired) {
                return .shrink
            }
            return .none
        }
        framesAwaitingChange = 0
        return .none
    }

    private func patienceRanOut(offBy nanoseconds: Int64) -> Bool {
        framesAwaitingChange += 1
        let frames = max(1, Int(nanoseconds / frameInterval.nanoseconds))
        return framesAwaitingChange >= max(5, JitterBuffer.patienceFrames / frames)
    }

    private func play(into frame: UnsafeMutableBufferPointer<Int16>) -> PlayoutOutcome {
        var present = 0
        for k in 0..<frameSamples {
            let p = playhead + Int64(k)
            if isReceived(p) {
                frame[k] = ring[ringIndex(p)]
                present += 1
            } else {
                frame[k] = 0
            }
        }
        if let old = crossfadeFrom {
            // After a skip or a step back: fade from the audio that would
            // have come next into the audio that now comes, over half a
            // frame, so what is left of a phase mismatch is spread out.
            crossfadeFrom = nil
            let length = frameSamples / 2
            for k in 0..<length where isReceived(old + Int64(k)) && isReceived(playhead + Int64(k)) {
                let weight = Double(k + 1) / Double(length + 1)
                let mixed = (1 - weight) * Double(ring[ringIndex(old + Int64(k))]) + weight * Double(frame[k])
                frame[k] = Int16(clamping: Int(mixed.rounded()))
            }
        }
        advance()
        if let start = talkSpurtStart, start < playhead { talkSpurtStart = nil }
        if 2 * present < frameSamples { return missing(frame) }
        statistics.playedFrames += 1
        return .audio
    }

    private func missing(_ frame: UnsafeMutableBufferPointer<Int16>) -> PlayoutOutcome {
        frame.update(repeating: 0)
        statistics.missingFrames += 1
        return .missing
    }

    private func idle(_ frame: UnsafeMutableBufferPointer<Int16>) -> PlayoutOutcome {
        frame.update(repeating: 0)
        statistics.idleFrames += 1
        return .idle
    }

    /// Moves the playhead one frame (or `count` samples) on. The ring slots
    /// it frees at the far end of the history are the ones the new
    /// ahead-most audio will use; after a step back they were freed already.
    private func advance(by count: Int? = nil) {
        playhead += Int64(count ?? frameSamples)
        let oldest = playhead - historySamples
        while historyCleared < oldest {
            let index = ringIndex(historyCleared)
            received[index &>> 6] &= ~((1 as UInt64) &<< UInt64(index & 63))
            historyCleared += 1
        }
    }

    // MARK: Delay arithmetic

    private var packetDuration: Interval {
        Interval(nanoseconds: Int64(packetSamples) * 1_000_000_000 / Int64(settings.sampleRate))
    }

    private var targetDelay: Interval {
        let packet = packetDuration
        let wanted = packet + JitterBuffer.guardInterval + estimator.jitter
        let floor = max(Interval.milliseconds(Int64(settings.minimumDelayMilliseconds)), packet)
        let ceiling = max(Interval.milliseconds(Int64(settings.maximumDelayMilliseconds)), floor)
        return min(max(wanted, floor), ceiling)
    }

    /// The margin the most-delayed packets should get under `targetDelay`.
    private var desiredLatestMargin: Interval {
        targetDelay - packetDuration - estimator.jitter
    }

    // MARK: Ring

    /// Signed distance from the playhead to `timestamp`, across the 2^32
    /// wrap (the nearer way round).
    private func offset(of timestamp: UInt32) -> Int64 {
        Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: playhead)))
    }

    /// Two's complement makes the mask right for positions below zero too.
    private func ringIndex(_ position: Int64) -> Int {
        Int(truncatingIfNeeded: position & (ringSamples &- 1))
    }

    private func isReceived(_ position: Int64) -> Bool {
        let index = ringIndex(position)
        return received[index &>> 6] & ((1 as UInt64) &<< UInt64(index & 63)) != 0
    }

    private func receivedCount(inFrameAt position: Int64) -> Int {
        var count = 0
        for k in 0..<frameSamples where isReceived(position + Int64(k)) { count += 1 }
        return count
    }

    private func isQuiet(frameAt position: Int64) -> Bool {
        var sum: Int64 = 0
        for k in 0..<frameSamples where isReceived(position + Int64(k)) {
            let sample = Int64(ring[ringIndex(position + Int64(k))])
            sum += sample * sample
        }
        return sum < quietSumOfSquares
    }
}
