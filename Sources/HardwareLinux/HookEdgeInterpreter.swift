import Timebase

/// Whether the handset is on or off its cradle.
public enum HookState: Equatable, Sendable {
    case onHook
    case offHook
}

/// A debounced hook change. `at` is the time of the edge that began the
/// stable level (the kernel's timestamp), not the time it was confirmed, so
/// pulse-dialling breaks and makes keep their true lengths.
public struct HookEvent: Equatable, Sendable {
    public var state: HookState
    public var at: Instant

    public init(state: HookState, at: Instant) {
        self.state = state
        self.at = at
    }
}

/// Turns the hook input's edges into debounced on/off-hook events.
///
/// A new level counts only once it has stayed unchanged for `debounce`;
/// bounces shorter than that are dropped. A state machine without I/O: feed
/// it edges (oldest first) and the time, apply the events it returns, and
/// wake it at `nextDeadline`.
///
/// Levels are logical: the active level (1) means off hook. When the kernel
/// already inverts the line (requested active-low), leave `inverted` false;
/// set it to invert in software instead.
public struct HookEdgeInterpreter: Sendable {
    public let debounce: Interval
    public let inverted: Bool
    /// The debounced state.
    public private(set) var state: HookState

    /// The level waiting out the debounce, and since when.
    private var pendingState: HookState?
    private var pendingSince: Instant = .zero
    /// Time never runs backwards here, even if edge timestamps do.
    private var latest: Instant

    /// `initialLevel` is the line's value when the interpreter starts (from
    /// `GPIOInputLine.value()`); it is taken as stable, with no event.
    public init(initialLevel: Bool, at start: Instant, debounce: Interval = .milliseconds(20),
                inverted: Bool = false) {
        self.debounce = debounce.nanoseconds < 0 ? .zero : debounce
        self.inverted = inverted
        self.latest = start
        self.state = (initialLevel != inverted) ? .offHook : .onHook
    }

    /// When `advance` must run next (nil: nothing pending).
    public var nextDeadline: Instant? {
        pendingState == nil ? nil : pendingSince + debounce
    }

    /// An edge read from the line (with its timestamp). Returns the event a
    /// pending level committed before this edge, if any, or this edge's own
    /// event when there is no debounce.
    public mutating func edge(_ edge: GPIOEdge, at time: Instant) -> HookEvent? {
        level(edge.level, at: time)
    }

    /// The line's logical level seen at `time` (an edge, or a value read).
    public mutating func level(_ level: Bool, at time: Instant) -> HookEvent? {
        let now = time < latest ? latest : time
        // A pending level that outlived its debounce before this edge is real.
        var committed = advance(to: now)
        let newState = hookState(for: level)
        if newState == state {
            // Back to the stable level before the debounce ran out: a bounce.
            pendingState = nil
        } else if newState != pendingState {
            pendingState = newState
            pendingSince = now
            if debounce == .zero { committed = advance(to: now) }
        }
        return committed
    }

    /// The level the edges seen so far leave the line at: the one waiting
    /// out the debounce, else the debounced state.
    public var latestState: HookState { pendingState ?? state }

    /// The line's value read after a batch of edges (`GPIOInputLine.value()`).
    /// It usually agrees with the last edge and changes nothing. When it
    /// does not, an edge was lost: the kernel keeps 16 per line and drops the
    /// rest while the loop is stalled, so a bouncy dial can lose the last
    /// one. The value read wins, debounced from the time of the read (when
    /// it changed is unknown). Returns `lostEdge` true in that case.
    public mutating func levelRead(_ level: Bool, at time: Instant) -> (event: HookEvent?, lostEdge: Bool) {
        let lostEdge = hookState(for: level) != latestState
        return (self.level(level, at: time), lostEdge)
    }

    /// Moves time on; returns the event of a level that has now been stable
    /// for the whole debounce time.
    public mutating func advance(to now: Instant) -> HookEvent? {
        if now > latest { latest = now }
        guard let pending = pendingState, latest >= pendingSince + debounce else { return nil }
        state = pending
        pendingState = nil
        return HookEvent(state: pending, at: pendingSince)
    }

    private func hookState(for level: Bool) -> HookState {
        (level != inverted) ? .offHook : .onHook
    }

    /// The instant of a kernel edge timestamp, checked against the loop's
    /// clock: the kernel stamps GPIO events with CLOCK_MONOTONIC since Linux
    /// 5.7 but with CLOCK_REALTIME before, so a stamp in the future or more
    /// than `tolerance` in the past is replaced by `now`.
    public static func plausibleInstant(ofEventAt nanoseconds: Int64, now: Instant,
                                        tolerance: Interval = .seconds(1)) -> Instant {
        let stamp = Instant(nanoseconds: nanoseconds)
        if stamp > now || now - stamp > tolerance { return now }
        return stamp
    }
}
