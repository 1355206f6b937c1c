import SIPMessage

/// The NAPTR step of RFC 3263 §4.1 for a UA whose transport is fixed: which
/// SRV names to look up next, best first.
enum NAPTRSelection {
    /// The replacements of the records that lead to SIP over `transport`
    /// through SRV (flag "S"), by order then preference (ties keep the
    /// answer's order), each name once, at most `limit`.
    static func srvNames(_ records: [NAPTRRecord], transport: SIPTransport, limit: Int) -> [String] {
        let usable = records.enumerated().filter { _, record in
            DNSName.equalIgnoringCase(record.flags, "S")
                && DNSName.equalIgnoringCase(record.service, transport.naptrService)
        }
        let sorted = usable.sorted { a, b in
            (a.element.order, a.element.preference, a.offset) < (b.element.order, b.element.preference, b.offset)
        }
        var names: [String] = []
        for (_, record) in sorted where names.count < limit {
            let name = DNSName.normalized(record.replacement)
            if !name.isEmpty && !names.contains(name) { names.append(name) }
        }
        return names
    }
}
