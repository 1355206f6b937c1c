import CountryPresets

/// One line's hook-switch timing in ms: the country's flash window and
/// hang-up time, with the line's own `flash_min_ms`, `flash_max_ms` and
/// `hangup_ms` on top. Lives apart from the preset because a phone with a
/// long R key needs a wider window on its line only.
public struct HookWindows: Equatable, Sendable {
    /// How far past the longest flash a hang-up starts when the line widens
    /// the window without giving its own hang-up time: breaks in between
    /// change nothing, so a phone a little over its nominal break stays in
    /// its call.
    public static let hangUpMargin = 100

    public var flashMinimumMs: Int
    public var flashMaximumMs: Int
    public var hangUpMs: Int

    public init(flashMinimumMs: Int, flashMaximumMs: Int, hangUpMs: Int) {
        self.flashMinimumMs = flashMinimumMs
        self.flashMaximumMs = flashMaximumMs
        self.hangUpMs = hangUpMs
    }

    /// The line's windows: its own keys where set, the preset's otherwise.
    /// Without its own `hangup_ms`, the hang-up time rises to
    /// `hangUpMargin` past a flash window that reaches too close to it.
    public init(preset: CountryPreset, line: SiteConfig.LineSettings) {
        flashMinimumMs = line.flashMinimumMs ?? Int(preset.flashMinimumMs)
        flashMaximumMs = line.flashMaximumMs ?? Int(preset.flashMaximumMs)
        if let own = line.hangUpMs {
            hangUpMs = own
        } else {
            hangUpMs = max(Int(preset.hangUpMs), flashMaximumMs + HookWindows.hangUpMargin)
        }
    }

    /// The middle of the flash window: what the `flash` command sends.
    public var typicalFlashMs: Int { (flashMinimumMs + flashMaximumMs) / 2 }
}
