import LineHardware
import Timebase

/// The simulated board's bell: watches the ring-mode and forward/reverse
/// outputs the ring driver produces and measures what a bell would see —
/// the ring frequency from the polarity toggles and the cadence from when
/// toggling starts and stops.
struct SimulatedRinger {
    /// Start of each burst and of each pause, oldest first (bounded).
    private var phaseStarts: [(burst: Bool, at: Instant)] = []
    private var lastToggle: Instant?
    private var togglesInBurst = 0
    private var burstFirstToggle: Instant?
    private var measuredHalfPeriod: Interval?
    /// From the last whole burst: many toggles, so timer jitter averages out.
    private var completedHalfPeriod: Interval?
    private(set) var ringing = false
    private static let historyLimit = 32

    mutating func observe(_ outputs: RingOutputs, previous: RingOutputs, at now: Instant) {
        if outputs.polarity != previous.polarity && outputs.ringMode {
            if !ringing || burstFirstToggle == nil { burstFirstToggle = now; togglesInBurst = 0 }
            togglesInBurst += 1
            if togglesInBurst >= 2, let first = burstFirstToggle {
                measuredHalfPeriod = Interval(nanoseconds: (now - first).nanoseconds / Int64(togglesInBurst - 1))
            }
            lastToggle = now
        }
    }

    /// The cadence phase changed: a burst started (true) or a pause (false).
    mutating func phaseChanged(burst: Bool, at now: Instant) {
        ringing = true
        if !burst, togglesInBurst >= 4, let half = measuredHalfPeriod { completedHalfPeriod = half }
        if burst { burstFirstToggle = nil; togglesInBurst = 0 }
        phaseStarts.append((burst, now))
        if phaseStarts.count > SimulatedRinger.historyLimit { phaseStarts.removeFirst(phaseStarts.count - SimulatedRinger.historyLimit) }
    }

    mutating func stopped() {
        ringing = false
        phaseStarts.removeAll()
        measuredHalfPeriod = nil
        completedHalfPeriod = nil
        burstFirstToggle = nil
    }

    /// The ring frequency measured from the polarity toggles, in Hz.
    /// Until a burst has ended, from at least 40 toggles of the current one
    /// (so one late wake-up of the loop cannot skew the reading).
    var frequencyHz: Int? {
        let current = togglesInBurst >= 40 ? measuredHalfPeriod : nil
        guard let half = completedHalfPeriod ?? current, half.nanoseconds > 0 else { return nil }
        return Int((500_000_000 + half.nanoseconds / 2) / half.nanoseconds)
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
