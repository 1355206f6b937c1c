// Responses built from a request (RFC 3261 §8.2.6.2): Via (all, in order),
// From, To (with a tag added if the request had none), Call-ID, CSeq, and for
// 100 Trying the Timestamp (§8.2.6.1).

extension SIPMessageBuilder {
    public static func response(to request: SIPMessage, status: Int, reason: String,
                                toTag: String? = nil) -> SIPMessageBuilder {
        var r = SIPMessageBuilder(response: status, reason: reason)
        for h in request.headers {
            switch h.name {
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
