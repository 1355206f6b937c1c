import CompactText

/// `key = value` with the line it stands on.
public struct IniEntry: Equatable, Sendable {
    public var key: String
    public var value: String
    public var line: Int
    /// 1-based column where the value starts (after an opening quote), so a
    /// problem inside a value can be pointed at exactly.
    public var valueColumn: Int = 1
}

/// `[name]` or `[name argument]` (e.g. `[line 1]`, `[account home]`) and the
/// entries under it.
public struct IniSection: Equatable, Sendable {
    public var name: String
    public var argument: String?
    public var line: Int
    public var entries: [IniEntry]

    /// How the section is written in messages: "[line 1]".
    public var title: String {
        argument.map { "[\(name) \($0)]" } ?? "[\(name)]"
    }

    public func entry(_ key: String) -> IniEntry? {
        entries.first { $0.key == key }
    }
}

/// A parsed INI file: sections in file order. Syntax only; what the keys
/// mean is the schema's business.
public struct IniDocument: Sendable {
    public var file: String
    public var sections: [IniSection]

    /// Text files only, with short lines: anything else is refused whole.
    public static let maximumLineLength = 4096

    /// Parses `bytes`. Problems with single lines are reported and the line
    /// skipped; a file that is not text at all (NUL bytes, invalid UTF-8,
    /// overlong lines) yields one error and no sections.
    public static func parse(file: String, bytes: [UInt8]) -> (IniDocument, [Diagnostic]) {
        var document = IniDocument(file: file, sections: [])
        if let problem = textProblem(file: file, bytes: bytes) {
            return (document, [problem])
        }
        var diagnostics: [Diagnostic] = []
        var lineNumber = 0
        var lineStart = 0
        while lineStart < bytes.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var content = bytes[lineStart..<lineEnd]
            if content.last == UInt8(ascii: "\r") { content = content.dropLast() }
            if let problem = parseLine(trimmed(content), number: lineNumber, lineStart: lineStart, into: &document) {
                diagnostics.append(problem)
            }
            lineStart = lineEnd + 1
        }
        return (document, diagnostics)
    }

    /// NUL bytes, invalid UTF-8 and overlong lines, reported at their line.
    private static func textProblem(file: String, bytes: [UInt8]) -> Diagnostic? {
        var lineNumber = 1
        var lineStart = 0
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: "\n") {
                let line = bytes[lineStart..<index]
                if line.count > maximumLineLength {
                    return Diagnostic(file: file, line: lineNumber,
                                      message: "line is too long (\(line.count) bytes; at most \(maximumLineLength))")
                }
                if line.contains(0) {
                    return Diagnostic(file: file, line: lineNumber,
                                      message: "binary data (a NUL byte): this is not a text config file")
                }
                if String(validating: line, as: UTF8.self) == nil {
                    return Diagnostic(file: file, line: lineNumber, message: "invalid UTF-8")
                }
                lineNumber += 1
                lineStart = index + 1
            }
            index += 1
        }
        return nil
    }

    private static func parseLine(_ line: ArraySlice<UInt8>, number: Int, lineStart: Int,
                                  into document: inout IniDocument) -> Diagnostic? {
        guard let first = line.first else { return nil }
        if first == UInt8(ascii: "#") || first == UInt8(ascii: ";") { return nil }
        let file = document.file
        if first == UInt8(ascii: "[") {
            guard let close = line.firstIndex(of: UInt8(ascii: "]")) else {
                return Diagnostic(file: file, line: number, message: "section header is missing its closing ']'")
            }
            let after = trimmed(line[(close + 1)...])
            if let next = after.first, next != UInt8(ascii: "#"), next != UInt8(ascii: ";") {
                return Diagnostic(file: file, line: number, message: "unexpected text after the section header")
            }
            let words = split(trimmed(line[(line.startIndex + 1)..<close]))
            guard words.count == 1 || words.count == 2, isName(words[0]) else {
                return Diagnostic(file: file, line: number,
                                  message: "malformed section header; expected [name] or [name argument]")
            }
            document.sections.append(IniSection(name: text(words[0]),
                                                argument: words.count == 2 ? text(words[1]) : nil,
                                                line: number, entries: []))
            return nil
        }
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
            return Diagnostic(file: file, line: number, message: "expected 'key = value' or '[section]'")
        }
        let key = trimmed(line[..<equals])
        guard !key.isEmpty, isName(key) else {
            return Diagnostic(file: file, line: number,
                              message: "invalid key '\(text(key))'; keys are lower-case letters, digits and '_'")
        }
        let value: String
        let rawValue = trimmed(line[(equals + 1)...])
        let valueColumn = rawValue.startIndex - lineStart + 1 + (rawValue.first == UInt8(ascii: "\"") ? 1 : 0)
        switch parseValue(rawValue) {
        case .success(let parsed): value = parsed
        case .failure(let message): return Diagnostic(file: file, line: number, message: message)
        }
        guard !document.sections.isEmpty else {
            return Diagnostic(file: file, line: number, message: "key '\(text(key))' is outside any section")
        }
        document.sections[document.sections.count - 1].entries.append(IniEntry(key: text(key), value: value, line: number,
                                                                                      valueColumn: valueColumn))
        return nil
    }

    private enum ValueResult {
        case success(String)
        case failure(String)
    }

    /// A value is either "quoted" (with \" and \\ escapes; may hold # and ;)
    /// or bare, where `#` or `;` after white space starts a comment.
    private static func parseValue(_ raw: ArraySlice<UInt8>) -> ValueResult {
        if raw.first == UInt8(ascii: "\"") {
            var result: [UInt8] = []
            var index = raw.startIndex + 1
            while index < raw.endIndex {
                let byte = raw[index]
                if byte == UInt8(ascii: "\\") && index + 1 < raw.endIndex {
                    result.append(raw[index + 1])
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    let rest = trimmed(raw[(index + 1)...])
                    if let next = rest.first, next != UInt8(ascii: "#"), next != UInt8(ascii: ";") {
                        return .failure("unexpected text after the closing quote")
                    }
                    return .success(text(result[...]))
                }
                result.append(byte)
                index += 1
            }
            return .failure("unterminated quoted value")
        }
        var end = raw.endIndex
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if (byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";")) && index > raw.startIndex
                && isSpace(raw[index - 1]) {
                end = index
                break
            }
            index += 1
        }
        return .success(text(trimmed(raw[raw.startIndex..<end])))
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return slice
    }

    private static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var words: [ArraySlice<UInt8>] = []
        var start: Int?
        for index in bytes.indices {
            if isSpace(bytes[index]) {
                if let begin = start { words.append(bytes[begin..<index]); start = nil }
            } else if start == nil {
                start = index
            }
        }
        if let begin = start { words.append(bytes[begin..<bytes.endIndex]) }
        return words
    }

    private static func isName(_ bytes: ArraySlice<UInt8>) -> Bool {
        for byte in bytes {
            let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            if !ok { return false }
        }
        return true
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
