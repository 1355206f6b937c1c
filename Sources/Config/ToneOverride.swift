import CountryPresets

/// A tone written in a config value: `FREQUENCIES/LEVEL[/CADENCE]`, e.g.
/// `350+440/-13` (continuous), `480+620/-24/500,500`, `425*25/-13/400,200,400,2000`
/// (425 Hz modulated by 25 Hz). Frequencies 50-4000 Hz, up to four joined by
/// `+`, or `carrier*modulator`; level -40..0 dBm0; cadence on,off,... in ms.
enum ToneOverride {
    static let syntax = "FREQ[+FREQ...]/LEVEL[/ON,OFF,...], e.g. 350+440/-13 or 480+620/-24/500,500"

    static func parse(_ text: String) -> ToneSpec? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        var modulated = false
        var frequencies: [UInt16] = []
        if parts[0].utf8.contains(UInt8(ascii: "*")) {
            let pieces = parts[0].split(separator: "*", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count == 2, let carrier = UInt16(pieces[0]), let modulator = UInt16(pieces[1]),
                  (50...4000).contains(carrier), (1...100).contains(modulator) else { return nil }
            frequencies = [carrier, modulator]
            modulated = true
        } else {
            for piece in parts[0].split(separator: "+", omittingEmptySubsequences: false) {
                guard let frequency = UInt16(String(piece)), (50...4000).contains(frequency) else { return nil }
                frequencies.append(frequency)
            }
            guard (1...4).contains(frequencies.count) else { return nil }
        }
        guard let level = Int8(parts[1]), (-40...0).contains(level) else { return nil }
        var cadence: [UInt16] = []
        if parts.count == 3 {
            guard let parsed = parseCadence(parts[2]) else { return nil }
            cadence = parsed
        }
        return ToneSpec(frequencies: frequencies, modulated: modulated, levelDBm0: level, cadence: cadence)
    }

    /// `on,off[,on,off...]` in ms, an even count of values from 10 to 20000.
    static func parseCadence(_ text: String) -> [UInt16]? {
        var values: [UInt16] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = UInt16(String(piece)), (10...20_000).contains(value) else { return nil }
            values.append(value)
        }
        return !values.isEmpty && values.count % 2 == 0 ? values : nil
    }
}
