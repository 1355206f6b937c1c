import CompactText
/// What a line's phone has set by feature codes: do-not-disturb and where
/// its calls are forwarded. Kept across restarts (the state file).
public struct LineFeatures: Equatable, Sendable {
    public var doNotDisturb = false
    /// The forwarding number of each `ForwardingCondition`, by raw value.
    public var forwardTargets: [String?] = [nil, nil, nil]

    public init() {}

    public func target(_ condition: ForwardingCondition) -> String? { forwardTargets[condition.rawValue] }

    /// Nothing set: the line behaves as configured.
    public var isEmpty: Bool { !doNotDisturb && forwardTargets.allSatisfy { $0 == nil } }

    public mutating func apply(_ request: FeatureRequest) {
        switch request {
        case .doNotDisturb(let on): doNotDisturb = on
        case .forward(let condition, let target): forwardTargets[condition.rawValue] = target
        case .cancelCallWaiting: break  // one call's, kept by call control
        }
    }

    /// `do-not-disturb, forward all to N, ...` for `status`; the no-answer
    /// forwarding names its delay.
    public func summary(noAnswerSeconds: Int) -> String {
        var parts: [String] = doNotDisturb ? ["do-not-disturb"] : []
        for condition in ForwardingCondition.allCases {
            guard let target = target(condition) else { continue }
            parts.append("forward \(condition.name) to \(target)"
                         + (condition == .noAnswer ? " after \(noAnswerSeconds) s" : ""))
        }
        return parts.joined(separator: ", ")
    }
}

extension ForwardingCondition {
    /// As `status` and the state file's keys say it (`forward_all`, ...).
    public var name: String {
        switch self {
        case .always: return "all"
        case .busy: return "busy"
        case .noAnswer: return "no answer"
        }
    }

    /// What the log says when it is set or cleared.
    public func logText(to target: String?) -> String {
        let what: String
        switch self {
        case .always: what = "forwarding all calls"
        case .busy: what = "forwarding when busy"
        case .noAnswer: what = "forwarding unanswered calls"
        }
        return what + (target.map { " to \($0)" } ?? " off")
    }
}
