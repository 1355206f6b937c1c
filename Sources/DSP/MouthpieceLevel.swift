/// What the phone sends, for calibrating the sound card's capture gain
/// against a keypad: a phone's DTMF tones are specified at about −6 to −10
/// dBm0 per tone, so the level each tone arrives at says how far the gain is
/// off. Built on a `ToneAnalyzer` fed with the mouthpiece's audio.
public struct MouthpieceLevel: Equatable, Sendable {
    /// A keypad tone pair and the level of each of its tones.
    public struct KeyTone: Equatable, Sendable {
        public var digit: DTMFDigit
        public var lowHz: Double
        public var lowDBm0: Double
        public var highHz: Double
        public var highDBm0: Double
    }

    /// The mean level of the last second; nil before the first 10 ms.
    public var lastSecondDBm0: Double?
    /// The newest stretch of sound, if it was a DTMF pair (the key may have
    /// been let go since).
    public var keyTone: KeyTone?
    /// Whether the newest stretch of sound was something else (speech,
    /// a single tone); false when nothing was heard yet.
    public var otherSound: Bool

    /// How far a tone may be off its DTMF frequency and still name the
    /// key: wider than the 1.5 % a receiver must accept, because this only
    /// labels what was heard.
    public static let frequencyTolerance = 0.035

    /// Reads the analyzer; allocates, so it runs on request only.
    public static func read(_ analyzer: ToneAnalyzer) -> MouthpieceLevel {
        let components = analyzer.lastSoundComponents()
        var reading = MouthpieceLevel(lastSecondDBm0: analyzer.meanLevelDBm0(overLast: 1000), keyTone: nil,
                                      otherSound: !components.isEmpty)
        // The strongest component in each group, each near a DTMF frequency.
        guard let low = components.first(where: { $0.frequency < 1100 }),
              let high = components.first(where: { $0.frequency >= 1100 }),
              let row = nearest(low.frequency, DTMFDigit.rowFrequencies),
              let column = nearest(high.frequency, DTMFDigit.columnFrequencies),
              let digit = DTMFDigit.allCases.first(where: { $0.row == row && $0.column == column })
        else { return reading }
        reading.keyTone = KeyTone(digit: digit, lowHz: low.frequency, lowDBm0: low.levelDBm0,
                                  highHz: high.frequency, highDBm0: high.levelDBm0)
        reading.otherSound = false
        return reading
    }

    private static func nearest(_ frequency: Double, _ candidates: [Double]) -> Int? {
        candidates.firstIndex { abs(frequency - $0) <= $0 * frequencyTolerance }
    }
}
