/// The table of country presets and lookups into it.
public enum CountryPresets {
    /// Every preset, by code.
    public static var all: [CountryPreset] { presetTable }

    public static var codes: [String] { presetTable.map { $0.code } }

    public static func preset(code: String) -> CountryPreset? {
        presetTable.first { $0.code == code }
    }
}
