import CompactText
/// When a forwarding applies to a call that comes in.
public enum ForwardingCondition: Int, Sendable, CaseIterable {
    /// Every call, without ringing.
    case always
    /// Calls that find the line busy.
    case busy
    /// Calls the phone does not answer in time.
    case noAnswer
}

/// A setting the phone changes by dialing a feature code.
public enum FeatureRequest: Equatable, Sendable {
    case doNotDisturb(Bool)
    /// Forward calls to a number, or (nil) stop forwarding them.
    case forward(ForwardingCondition, to: String?)
    /// No call waiting during the call about to be dialed (*70: a fax or
    /// modem call the tone would break); not a setting kept.
    case cancelCallWaiting
}

/// The codes a handset dials to change its settings (`[features]`),
/// matched before the dial plan. Defaults are the North American vertical
/// service codes (*78/*79 do-not-disturb, *72/*73 forward all, *90/*91
/// busy, *92/*93 no answer, *70 cancel call waiting), which clash with no emergency or national
/// number anywhere; a code set to nil is off.
public struct FeatureCodes: Equatable, Sendable {
    /// One code per request kind, in `FeatureCodes.kinds` order.
    public var codes: [String?]

    /// The request each code makes, and whether a number follows it.
    public static let kinds: [(key: String, request: FeatureRequest, takesNumber: Bool)] = [
        ("dnd_on", .doNotDisturb(true), false),
        ("dnd_off", .doNotDisturb(false), false),
        ("forward_all", .forward(.always, to: ""), true),
        ("forward_all_off", .forward(.always, to: nil), false),
        ("forward_busy", .forward(.busy, to: ""), true),
        ("forward_busy_off", .forward(.busy, to: nil), false),
        ("forward_no_answer", .forward(.noAnswer, to: ""), true),
        ("forward_no_answer_off", .forward(.noAnswer, to: nil), false),
        ("cancel_call_waiting", .cancelCallWaiting, false),
    ]
    public static let defaults: [String?] = ["*78", "*79", "*72", "*73", "*90", "*91", "*92", "*93", "*70"]

    public init(codes: [String?] = FeatureCodes.defaults) { self.codes = codes }

    /// No code at all: the dial plan sees every digit.
    public static let none = FeatureCodes(codes: [String?](repeating: nil, count: kinds.count))

    /// What the digits dialed so far are, as feature codes go.
    public enum Match: Equatable {
        /// Not a feature code: the dial plan decides.
        case none
        /// The start of a code: wait for more digits.
        case partial
        /// A code that needs no number: act now.
        case request(FeatureRequest)
        /// A forwarding code; the digits after it, checked against the
        /// dial plan, are the number.
        case number(ForwardingCondition, dialed: String)
    }

    public func match(_ digits: String) -> Match {
        var partial = false
        for (index, code) in codes.enumerated() {
            guard let code else { continue }
            let kind = FeatureCodes.kinds[index]
            if digits == code, !kind.takesNumber { return .request(kind.request) }
            if kind.takesNumber, digits.utf8.starts(with: code.utf8), case .forward(let condition, _) = kind.request {
                return .number(condition, dialed: String(digits.dropFirst(code.count)))
            }
            if code.utf8.starts(with: digits.utf8) { partial = true }
        }
        return partial ? .partial : .none
    }

    /// Why `codes` cannot be matched unambiguously (one is the start of
    /// another), and the keys of the two codes; nil when they can.
    public var conflict: (message: String, keys: [String])? {
        for (i, first) in codes.enumerated() {
            guard let first else { continue }
            for (j, second) in codes.enumerated() where i != j {
                guard let second, second.utf8.starts(with: first.utf8) else { continue }
                let keys = [FeatureCodes.kinds[i].key, FeatureCodes.kinds[j].key]
                return ("'\(keys[0]) = \(first)' and '\(keys[1]) = \(second)': "
                        + (first == second ? "the same code twice" : "one code is the start of the other"), keys)
            }
        }
        return nil
    }
}

extension FeatureCodes {
    /// The longest forwarding number.
    public static let longestNumber = 64

    /// A key a feature code or a forwarding number may hold: 0-9, * or #.
    public static func isKey(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "#")
    }
}
