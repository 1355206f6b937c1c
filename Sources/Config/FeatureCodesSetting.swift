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
        // A code the file sets wins over a default the file left alone (a
        // newer atad may bring a default the file already uses, as *70
        // came after *78): that default is turned off, with a warning.
        // Two codes the file sets itself are an error, at the first.
        while let conflict = codes.conflict {
            let set = conflict.keys.filter { section.keyLines[$0] != nil }
            guard set.count == 1, let line = section.keyLines[set[0]],
                  let defaulted = FeatureCodes.kinds.firstIndex(where: { $0.key != set[0] && conflict.keys.contains($0.key) })
            else {
                let line = set.lazy.compactMap { section.keyLines[$0] }.first ?? section.line
                diagnostics.append(Diagnostic(file: path, line: line, message: "[features]: \(conflict.message)"))
                break
            }
            codes.codes[defaulted] = nil
            diagnostics.append(Diagnostic(file: path, line: line, severity: .warning,
                                          message: "[features]: \(conflict.message); '\(FeatureCodes.kinds[defaulted].key)' is off"))
        }
        return codes
    }
}
