/// The format atad asks of a sound card: signed 16-bit little-endian,
/// interleaved, at a telephone rate.
public struct PCMConfiguration: Equatable, Sendable {
    /// 8000 for narrowband, 16000 for wideband.
    public var sampleRate: Int
    public var channels: Int
    /// The period: how often the card wakes the loop (10 or 20 ms).
    public var periodMilliseconds: Int
    /// The ring buffer, in periods.
    public var periodCount: Int
    /// Playback starts once this many periods are queued: the latency kept
    /// in hand against the loop's jitter. Write that much silence to start.
    public var playbackStartPeriods: Int

    public init(sampleRate: Int = 8000, channels: Int = 1, periodMilliseconds: Int = 20,
                periodCount: Int = 4, playbackStartPeriods: Int = 2) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.periodMilliseconds = periodMilliseconds
        self.periodCount = periodCount
        self.playbackStartPeriods = playbackStartPeriods
    }

    /// Frames in one period as asked (160 at 8000 Hz and 20 ms).
    public var periodFrames: Int { sampleRate * periodMilliseconds / 1000 }
    public var bufferFrames: Int { periodFrames * periodCount }
}

/// The state of a PCM stream, as ALSA reports it.
public enum PCMState: Equatable, Sendable {
    case open, setUp, prepared, running, xrun, draining, paused, suspended, disconnected, other
    /// Closed by `close()`.
    case closed
}
