/// "Did you mean" for misspelled keys and sections: the candidate with the
/// smallest edit distance, if it is close enough to be a plausible typo.
enum Suggestion {
    static func nearest(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.utf8)
        var best: String?
        var bestDistance = Int.max
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.utf8))
            if distance < bestDistance {
                bestDistance = distance
                best = candidate
            }
        }
        // A plausible typo changes at most one character in three (at least
        // one), and never half the word: "xx" is not a misspelled "mx".
        let allowed = max(1, target.count / 3)
        return bestDistance <= allowed && bestDistance * 2 < target.count ? best : nil
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
