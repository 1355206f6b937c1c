import CompactText

/// The voice codecs atad speaks (G.711).
public enum AudioCodec: Equatable, Sendable {
    case pcmu
    case pcma

    /// The RFC 3551 static payload type: 0 for PCMU, 8 for PCMA.
    public var staticPayloadType: UInt8 {
        switch self {
        case .pcmu: return 0
        case .pcma: return 8
        }
    }

    public var encodingName: String {
        switch self {
        case .pcmu: return "PCMU"
        case .pcma: return "PCMA"
        }
    }

    public var clockRate: UInt32 { 8000 }

    /// The codec an rtpmap describes, if it is one of ours (8 kHz, mono).
    public init?(_ map: RTPMap) {
        guard map.clockRate == 8000, map.channels == nil || map.channels == 1 else { return nil }
        if map.isEncoding("PCMU") {
            self = .pcmu
        } else if map.isEncoding("PCMA") {
            self = .pcma
        } else {
            return nil
        }
    }
}

/// The RFC 3551 static payload types, used when a format has no `a=rtpmap`.
public enum StaticPayloadTypes {
    /// Comfort noise (RFC 3389).
    public static let comfortNoise: UInt8 = 13

    public static func map(for payloadType: UInt8) -> RTPMap? {
        let entry: (String, UInt32, UInt8?)
        switch payloadType {
        case 0: entry = ("PCMU", 8000, nil)
        case 3: entry = ("GSM", 8000, nil)
        case 4: entry = ("G723", 8000, nil)
        case 5: entry = ("DVI4", 8000, nil)
        case 6: entry = ("DVI4", 16000, nil)
        case 7: entry = ("LPC", 8000, nil)
        case 8: entry = ("PCMA", 8000, nil)
        case 9: entry = ("G722", 8000, nil)
        case 10: entry = ("L16", 44100, 2)
        case 11: entry = ("L16", 44100, nil)
        case 12: entry = ("QCELP", 8000, nil)
        case 13: entry = ("CN", 8000, nil)
        case 14: entry = ("MPA", 90000, nil)
        case 15: entry = ("G728", 8000, nil)
        case 16: entry = ("DVI4", 11025, nil)
        case 17: entry = ("DVI4", 22050, nil)
        case 18: entry = ("G729", 8000, nil)
        case 25: entry = ("CelB", 90000, nil)
        case 26: entry = ("JPEG", 90000, nil)
        case 28: entry = ("nv", 90000, nil)
        case 31: entry = ("H261", 90000, nil)
        case 32: entry = ("MPV", 90000, nil)
        case 33: entry = ("MP2T", 90000, nil)
        case 34: entry = ("H263", 90000, nil)
        default: return nil
        }
        return RTPMap(payloadType: payloadType, encodingName: entry.0, clockRate: entry.1, channels: entry.2)
    }
}

/// A set of RFC 4733 event codes (0...255), as listed in `a=fmtp:<pt> 0-15,16`.
public struct TelephoneEvents: Equatable, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public init() {}

    /// The DTMF digits 0-9, *, #, A-D: events 0-15.
    public static var dtmf: TelephoneEvents { TelephoneEvents(range: 0...15) }
    /// DTMF plus hook flash (event 16).
    public static var dtmfAndFlash: TelephoneEvents { TelephoneEvents(range: 0...16) }

    public init(range: ClosedRange<UInt8>) {
        for event in range { insert(event) }
    }

    /// Parses an fmtp value such as `0-15`, `0-16` or `0-11,16` (spaces tolerated).
    public init?(fmtp: String) {
        var sawOne = false
        var current: [UInt8] = []
        var rangeStart: UInt64? = nil
        func finish(_ digits: [UInt8]) -> UInt64? { parseUnsigned(digits, max: 255) }
        var bytes = Array(fmtp.utf8)
        bytes.append(UInt8(ascii: ","))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "-"):
                guard rangeStart == nil, let value = finish(current) else { return nil }
                rangeStart = value
                current.removeAll()
            case UInt8(ascii: ","):
                guard let value = finish(current) else { return nil }
                let low = rangeStart ?? value
                guard low <= value else { return nil }
                for event in low...value { insert(UInt8(event)) }
                sawOne = true
                rangeStart = nil
                current.removeAll()
            default:
                guard current.count < 4 else { return nil }
                current.append(byte)
            }
        }
        guard sawOne else { return nil }
    }

    public func contains(_ event: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(event & 63)
        switch event >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    public mutating func insert(_ event: UInt8) {
        let bit = UInt64(1) << UInt64(event & 63)
        switch event >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    public var isEmpty: Bool { words.0 == 0 && words.1 == 0 && words.2 == 0 && words.3 == 0 }

    public func intersection(_ other: TelephoneEvents) -> TelephoneEvents {
        var result = TelephoneEvents()
        result.words = (words.0 & other.words.0, words.1 & other.words.1,
                        words.2 & other.words.2, words.3 & other.words.3)
        return result
    }

    /// The fmtp text: ranges joined by commas, such as `0-15` or `0-11,16`.
    public var fmtpValue: String {
        var text = ""
        var event = 0
        while event <= 255 {
            guard contains(UInt8(event)) else { event += 1; continue }
            var last = event
            while last < 255 && contains(UInt8(last + 1)) { last += 1 }
            if !text.isEmpty { text += "," }
            text += last == event ? "\(event)" : "\(event)-\(last)"
            event = last + 1
        }
        return text
    }

    public static func == (lhs: TelephoneEvents, rhs: TelephoneEvents) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }
}
