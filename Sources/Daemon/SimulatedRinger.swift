import HardwareLinux
import Timebase

/// The simulated board's bell: watches the ring-mode and forward/reverse
/// outputs the ring driver produces and measures what a bell would see —
/// the ring frequency from the polarity toggles and the cadence from when
/// toggling starts and stops.
struct SimulatedRinger {
    /// Start of each burst and of each pause, oldest first (bounded).
    private var phaseStarts: [(burst: Bool, at: Instant)] = []
    private var lastToggle: Instant?
    /// The most recent intervals between polarity toggles within bursts
    /// (a fixed ring, so observing never allocates).
    private var intervals = [Int64](repeating: 0, count: 64)
    private var intervalCount = 0
    private var nextInterval = 0
    private(set) var ringing = false
    private static let historyLimit = 32

    mutating func observe(_ outputs: RingOutputs, previous: RingOutputs, at now: Instant) {
        guard outputs.polarity != previous.polarity && outputs.ringMode else { return }
        if let last = lastToggle {
            intervals[nextInterval] = (now - last).nanoseconds
            nextInterval = (nextInterval + 1) % intervals.count
            intervalCount = min(intervalCount + 1, intervals.count)
        }
        lastToggle = now
    }

    /// The cadence phase changed: a burst started (true) or a pause (false).
    mutating func phaseChanged(burst: Bool, at now: Instant) {
        ringing = true
        // The gap across a pause is no half-period.
        lastToggle = nil
        phaseStarts.append((burst, now))
        if phaseStarts.count > SimulatedRinger.historyLimit { phaseStarts.removeFirst(phaseStarts.count - SimulatedRinger.historyLimit) }
    }

    mutating func stopped() {
        ringing = false
        phaseStarts.removeAll()
        lastToggle = nil
        intervalCount = 0
        nextInterval = 0
    }

    /// The ring frequency from the intervals between toggles (half periods),
    /// once 16 were seen: their total time over how many half periods they
    /// span. An interval twice the median is a toggle the loop woke too late
    /// for and counts as two, so a late wake-up does not skew the reading.
    var frequencyHz: Int? {
        guard intervalCount >= 16 else { return nil }
        let recent = intervals[0..<intervalCount]
        let median = recent.sorted()[intervalCount / 2]
        guard median > 0 else { return nil }
        var total: Int64 = 0
        var halfPeriods: Int64 = 0
        for interval in recent {
            total += interval
            halfPeriods += max(1, (interval + median / 2) / median)
        }
        let half = total / halfPeriods
        guard half > 0 else { return nil }
        return Int((500_000_000 + half / 2) / half)
    }

    /// The measured cadence: the on/off durations (ms) of the most recent
    /// complete repetition, starting with a burst. Empty until one full
    /// repetition has been seen.
    var cadence: [Int] {
        // Completed segments, oldest first.
        var segments: [(burst: Bool, ms: Int)] = []
        for index in 0..<max(0, phaseStarts.count - 1) {
            let ms = Int((phaseStarts[index + 1].at - phaseStarts[index].at).milliseconds)
            segments.append((phaseStarts[index].burst, ms))
        }
        // The shortest period (an even number of segments) that repeats.
        var length = 2
        while length * 2 <= segments.count {
            let recent = segments.suffix(length * 2)
            let first = Array(recent.prefix(length)), second = Array(recent.suffix(length))
            if zip(first, second).allSatisfy({ $0.burst == $1.burst && abs($0.ms - $1.ms) <= 20 }) {
                var period = second
                // Rotate so the period starts with a burst.
                if let start = period.firstIndex(where: { $0.burst }), start > 0 {
                    period = Array(period[start...] + period[..<start])
                }
                return period.map { $0.ms }
            }
            length += 2
        }
        return []
    }
}
