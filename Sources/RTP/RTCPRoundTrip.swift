import Timebase

/// Round-trip time from a reception report about us (RFC 3550 §6.4.1):
/// RTT = A − LSR − DLSR, all in 1/65536 s, where A is when the report
/// arrived, LSR echoes our last sender report's timestamp and DLSR is how
/// long the far end held it.
public enum RTCPRoundTrip {
    /// The round-trip time in milliseconds; nil when the far end has not
    /// received a sender report from us yet (LSR 0) or the figures are
    /// inconsistent (a negative result).
    /// - Parameter arrival: when the report arrived, NTP format, on the
    ///   same clock our sender reports used.
    public static func milliseconds(arrival: UInt64, lastSenderReport: UInt32,
                                    delaySinceLastSenderReport: UInt32) -> Double? {
        guard lastSenderReport != 0 else { return nil }
        let units = NTPTimestamp.middle32(arrival) &- lastSenderReport &- delaySinceLastSenderReport
        let signed = Int32(bitPattern: units)
        guard signed >= 0 else { return nil }
        return Double(signed) * 1000 / 65536
    }

    /// `interval` in the 1/65536 s units of DLSR, for the report we send
    /// after receiving the far end's sender report (saturates at ~18 h).
    public static func delayUnits(_ interval: Interval) -> UInt32 {
        guard interval.nanoseconds > 0 else { return 0 }
        let seconds = UInt64(interval.nanoseconds / 1_000_000_000)
        let remainder = UInt64(interval.nanoseconds % 1_000_000_000)
        return UInt32(clamping: (seconds << 16) + (remainder << 16) / 1_000_000_000)
    }
}
