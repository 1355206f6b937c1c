/// What our end of a call can do and where it listens.
public struct MediaCapabilities: Equatable, Sendable {
    /// Packet times atad can send and receive, in milliseconds.
    public static let supportedPtimes: [UInt32] = [10, 20, 30]

    /// Codecs in our order of preference (used for offers).
    public var codecs: [AudioCodec]
    /// The payload type we offer for telephone-event (RFC 4733); nil disables it.
    public var telephoneEventPayloadType: UInt8?
    /// The events we handle (default 0-15, the DTMF digits).
    public var telephoneEvents: TelephoneEvents
    /// Offer and accept comfort noise (RFC 3389, payload type 13).
    public var comfortNoise: Bool
    /// Our packet time; a value outside `supportedPtimes` means 20.
    public var ptime: UInt32
    /// Our RTP address.
    public var address: ConnectionAddress
    public var rtpPort: UInt16
    /// Our RTCP port when it is not `rtpPort + 1` (a NAT mapped the two
    /// sockets apart): said by `a=rtcp` (RFC 3605). nil: the one above.
    public var rtcpPort: UInt16?
    /// `sendonly` or `inactive` to put the other end on hold.
    public var direction: MediaDirection

    public init(address: ConnectionAddress, rtpPort: UInt16, codecs: [AudioCodec] = [.pcmu, .pcma],
                telephoneEventPayloadType: UInt8? = 101, telephoneEvents: TelephoneEvents = .dtmf,
                comfortNoise: Bool = false, ptime: UInt32 = 20, direction: MediaDirection = .sendrecv) {
        self.codecs = codecs
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.telephoneEvents = telephoneEvents
        self.comfortNoise = comfortNoise
        self.ptime = ptime
        self.address = address
        self.rtpPort = rtpPort
        self.direction = direction
    }

    /// `a=rtcp` for an RTCP port that is not the one above RTP's.
    var rtcpAttribute: RTCPAttribute? {
        guard let rtcpPort, rtcpPort != rtpPort &+ 1 else { return nil }
        return RTCPAttribute(port: rtcpPort)
    }

    /// `ptime` if supported, else 20.
    public var effectivePtime: UInt32 { MediaCapabilities.isSupported(ptime: ptime) ? ptime : 20 }

    public static func isSupported(ptime: UInt32) -> Bool { supportedPtimes.contains(ptime) }
}
