/// One request on the control socket: a command word and its arguments,
/// separated by spaces or tabs on one line.
public struct ControlRequest: Equatable, Sendable {
    public var command: String
    public var arguments: [String]

    public init(command: String, arguments: [String] = []) {
        self.command = command
        self.arguments = arguments
    }

    public enum ParseError: Error, Equatable {
        case empty
        case notText
    }

    /// Parses one request line (without its newline; a trailing CR is
    /// dropped). Control characters and invalid UTF-8 are refused.
    public static func parse(_ line: ArraySlice<UInt8>) throws(ParseError) -> ControlRequest {
        var words: [String] = []
        var current: [UInt8] = []
        var bytes = line
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        for byte in bytes {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                if !current.isEmpty { words.append(try word(current)); current.removeAll(keepingCapacity: true) }
            } else if byte < 0x20 || byte == 0x7F {
                throw .notText
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { words.append(try word(current)) }
        guard let first = words.first else { throw .empty }
        return ControlRequest(command: first, arguments: Array(words.dropFirst()))
    }

    private static func word(_ bytes: [UInt8]) throws(ParseError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notText }
        return text
    }

    /// The request as one line, newline included.
    public var line: String {
        var text = command
        for argument in arguments { text += " " + argument }
        return text + "\n"
    }
}
