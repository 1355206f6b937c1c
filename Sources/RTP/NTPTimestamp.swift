import Timebase

/// 64-bit NTP-format timestamps (RFC 3550 §4): whole seconds in the upper
/// 32 bits, the fraction of a second in the lower 32.
///
/// atad stamps its sender reports from its monotonic clock, not wall-clock
/// time: RTCP uses the value only as an opaque token the far end echoes
/// back (LSR), so the round-trip time stays exact as long as we are
/// consistent, and it cannot jump when NTP steps the system clock. We do
/// not offer lip-sync with other media, which would need real wall time.
public enum NTPTimestamp {
    /// `instant` in NTP format (origin: the monotonic clock's origin).
    public static func from(_ instant: Instant) -> UInt64 {
        var seconds = instant.nanoseconds / 1_000_000_000
        var remainder = instant.nanoseconds % 1_000_000_000
        if remainder < 0 { remainder += 1_000_000_000; seconds -= 1 }
        let fraction = (UInt64(remainder) << 32) / 1_000_000_000
        return UInt64(truncatingIfNeeded: seconds) << 32 | fraction
    }

    /// The middle 32 bits (16 of seconds, 16 of fraction): the compact form
    /// RTCP's LSR, DLSR and round-trip arithmetic use, in 1/65536 s.
    public static func middle32(_ ntp: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ntp >> 16)
    }
}
