/// A reply on the control socket: `ok` or `error: MESSAGE`, then any number
/// of non-empty lines, then one empty line that ends the reply.
public struct ControlReply: Equatable, Sendable {
    public var isOK: Bool
    /// For an error, the message after "error: ".
    public var message: String
    public var lines: [String]

    public static func ok(_ lines: [String] = []) -> ControlReply {
        ControlReply(isOK: true, message: "", lines: lines)
    }

    public static func error(_ message: String, _ lines: [String] = []) -> ControlReply {
        ControlReply(isOK: false, message: message, lines: lines)
    }

    public init(isOK: Bool, message: String, lines: [String]) {
        self.isOK = isOK
        self.message = message
        self.lines = lines
    }

    /// The first line as sent: "ok" or "error: MESSAGE".
    public var statusLine: String { isOK ? "ok" : "error: " + ControlReply.singleLine(message) }

    /// The reply as it goes on the wire. Body lines can never be empty
    /// (that would end the reply early) nor contain a newline.
    public var wireText: String {
        var text = statusLine + "\n"
        for line in lines {
            let clean = ControlReply.singleLine(line)
            text += (clean.isEmpty ? " " : clean) + "\n"
        }
        return text + "\n"
    }

    private static func singleLine(_ text: String) -> String {
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            bytes.append(byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") ? UInt8(ascii: " ") : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses the lines of one reply (its terminating empty line removed).
    public static func parse(lines: [String]) -> ControlReply? {
        guard let first = lines.first else { return nil }
        let rest = Array(lines.dropFirst())
        if first == "ok" { return .ok(rest) }
        let prefix = "error: "
        if first.utf8.starts(with: prefix.utf8) {
            let message = String(decoding: first.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            return .error(message, rest)
        }
        return nil
    }
}
