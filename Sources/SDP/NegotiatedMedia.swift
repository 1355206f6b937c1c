/// The outcome of an offer/answer exchange: what the media path must do.
public struct NegotiatedMedia: Equatable, Sendable {
    /// Where to send RTP.
    public var remoteAddress: ConnectionAddress
    public var remoteRTPPort: UInt16
    /// Where to send RTCP: `a=rtcp` if given, else the RTP address and port + 1.
    public var remoteRTCPAddress: ConnectionAddress
    public var remoteRTCPPort: UInt16
    public var codec: AudioCodec
    /// The payload type to send the codec with (the remote's number).
    public var payloadType: UInt8
    /// The payload type the codec arrives with (our number).
    public var receivePayloadType: UInt8
    public var clockRate: UInt32
    /// The payload type to send RFC 4733 events with, if the remote accepts them.
    public var telephoneEventPayloadType: UInt8?
    /// The payload type RFC 4733 events arrive with.
    public var receiveTelephoneEventPayloadType: UInt8?
    /// The events both ends handle (empty when telephone-event is off).
    public var telephoneEvents: TelephoneEvents
    /// Comfort noise payload type (13), when both ends agreed on it.
    public var comfortNoisePayloadType: UInt8?
    /// Packet time to send with, in milliseconds.
    public var ptime: UInt32
    /// From our point of view: `sends` means we may send RTP, `receives` that
    /// the remote will send to us.
    public var direction: MediaDirection
    /// The remote end put us on hold: it does not want our audio
    /// (sendonly/inactive, or the RFC 2543 `c=0.0.0.0`).
    public var heldByRemote: Bool

    public init(remoteAddress: ConnectionAddress, remoteRTPPort: UInt16, remoteRTCPAddress: ConnectionAddress,
                remoteRTCPPort: UInt16, codec: AudioCodec, payloadType: UInt8, receivePayloadType: UInt8,
                clockRate: UInt32, telephoneEventPayloadType: UInt8?, receiveTelephoneEventPayloadType: UInt8?,
                telephoneEvents: TelephoneEvents, comfortNoisePayloadType: UInt8?, ptime: UInt32,
                direction: MediaDirection, heldByRemote: Bool) {
        self.remoteAddress = remoteAddress
        self.remoteRTPPort = remoteRTPPort
        self.remoteRTCPAddress = remoteRTCPAddress
        self.remoteRTCPPort = remoteRTCPPort
        self.codec = codec
        self.payloadType = payloadType
        self.receivePayloadType = receivePayloadType
        self.clockRate = clockRate
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.receiveTelephoneEventPayloadType = receiveTelephoneEventPayloadType
        self.telephoneEvents = telephoneEvents
        self.comfortNoisePayloadType = comfortNoisePayloadType
        self.ptime = ptime
        self.direction = direction
        self.heldByRemote = heldByRemote
    }

    public var maySend: Bool { direction.sends }
    public var mayReceive: Bool { direction.receives }

    /// What changed compared with an earlier negotiation of the same call
    /// (after a re-INVITE or UPDATE).
    public func changes(since previous: NegotiatedMedia) -> MediaChanges {
        var changes: MediaChanges = []
        if remoteAddress != previous.remoteAddress || remoteRTPPort != previous.remoteRTPPort
            || remoteRTCPAddress != previous.remoteRTCPAddress || remoteRTCPPort != previous.remoteRTCPPort {
            changes.insert(.remoteAddress)
        }
        if codec != previous.codec || payloadType != previous.payloadType
            || receivePayloadType != previous.receivePayloadType {
            changes.insert(.codec)
        }
        if telephoneEventPayloadType != previous.telephoneEventPayloadType
            || receiveTelephoneEventPayloadType != previous.receiveTelephoneEventPayloadType
            || telephoneEvents != previous.telephoneEvents {
            changes.insert(.telephoneEvent)
        }
        if ptime != previous.ptime { changes.insert(.ptime) }
        if direction != previous.direction { changes.insert(.direction) }
        if heldByRemote != previous.heldByRemote { changes.insert(.hold) }
        return changes
    }
}

/// What a re-negotiation changed.
public struct MediaChanges: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The RTP or RTCP destination moved: re-point the socket.
    public static let remoteAddress = MediaChanges(rawValue: 1 << 0)
    public static let codec = MediaChanges(rawValue: 1 << 1)
    public static let telephoneEvent = MediaChanges(rawValue: 1 << 2)
    public static let ptime = MediaChanges(rawValue: 1 << 3)
    public static let direction = MediaChanges(rawValue: 1 << 4)
    /// `heldByRemote` flipped: the remote put us on hold or resumed.
    public static let hold = MediaChanges(rawValue: 1 << 5)
}

/// Why negotiation failed. An offer we cannot accept is answered with
/// `statusCode` (488 Not Acceptable Here).
public enum NegotiationError: Error, Equatable, Sendable {
    /// No audio stream with a non-zero port.
    case noAudioStream
    /// Audio offered, but none of PCMU/PCMA (ours) among its formats.
    case noCommonCodec
    /// Audio over a profile we do not speak (SRTP: RTP/SAVP, DTLS, ...).
    case unsupportedProfile
    /// The stream's address is IPv6 and ours IPv4, or the reverse.
    case addressFamilyMismatch
    /// The answer's media lines do not match our offer's.
    case answerMismatch
    /// The answer rejected our audio stream (port 0).
    case audioRejected

    /// The SIP response for an offer that fails this way.
    public var statusCode: Int { 488 }

    public var message: String {
        switch self {
        case .noAudioStream: return "no audio stream offered"
        case .noCommonCodec: return "no common audio codec"
        case .unsupportedProfile: return "unsupported media profile"
        case .addressFamilyMismatch: return "address family mismatch"
        case .answerMismatch: return "answer does not match the offer"
        case .audioRejected: return "audio stream rejected"
        }
    }
}
