import CompactText
import Line

/// The state file: each line's do-not-disturb and forwarding, as its phone
/// set them, in the site file's own syntax so a person can read and mend
/// it. atad rewrites it whole (atomically) on every change.
///
///     [line 1]
///     dnd = yes
///     forward_all = 5551234
public enum FeatureStateFile {
    static let forwardKeys = ["forward_all", "forward_busy", "forward_no_answer"]

    static var schema: ConfigSchema {
        ConfigSchema(sections: [
            SectionSpec("line", argument: .number(1...64), keys: [
                KeySpec("dnd", .boolean, "do-not-disturb"),
                KeySpec("forward_all", .text, "every call forwarded to this number"),
                KeySpec("forward_busy", .text, "calls forwarded here while the line is busy"),
                KeySpec("forward_no_answer", .text, "calls forwarded here when not answered"),
            ]),
        ])
    }

    /// Each line's settings; what cannot be read is reported
    /// (`FILE:LINE: error: ...`) and left out.
    public static func parse(file: String, bytes: [UInt8]) -> (features: [(line: Int, LineFeatures)], [Diagnostic]) {
        let (document, syntaxProblems) = IniDocument.parse(file: file, bytes: bytes)
        var (sections, diagnostics) = schema.check(document)
        diagnostics = syntaxProblems + diagnostics
        var result: [(line: Int, LineFeatures)] = []
        for section in sections {
            guard let number = ConfigSchema.parseInteger(section.argument ?? "") else { continue }
            var features = LineFeatures()
            features.doNotDisturb = section.boolean("dnd") ?? false
            for condition in ForwardingCondition.allCases {
                let key = forwardKeys[condition.rawValue]
                guard let target = section.text(key) else { continue }
                if target.utf8.isEmpty || target.utf8.count > FeatureCodes.longestNumber || !target.utf8.allSatisfy(FeatureCodes.isKey) {
                    diagnostics.append(Diagnostic(file: file, line: section.keyLines[key] ?? section.line,
                                                  message: "invalid value '\(target)' for '\(key)': expected a number of 0-9, * and #"))
                    continue
                }
                features.forwardTargets[condition.rawValue] = target
            }
            result.removeAll { $0.line == number }
            result.append((number, features))
        }
        return (result, ConfigLoader.inLineOrder(diagnostics))
    }

    public static func serialize(_ lines: [(line: Int, LineFeatures)]) -> [UInt8] {
        var text = "# atad: do-not-disturb and forwarding as the phones set them; atad rewrites this file\n"
        for (number, features) in lines where !features.isEmpty {
            text += "\n[line \(number)]\n"
            if features.doNotDisturb { text += "dnd = yes\n" }
            for condition in ForwardingCondition.allCases {
                if let target = features.target(condition) { text += "\(forwardKeys[condition.rawValue]) = \(target)\n" }
            }
        }
        return Array(text.utf8)
    }
}
