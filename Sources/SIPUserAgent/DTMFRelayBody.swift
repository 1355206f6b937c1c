import CompactText

/// The body of a SIP INFO carrying a key press, `application/dtmf-relay`
/// (the de-facto format from Cisco, used by most ATAs and PBXs):
///
///     Signal=5
///     Duration=160
///
/// Signal is one of 0-9 * # A-D (case-insensitive; some senders write 10
/// and 11 for * and #); Duration is in milliseconds.
public struct DTMFRelayBody: Equatable, Sendable {
    public var key: UInt8
    public var durationMilliseconds: Int

    public static let defaultDuration = 160

    public init(key: UInt8, durationMilliseconds: Int) {
        self.key = key
        self.durationMilliseconds = durationMilliseconds
    }

    /// Parses the body; nil when it has no valid Signal line.
    public init?(parsing body: some Collection<UInt8>) {
        var key: UInt8?
        var duration = DTMFRelayBody.defaultDuration
        for rawLine in body.split(whereSeparator: { $0 == 10 || $0 == 13 }) {
            let line = Array(rawLine)
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = DTMFRelayBody.trimmed(line[..<equals]).map { $0 | 0x20 }
            let value = DTMFRelayBody.trimmed(line[(equals + 1)...])
            if name.elementsEqual("signal".utf8) {
                key = DTMFRelayBody.key(from: value)
            } else if name.elementsEqual("duration".utf8), let number = Int(String(decoding: value, as: UTF8.self)),
                      number > 0 {
                duration = number
            }
        }
        guard let key else { return nil }
        self.key = key
        durationMilliseconds = duration
    }

    /// `Signal=K\r\nDuration=D\r\n`.
    public var serialized: [UInt8] {
        Array("Signal=".utf8) + [key] + Array("\r\nDuration=\(durationMilliseconds)\r\n".utf8)
    }

    private static func key(from value: ArraySlice<UInt8>) -> UInt8? {
        if value.count == 1, let byte = value.first {
            let upper = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "d")) ? byte - 0x20 : byte
            if (upper >= UInt8(ascii: "0") && upper <= UInt8(ascii: "9")) || upper == UInt8(ascii: "*")
                || upper == UInt8(ascii: "#") || (upper >= UInt8(ascii: "A") && upper <= UInt8(ascii: "D")) {
                return upper
            }
            return nil
        }
        if value.elementsEqual("10".utf8) { return UInt8(ascii: "*") }
        if value.elementsEqual("11".utf8) { return UInt8(ascii: "#") }
        return nil
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 32 || first == 9 { slice = slice.dropFirst() }
        while let last = slice.last, last == 32 || last == 9 { slice = slice.dropLast() }
        return slice
    }
}
