/// How the caller's number reaches the phone before it is answered (type I
/// caller ID): the modem, how the phone is told data is coming, and for
/// DTMF the letters around the number. One per country; a line's
/// `caller_id` may pick another modulation. Sources in SOURCES.md.
public struct CallerIDSignalling: Equatable, Sendable {
    public enum Modulation: String, Equatable, Sendable {
        /// Bell 202 FSK (1200/2200 Hz), Telcordia GR-30 MDMF.
        case bell202
        /// ITU-T V.23 FSK (1300/2100 Hz), ETSI EN 300 659 MDMF.
        case v23
        /// DTMF digits, ETSI EN 300 659-1 annex / national variants.
        case dtmf
    }

    public enum Alerting: Equatable, Sendable {
        /// Data in the first long pause of the ring cadence, 500 ms after
        /// the ring ends (GR-30, EN 300 659-1 "during ringing").
        case afterFirstRing
        /// Line reversal, data, then the first ring (DTMF countries).
        case lineReversal
        /// Line reversal, the 2130+2750 Hz dual-tone alert, data, then the
        /// first ring (BT SIN 227).
        case lineReversalAndDualTone
    }

    public var modulation: Modulation
    public var alerting: Alerting
    /// DTMF caller ID: the letter before the number and the one after it
    /// ("A" and "C" in the ETSI format).
    public var dtmfStart: Character
    public var dtmfEnd: Character

    public init(modulation: Modulation, alerting: Alerting, dtmfStart: Character = "A", dtmfEnd: Character = "C") {
        self.modulation = modulation
        self.alerting = alerting
        self.dtmfStart = dtmfStart
        self.dtmfEnd = dtmfEnd
    }

    /// The country's own caller ID; nil where the network's system is not
    /// one atad sends (Japan's NTT off-hook protocol, Russia's AON).
    public static func usual(inCountry country: String) -> CallerIDSignalling? {
        // Lists of codes rather than a switch over strings: a string case
        // costs its own comparison code, a list only its bytes.
        if listed(country, in: "us ca au nz cn mx") {
            return CallerIDSignalling(modulation: .bell202, alerting: .afterFirstRing)
        }
        if country == "gb" { return CallerIDSignalling(modulation: .v23, alerting: .lineReversalAndDualTone) }
        if listed(country, in: "de at ch fr it es pt no pl cz za") {
            return CallerIDSignalling(modulation: .v23, alerting: .afterFirstRing)
        }
        if listed(country, in: "se fi be in br") { return CallerIDSignalling(modulation: .dtmf, alerting: .lineReversal) }
        if country == "dk" { return CallerIDSignalling(modulation: .dtmf, alerting: .lineReversal, dtmfStart: "A", dtmfEnd: "#") }
        if country == "nl" { return CallerIDSignalling(modulation: .dtmf, alerting: .lineReversal, dtmfStart: "D", dtmfEnd: "C") }
        return nil
    }

    /// Whether a two-letter code is one of `list`'s space-separated codes.
    static func listed(_ code: String, in list: StaticString) -> Bool {
        let letters = Array(code.utf8)
        guard letters.count == 2 else { return false }
        return list.withUTF8Buffer { bytes in
            var index = 0
            while index + 1 < bytes.count {
                if bytes[index] == letters[0] && bytes[index + 1] == letters[1] { return true }
                index += 3
            }
            return false
        }
    }

    /// A line's `caller_id` modulation in `country`: the country's alerting
    /// when it uses that modulation, else the modulation's usual one.
    public static func chosen(_ modulation: Modulation, inCountry country: String) -> CallerIDSignalling {
        if let usual = usual(inCountry: country), usual.modulation == modulation { return usual }
        switch modulation {
        case .bell202, .v23: return CallerIDSignalling(modulation: modulation, alerting: .afterFirstRing)
        case .dtmf: return CallerIDSignalling(modulation: .dtmf, alerting: .lineReversal)
        }
    }
}
