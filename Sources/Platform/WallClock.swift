import CAtadSystem

/// The board's calendar clock, read only for what a person sees (the
/// caller ID date); every timer runs on the monotonic clock instead.
public enum WallClock {
    /// Month (1-12), day, hour and minute in local time; nil when the
    /// clock cannot be read.
    public static func localTime() -> (month: Int, day: Int, hour: Int, minute: Int)? {
        var month: Int32 = 0, day: Int32 = 0, hour: Int32 = 0, minute: Int32 = 0
        guard atad_local_time(&month, &day, &hour, &minute) == 0 else { return nil }
        return (Int(month), Int(day), Int(hour), Int(minute))
    }
}
