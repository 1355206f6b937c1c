import CompactText

/// What a key accepts.
public enum ValueKind: Sendable {
    case text
    /// A file system path; relative paths are resolved against the file.
    case path
    case integer(ClosedRange<Int>)
    /// yes/no, true/false, on/off, 1/0.
    case boolean
    case choice([String])
    /// An IPv4 or IPv6 literal.
    case ipAddress
    /// host, host:port, or [v6]:port.
    case hostPort
    /// Comma-separated IP literals with optional ports: 192.0.2.1, 192.0.2.2:5353, [2001:db8::1]:53.
    case addressList
}

/// One key a section may hold.
public struct KeySpec: Sendable {
    public var name: String
    public var kind: ValueKind
    public var required: Bool
    /// One line for the README and the generic template.
    public var summary: String

    public init(_ name: String, _ kind: ValueKind, required: Bool = false, _ summary: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.summary = summary
    }
}

/// What follows the section name in its header.
public enum SectionArgument: Sendable {
    case none
    /// A number in the range, e.g. `[line 1]`.
    case number(ClosedRange<Int>)
    /// A name made of letters, digits, '_' and '-', e.g. `[account home]`.
    case name
}

public struct SectionSpec: Sendable {
    public var name: String
    public var argument: SectionArgument
    public var required: Bool
    public var keys: [KeySpec]

    public init(_ name: String, argument: SectionArgument = .none, required: Bool = false, keys: [KeySpec]) {
        self.name = name
        self.argument = argument
        self.required = required
        self.keys = keys
    }

    public func key(_ name: String) -> KeySpec? { keys.first { $0.name == name } }
}

/// A typed value that passed its key's check.
public enum ConfigValue: Equatable, Sendable {
    case text(String)
    case integer(Int)
    case boolean(Bool)
}

/// A section whose keys all passed their checks.
public struct CheckedSection: Sendable {
    public var name: String
    public var argument: String?
    public var line: Int
    public var values: [String: ConfigValue]
    public var keyLines: [String: Int]
    public var valueColumns: [String: Int] = [:]

    public func text(_ key: String) -> String? {
        if case .text(let value)? = values[key] { return value }
        return nil
    }
    public func integer(_ key: String) -> Int? {
        if case .integer(let value)? = values[key] { return value }
        return nil
    }
    public func boolean(_ key: String) -> Bool? {
        if case .boolean(let value)? = values[key] { return value }
        return nil
    }
    public var title: String { argument.map { "[\(name) \($0)]" } ?? "[\(name)]" }
}

/// Checks a parsed document against a list of section specs.
public struct ConfigSchema: Sendable {
    public var sections: [SectionSpec]

    public init(sections: [SectionSpec]) { self.sections = sections }

    public func spec(named name: String) -> SectionSpec? { sections.first { $0.name == name } }

    public func check(_ document: IniDocument) -> ([CheckedSection], [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var checked: [CheckedSection] = []
        var seenTitles: [String: Int] = [:]
        let file = document.file
        func report(_ line: Int, _ message: String) {
            diagnostics.append(Diagnostic(file: file, line: line, message: message))
        }

        for section in document.sections {
            guard let spec = spec(named: section.name) else {
                var message = "unknown section [\(section.name)]"
                if let guess = Suggestion.nearest(to: section.name, among: sections.map { $0.name }) {
                    message += "; did you mean [\(guess)]?"
                } else {
                    message += "; expected one of " + sections.map { "[\($0.name)]" }.joined(separator: ", ")
                }
                report(section.line, message)
                continue
            }
            if let problem = argumentProblem(section, spec) {
                report(section.line, problem)
                continue
            }
            if let first = seenTitles[section.title] {
                report(section.line, "duplicate section \(section.title) (first on line \(first))")
                continue
            }
            seenTitles[section.title] = section.line

            var result = CheckedSection(name: section.name, argument: section.argument, line: section.line,
                                        values: [:], keyLines: [:])
            for entry in section.entries {
                guard let key = spec.key(entry.key) else {
                    var message = "unknown key '\(entry.key)' in \(section.title)"
                    if let guess = Suggestion.nearest(to: entry.key, among: spec.keys.map { $0.name }) {
                        message += "; did you mean '\(guess)'?"
                    }
                    report(entry.line, message)
                    continue
                }
                if let first = result.keyLines[entry.key] {
                    report(entry.line, "duplicate key '\(entry.key)' in \(section.title) (first set on line \(first))")
                    continue
                }
                result.keyLines[entry.key] = entry.line
                result.valueColumns[entry.key] = entry.valueColumn
                switch ConfigSchema.convert(entry.value, key.kind) {
                case .success(let value): result.values[entry.key] = value
                case .failure(let expected):
                    report(entry.line, "invalid value '\(entry.value)' for '\(entry.key)': expected \(expected)")
                }
            }
            for key in spec.keys where key.required && result.keyLines[key.name] == nil {
                report(section.line, "missing required key '\(key.name)' in \(section.title)")
            }
            checked.append(result)
        }
        for spec in sections where spec.required && !document.sections.contains(where: { $0.name == spec.name }) {
            report(1, "missing required section [\(spec.name)]")
        }
        return (checked, diagnostics)
    }

    private func argumentProblem(_ section: IniSection, _ spec: SectionSpec) -> String? {
        switch spec.argument {
        case .none:
            if let argument = section.argument {
                return "section [\(section.name)] takes no argument (found '\(argument)')"
            }
        case .number(let range):
            guard let argument = section.argument else {
                return "section [\(section.name)] needs a number from \(range.lowerBound) to \(range.upperBound), e.g. [\(section.name) \(range.lowerBound)]"
            }
            guard let number = ConfigSchema.parseInteger(argument), range.contains(number) else {
                return "invalid section [\(section.name) \(argument)]: expected a number from \(range.lowerBound) to \(range.upperBound)"
            }
        case .name:
            guard section.argument != nil else {
                return "section [\(section.name)] needs a name, e.g. [\(section.name) main]"
            }
        }
        return nil
    }

    enum Conversion {
        case success(ConfigValue)
        case failure(String)
    }

    static func convert(_ raw: String, _ kind: ValueKind) -> Conversion {
        switch kind {
        case .text:
            return raw.isEmpty ? .failure("a non-empty value") : .success(.text(raw))
        case .path:
            return raw.isEmpty ? .failure("a file path") : .success(.text(raw))
        case .integer(let range):
            guard let number = parseInteger(raw), range.contains(number) else {
                return .failure("an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return .success(.integer(number))
        case .boolean:
            switch raw {
            case "yes", "true", "on", "1": return .success(.boolean(true))
            case "no", "false", "off", "0": return .success(.boolean(false))
            default: return .failure("yes or no")
            }
        case .choice(let options):
            if options.contains(raw) { return .success(.text(raw)) }
            var expected = "one of " + options.joined(separator: ", ")
            if let guess = Suggestion.nearest(to: raw, among: options) { expected += " (did you mean '\(guess)'?)" }
            return .failure(expected)
        case .ipAddress:
            return AddressSyntax.isIPv4(raw) || AddressSyntax.isIPv6(raw)
                ? .success(.text(raw)) : .failure("an IPv4 or IPv6 address")
        case .hostPort:
            return AddressSyntax.isHostPort(raw)
                ? .success(.text(raw)) : .failure("host, host:port or [IPv6]:port")
        case .addressList:
            let items = Array(raw.utf8).split(separator: UInt8(ascii: ","))
                .map { String(decoding: IniDocument.trimmed($0), as: UTF8.self) }
            return !items.isEmpty && items.count <= 8 && items.allSatisfy(AddressSyntax.isAddressPort)
                ? .success(.text(items.joined(separator: ",")))
                : .failure("IP addresses with optional ports, separated by commas (192.0.2.1, 192.0.2.2:5353, [2001:db8::1]:53)")
        }
    }

    /// Decimal integers only; no signs beyond a leading '-', no overflow.
    static func parseInteger(_ raw: String) -> Int? {
        var bytes = Array(raw.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        guard !bytes.isEmpty, bytes.count <= 12 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }
}
