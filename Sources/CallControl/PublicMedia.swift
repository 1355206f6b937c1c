/// Where the far end is to send a call's media when a NAT stands between:
/// the public side of its RTP and RTCP sockets, as a STUN server saw them.
public struct PublicMedia: Equatable, Sendable {
    public let host: String
    public let rtpPort: UInt16
    public let rtcpPort: UInt16

    public init(host: String, rtpPort: UInt16, rtcpPort: UInt16) {
        self.host = host
        self.rtpPort = rtpPort
        self.rtcpPort = rtcpPort
    }
}
