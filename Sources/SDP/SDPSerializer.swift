import CompactText

extension SessionDescription {
    /// The description as SDP text, every line ending in CRLF.
    ///
    /// Order: v, o, s, c, t, session attributes, session direction; then per
    /// media section: m, c, for each format its rtpmap and fmtp, ptime,
    /// maxptime, rtcp, other attributes, direction.
    public func serialized() -> String {
        var out = ""
        out.reserveCapacity(256 + media.count * 160)
        line(&out, "v=0")
        line(&out, "o=\(origin.username) \(origin.sessionID) \(origin.sessionVersion) \(addressText(origin.address))")
        line(&out, "s=\(sessionName.isEmpty ? "-" : sessionName)")
        if let connection { line(&out, "c=\(addressText(connection))") }
        line(&out, "t=\(timing.start) \(timing.stop)")
        for attribute in otherAttributes { line(&out, attributeText(attribute)) }
        if let direction { line(&out, "a=\(direction.attributeName)") }
        for section in media { section.serialize(into: &out) }
        return out
    }

    /// The serialized text as bytes, ready for a SIP body.
    public func serializedBytes() -> [UInt8] { Array(serialized().utf8) }
}

extension MediaDescription {
    func serialize(into out: inout String) {
        var m = "m=\(media) \(port)"
        if let portCount { m += "/\(portCount)" }
        m += " \(proto)"
        for format in formats { m += " \(format)" }
        line(&out, m)
        if let connection { line(&out, "c=\(addressText(connection))") }

        var writtenMaps = [Bool](repeating: false, count: rtpMaps.count)
        var writtenFmtps = [Bool](repeating: false, count: formatParameters.count)
        for format in formats {
            for (index, map) in rtpMaps.enumerated() where !writtenMaps[index] {
                if format.utf8.elementsEqual("\(map.payloadType)".utf8) {
                    line(&out, rtpMapText(map))
                    writtenMaps[index] = true
                }
            }
            for (index, fmtp) in formatParameters.enumerated() where !writtenFmtps[index] {
                if fmtp.format.utf8.elementsEqual(format.utf8) {
                    line(&out, fmtpText(fmtp))
                    writtenFmtps[index] = true
                }
            }
        }
        for (index, map) in rtpMaps.enumerated() where !writtenMaps[index] { line(&out, rtpMapText(map)) }
        for (index, fmtp) in formatParameters.enumerated() where !writtenFmtps[index] { line(&out, fmtpText(fmtp)) }

        if let ptime { line(&out, "a=ptime:\(ptime)") }
        if let maxPtime { line(&out, "a=maxptime:\(maxPtime)") }
        if let rtcp {
            if let address = rtcp.address {
                line(&out, "a=rtcp:\(rtcp.port) \(addressText(address))")
            } else {
                line(&out, "a=rtcp:\(rtcp.port)")
            }
        }
        for attribute in otherAttributes { line(&out, attributeText(attribute)) }
        if let direction { line(&out, "a=\(direction.attributeName)") }
    }
}

private func line(_ out: inout String, _ text: String) {
    out += text
    out += "\r\n"
}

private func addressText(_ address: ConnectionAddress) -> String {
    "IN \(address.addressType.token) \(address.address)"
}

private func rtpMapText(_ map: RTPMap) -> String {
    var text = "a=rtpmap:\(map.payloadType) \(map.encodingName)/\(map.clockRate)"
    if let channels = map.channels { text += "/\(channels)" }
    return text
}

private func fmtpText(_ fmtp: FormatParameters) -> String {
    fmtp.parameters.isEmpty ? "a=fmtp:\(fmtp.format)" : "a=fmtp:\(fmtp.format) \(fmtp.parameters)"
}

private func attributeText(_ attribute: Attribute) -> String {
    if let value = attribute.value { return "a=\(attribute.name):\(value)" }
    return "a=\(attribute.name)"
}
