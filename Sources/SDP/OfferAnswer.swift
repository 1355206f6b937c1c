import CompactText

/// An answer we built for a remote offer, and what it negotiated.
public struct SDPAnswer: Equatable, Sendable {
    /// The SDP to send back (in the 200 OK, or in the ACK/UPDATE answer).
    public var sdp: SessionDescription
    public var media: NegotiatedMedia
    /// Which `m=` line carries the call's audio.
    public var mediaIndex: Int
    /// The offer's `o=` equals the previous remote one: a session refresh
    /// that changes nothing (RFC 3264 section 8). Only `SDPSession` sets it.
    public var remoteVersionUnchanged: Bool
}

/// RFC 3264 offer/answer for one audio stream, without state. `SDPSession`
/// wraps these and keeps `o=` versions.
public enum OfferAnswer {
    /// Our offer: one audio stream with our codecs in preference order, then
    /// comfort noise and telephone-event if enabled.
    public static func makeOffer(_ ours: MediaCapabilities, origin: Origin,
                                 sessionName: String = "atad") -> SessionDescription {
        var formats: [String] = []
        var maps: [RTPMap] = []
        var fmtps: [FormatParameters] = []
        for codec in ours.codecs where !maps.contains(where: { $0.payloadType == codec.staticPayloadType }) {
            formats.append("\(codec.staticPayloadType)")
            maps.append(RTPMap(payloadType: codec.staticPayloadType, encodingName: codec.encodingName, clockRate: 8000))
        }
        if ours.comfortNoise {
            formats.append("\(StaticPayloadTypes.comfortNoise)")
            maps.append(RTPMap(payloadType: StaticPayloadTypes.comfortNoise, encodingName: "CN", clockRate: 8000))
        }
        if let pt = ours.telephoneEventPayloadType, !ours.telephoneEvents.isEmpty,
           !maps.contains(where: { $0.payloadType == pt }) {
            formats.append("\(pt)")
            maps.append(RTPMap(payloadType: pt, encodingName: "telephone-event", clockRate: 8000))
            fmtps.append(FormatParameters(format: "\(pt)", parameters: ours.telephoneEvents.fmtpValue))
        }
        let audio = MediaDescription(media: "audio", port: ours.rtpPort, proto: "RTP/AVP", formats: formats,
                                     rtpMaps: maps, formatParameters: fmtps, ptime: ours.effectivePtime,
                                     direction: ours.direction, rtcp: ours.rtcpAttribute)
        return SessionDescription(origin: origin, sessionName: sessionName, connection: ours.address,
                                  media: [audio])
    }

    /// Our answer to a remote offer: the first acceptable audio stream gets
    /// the first of the offer's codecs we support (plus telephone-event and
    /// CN if offered and enabled), with the offer's payload type numbers and
    /// order; every other stream is rejected with port 0. Fails (488) when no
    /// audio stream is acceptable.
    public static func answer(to offer: SessionDescription, ours: MediaCapabilities, origin: Origin,
                              sessionName: String = "atad") -> Result<SDPAnswer, NegotiationError> {
        var sections: [MediaDescription] = []
        sections.reserveCapacity(offer.media.count)
        var chosen: (NegotiatedMedia, Int)? = nil
        var failure: NegotiationError? = nil
        for (index, section) in offer.media.enumerated() {
            if chosen == nil && section.isAudio && section.port != 0 {
                switch acceptAudio(section, in: offer, ours: ours) {
                case .success(let (answerSection, negotiated)):
                    sections.append(answerSection)
                    chosen = (negotiated, index)
                    continue
                case .failure(let error):
                    if failure == nil { failure = error }
                }
            }
            sections.append(rejected(section))
        }
        guard let (media, index) = chosen else { return .failure(failure ?? .noAudioStream) }
        let sdp = SessionDescription(origin: origin, sessionName: sessionName, connection: ours.address,
                                     media: sections)
        return .success(SDPAnswer(sdp: sdp, media: media, mediaIndex: index, remoteVersionUnchanged: false))
    }

    /// What the remote's answer to our offer settles: we send with the
    /// answer's payload type numbers and receive with ours.
    public static func negotiated(from answer: SessionDescription,
                                  to ourOffer: SessionDescription) -> Result<NegotiatedMedia, NegotiationError> {
        guard let index = ourOffer.media.firstIndex(where: { $0.isAudio && $0.port != 0 }) else {
            return .failure(.noAudioStream)
        }
        guard answer.media.count == ourOffer.media.count else { return .failure(.answerMismatch) }
        let offered = ourOffer.media[index]
        let section = answer.media[index]
        guard section.isAudio else { return .failure(.answerMismatch) }
        guard section.port != 0 else { return .failure(.audioRejected) }
        guard let address = answer.connection(for: section) else { return .failure(.answerMismatch) }

        var pick: (AudioCodec, UInt8, UInt8)? = nil
        for pt in section.payloadTypes {
            guard let map = section.rtpMap(for: pt), let codec = AudioCodec(map) else { continue }
            if let ourPT = payloadType(of: codec, in: offered) {
                pick = (codec, pt, ourPT)
                break
            }
        }
        guard let (codec, sendPT, receivePT) = pick else { return .failure(.noCommonCodec) }

        var sendEvent: UInt8? = nil
        var receiveEvent: UInt8? = nil
        var events = TelephoneEvents()
        if let (ourPT, ourEvents) = telephoneEvent(in: offered), let (theirPT, theirEvents) = telephoneEvent(in: section) {
            let common = ourEvents.intersection(theirEvents)
            if !common.isEmpty {
                sendEvent = theirPT
                receiveEvent = ourPT
                events = common
            }
        }
        var comfortNoise: UInt8? = nil
        if let ours = comfortNoisePayloadType(in: offered), let theirs = comfortNoisePayloadType(in: section),
           ours == theirs {
            comfortNoise = theirs
        }

        let ourDirection = ourOffer.direction(for: offered)
        var theirDirection = answer.direction(for: section)
        if address.isUnspecified { theirDirection = theirDirection.intersection(.sendonly) }
        let direction = ourDirection.intersection(theirDirection.mirrored)
        let held = !theirDirection.receives && ourDirection.sends

        let ourPtime = offered.ptime.flatMap { MediaCapabilities.isSupported(ptime: $0) ? $0 : nil } ?? 20
        let ptime = MediaCapabilities.choosePtime(remote: section.ptime, remoteMax: section.maxPtime, ours: ourPtime)

        return .success(makeNegotiated(address: address, section: section, codec: codec, sendPT: sendPT,
                                       receivePT: receivePT, sendEvent: sendEvent, receiveEvent: receiveEvent,
                                       events: events, comfortNoise: comfortNoise, ptime: ptime,
                                       direction: direction, held: held))
    }

    // MARK: - Answer helpers

    static func acceptAudio(_ section: MediaDescription, in offer: SessionDescription,
                            ours: MediaCapabilities) -> Result<(MediaDescription, NegotiatedMedia), NegotiationError> {
        guard isPlainRTP(section.proto) else { return .failure(.unsupportedProfile) }
        guard let address = offer.connection(for: section) else { return .failure(.noAudioStream) }
        guard address.addressType == ours.address.addressType else { return .failure(.addressFamilyMismatch) }

        var codecPick: (AudioCodec, UInt8)? = nil
        for pt in section.payloadTypes {
            if let map = section.rtpMap(for: pt), let codec = AudioCodec(map), ours.codecs.contains(codec) {
                codecPick = (codec, pt)
                break
            }
        }
        guard let (codec, codecPT) = codecPick else { return .failure(.noCommonCodec) }

        var eventPick: (UInt8, TelephoneEvents)? = nil
        if ours.telephoneEventPayloadType != nil, let (pt, offered) = telephoneEvent(in: section) {
            let common = offered.intersection(ours.telephoneEvents)
            if !common.isEmpty { eventPick = (pt, common) }
        }
        let comfortNoise = ours.comfortNoise ? comfortNoisePayloadType(in: section) : nil

        // The answer lists what it accepts in the offer's order, with the offer's numbers.
        var formats: [String] = []
        var maps: [RTPMap] = []
        var fmtps: [FormatParameters] = []
        for pt in section.payloadTypes {
            if pt == codecPT && !maps.contains(where: { $0.payloadType == pt }) {
                formats.append("\(pt)")
                maps.append(RTPMap(payloadType: pt, encodingName: codec.encodingName, clockRate: codec.clockRate))
            } else if let (eventPT, events) = eventPick, pt == eventPT, !maps.contains(where: { $0.payloadType == pt }) {
                formats.append("\(pt)")
                maps.append(RTPMap(payloadType: pt, encodingName: "telephone-event", clockRate: 8000))
                fmtps.append(FormatParameters(format: "\(pt)", parameters: events.fmtpValue))
            } else if let cn = comfortNoise, pt == cn, !maps.contains(where: { $0.payloadType == pt }) {
                formats.append("\(pt)")
                maps.append(RTPMap(payloadType: pt, encodingName: "CN", clockRate: 8000))
            }
        }

        var theirDirection = offer.direction(for: section)
        // RFC 2543 hold: c=0.0.0.0 means "do not send to me".
        if address.isUnspecified { theirDirection = theirDirection.intersection(.sendonly) }
        let direction = ours.direction.intersection(theirDirection.mirrored)
        let ptime = MediaCapabilities.choosePtime(remote: section.ptime, remoteMax: section.maxPtime,
                                                  ours: ours.effectivePtime)

        let answer = MediaDescription(media: section.media, port: ours.rtpPort, proto: section.proto,
                                      formats: formats, rtpMaps: maps, formatParameters: fmtps, ptime: ptime,
                                      direction: direction, rtcp: ours.rtcpAttribute)
        let negotiated = makeNegotiated(address: address, section: section, codec: codec, sendPT: codecPT,
                                        receivePT: codecPT, sendEvent: eventPick?.0, receiveEvent: eventPick?.0,
                                        events: eventPick?.1 ?? TelephoneEvents(), comfortNoise: comfortNoise,
                                        ptime: ptime, direction: direction, held: !theirDirection.receives)
        return .success((answer, negotiated))
    }

    /// A rejected stream: port 0, same media, protocol and formats (RFC 3264 section 6).
    static func rejected(_ section: MediaDescription) -> MediaDescription {
        MediaDescription(media: section.media, port: 0, proto: section.proto,
                         formats: section.formats.isEmpty ? [section.isRTP ? "0" : "*"] : section.formats)
    }

    static func isPlainRTP(_ proto: String) -> Bool {
        asciiCaseInsensitiveEqual(proto, "RTP/AVP") || asciiCaseInsensitiveEqual(proto, "RTP/AVPF")
    }

    static func payloadType(of codec: AudioCodec, in section: MediaDescription) -> UInt8? {
        for pt in section.payloadTypes {
            if let map = section.rtpMap(for: pt), AudioCodec(map) == codec { return pt }
        }
        return nil
    }

    /// The first telephone-event at 8 kHz and its events (0-15 when no fmtp, RFC 4733).
    static func telephoneEvent(in section: MediaDescription) -> (UInt8, TelephoneEvents)? {
        for pt in section.payloadTypes {
            guard let map = section.rtpMap(for: pt), map.isEncoding("telephone-event"), map.clockRate == 8000 else {
                continue
            }
            let events = section.formatParameters(for: pt).flatMap { TelephoneEvents(fmtp: $0) } ?? .dtmf
            return (pt, events)
        }
        return nil
    }

    static func comfortNoisePayloadType(in section: MediaDescription) -> UInt8? {
        for pt in section.payloadTypes {
            if let map = section.rtpMap(for: pt), map.isEncoding("CN"), map.clockRate == 8000 { return pt }
        }
        return nil
    }

    static func makeNegotiated(address: ConnectionAddress, section: MediaDescription, codec: AudioCodec,
                               sendPT: UInt8, receivePT: UInt8, sendEvent: UInt8?, receiveEvent: UInt8?,
                               events: TelephoneEvents, comfortNoise: UInt8?, ptime: UInt32,
                               direction: MediaDirection, held: Bool) -> NegotiatedMedia {
        let rtcpPort = section.rtcp?.port ?? (section.port == .max ? section.port : section.port + 1)
        return NegotiatedMedia(remoteAddress: address, remoteRTPPort: section.port,
                               remoteRTCPAddress: section.rtcp?.address ?? address, remoteRTCPPort: rtcpPort,
                               codec: codec, payloadType: sendPT, receivePayloadType: receivePT,
                               clockRate: codec.clockRate, telephoneEventPayloadType: sendEvent,
                               receiveTelephoneEventPayloadType: receiveEvent, telephoneEvents: events,
                               comfortNoisePayloadType: comfortNoise, ptime: ptime, direction: direction,
                               heldByRemote: held || address.isUnspecified)
    }
}

extension MediaCapabilities {
    static func choosePtime(remote: UInt32?, remoteMax: UInt32?, ours: UInt32) -> UInt32 {
        if let remote, isSupported(ptime: remote), remoteMax.map({ remote <= $0 }) ?? true { return remote }
        var chosen = ours
        if let remoteMax, chosen > remoteMax {
            for candidate in supportedPtimes where candidate <= remoteMax { chosen = candidate }
            if chosen > remoteMax { chosen = supportedPtimes[0] }
        }
        return chosen
    }
}

/// Our side of one call's SDP: the `o=` line (session id, version bumped
/// only when what we send changes), our pending offer, the remote's origin
/// and the media currently negotiated.
public struct SDPSession: Equatable, Sendable {
    public let username: String
    public let sessionID: UInt64
    public private(set) var sessionVersion: UInt64
    public var sessionName: String
    /// The offer sent and not yet answered.
    public private(set) var pendingOffer: SessionDescription?
    /// The remote's last `o=` line.
    public private(set) var remoteOrigin: Origin?
    /// The media in force after the last completed exchange.
    public private(set) var current: NegotiatedMedia?
    private var lastSent: SessionDescription?

    /// `sessionID` should be unique per call (an NTP timestamp or random
    /// number); the version starts at `sessionVersion`, or the id if nil.
    public init(sessionID: UInt64, sessionVersion: UInt64? = nil, username: String = "atad",
                sessionName: String = "atad") {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion ?? sessionID
        self.sessionName = sessionName
    }

    /// An initial offer or a re-offer (hold: set `ours.direction` to sendonly;
    /// resume: back to sendrecv).
    public mutating func makeOffer(_ ours: MediaCapabilities) -> SessionDescription {
        let offer = stamp(OfferAnswer.makeOffer(ours, origin: origin(ours), sessionName: sessionName))
        pendingOffer = offer
        return offer
    }

    /// Our answer to an initial or re-offer. On failure nothing changes and
    /// the UA responds 488; the previous media stays in force.
    public mutating func answer(to offer: SessionDescription,
                                ours: MediaCapabilities) -> Result<SDPAnswer, NegotiationError> {
        switch OfferAnswer.answer(to: offer, ours: ours, origin: origin(ours), sessionName: sessionName) {
        case .failure(let error):
            return .failure(error)
        case .success(var result):
            result.sdp = stamp(result.sdp)
            result.remoteVersionUnchanged = remoteOrigin == offer.origin
            remoteOrigin = offer.origin
            current = result.media
            pendingOffer = nil
            return .success(result)
        }
    }

    /// Settles our pending offer with the remote's answer.
    public mutating func negotiated(fromAnswer answer: SessionDescription) -> Result<NegotiatedMedia, NegotiationError> {
        guard let offer = pendingOffer else { return .failure(.answerMismatch) }
        let result = OfferAnswer.negotiated(from: answer, to: offer)
        if case .success(let media) = result {
            pendingOffer = nil
            remoteOrigin = answer.origin
            current = media
        }
        return result
    }

    /// Forgets a pending offer (the re-INVITE failed or was withdrawn).
    public mutating func cancelPendingOffer() { pendingOffer = nil }

    private func origin(_ ours: MediaCapabilities) -> Origin {
        Origin(username: username, sessionID: sessionID, sessionVersion: sessionVersion, address: ours.address)
    }

    /// Sets the `o=` version: unchanged when the description equals the last
    /// one sent, one higher otherwise (RFC 3264 section 8).
    private mutating func stamp(_ description: SessionDescription) -> SessionDescription {
        var stamped = description
        stamped.origin.sessionVersion = sessionVersion
        if let lastSent, lastSent != stamped {
            sessionVersion &+= 1
            stamped.origin.sessionVersion = sessionVersion
        }
        lastSent = stamped
        return stamped
    }
}
