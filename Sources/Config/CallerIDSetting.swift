import CountryPresets

/// A line's `caller_id`: the country's usual caller ID, a modulation of the
/// user's choice (a phone bought abroad), or none.
public enum CallerIDSetting: Equatable, Sendable {
    case auto
    case off
    case modulation(CallerIDSignalling.Modulation)

    public init?(settingName: String) {
        switch settingName {
        case "auto": self = .auto
        case "off": self = .off
        default:
            guard let modulation = CallerIDSignalling.Modulation(rawValue: settingName) else { return nil }
            self = .modulation(modulation)
        }
    }

    /// What the line sends in `country`; nil for none.
    public func signalling(inCountry country: String) -> CallerIDSignalling? {
        switch self {
        case .auto: return CallerIDSignalling.usual(inCountry: country)
        case .off: return nil
        case .modulation(let modulation): return CallerIDSignalling.chosen(modulation, inCountry: country)
        }
    }
}
