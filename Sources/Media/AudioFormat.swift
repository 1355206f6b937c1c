/// The line's audio format and the frame the daemon moves every tick. The
/// path is sample-rate aware so a 16 kHz codec can follow G.711.
public struct AudioFormat: Equatable, Sendable {
    public var sampleRate: Int
    /// Milliseconds of audio per frame tick.
    public var frameMilliseconds: Int

    public init(sampleRate: Int = 8000, frameMilliseconds: Int = 10) {
        self.sampleRate = sampleRate
        self.frameMilliseconds = frameMilliseconds
    }

    public static let narrowband = AudioFormat()

    public var frameSamples: Int { sampleRate * frameMilliseconds / 1000 }

    /// Samples in `milliseconds` of audio.
    public func samples(milliseconds: Int) -> Int { sampleRate * milliseconds / 1000 }
}
