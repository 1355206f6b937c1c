/// The address type of `o=` and `c=` lines (network type is always IN).
public enum AddressType: Equatable, Sendable {
    case ip4
    case ip6

    public var token: String {
        switch self {
        case .ip4: return "IP4"
        case .ip6: return "IP6"
        }
    }
}

/// An address as written in `c=`, `o=` or `a=rtcp` (a literal or a host name).
public struct ConnectionAddress: Equatable, Sendable {
    public var addressType: AddressType
    public var address: String

    public init(_ addressType: AddressType, _ address: String) {
        self.addressType = addressType
        self.address = address
    }

    public static func ip4(_ address: String) -> ConnectionAddress { ConnectionAddress(.ip4, address) }
    public static func ip6(_ address: String) -> ConnectionAddress { ConnectionAddress(.ip6, address) }

    /// IP6 when the text contains a colon, IP4 otherwise.
    public init(inferring address: String) {
        self.init(address.utf8.contains(UInt8(ascii: ":")) ? .ip6 : .ip4, address)
    }

    /// `0.0.0.0` or `::`: the RFC 2543 way of putting a call on hold.
    public var isUnspecified: Bool {
        switch addressType {
        case .ip4: return address.utf8.elementsEqual("0.0.0.0".utf8)
        case .ip6: return address.utf8.elementsEqual("::".utf8) || address.utf8.elementsEqual("0:0:0:0:0:0:0:0".utf8)
        }
    }
}

/// `o=<username> <sess-id> <sess-version> IN <addrtype> <address>`
public struct Origin: Equatable, Sendable {
    public var username: String
    public var sessionID: UInt64
    public var sessionVersion: UInt64
    public var address: ConnectionAddress

    public init(username: String, sessionID: UInt64, sessionVersion: UInt64, address: ConnectionAddress) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.address = address
    }
}

/// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`, always from the
/// point of view of whoever wrote the description.
public enum MediaDirection: Equatable, Sendable {
    case sendrecv
    case sendonly
    case recvonly
    case inactive

    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The same stream seen from the other end (sendonly <-> recvonly).
    public var mirrored: MediaDirection { MediaDirection(sends: receives, receives: sends) }

    /// What both directions allow.
    public func intersection(_ other: MediaDirection) -> MediaDirection {
        MediaDirection(sends: sends && other.sends, receives: receives && other.receives)
    }

    public var attributeName: String {
        switch self {
        case .sendrecv: return "sendrecv"
        case .sendonly: return "sendonly"
        case .recvonly: return "recvonly"
        case .inactive: return "inactive"
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`
public struct RTPMap: Equatable, Sendable {
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: UInt32
    public var channels: UInt8?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: UInt8? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    /// True when the encoding name matches (ASCII, case-insensitively).
    public func isEncoding(_ name: String) -> Bool { asciiCaseInsensitiveEqual(encodingName, name) }
}

/// `a=fmtp:<format> <parameters>`
public struct FormatParameters: Equatable, Sendable {
    public var format: String
    public var parameters: String

    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }
}

/// `a=rtcp:<port> [IN <addrtype> <address>]` (RFC 3605)
public struct RTCPAttribute: Equatable, Sendable {
    public var port: UInt16
    public var address: ConnectionAddress?

    public init(port: UInt16, address: ConnectionAddress? = nil) {
        self.port = port
        self.address = address
    }
}

/// Any other attribute, kept as written: `a=<name>` or `a=<name>:<value>`.
public struct Attribute: Equatable, Sendable {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// `t=<start> <stop>`
public struct Timing: Equatable, Sendable {
    public var start: UInt64
    public var stop: UInt64

    public init(start: UInt64 = 0, stop: UInt64 = 0) {
        self.start = start
        self.stop = stop
    }
}

/// One `m=` section with the attributes atad understands pulled out.
public struct MediaDescription: Equatable, Sendable {
    /// `audio`, `video`, `image`, `application`, ...
    public var media: String
    public var port: UInt16
    /// The `/<number of ports>` suffix, when present.
    public var portCount: UInt16?
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `udptl`, ...
    public var proto: String
    /// The formats in the order listed (payload type numbers for RTP).
    public var formats: [String]
    public var connection: ConnectionAddress?
    public var rtpMaps: [RTPMap]
    public var formatParameters: [FormatParameters]
    public var ptime: UInt32?
    public var maxPtime: UInt32?
    /// The media-level direction attribute, if any (it overrides the session's).
    public var direction: MediaDirection?
    public var rtcp: RTCPAttribute?
    public var otherAttributes: [Attribute]

    public init(media: String, port: UInt16, portCount: UInt16? = nil, proto: String, formats: [String],
                connection: ConnectionAddress? = nil, rtpMaps: [RTPMap] = [],
                formatParameters: [FormatParameters] = [], ptime: UInt32? = nil, maxPtime: UInt32? = nil,
                direction: MediaDirection? = nil, rtcp: RTCPAttribute? = nil, otherAttributes: [Attribute] = []) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.connection = connection
        self.rtpMaps = rtpMaps
        self.formatParameters = formatParameters
        self.ptime = ptime
        self.maxPtime = maxPtime
        self.direction = direction
        self.rtcp = rtcp
        self.otherAttributes = otherAttributes
    }

    public var isAudio: Bool { media.utf8.elementsEqual("audio".utf8) }

    /// True when the transport carries RTP (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...).
    public var isRTP: Bool { protoIsRTP(proto.utf8) }

    /// The numeric formats, in order (all of them for an RTP media line).
    public var payloadTypes: [UInt8] {
        var result: [UInt8] = []
        for format in formats {
            if let value = parseUnsigned(format.utf8[...], max: 127) { result.append(UInt8(value)) }
        }
        return result
    }

    /// The mapping for a payload type: its `a=rtpmap`, or the static RFC 3551 one.
    public func rtpMap(for payloadType: UInt8) -> RTPMap? {
        for map in rtpMaps where map.payloadType == payloadType { return map }
        return StaticPayloadTypes.map(for: payloadType)
    }

    /// The `a=fmtp` parameters of a payload type, if any.
    public func formatParameters(for payloadType: UInt8) -> String? {
        for fmtp in formatParameters {
            if let value = parseUnsigned(fmtp.format.utf8[...], max: 127), value == UInt64(payloadType) {
                return fmtp.parameters
            }
        }
        return nil
    }

    /// The value of the first other attribute with this name.
    public func attribute(_ name: String) -> Attribute? {
        for attribute in otherAttributes where attribute.name.utf8.elementsEqual(name.utf8) { return attribute }
        return nil
    }
}

/// A parsed session description (RFC 4566), or one we build to send.
public struct SessionDescription: Equatable, Sendable {
    public var origin: Origin
    public var sessionName: String
    public var connection: ConnectionAddress?
    public var timing: Timing
    /// The session-level direction attribute, if any.
    public var direction: MediaDirection?
    public var otherAttributes: [Attribute]
    public var media: [MediaDescription]

    public init(origin: Origin, sessionName: String = "-", connection: ConnectionAddress? = nil,
                timing: Timing = Timing(), direction: MediaDirection? = nil,
                otherAttributes: [Attribute] = [], media: [MediaDescription] = []) {
        self.origin = origin
        self.sessionName = sessionName
        self.connection = connection
        self.timing = timing
        self.direction = direction
        self.otherAttributes = otherAttributes
        self.media = media
    }

    /// The media section's `c=`, or else the session's.
    public func connection(for media: MediaDescription) -> ConnectionAddress? {
        media.connection ?? connection
    }

    /// The media section's direction, or else the session's, or else sendrecv.
    public func direction(for media: MediaDescription) -> MediaDirection {
        media.direction ?? direction ?? .sendrecv
    }
}

// MARK: - Small helpers shared by the module

/// ASCII case-insensitive comparison (no Unicode tables needed).
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8) { asciiLower($0) == asciiLower($1) }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
}

/// A decimal number of at most 20 digits and at most `max`, nothing else.
func parseUnsigned<C: Collection>(_ digits: C, max: UInt64) -> UInt64? where C.Element == UInt8 {
    if digits.isEmpty || digits.count > 20 { return nil }
    var value: UInt64 = 0
    for byte in digits {
        guard byte >= 0x30 && byte <= 0x39 else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
        if o1 || o2 { return nil }
        value = sum
    }
    return value <= max ? value : nil
}

/// True when one of the `/`-separated parts of the protocol is `RTP`.
func protoIsRTP<C: Collection>(_ proto: C) -> Bool where C.Element == UInt8 {
    var part: [UInt8] = []
    for byte in proto {
        if byte == UInt8(ascii: "/") {
            if isRTPToken(part) { return true }
            part.removeAll(keepingCapacity: true)
        } else {
            part.append(byte)
        }
    }
    return isRTPToken(part)
}

private func isRTPToken(_ part: [UInt8]) -> Bool {
    part.count == 3 && asciiLower(part[0]) == 0x72 && asciiLower(part[1]) == 0x74 && asciiLower(part[2]) == 0x70
}
