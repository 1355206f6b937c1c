import Timebase

/// Steps through a ring cadence (alternating on/off durations in ms): when
/// the ringer switches, and to what.
public struct RingCadence: Sendable {
    public let pattern: [UInt16]
    private var index = 0
    public private(set) var isOn = false
    public private(set) var nextSwitch: Instant?

    public init(pattern: [UInt16]) {
        // A pattern that cannot step (empty or all zero) rings continuously.
        self.pattern = pattern.contains { $0 > 0 } ? pattern : []
    }

    /// How long the current phase (burst or pause) lasts, in ms.
    public var currentPhaseMilliseconds: UInt16 { pattern.isEmpty ? 0 : pattern[index] }

    /// The longest pause of the cadence, in ms (0 when it rings continuously).
    public var longestPauseMilliseconds: UInt16 {
        var longest: UInt16 = 0
        for (position, length) in pattern.enumerated() where position % 2 == 1 { longest = max(longest, length) }
        return longest
    }

    /// Starts ringing at `now`: the ringer goes on.
    public mutating func start(at now: Instant) {
        index = 0
        isOn = true
        nextSwitch = pattern.isEmpty ? nil : now + .milliseconds(Int64(pattern[0]))
    }

    public mutating func stop() {
        isOn = false
        nextSwitch = nil
    }

    /// Moves past every switch due by `now`; returns whether the ringer
    /// changed, and so its new state is `isOn`.
    public mutating func advance(to now: Instant) -> Bool {
        var changed = false
        while let due = nextSwitch, due <= now {
            index = (index + 1) % pattern.count
            isOn = index % 2 == 0
            nextSwitch = due + .milliseconds(Int64(pattern[index]))
            changed.toggle()
        }
        return changed
    }
}
