import CompactText

/// One problem found in a config file, printed as `FILE:LINE: error: MESSAGE`
/// (`FILE:LINE:COLUMN: error: ...` when the place in the line is known, and
/// `FILE: error: MESSAGE` when it concerns the whole file).
public struct Diagnostic: Equatable, Sendable {
    public enum Severity: Sendable { case error, warning }

    public var file: String
    /// 1-based line, or nil for the whole file.
    public var line: Int?
    /// 1-based column, when the problem is at a known place in the line.
    public var column: Int?
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int?, column: Int? = nil, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    public var text: String {
        var location = line.map { "\(file):\($0)" } ?? file
        if line != nil, let column { location += ":\(column)" }
        return "\(location): \(severity == .error ? "error" : "warning"): \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
