/// The start line of a raw SIP message, fit for one line of the log, so that
/// `log_level = debug` shows a call's exchange (`INVITE sip:2000@host SIP/2.0`,
/// `SIP/2.0 180 Ringing`) without headers, bodies or credentials. Works on
/// bytes that may not parse: control bytes become `?`, a password in a
/// Request-URI's user part (`sip:alice:secret@host`) is masked, and a line
/// longer than `maximumLength` is cut with `...`.
public enum SIPLogLine {
    public static let maximumLength = 200

    /// nil when the bytes hold no start line (a CRLF keep-alive).
    public static func startLine(of bytes: [UInt8]) -> String? {
        var start = 0
        while start < bytes.count && (bytes[start] == 13 || bytes[start] == 10) { start += 1 }
        var line: [UInt8] = []
        var index = start
        while index < bytes.count && bytes[index] != 13 && bytes[index] != 10 && line.count < maximumLength {
            let byte = bytes[index]
            line.append(byte < 0x20 || byte == 0x7F ? UInt8(ascii: "?") : byte)
            index += 1
        }
        guard !line.isEmpty else { return nil }
        let cut = index < bytes.count && bytes[index] != 13 && bytes[index] != 10
        maskPassword(&line)
        return String(decoding: line, as: UTF8.self) + (cut ? "..." : "")
    }

    /// `METHOD scheme:user:password@host ...` -> `METHOD scheme:user:***@host ...`.
    private static func maskPassword(_ line: inout [UInt8]) {
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")) else { return }
        if line[..<firstSpace].starts(with: "SIP/".utf8) { return }   // a status line has no URI
        let uriStart = firstSpace + 1
        let uriEnd = line[uriStart...].firstIndex(of: UInt8(ascii: " ")) ?? line.count
        guard let at = line[uriStart..<uriEnd].firstIndex(of: UInt8(ascii: "@")),
              let schemeColon = line[uriStart..<at].firstIndex(of: UInt8(ascii: ":")),
              let passwordColon = line[(schemeColon + 1)..<at].firstIndex(of: UInt8(ascii: ":")) else { return }
        line.replaceSubrange((passwordColon + 1)..<at, with: "***".utf8)
    }
}
