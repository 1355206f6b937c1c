/// One stretch of sound or silence the tone analyzer saw.
struct AudibleRun: Equatable {
    var isOn: Bool
    var milliseconds: Int
}

/// What the on/off pattern of the recent past says a listener hears now.
enum CadenceVerdict: Equatable {
    case silence
    case continuous
    case cadence([Int])
}

/// Turns the on/off runs of the analyzer's history into a cadence.
///
/// Kept apart from the audio bookkeeping so the rules can be read (and
/// tested) on their own:
/// - the first run may be cut by the start of the history and the last is
///   still going, so only the runs in between are "complete";
/// - a period of p runs (p even) is accepted when, over the last 2p
///   complete runs, every run matches the one p earlier (within 20 ms or
///   10 %) and at least two such pairs exist; the smallest such p wins and
///   the last complete repetition that starts with an "on" is reported;
/// - before a period is confirmed, the complete runs seen so far (from the
///   first "on", ending with an "off") stand in for it;
/// - the run still going decides the present: an "off" longer than any
///   "off" of the pattern means the tone stopped (silence); an "on" longer
///   than any "on" of it means the tone became continuous.
enum CadenceFinder {
    static func verdict(runs: [AudibleRun]) -> CadenceVerdict {
        guard runs.contains(where: { $0.isOn }), let ongoing = runs.last else { return .silence }
        if runs.count == 1 { return .continuous }
        let complete = Array(runs[1..<(runs.count - 1)])

        var pattern: [AudibleRun] = confirmedPeriod(complete) ?? []
        if pattern.isEmpty, let firstOn = complete.firstIndex(where: { $0.isOn }) {
            pattern = Array(complete[firstOn...])
            if pattern.count % 2 == 1 { pattern.removeLast() }
        }
        let longestOn = pattern.filter { $0.isOn }.map { $0.milliseconds }.max() ?? 0
        let longestOff = pattern.filter { !$0.isOn }.map { $0.milliseconds }.max() ?? 0

        if ongoing.isOn {
            if pattern.isEmpty || ongoing.milliseconds > longestOn + tolerance(longestOn) {
                return .continuous
            }
        } else {
            if pattern.isEmpty {
                // A gap after a tone with no known pattern: a brief dropout
                // still counts as the tone, anything longer as silence.
                let toneBefore = runs.dropLast().contains { $0.isOn }
                return toneBefore && ongoing.milliseconds <= 20 ? .continuous : .silence
            }
            if ongoing.milliseconds > longestOff + tolerance(longestOff) { return .silence }
        }
        return .cadence(pattern.map { $0.milliseconds })
    }

    /// The smallest confirmed period among the complete runs, as its last
    /// repetition starting with an "on" run.
    static func confirmedPeriod(_ complete: [AudibleRun]) -> [AudibleRun]? {
        let count = complete.count
        var p = 2
        while p + 2 <= count {
            let first = max(0, count - 2 * p)
            var matches = true
            for i in first..<(count - p) where !similar(complete[i], complete[i + p]) {
                matches = false
                break
            }
            if matches {
                var start = count - p
                if !complete[start].isOn { start -= 1 }
                return Array(complete[start..<(start + p)])
            }
            p += 2
        }
        return nil
    }

    static func similar(_ a: AudibleRun, _ b: AudibleRun) -> Bool {
        a.isOn == b.isOn
            && abs(a.milliseconds - b.milliseconds) <= tolerance(max(a.milliseconds, b.milliseconds))
    }

    static func tolerance(_ milliseconds: Int) -> Int {
        max(20, milliseconds / 10)
    }
}
