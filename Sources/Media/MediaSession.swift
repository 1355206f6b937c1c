import CompactText
import CountryPresets
import DSP
import RTP
import SDP
import Timebase

/// One call's audio path between the telephone line and RTP, without I/O.
///
/// Every frame tick the daemon hands it the mouthpiece frame (`capture`)
/// and asks it for the earpiece frame (`playout`); datagrams from the RTP
/// and RTCP sockets go to `receive` and `receiveControl`. What it produces
/// to send is written into buffers the caller owns. All buffers are made at
/// init, so the steady state allocates nothing (MediaTests count it).
public final class MediaSession {
    /// How digits pressed during a call reach the far end.
    public enum DTMFRelay: String, Sendable {
        /// RFC 4733 telephone-events (in-band tone muted), when the far end
        /// accepts them; otherwise in-band.
        case rfc4733
        /// SIP INFO (application/dtmf-relay), in-band tone muted. This path
        /// mutes and times each key (`takeReleasedKey`); the SIP side sends
        /// the INFO.
        case info
        /// The tone itself, in the audio.
        case inband
    }

    public struct Settings: Sendable {
        public var dtmfRelay = DTMFRelay.rfc4733
        /// Our SSRC and the random starts of sequence and timestamp (RFC
        /// 3550 §5.1: unpredictable, so the caller draws them).
        public var ssrc: UInt32 = 0
        public var initialSequence: UInt16 = 0
        public var initialTimestamp: UInt32 = 0
        /// RTCP canonical name (RFC 3550 §6.5.1), ASCII.
        public var canonicalName = "atad@localhost"
        /// RFC 4733 volume (−dBm0) of the events we send.
        public var eventVolume: UInt8 = 10

        public init() {}
    }

    public let settings: Settings
    public let format: AudioFormat
    public private(set) var media: NegotiatedMedia
    public private(set) var statistics = MediaStatistics()

    private var law: G711.Law
    private var ptimeSamples: Int

    // Sending.
    private var sequence: UInt16
    private var timestamp: UInt32
    private let pending: UnsafeMutableBufferPointer<Int16>
    private var pendingCount = 0
    private var markNext = true
    private var eventSender: TelephoneEventSender
    /// How keys go out now: the setting, until a far end that refuses SIP
    /// INFO sends them back in band.
    public private(set) var relay: DTMFRelay
    private var pressedDigit: DTMFDigit?
    /// Samples the pressed key has sounded so far (for SIP INFO's Duration).
    private var pressedSamples = 0
    private var releasedKey: (digit: DTMFDigit, milliseconds: Int)?
    private var framesWithoutKey = 0
    /// A key still sounding when the call came up (the last digit dialed,
    /// when the far end answers at once) belongs to the dialing, not to
    /// the call: it is not relayed.
    private var dialingKey = DialingKey.maybeSounding(nil)

    // Receiving.
    private var reception: RTPReceptionStatistics
    private var jitterBuffer: JitterBuffer
    private let concealment = PacketLossConcealment()
    private var eventReceiver = TelephoneEventReceiver()
    private var eventTone: ToneGenerator?
    /// Samples left of a key played for a fixed time (SIP INFO); nil while
    /// an RFC 4733 event decides the end.
    private var eventToneSamplesLeft: Int?
    private var comfortNoise = ComfortNoiseGenerator()
    private var comfortNoiseActive = false
    private let canonicalName: [UInt8]
    private let decoded: UnsafeMutableBufferPointer<Int16>
    private var remoteSSRC: UInt32?

    // RTCP.
    private var lastSenderReport: UInt32 = 0
    private var lastSenderReportArrival: Instant?
    private var sentSinceLastReport = false

    /// Longest payload decoded (and so the largest packet, 60 ms at 8 kHz,
    /// taken from a far end): anything longer is cut.
    public static let maximumPacketSamples = 480

    public init(media: NegotiatedMedia, settings: Settings = Settings(), format: AudioFormat = .narrowband) {
        self.media = media
        self.settings = settings
        self.format = format
        law = media.codec == .pcma ? .aLaw : .uLaw
        ptimeSamples = format.samples(milliseconds: Int(media.ptime))
        sequence = settings.initialSequence
        timestamp = settings.initialTimestamp
        pending = .allocate(capacity: MediaSession.maximumPacketSamples)
        pending.initialize(repeating: 0)
        decoded = .allocate(capacity: MediaSession.maximumPacketSamples)
        decoded.initialize(repeating: 0)
        reception = RTPReceptionStatistics(clockRate: UInt32(format.sampleRate))
        var bufferSettings = JitterBuffer.Settings()
        bufferSettings.sampleRate = format.sampleRate
        bufferSettings.frameSamples = format.frameSamples
        jitterBuffer = JitterBuffer(settings: bufferSettings)
        eventSender = TelephoneEventSender(volume: settings.eventVolume)
        relay = settings.dtmfRelay
        canonicalName = Array(settings.canonicalName.utf8.prefix(RTCPCompoundWriter.maximumCNAMELength))
    }

    deinit {
        pending.deallocate()
        decoded.deallocate()
    }

    /// A re-negotiation (re-INVITE) changed the media: codec and packet
    /// time take effect from the next packet.
    public func update(_ newMedia: NegotiatedMedia) {
        media = newMedia
        law = newMedia.codec == .pcma ? .aLaw : .uLaw
        let samples = format.samples(milliseconds: Int(newMedia.ptime))
        if samples != ptimeSamples {
            ptimeSamples = samples
            pendingCount = 0
        }
    }

    /// True while digits go out of band, so the in-band tone is kept out of
    /// the audio.
    /// (With rfc4733 and a far end that takes no telephone-event, keys stay
    /// in band: muting them would lose them.)
    private var mutesDigits: Bool {
        switch relay {
        case .rfc4733: return sendsEvents
        case .info: return true
        case .inband: return false
        }
    }

    private var sendsEvents: Bool { relay == .rfc4733 && media.telephoneEventPayloadType != nil }

    /// The far end refused keys by SIP INFO: from now on they stay in the
    /// audio, where it can still hear them.
    public func sendKeysInBand() {
        relay = .inband
        pressedDigit = nil
        releasedKey = nil
    }

    /// With SIP INFO: the key released since the last call, with how long
    /// it sounded (the line's detector's view), for the INFO's Signal and
    /// Duration. At most one per captured frame; the caller asks after
    /// every `capture`.
    public func takeReleasedKey() -> (digit: DTMFDigit, milliseconds: Int)? {
        defer { releasedKey = nil }
        return releasedKey
    }

    // MARK: Line to network

    /// One mouthpiece frame, with what the DTMF detector hears in it. When a
    /// packet's worth of audio is complete, writes the whole RTP packet into
    /// `packet` and returns its length; otherwise returns 0.
    public func capture(_ frame: UnsafeBufferPointer<Int16>, dtmf: DTMFDetector.Status,
                        into packet: UnsafeMutableRawBufferPointer) -> Int {
        if sendsEvents || relay == .info { followKey(dtmf, frameSamples: frame.count) }
        let mute = mutesDigits && (dtmf != .none || eventSender.isActive)
        let room = min(frame.count, pending.count - pendingCount)
        for index in 0..<room { pending[pendingCount + index] = mute ? 0 : frame[index] }
        pendingCount += room
        guard pendingCount >= ptimeSamples else { return 0 }
        pendingCount = 0
        let periodStart = timestamp
        timestamp &+= UInt32(ptimeSamples)
        guard media.maySend else { return 0 }
        if let event = eventSender.nextPacket(periodSamples: UInt32(ptimeSamples)),
           let eventType = media.telephoneEventPayloadType {
            let header = RTPHeader(marker: event.marker, payloadType: eventType, sequenceNumber: sequence,
                                   timestamp: event.timestamp, ssrc: settings.ssrc)
            sequence &+= 1
            markNext = true
            let written = header.write(into: packet)
            let length = written + event.payload.write(into: UnsafeMutableRawBufferPointer(rebasing: packet[written...]))
            noteSent(length - RTPHeader.size)
            statistics.eventPacketsSent += 1
            return length
        }
        let header = RTPHeader(marker: markNext, payloadType: media.payloadType, sequenceNumber: sequence,
                               timestamp: periodStart, ssrc: settings.ssrc)
        sequence &+= 1
        markNext = false
        let written = header.write(into: packet)
        let count = min(ptimeSamples, packet.count - written)
        for index in 0..<count { packet[written + index] = G711.encode(pending[index], law) }
        noteSent(count)
        return written + count
    }

    private func noteSent(_ payloadBytes: Int) {
        statistics.packetsSent += 1
        statistics.octetsSent += UInt64(payloadBytes)
        sentSinceLastReport = true
    }

    /// Turns the detector's view of the key into press and release: RFC
    /// 4733 events, or a key timed for SIP INFO. A key is released only
    /// after `releaseFrames` frames without it: the detector's status can
    /// flicker for a block inside a long tone, and that must not split one
    /// key into two events.
    private func followKey(_ status: DTMFDetector.Status, frameSamples: Int) {
        if isDialingKey(status) { return }
        var held: DTMFDigit? = nil
        switch status {
        case .held(let digit): held = digit
        case .candidate: held = pressedDigit
        case .none: break
        }
        if held == pressedDigit {
            if held != nil { pressedSamples += frameSamples + framesWithoutKey * frameSamples }
            framesWithoutKey = 0
            return
        }
        if held == nil {
            framesWithoutKey += 1
            guard framesWithoutKey >= MediaSession.releaseFrames else { return }
        }
        framesWithoutKey = 0
        if let released = pressedDigit {
            if relay == .info {
                releasedKey = (released, pressedSamples * 1000 / format.sampleRate)
                statistics.digitsSent += 1
            } else {
                eventSender.release()
            }
        }
        pressedSamples = held == nil ? 0 : frameSamples
        if relay != .info, let held, let code = TelephoneEventCode.code(for: held.character) {
            eventSender.press(event: code, at: timestamp)
            statistics.digitsSent += 1
        }
        pressedDigit = held
    }

    static let releaseFrames = 3

    /// Where the key that sounded when the call came up stands.
    private enum DialingKey {
        /// Perhaps still sounding: its digit once the detector holds it.
        case maybeSounding(DTMFDigit?)
        case over
    }

    /// True while `status` is still the dialing's last key. That key is
    /// over at the first frame without it: silence, or another digit held.
    /// A key pressed straight over it, with no silence between (the tone
    /// goes from the 0 dialed to a 5), is the call's first key; waiting for
    /// silence would take the 5 for the dialing's key and never send it.
    private func isDialingKey(_ status: DTMFDetector.Status) -> Bool {
        guard case .maybeSounding(let digit) = dialingKey else { return false }
        switch status {
        case .none:
            dialingKey = .over
            return false
        case .candidate:
            // Still the dialing's key, or the onset of one pressed over it:
            // which, the next held digit tells.
            return true
        case .held(let held):
            if let digit, held != digit {
                dialingKey = .over
                return false
            }
            dialingKey = .maybeSounding(held)
            return true
        }
    }

    // MARK: Network to line

    /// A datagram on the RTP port that is not RTP at all.
    public func noteMalformed() { statistics.malformedPackets += 1 }

    /// One datagram from the RTP socket, already known to come from the
    /// call's peer. Malformed packets and unknown payload types are counted
    /// and dropped.
    public func receive(_ datagram: UnsafeRawBufferPointer, at now: Instant) {
        let packet: RTPPacket
        do throws(RTPParseError) { packet = try RTPPacket(parsing: datagram) } catch {
            statistics.malformedPackets += 1
            return
        }
        let header = packet.header
        let payload = UnsafeRawBufferPointer(rebasing: datagram[packet.payloadOffset..<(packet.payloadOffset + packet.payloadCount)])
        let isAudio = header.payloadType == media.receivePayloadType
        let isEvent = media.receiveTelephoneEventPayloadType != nil && header.payloadType == media.receiveTelephoneEventPayloadType
        let isComfortNoise = media.comfortNoisePayloadType != nil && header.payloadType == media.comfortNoisePayloadType
        guard isAudio || isEvent || isComfortNoise else {
            statistics.unknownPayloadPackets += 1
            return
        }
        guard media.mayReceive else { return }
        if remoteSSRC != header.ssrc {
            if remoteSSRC != nil { statistics.sourceChanges += 1 }
            remoteSSRC = header.ssrc
            reception = RTPReceptionStatistics(clockRate: UInt32(format.sampleRate))
            jitterBuffer.reset()
            // The new source's timestamps start anywhere: the old source's
            // last event must not make its events look like stale copies.
            eventReceiver = TelephoneEventReceiver()
            eventTone = nil
        }
        // A packet behind the highest sequence number is reordered or a
        // duplicate; RFC 3550's bookkeeping cannot tell which, the jitter
        // buffer can (it knows what it already holds or played), so it goes
        // on. Only a packet far outside the sequence is dropped here.
        if reception.record(sequence: header.sequenceNumber, timestamp: header.timestamp, arrival: now) == .invalid {
            statistics.discardedPackets += 1
            return
        }
        statistics.packetsReceived += 1
        if isEvent {
            receiveEvent(payload, header: header, at: now)
        } else if isComfortNoise {
            do throws(ComfortNoiseError) {
                try comfortNoise.receive(payload)
                comfortNoiseActive = true
            } catch {
                statistics.malformedPackets += 1
            }
        } else {
            let count = min(payload.count, decoded.count)
            for index in 0..<count { decoded[index] = G711.decode(payload[index], law) }
            comfortNoiseActive = false
            switch jitterBuffer.insert(UnsafeBufferPointer(rebasing: decoded[0..<count]), timestamp: header.timestamp,
                                       marker: header.marker, arrival: now) {
            case .late: statistics.latePackets += 1
            case .duplicate: statistics.discardedPackets += 1
            default: break
            }
        }
    }

    private func receiveEvent(_ payload: UnsafeRawBufferPointer, header: RTPHeader, at now: Instant) {
        let event: TelephoneEventPayload
        do throws(TelephoneEventParseError) { event = try TelephoneEventPayload(parsing: payload) } catch {
            statistics.malformedPackets += 1
            return
        }
        let changes = eventReceiver.receive(event, timestamp: header.timestamp, marker: header.marker, arrival: now)
        if changes.interrupted != nil || changes.ended != nil { eventTone = nil }
        // An event seen only by its end packets still starts (and ends): a
        // key that short is not played.
        if let code = changes.started, changes.ended == nil { startEventTone(code, volume: event.volume) }
    }

    /// A key the far end sent out of the media path (SIP INFO): played to
    /// the line for `milliseconds` (40 ms to 5 s).
    public func playKey(_ digit: DTMFDigit, milliseconds: Int) {
        guard let code = TelephoneEventCode.code(for: digit.character) else { return }
        startEventTone(code, volume: settings.eventVolume)
        eventToneSamplesLeft = format.samples(milliseconds: min(max(milliseconds, 40), 5000))
    }

    /// Plays a received key as its two tones at the event's volume (the
    /// pair's total power), each tone 3 dB below it, kept in the range a
    /// DTMF receiver accepts.
    private func startEventTone(_ code: UInt8, volume: UInt8) {
        guard let key = TelephoneEventCode.key(for: code), let ascii = key.asciiValue,
              let digit = DTMFDigit(ascii: ascii) else {
            eventTone = nil
            return
        }
        let level = Int8(max(-20, min(-3, -Int(volume) - 3)))
        let spec = ToneSpec(frequencies: [UInt16(digit.lowFrequency), UInt16(digit.highFrequency)], levelDBm0: level)
        eventTone = ToneGenerator(spec: spec, sampleRate: format.sampleRate)
        eventToneSamplesLeft = nil
        statistics.digitsReceived += 1
    }

    /// The earpiece frame: a received key's tone, else the jitter buffer's
    /// audio, concealed where packets were lost, or comfort noise or
    /// silence when the far end sends nothing.
    public func playout(into frame: UnsafeMutableBufferPointer<Int16>, at now: Instant) {
        if eventReceiver.expire(at: now) != nil { eventTone = nil }
        let outcome = jitterBuffer.playout(into: frame, at: now)
        if eventTone != nil {
            eventTone!.generate(into: frame)
            if let left = eventToneSamplesLeft {
                if left <= frame.count {
                    for index in max(0, left)..<frame.count { frame[index] = 0 }
                    eventTone = nil
                    eventToneSamplesLeft = nil
                } else {
                    eventToneSamplesLeft = left - frame.count
                }
            }
            return
        }
        switch outcome {
        case .audio:
            concealment.received(frame)
            statistics.framesPlayed += 1
        case .missing:
            concealment.conceal(frame)
            statistics.framesConcealed += 1
        case .idle:
            if comfortNoiseActive { comfortNoise.generate(into: frame) } else { frame.update(repeating: 0) }
        }
    }

    // MARK: Statistics and RTCP

    /// Reception figures as RFC 3550 defines them.
    public var packetsLost: Int64 { reception.cumulativeLost }
    public var lossPercent: Double { reception.lossPercent }
    public var jitterMilliseconds: Double { reception.jitterMilliseconds }
    public var jitterBufferDelayMilliseconds: Int { jitterBuffer.currentDelayMilliseconds }
    public var jitterBufferTargetMilliseconds: Int { jitterBuffer.targetDelayMilliseconds }

    /// An RTCP compound packet (SR if we sent since the last report, else
    /// RR; SDES CNAME; BYE when `goodbye`) written into `buffer`; returns
    /// its length. `ntp` is the NTP-format time of `now` on our clock.
    public func makeReport(into buffer: UnsafeMutableRawBufferPointer, at now: Instant, goodbye: Bool = false) -> Int {
        var block: RTCPReportBlock? = nil
        if let remoteSSRC {
            var delay: UInt32 = 0
            if let arrival = lastSenderReportArrival {
                delay = RTCPRoundTrip.delayUnits(now - arrival)
            }
            block = reception.makeReportBlock(ssrc: remoteSSRC, lastSenderReport: lastSenderReport,
                                              delaySinceLastSenderReport: lastSenderReport == 0 ? 0 : delay)
        }
        var sender: RTCPSenderInfo? = nil
        if sentSinceLastReport {
            sender = RTCPSenderInfo(ntpTimestamp: NTPTimestamp.from(now), rtpTimestamp: timestamp,
                                    packetCount: UInt32(truncatingIfNeeded: statistics.packetsSent),
                                    octetCount: UInt32(truncatingIfNeeded: statistics.octetsSent))
        }
        sentSinceLastReport = false
        statistics.reportsSent += 1
        return canonicalName.withUnsafeBytes { name in
            do throws(RTCPWriteError) {
                return try RTCPCompoundWriter.write(into: buffer, ssrc: settings.ssrc, senderInfo: sender,
                                                    reportBlock: block, cname: name, goodbye: goodbye)
            } catch {
                return 0
            }
        }
    }

    /// One datagram from the RTCP socket: the far end's sender report (for
    /// our next LSR/DLSR) and its report about us (loss, jitter, round trip).
    public func receiveControl(_ datagram: UnsafeRawBufferPointer, at now: Instant) {
        let report: RTCPCompoundSummary
        do throws(RTCPParseError) { report = try RTCPCompoundSummary(parsing: datagram, ourSSRC: settings.ssrc) } catch {
            statistics.malformedReports += 1
            return
        }
        statistics.reportsReceived += 1
        if let middle = report.senderReportNTPMiddle {
            lastSenderReport = middle
            lastSenderReportArrival = now
        }
        if let block = report.reportAboutUs {
            statistics.remoteFractionLost = block.fractionLost
            statistics.remoteCumulativeLost = Int64(block.cumulativeLost)
            if let rtt = RTCPRoundTrip.milliseconds(arrival: NTPTimestamp.from(now), lastSenderReport: block.lastSenderReport,
                                                    delaySinceLastSenderReport: block.delaySinceLastSenderReport) {
                statistics.roundTripMilliseconds = rtt
            }
        }
        if report.hasGoodbye { statistics.goodbyeReceived = true }
    }

    /// `sent N, received N, lost N (P %), jitter J ms, buffer B ms (grew N,
    /// shrank N), ...`
    /// for `status` and the end-of-call log line.
    public var summary: String {
        var text = "sent \(statistics.packetsSent), received \(statistics.packetsReceived), lost \(max(0, packetsLost))"
        text += " (" + MediaSession.decimal(lossPercent) + " %), jitter " + MediaSession.decimal(jitterMilliseconds) + " ms"
        // How often the buffer moved its delay: jitter, and the drift between
        // the far end's clock and the sound card's, make it grow or shrink.
        let buffer = jitterBuffer.statistics
        text += ", buffer \(jitterBuffer.currentDelayMilliseconds) ms (grew \(buffer.insertedFrames), shrank \(buffer.droppedFrames))"
        text += ", concealed \(statistics.framesConcealed)"
        if let rtt = statistics.roundTripMilliseconds { text += ", rtt " + MediaSession.decimal(rtt) + " ms" }
        if let lost = statistics.remoteFractionLost { text += ", far end lost \(Int(lost) * 100 / 256) %" }
        text += ", digits sent \(statistics.digitsSent) received \(statistics.digitsReceived)"
        return text
    }

    /// One decimal place, without Foundation's formatting.
    static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths < 0 ? -tenths : tenths
        return "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}

/// Counters for one call's media, for `status` and the end-of-call log.
public struct MediaStatistics: Equatable, Sendable {
    public var packetsSent: UInt64 = 0
    public var octetsSent: UInt64 = 0
    public var eventPacketsSent: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var malformedPackets: UInt64 = 0
    public var unknownPayloadPackets: UInt64 = 0
    public var discardedPackets: UInt64 = 0
    public var latePackets: UInt64 = 0
    public var sourceChanges: UInt64 = 0
    public var framesPlayed: UInt64 = 0
    public var framesConcealed: UInt64 = 0
    public var digitsSent: UInt64 = 0
    public var digitsReceived: UInt64 = 0
    public var reportsSent: UInt64 = 0
    public var reportsReceived: UInt64 = 0
    public var malformedReports: UInt64 = 0
    public var remoteFractionLost: UInt8?
    public var remoteCumulativeLost: Int64?
    public var roundTripMilliseconds: Double?
    public var goodbyeReceived = false

    public init() {}
}
