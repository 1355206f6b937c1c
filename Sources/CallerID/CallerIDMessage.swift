import CountryPresets

/// The caller ID data for one call, in the form its modulation carries.
///
/// FSK (Bell 202 and V.23) carries a multiple data message format (MDMF)
/// message: type 0x80, length, then parameters (type, length, value).
/// GR-30 and EN 300 659-3 agree on the parameters used here: 0x01 date and
/// time, 0x02 number, 0x04 why the number is absent, 0x07 name, 0x08 why
/// the name is absent ("P" private, "O" unavailable). The checksum (the
/// two's complement of the bytes' sum) is the modem's to add.
///
/// DTMF carries the number between two letters (ETSI: `A…C`, and `B00C`
/// or `B10C` when it is unavailable or private).
public enum CallerIDMessage {
    public static let mdmfCallSetup: UInt8 = 0x80
    /// The longest name the displays of each standard promise to show
    /// (GR-30: 15 characters; EN 300 659-3: 20).
    static func longestName(_ modulation: CallerIDSignalling.Modulation) -> Int { modulation == .bell202 ? 15 : 20 }

    /// The MDMF message without its checksum.
    public static func mdmf(_ identity: CallerIdentity, date: CallerIDDate?,
                            modulation: CallerIDSignalling.Modulation) -> [UInt8] {
        var message: [UInt8] = [mdmfCallSetup, 0]
        func add(_ type: UInt8, _ value: [UInt8]) {
            message.append(type)
            message.append(UInt8(value.count))
            message.append(contentsOf: value)
        }
        if let date { add(0x01, date.digits) }
        switch identity.number {
        case .shown(let number): add(0x02, Array(number.utf8.prefix(CallerIdentity.longestNumber)))
        case .withheld: add(0x04, [UInt8(ascii: "P")])
        case .unavailable: add(0x04, [UInt8(ascii: "O")])
        }
        switch identity.name {
        case .shown(let name): add(0x07, displayable(name, limit: longestName(modulation)))
        case .withheld: add(0x08, [UInt8(ascii: "P")])
        case .unavailable: add(0x08, [UInt8(ascii: "O")])
        }
        message[1] = UInt8(message.count - 2)
        return message
    }

    /// The MDMF message-waiting message (type 0x82) with its visual
    /// indicator parameter (0x0B: 0xFF on, 0x00 off), as GR-30 and EN 300
    /// 659-3 both define it; without its checksum.
    public static func messageWaiting(_ on: Bool) -> [UInt8] {
        [0x82, 3, 0x0B, 1, on ? 0xFF : 0x00]
    }

    /// The checksum byte that makes the message's bytes sum to 0 mod 256.
    public static func checksum(_ message: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for byte in message { sum &+= byte }
        return 0 &- sum
    }

    /// The DTMF digits to send, or nil when the format has nothing to say
    /// (no number, and a format without absence codes).
    public static func dtmf(_ identity: CallerIdentity, signalling: CallerIDSignalling) -> String? {
        let start = String(signalling.dtmfStart), end = String(signalling.dtmfEnd)
        switch identity.number {
        case .shown(let number):
            // DTMF caller ID carries digits only ("*" and "#" are framing).
            let digitsOnly = number.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard digitsOnly else { return unavailable(signalling) }
            return start + number + end
        case .withheld:
            return signalling.dtmfStart == "A" && signalling.dtmfEnd == "C" ? "B10C" : nil
        case .unavailable:
            return unavailable(signalling)
        }
    }

    private static func unavailable(_ signalling: CallerIDSignalling) -> String? {
        signalling.dtmfStart == "A" && signalling.dtmfEnd == "C" ? "B00C" : nil
    }

    /// A name in printable ASCII, each other character a "?", cut to `limit`.
    static func displayable(_ name: String, limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in name.unicodeScalars {
            guard out.count < limit else { break }
            out.append(scalar.value >= 0x20 && scalar.value < 0x7F ? UInt8(scalar.value) : UInt8(ascii: "?"))
        }
        return out
    }
}
