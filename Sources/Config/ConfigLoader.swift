import CompactText

/// What reading one file gave: its bytes and permission bits, or why not.
public enum FileReadResult: Sendable {
    case contents([UInt8], permissions: UInt32)
    case failure(String)
}

/// Loads a site file and the board file it names, collecting every problem.
/// File access comes in as a closure so this module stays free of I/O and
/// tests can feed it anything.
public enum ConfigLoader {
    /// Config files are small; anything bigger is a mistake, not a config.
    public static let maximumFileSize = 1 << 20

    public struct Result: Sendable {
        public var site: SiteConfig?
        public var diagnostics: [Diagnostic]
    }

    public static func loadSite(path: String, read: (String) -> FileReadResult) -> Result {
        var diagnostics: [Diagnostic] = []
        guard let (sections, permissions) = parse(path: path, schema: SiteSchema.schema, read: read,
                                                  diagnostics: &diagnostics) else {
            return Result(site: nil, diagnostics: inLineOrder(diagnostics))
        }
        guard let general = sections.first(where: { $0.name == "general" }),
              let boardValue = general.text("board") else {
            return Result(site: nil, diagnostics: inLineOrder(diagnostics))
        }
        let boardPath = resolve(boardValue, relativeTo: path)
        var board: BoardConfig?
        var boardDiagnostics: [Diagnostic] = []
        switch read(boardPath) {
        case .failure(let reason):
            diagnostics.append(Diagnostic(file: path, line: general.keyLines["board"] ?? general.line,
                                          message: "cannot read board file '\(boardPath)': \(reason)"))
        case .contents(let bytes, _):
            if let boardSections = parseContents(path: boardPath, bytes: bytes, schema: BoardSchema.schema,
                                                 diagnostics: &boardDiagnostics) {
                board = BoardConfig.build(path: boardPath, sections: boardSections, diagnostics: &boardDiagnostics)
            }
        }
        diagnostics += boardDiagnostics
        guard let board else { return Result(site: nil, diagnostics: inLineOrder(diagnostics)) }
        let site = SiteConfig.build(path: path, boardPath: boardPath, sections: sections, board: board,
                                    diagnostics: &diagnostics)
        if site.holdsPassword && permissions & 0o044 != 0 {
            diagnostics.append(Diagnostic(
                file: path, line: nil, severity: .warning,
                message: "holds a password but is readable by group or others (mode \(octal(permissions & 0o777))); run chmod 600 on it"))
        }
        return Result(site: diagnostics.hasErrors ? nil : site, diagnostics: inLineOrder(diagnostics))
    }

    /// Loads a board file on its own (for `check-config` on a board file).
    public static func loadBoard(path: String, read: (String) -> FileReadResult) -> (BoardConfig?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let (sections, _) = parse(path: path, schema: BoardSchema.schema, read: read,
                                        diagnostics: &diagnostics) else { return (nil, diagnostics) }
        let board = BoardConfig.build(path: path, sections: sections, diagnostics: &diagnostics)
        return (diagnostics.hasErrors ? nil : board, inLineOrder(diagnostics))
    }

    /// Tells a board file from a site file by its first section.
    public static func isBoardFile(_ bytes: [UInt8]) -> Bool {
        let (document, _) = IniDocument.parse(file: "", bytes: bytes)
        return document.sections.first?.name == "board"
    }

    private static func parse(path: String, schema: ConfigSchema, read: (String) -> FileReadResult,
                              diagnostics: inout [Diagnostic]) -> ([CheckedSection], UInt32)? {
        switch read(path) {
        case .failure(let reason):
            diagnostics.append(Diagnostic(file: path, line: nil, message: "cannot read: \(reason)"))
            return nil
        case .contents(let bytes, let permissions):
            guard let sections = parseContents(path: path, bytes: bytes, schema: schema, diagnostics: &diagnostics) else {
                return nil
            }
            return (sections, permissions)
        }
    }

    private static func parseContents(path: String, bytes: [UInt8], schema: ConfigSchema,
                                      diagnostics: inout [Diagnostic]) -> [CheckedSection]? {
        if bytes.count > maximumFileSize {
            diagnostics.append(Diagnostic(file: path, line: nil,
                                          message: "file is too large (\(bytes.count) bytes; at most \(maximumFileSize))"))
            return nil
        }
        let (document, syntaxProblems) = IniDocument.parse(file: path, bytes: bytes)
        diagnostics += syntaxProblems
        if document.sections.isEmpty {
            if syntaxProblems.isEmpty {
                diagnostics.append(Diagnostic(file: path, line: nil, message: "file has no sections; is it empty?"))
            }
            return nil
        }
        let (sections, problems) = schema.check(document)
        diagnostics += problems
        return sections
    }

    /// Problems as a reader meets them: file by file (in the order the files
    /// were first mentioned), whole-file problems first, then by line; ties
    /// keep the order they were found in.
    static func inLineOrder(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for diagnostic in diagnostics where fileOrder[diagnostic.file] == nil {
            fileOrder[diagnostic.file] = fileOrder.count
        }
        let keyed = diagnostics.enumerated().map { (index, diagnostic) in
            (fileOrder[diagnostic.file]!, diagnostic.line ?? 0, index, diagnostic)
        }
        return keyed.sorted { a, b in
            if a.0 != b.0 { return a.0 < b.0 }
            if a.1 != b.1 { return a.1 < b.1 }
            return a.2 < b.2
        }.map { $0.3 }
    }

    static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.utf8.first == UInt8(ascii: "/") { return path }
        let bytes = Array(file.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(decoding: bytes[...slash], as: UTF8.self) + path
    }

    static func octal(_ value: UInt32) -> String {
        var digits = ""
        var rest = value
        repeat {
            digits = "\(rest & 7)" + digits
            rest >>= 3
        } while rest > 0
        while digits.utf8.count < 4 { digits = "0" + digits }
        return digits
    }
}
