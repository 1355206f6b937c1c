// The checks a UAS makes before handing a request up (RFC 3261 §8.2, §16.3,
// RFC 4475). Order: syntax (400, 505), method (501/405), URI scheme (416),
// extensions (420), content (415). An ACK is never answered: any problem drops it.

import CompactText

extension SIPMessage {
    /// `.request(self)`, `.reject(...)` with the status to answer, or `.drop`.
    public func validateRequest(for uas: SIPUASProfile) -> SIPParseOutcome {
        guard let line = requestLine else { return .drop(reason: "Not a request") }
        guard count(of: .via) > 0 else { return .drop(reason: "No Via header field") }
        let isACK = line.method == .ack

        func reject(_ status: Int, _ reason: String, _ extra: [SIPHeaderField] = []) -> SIPParseOutcome {
            if isACK { return .drop(reason: reason) }
            return .reject(SIPRejection(status: status, reason: reason, request: self, extraHeaders: extra))
        }

        // Version.
        guard bytes[line.versionRange].equalsIgnoringCase("SIP/2.0") else {
            return reject(505, "Version Not Supported")
        }

        // Mandatory headers (Max-Forwards may be absent: RFC 2543 peers).
        var missing: [String] = []
        for name in [HeaderName.from, .to, .callID, .cseq] where count(of: name) == 0 {
            missing.append(name.canonicalName)
        }
        if !missing.isEmpty { return reject(400, "Bad Request - Missing " + joined(missing)) }

        // Single-value headers must appear once.
        for name in [HeaderName.from, .to, .callID, .cseq, .maxForwards, .contentType,
                     .contentEncoding, .expires] where count(of: name) > 1 {
            return reject(400, "Bad Request - Multiple " + name.canonicalName + " Values")
        }

        guard vias != nil else { return reject(400, "Bad Request - Malformed Via") }
        guard let cseqValue = value(of: .cseq) else { return reject(400, "Bad Request - Missing CSeq") }
        let cseq: CSeq
        do {
            cseq = try CSeq.parse(cseqValue)
        } catch {
            return reject(400, "Bad Request - Malformed CSeq")
        }
        if let mf = value(of: .maxForwards), SIPScalar.maxForwards(mf) == nil {
            return reject(400, "Bad Request - Malformed Max-Forwards")
        }
        if let ex = value(of: .expires), SIPScalar.deltaSeconds(ex) == nil {
            return reject(400, "Bad Request - Malformed Expires")
        }
        guard from != nil else { return reject(400, "Bad Request - Malformed From") }
        guard to != nil else { return reject(400, "Bad Request - Malformed To") }
        if let id = callID, id.isEmpty || id.containsLWS {
            return reject(400, "Bad Request - Malformed Call-ID")
        }
        guard contacts != nil else { return reject(400, "Bad Request - Malformed Contact") }

        // Request-URI syntax, then scheme.
        let uriBytes = bytes[line.uriRange]
        var uriScheme: SIPURI.Scheme? = nil
        do {
            let uri = try SIPURI.parse(uriBytes)
            if uri.headers != nil { return reject(400, "Bad Request - Headers Not Allowed In Request-URI") }
            uriScheme = uri.scheme
        } catch {
            if error == .malformed { return reject(400, "Bad Request - Malformed Request-URI") }
        }

        // Method.
        let allowHeader = [SIPHeaderField(.allow, uas.allowHeaderValue)]
        if cseq.method != line.method {
            if !uas.allows(line.method) { return reject(501, "Not Implemented", allowHeader) }
            return reject(400, "Bad Request - CSeq Method Does Not Match Request Method")
        }
        if !uas.allows(line.method) {
            if line.method.isStandard { return reject(405, "Method Not Allowed", allowHeader) }
            return reject(501, "Not Implemented", allowHeader)
        }

        guard let scheme = uriScheme, uas.uriSchemes.contains(scheme) else {
            return reject(416, "Unsupported URI Scheme")
        }

        // Require (ignored for CANCEL and ACK, RFC 3261 §8.2.2.3).
        if line.method != .cancel && !isACK {
            var unsupported: [String] = []
            for tag in optionTags(.require) where !uas.supports(tag) { unsupported.append(tag.sipText) }
            if !unsupported.isEmpty {
                return reject(420, "Bad Extension", [SIPHeaderField(.unsupported, joined(unsupported))])
            }
        }

        // Body.
        if !body.isEmpty {
            if let type = contentType, !uas.accepts(contentType: type) {
                return reject(415, "Unsupported Media Type", [SIPHeaderField(.accept, uas.acceptHeaderValue)])
            }
            for coding in values(of: .contentEncoding) where !uas.accepts(encoding: coding) {
                return reject(415, "Unsupported Media Type",
                              [SIPHeaderField(.acceptEncoding, uas.acceptEncodingHeaderValue)])
            }
        }
        return .request(self)
    }

    /// Responses that a UA must discard come out as `.drop` (RFC 3261 §8.1.3.3,
    /// §7.2; RFC 4475 §3.1.2.5, §3.1.2.19, §3.3.10).
    public func validateResponse() -> SIPParseOutcome {
        guard let line = statusLine else { return .drop(reason: "Not a response") }
        guard line.statusCode >= 100 && line.statusCode <= 699 else { return .drop(reason: "Status code out of range") }
        guard bytes[line.versionRange].equalsIgnoringCase("SIP/2.0") else { return .drop(reason: "Unsupported version") }
        for name in [HeaderName.from, .to, .callID, .cseq] {
            let n = count(of: name)
            if n == 0 { return .drop(reason: "Missing " + name.canonicalName) }
            if n > 1 { return .drop(reason: "Multiple " + name.canonicalName) }
        }
        guard let vias = vias, !vias.isEmpty else { return .drop(reason: "Missing or malformed Via") }
        if vias.count > 1 { return .drop(reason: "More than one Via in a response to a UA") }
        guard cseq != nil else { return .drop(reason: "Malformed CSeq") }
        guard from != nil, to != nil else { return .drop(reason: "Malformed From or To") }
        return .response(self)
    }
}
