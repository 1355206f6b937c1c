/// One problem found in a config file, printed as `FILE:LINE: error: MESSAGE`
/// (or `FILE: error: MESSAGE` when it concerns the whole file).
public struct Diagnostic: Equatable, Sendable {
    public enum Severity: Sendable { case error, warning }

    public var file: String
    /// 1-based line, or nil for the whole file.
    public var line: Int?
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int?, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.severity = severity
        self.message = message
    }

    public var text: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(severity == .error ? "error" : "warning"): \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
