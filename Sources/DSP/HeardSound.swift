/// What a listener on the line hears, as `ToneAnalyzer.analyze()` reports
/// it.
public enum HeardSound: Equatable, Sendable {
    /// Nothing above the analyzer's threshold (−45 dBm0 by default).
    case silence
    /// A tone: its one or two frequencies in Hz (ascending), its level in
    /// dBm0 per component (the mean when two differ), and its cadence as one
    /// period of alternating on/off milliseconds starting with "on" (empty
    /// when continuous). A modulated tone ("425*25") is reported as its
    /// carrier with the carrier's level; a tone of more than two
    /// frequencies (the howler) as its two strongest.
    case tone(frequencies: [Double], levelDBm0: Double, cadence: [Int])
}
