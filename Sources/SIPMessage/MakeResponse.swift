import CompactText

// Responses built from a request (RFC 3261 §8.2.6.2): Via (all, in order),
// From, To (with a tag added if the request had none), Call-ID, CSeq, and for
// 100 Trying the Timestamp (§8.2.6.1). When the request's source is known,
// the top Via records it: `received` when the sent-by host differs or rport
// was asked for, and the empty `rport` filled with the source port.

extension SIPMessageBuilder {
    public static func response(to request: SIPMessage, status: Int, reason: String,
                                toTag: String? = nil) -> SIPMessageBuilder {
        var r = SIPMessageBuilder(response: status, reason: reason)
        var topViaDone = false
        for h in request.headers {
            switch h.name {
            case .via where !topViaDone:
                topViaDone = true
                var field = SIPHeaderField(.via, bytes: request.bytes[h.valueRange])
                if let source = request.source, let top = request.topVia {
                    field.value = stampTopVia(field.value, top: top, source: source)
                }
                r.headers.append(field)
            case .via, .from, .callID, .cseq:
                r.headers.append(SIPHeaderField(h.name, bytes: request.bytes[h.valueRange]))
            case .to:
                var field = SIPHeaderField(.to, bytes: request.bytes[h.valueRange])
                if let toTag, status != 100, request.to?.tag == nil {
                    field.value.append(contentsOf: ";tag=".utf8)
                    field.value.append(contentsOf: toTag.utf8)
                }
                r.headers.append(field)
            case .timestamp where status == 100:
                r.headers.append(SIPHeaderField(.timestamp, bytes: request.bytes[h.valueRange]))
            default:
                break
            }
        }
        return r
    }
}

/// Adds `received=HOST` and fills an empty `rport` in the first Via value of
/// a header field (the value may list more Vias after a comma).
func stampTopVia(_ value: [UInt8], top: Via, source: SIPSource) -> [UInt8] {
    let comma = value.firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
    var first = Array(value[..<comma])
    while let last = first.last, last == 0x20 || last == 0x09 { first.removeLast() }
    let rest = value[first.endIndex...]
    let sentBy = String(decoding: top.host, as: UTF8.self)
    let asksRport = top.hasRport && top.rport == nil
    if asksRport, let at = emptyRportRange(in: first) {
        first.replaceSubrange(at, with: Array(";rport=\(source.port)".utf8))
    }
    if top.received == nil && (asksRport || sentBy != source.host) {
        first.append(contentsOf: ";received=\(source.host)".utf8)
    }
    return first + rest
}

/// The range of `;rport` (no value) in one Via value, case-insensitively.
private func emptyRportRange(in via: [UInt8]) -> Range<Int>? {
    let name = Array(";rport".utf8)
    var i = 0
    while i + name.count <= via.count {
        var matches = true
        for k in 0..<name.count where via[i + k] | (k == 0 ? 0 : 0x20) != name[k] {
            matches = false
            break
        }
        let end = i + name.count
        if matches && (end == via.count || via[end] == UInt8(ascii: ";") || via[end] == 0x20) {
            return i..<end
        }
        i += 1
    }
    return nil
}
