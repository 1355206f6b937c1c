import CompactText
import Line

extension SiteConfig {
    /// `[features]`: each code 1-8 keys of 0-9, * and #, or `off`; none may
    /// be the start of another, or the longer one could never be dialed.
    static func featureCodes(sections: [CheckedSection], path: String,
                             diagnostics: inout [Diagnostic]) -> FeatureCodes {
        var codes = FeatureCodes()
        guard let section = sections.first(where: { $0.name == "features" }) else { return codes }
        for (index, kind) in FeatureCodes.kinds.enumerated() {
            guard let text = section.text(kind.key) else { continue }
            if text == "off" {
                codes.codes[index] = nil
            } else if (1...8).contains(text.utf8.count), text.utf8.allSatisfy(FeatureCodes.isKey) {
                codes.codes[index] = text
            } else {
                diagnostics.append(Diagnostic(file: path, line: section.keyLines[kind.key] ?? section.line,
                                              message: "invalid value '\(text)' for '\(kind.key)': expected 1 to 8 of 0-9, * and #, or off"))
            }
        }
        if let conflict = codes.conflict {
            // At the code the file sets (the other may be a default).
            let line = conflict.keys.lazy.compactMap { section.keyLines[$0] }.first ?? section.line
            diagnostics.append(Diagnostic(file: path, line: line, message: "[features]: \(conflict.message)"))
        }
        return codes
    }
}
