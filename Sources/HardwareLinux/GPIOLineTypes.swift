/// The pull resistor of an input line.
public enum GPIOBias: Equatable, Sendable {
    /// Leave whatever the firmware or device tree set.
    case asIs
    case disabled
    case pullUp
    case pullDown
}

/// An edge seen on an input line, in logical terms: with active-low
/// requested, the kernel has already inverted it (rising = became active).
public enum GPIOEdge: Equatable, Sendable {
    case rising
    case falling

    /// The logical level the line has after this edge.
    public var level: Bool { self == .rising }
}

/// One edge event read from the kernel.
public struct GPIOEdgeEvent: Equatable, Sendable {
    public var edge: GPIOEdge
    /// The kernel's timestamp of the edge in nanoseconds: CLOCK_MONOTONIC on
    /// Linux 5.7 and later (CLOCK_REALTIME before): see
    /// `HookEdgeInterpreter.plausibleInstant` for mixing it with the loop's clock.
    public var timestampNanoseconds: Int64

    public init(edge: GPIOEdge, timestampNanoseconds: Int64) {
        self.edge = edge
        self.timestampNanoseconds = timestampNanoseconds
    }
}
