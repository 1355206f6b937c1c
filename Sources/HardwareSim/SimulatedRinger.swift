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
    /// Bursts begun since the ringing started (`ringing`'s second line).
    private(set) var bursts = 0
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
        if burst { bursts += 1 }
        if !burst, togglesInBurst >= 4, let half = measuredHalfPeriod { completedHalfPeriod = half }
        if burst { burstFirstToggle = nil; togglesInBurst = 0 }
        phaseStarts.append((burst, now))
        if phaseStarts.count > SimulatedRinger.historyLimit { phaseStarts.removeFirst(phaseStarts.count - SimulatedRinger.historyLimit) }
    }

    mutating func stopped() {
        ringing = false
        bursts = 0
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
        // Segment i runs from phase start i to i + 1 (completed ones only).
        func milliseconds(_ index: Int) -> Int {
            Int((phaseStarts[index + 1].at - phaseStarts[index].at).milliseconds)
        }
        // The shortest period (an even number of segments) that repeats:
        // the last `length` segments match the `length` before them.
        let count = max(0, phaseStarts.count - 1)
        var length = 2
        while length * 2 <= count {
            let earlier = count - 2 * length, latest = count - length
            var repeats = true
            for offset in 0..<length {
                let a = earlier + offset, b = latest + offset
                if phaseStarts[a].burst != phaseStarts[b].burst || abs(milliseconds(a) - milliseconds(b)) > 20 {
                    repeats = false
                    break
                }
            }
            if repeats {
                // Rotated so the period starts with a burst.
                var start = 0
                while start < length && !phaseStarts[latest + start].burst { start += 1 }
                if start == length { start = 0 }
                var period: [Int] = []
                for offset in 0..<length { period.append(milliseconds(latest + (start + offset) % length)) }
                return period
            }
            length += 2
        }
        return []
    }
}
