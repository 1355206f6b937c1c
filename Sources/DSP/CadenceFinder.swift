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
/// - a period of p runs (p even) explains the newest complete runs as far
///   back as each matches the run p earlier (within 20 ms or 10 %); it
///   needs at least two such matches, the period explaining the longest
///   stretch wins (ties: the shortest), and its last complete repetition is
///   reported;
/// - a period is written the way tone plans write it: starting with the
///   burst that follows its longest gap (ties: the longest burst), so
///   UK ringback reads [400, 200, 400, 2000] whenever it is sampled;
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
        pattern = canonical(pattern)
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

    /// The period that explains the longest stretch of the newest complete
    /// runs (ties: the shortest period), as its last repetition; nil unless
    /// it is confirmed by at least two runs matching the run a period earlier.
    static func confirmedPeriod(_ complete: [AudibleRun]) -> [AudibleRun]? {
        let count = complete.count
        var best: (period: Int, start: Int)?
        var p = 2
        while p + 2 <= count {
            // Walk back from the newest pair while runs repeat with period p.
            var start = count - p
            while start > 0 && similar(complete[start - 1], complete[start - 1 + p]) { start -= 1 }
            let pairs = count - p - start
            if pairs >= 2 && (best == nil || start < best!.start) { best = (p, start) }
            p += 2
        }
        guard let found = best else { return nil }
        var first = count - found.period
        if !complete[first].isOn { first -= 1 }
        return Array(complete[first..<(first + found.period)])
    }

    /// The rotation of `period` (on/off pairs, starting "on") that starts
    /// after the longest gap, or with the longest burst among equal gaps.
    static func canonical(_ period: [AudibleRun]) -> [AudibleRun] {
        let count = period.count
        guard count >= 4, count % 2 == 0 else { return period }
        var best = 0
        for start in stride(from: 2, to: count, by: 2) {
            let gap = period[start - 1].milliseconds
            let bestGap = period[(best - 1 + count) % count].milliseconds
            let burst = period[start].milliseconds
            let bestBurst = period[best].milliseconds
            if gap > bestGap + tolerance(gap) {
                best = start
            } else if abs(gap - bestGap) <= tolerance(max(gap, bestGap)) && burst > bestBurst + tolerance(burst) {
                best = start
            }
        }
        return Array(period[best...] + period[..<best])
    }

    static func similar(_ a: AudibleRun, _ b: AudibleRun) -> Bool {
        a.isOn == b.isOn
            && abs(a.milliseconds - b.milliseconds) <= tolerance(max(a.milliseconds, b.milliseconds))
    }

    static func tolerance(_ milliseconds: Int) -> Int {
        max(20, milliseconds / 10)
    }
}
