extension SessionDescription {
    /// Parses a session description (RFC 4566). Lines may end in CRLF or LF;
    /// unknown line types and attributes are skipped or kept as `Attribute`s.
    public init(parsing bytes: [UInt8], limits: SDPLimits = SDPLimits()) throws(SDPError) {
        var parser = SDPParser(bytes: bytes, limits: limits)
        self = try parser.parse()
    }

    public init(parsing text: String, limits: SDPLimits = SDPLimits()) throws(SDPError) {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }
}

private typealias Bytes = ArraySlice<UInt8>

private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let colon = UInt8(ascii: ":")
private let slash = UInt8(ascii: "/")

/// Splits on runs of spaces and tabs.
private func fields(_ value: Bytes) -> [Bytes] {
    var result: [Bytes] = []
    var index = value.startIndex
    while index < value.endIndex {
        while index < value.endIndex && (value[index] == space || value[index] == tab) { index += 1 }
        let start = index
        while index < value.endIndex && value[index] != space && value[index] != tab { index += 1 }
        if start < index { result.append(value[start..<index]) }
    }
    return result
}

/// Splits at the first occurrence of `separator`.
private func split(_ value: Bytes, at separator: UInt8) -> (Bytes, Bytes?) {
    guard let index = value.firstIndex(of: separator) else { return (value, nil) }
    return (value[value.startIndex..<index], value[(index + 1)...])
}

private func trimmed(_ value: Bytes) -> Bytes {
    var start = value.startIndex
    var end = value.endIndex
    while start < end && (value[start] == space || value[start] == tab) { start += 1 }
    while end > start && (value[end - 1] == space || value[end - 1] == tab) { end -= 1 }
    return value[start..<end]
}

private func string(_ bytes: Bytes) -> String { String(decoding: bytes, as: UTF8.self) }

private func equals(_ bytes: Bytes, _ literal: StaticString) -> Bool {
    let count = literal.utf8CodeUnitCount
    guard bytes.count == count else { return false }
    let pointer = literal.utf8Start
    var offset = 0
    for byte in bytes {
        if byte != pointer[offset] { return false }
        offset += 1
    }
    return true
}

private struct SDPParser {
    let bytes: [UInt8]
    let limits: SDPLimits

    var lineNumber = 0
    var versionLine = 0
    var origin: Origin?
    var sessionName: String?
    var sessionConnection: ConnectionAddress?
    var timing: Timing?
    var sessionDirection: MediaDirection?
    var sessionAttributes: [Attribute] = []
    var sessionAttributeCount = 0
    var media: [MediaDescription] = []
    var mediaLines: [Int] = []
    var mediaAttributeCount = 0

    init(bytes: [UInt8], limits: SDPLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func fail(_ reason: SDPError.Reason) -> SDPError { SDPError(line: lineNumber, reason: reason) }

    mutating func parse() throws(SDPError) -> SessionDescription {
        guard bytes.count <= limits.maxBytes else { throw SDPError(line: 0, reason: .tooLarge) }
        var index = 0
        let count = bytes.count
        while index < count {
            lineNumber += 1
            guard lineNumber <= limits.maxLines else { throw fail(.tooManyLines) }
            var end = index
            while end < count && bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > index && bytes[end - 1] == 0x0D { end -= 1 }
            guard end - index <= limits.maxLineLength else { throw fail(.lineTooLong) }
            let line = bytes[index..<end]
            index = next
            try handle(line)
        }
        guard versionLine > 0 else { throw SDPError(line: 1, reason: .missingVersion) }
        guard let origin else { throw SDPError(line: versionLine + 1, reason: .missingOrigin) }
        for (position, section) in media.enumerated() where section.port != 0 {
            if section.connection == nil && sessionConnection == nil {
                throw SDPError(line: mediaLines[position], reason: .missingConnection)
            }
        }
        return SessionDescription(origin: origin, sessionName: sessionName ?? "",
                                  connection: sessionConnection, timing: timing ?? Timing(),
                                  direction: sessionDirection, otherAttributes: sessionAttributes,
                                  media: media)
    }

    mutating func handle(_ line: Bytes) throws(SDPError) {
        if trimmed(line).isEmpty { return }
        for byte in line where byte == 0 || byte == 0x0D { throw fail(.invalidCharacter) }
        let type = line[line.startIndex]
        guard line.count >= 2, line[line.startIndex + 1] == UInt8(ascii: "="),
              type >= UInt8(ascii: "a") && type <= UInt8(ascii: "z") else { throw fail(.malformedLine) }
        let value = line[(line.startIndex + 2)...]

        if versionLine == 0 {
            guard type == UInt8(ascii: "v") else { throw fail(.missingVersion) }
            guard equals(trimmed(value), "0") else { throw fail(.unsupportedVersion) }
            versionLine = lineNumber
            return
        }
        let inMedia = !media.isEmpty
        switch type {
        case UInt8(ascii: "v"):
            throw fail(.unexpectedLine)
        case UInt8(ascii: "o"):
            guard !inMedia, origin == nil else { throw fail(.unexpectedLine) }
            origin = try parseOrigin(value)
        case UInt8(ascii: "s"):
            guard !inMedia, sessionName == nil else { throw fail(.unexpectedLine) }
            sessionName = string(value)
        case UInt8(ascii: "t"):
            // Several t= lines are legal; the first one is kept.
            guard !inMedia else { throw fail(.unexpectedLine) }
            let parts = fields(value)
            guard parts.count == 2, let start = parseUnsigned(parts[0], max: .max),
                  let stop = parseUnsigned(parts[1], max: .max) else { throw fail(.malformedTiming) }
            if timing == nil { timing = Timing(start: start, stop: stop) }
        case UInt8(ascii: "c"):
            let address = try parseConnection(value)
            if inMedia {
                if media[media.count - 1].connection == nil { media[media.count - 1].connection = address }
            } else if sessionConnection == nil {
                sessionConnection = address
            }
        case UInt8(ascii: "m"):
            guard media.count < limits.maxMediaSections else { throw fail(.tooManyMediaSections) }
            media.append(try parseMedia(value))
            mediaLines.append(lineNumber)
            mediaAttributeCount = 0
        case UInt8(ascii: "a"):
            if inMedia {
                mediaAttributeCount += 1
                guard mediaAttributeCount <= limits.maxAttributes else { throw fail(.tooManyAttributes) }
                try parseMediaAttribute(value, into: &media[media.count - 1])
            } else {
                sessionAttributeCount += 1
                guard sessionAttributeCount <= limits.maxAttributes else { throw fail(.tooManyAttributes) }
                let (name, attributeValue) = split(value, at: colon)
                if let direction = parseDirection(name) {
                    sessionDirection = direction
                } else {
                    sessionAttributes.append(Attribute(name: string(name), value: attributeValue.map(string)))
                }
            }
        default:
            // i=, u=, e=, p=, b=, z=, k=, r= and unknown types: tolerated and skipped.
            return
        }
    }

    func parseOrigin(_ value: Bytes) throws(SDPError) -> Origin {
        let parts = fields(value)
        guard parts.count >= 6 else { throw fail(.malformedOrigin) }
        guard let sessionID = parseUnsigned(parts[1], max: .max),
              let version = parseUnsigned(parts[2], max: .max) else { throw fail(.malformedOrigin) }
        let address = try parseAddress(netType: parts[3], addressType: parts[4], address: parts[5])
        return Origin(username: string(parts[0]), sessionID: sessionID, sessionVersion: version, address: address)
    }

    func parseConnection(_ value: Bytes) throws(SDPError) -> ConnectionAddress {
        let parts = fields(value)
        guard parts.count == 3 else { throw fail(.malformedConnection) }
        // Multicast suffixes (`/ttl`, `/count`) are dropped.
        let (address, _) = split(parts[2], at: slash)
        return try parseAddress(netType: parts[0], addressType: parts[1], address: address)
    }

    func parseAddress(netType: Bytes, addressType: Bytes, address: Bytes) throws(SDPError) -> ConnectionAddress {
        guard equals(netType, "IN") else { throw fail(.unsupportedAddressType) }
        let type: AddressType
        if equals(addressType, "IP4") {
            type = .ip4
        } else if equals(addressType, "IP6") {
            type = .ip6
        } else {
            throw fail(.unsupportedAddressType)
        }
        // `[::1]` is how URIs write an IPv6 address, not SDP; SIPp and
        // others still send it. The address is unambiguous: take it bare.
        var address = address
        if type == .ip6, address.count > 2, address.first == UInt8(ascii: "["), address.last == UInt8(ascii: "]") {
            address = address.dropFirst().dropLast()
        }
        guard isPlausibleAddress(address, type) else { throw fail(.badAddress) }
        return ConnectionAddress(type, string(address))
    }

    /// A dotted quad for IP4 (or a host name), hex groups for IP6.
    func isPlausibleAddress(_ address: Bytes, _ type: AddressType) -> Bool {
        guard !address.isEmpty, address.count <= 255 else { return false }
        switch type {
        case .ip4:
            var numeric = true
            for byte in address {
                let isDigit = byte >= 0x30 && byte <= 0x39
                let isAlpha = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
                guard isDigit || isAlpha || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") else { return false }
                if !isDigit && byte != UInt8(ascii: ".") { numeric = false }
            }
            if !numeric { return true }
            var octets = 0
            var rest = address
            while true {
                let (octet, tail) = split(rest, at: UInt8(ascii: "."))
                guard parseUnsigned(octet, max: 255) != nil, octet.count <= 3 else { return false }
                octets += 1
                guard let tail else { break }
                rest = tail
            }
            return octets == 4
        case .ip6:
            var colons = 0
            for byte in address {
                let isHex = (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66)
                guard isHex || byte == colon || byte == UInt8(ascii: ".") else { return false }
                if byte == colon { colons += 1 }
            }
            return colons >= 2 && colons <= 7
        }
    }

    func parseMedia(_ value: Bytes) throws(SDPError) -> MediaDescription {
        let parts = fields(value)
        guard parts.count >= 3 else { throw fail(.malformedMedia) }
        let (portText, countText) = split(parts[1], at: slash)
        guard let port = parseUnsigned(portText, max: 65535) else { throw fail(.badPort) }
        var portCount: UInt16? = nil
        if let countText {
            guard let value = parseUnsigned(countText, max: 65535), value > 0 else { throw fail(.badPort) }
            portCount = UInt16(value)
        }
        let formatCount = parts.count - 3
        guard formatCount <= limits.maxFormats else { throw fail(.tooManyFormats) }
        guard formatCount > 0 || port == 0 else { throw fail(.malformedMedia) }
        let rtp = protoIsRTP(parts[2])
        var formats: [String] = []
        formats.reserveCapacity(formatCount)
        for format in parts[3...] {
            if rtp && parseUnsigned(format, max: 127) == nil { throw fail(.badPayloadType) }
            formats.append(string(format))
        }
        return MediaDescription(media: string(parts[0]), port: UInt16(port), portCount: portCount,
                                proto: string(parts[2]), formats: formats)
    }

    func parseDirection(_ name: Bytes) -> MediaDirection? {
        if equals(name, "sendrecv") { return .sendrecv }
        if equals(name, "sendonly") { return .sendonly }
        if equals(name, "recvonly") { return .recvonly }
        if equals(name, "inactive") { return .inactive }
        return nil
    }

    func parseMediaAttribute(_ value: Bytes, into section: inout MediaDescription) throws(SDPError) {
        let (name, attributeValue) = split(value, at: colon)
        if let direction = parseDirection(name) {
            section.direction = direction
        } else if equals(name, "rtpmap") {
            section.rtpMaps.append(try parseRTPMap(attributeValue))
        } else if equals(name, "fmtp") {
            guard let attributeValue else { throw fail(.badFormatParameters) }
            let body = attributeValue
            let end = body.firstIndex(where: { $0 == space || $0 == tab }) ?? body.endIndex
            let format = body[body.startIndex..<end]
            guard !format.isEmpty else { throw fail(.badFormatParameters) }
            section.formatParameters.append(FormatParameters(format: string(format),
                                                             parameters: string(trimmed(body[end...]))))
        } else if equals(name, "ptime") {
            section.ptime = try parsePtime(attributeValue)
        } else if equals(name, "maxptime") {
            section.maxPtime = try parsePtime(attributeValue)
        } else if equals(name, "rtcp") {
            section.rtcp = try parseRTCP(attributeValue)
        } else {
            section.otherAttributes.append(Attribute(name: string(name), value: attributeValue.map(string)))
        }
    }

    func parseRTPMap(_ value: Bytes?) throws(SDPError) -> RTPMap {
        guard let value else { throw fail(.badRTPMap) }
        let parts = fields(value)
        guard parts.count == 2, let payloadType = parseUnsigned(parts[0], max: 127) else { throw fail(.badRTPMap) }
        let (encoding, rest) = split(parts[1], at: slash)
        guard !encoding.isEmpty, let rest else { throw fail(.badRTPMap) }
        let (rateText, channelsText) = split(rest, at: slash)
        guard let rate = parseUnsigned(rateText, max: UInt64(UInt32.max)), rate > 0 else { throw fail(.badRTPMap) }
        var channels: UInt8? = nil
        if let channelsText {
            guard let value = parseUnsigned(channelsText, max: 255), value > 0 else { throw fail(.badRTPMap) }
            channels = UInt8(value)
        }
        return RTPMap(payloadType: UInt8(payloadType), encodingName: string(encoding),
                      clockRate: UInt32(rate), channels: channels)
    }

    /// Milliseconds, 1...65535; a fraction (`20.0`, seen in the wild) is truncated.
    func parsePtime(_ value: Bytes?) throws(SDPError) -> UInt32 {
        guard let value else { throw fail(.badPtime) }
        let (whole, fraction) = split(trimmed(value), at: UInt8(ascii: "."))
        if let fraction, parseUnsigned(fraction, max: .max) == nil { throw fail(.badPtime) }
        guard let ms = parseUnsigned(whole, max: 65535), ms > 0 else { throw fail(.badPtime) }
        return UInt32(ms)
    }

    func parseRTCP(_ value: Bytes?) throws(SDPError) -> RTCPAttribute {
        guard let value else { throw fail(.badRTCP) }
        let parts = fields(value)
        guard parts.count == 1 || parts.count == 4,
              let port = parseUnsigned(parts[0], max: 65535) else { throw fail(.badRTCP) }
        var address: ConnectionAddress? = nil
        if parts.count == 4 {
            address = try parseAddress(netType: parts[1], addressType: parts[2], address: parts[3])
        }
        return RTCPAttribute(port: UInt16(port), address: address)
    }
}
