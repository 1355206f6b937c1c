import CompactText
import Config
import Line
import SIPMessage
import SIPUserAgent

/// Where a new call goes, given each line's do-not-disturb and forwarding.
enum IncomingDisposition: Equatable {
    /// Ring this free line.
    case ring(Int)
    /// 302 to `target`, a number set on line `from`.
    case forward(String, from: Int)
    /// Wait on this line, in a call (call waiting).
    case wait(Int)
    /// 486: every line is busy or does not want calls.
    case busy(doNotDisturb: Bool)
}

/// Do-not-disturb and call forwarding (issue 16 item 7): the settings each
/// phone dials (`LineAction.feature`), and what they do to calls that come
/// in. Lines are tried in board order, like a hunt group: one in
/// do-not-disturb is passed over, one that forwards everything takes the
/// call to its number, the first free one rings; when none can ring, the
/// first busy line with a busy forwarding sends the call there.
extension CallControl {
    /// The settings kept from the last run (the state file).
    public func restoreFeatures(_ saved: [(line: Int, LineFeatures)]) -> [Action] {
        for (line, features) in saved where lines[line] != nil {
            lines[line]?.features = features
            emit(.line(line, .input(.featuresActive(!features.isEmpty))))
        }
        return take()
    }

    /// The phone on `line` dialed a feature code.
    public func lineFeature(_ line: Int, _ request: FeatureRequest) -> [Action] {
        guard var features = lines[line]?.features else { return [] }
        if case .cancelCallWaiting = request {
            lines[line]?.callWaitingCancelled = true
            emit(.log(.info, "line \(line): call waiting off for the next call"))
            return take()
        }
        features.apply(request)
        lines[line]?.features = features
        switch request {
        case .doNotDisturb(let on): emit(.log(.info, "line \(line): do-not-disturb \(on ? "on" : "off")"))
        case .forward(let condition, let target): emit(.log(.info, "line \(line): " + condition.logText(to: target)))
        case .cancelCallWaiting: break
        }
        if case .forward(_, .some) = request, account(ofLine: line) == nil {
            emit(.log(.warn, "line \(line): no account to forward calls through: they ring as usual"))
        }
        emit(.line(line, .input(.featuresActive(!features.isEmpty))))
        emit(.featuresChanged)
        return take()
    }

    /// Every line's settings, for the state file.
    public var featureSettings: [(line: Int, LineFeatures)] { lines.all.map { ($0.number, $0.features) } }

    /// `line N features: ...` for `status`, when the line has something set.
    public func featureStatus(ofLine number: Int) -> String? {
        guard let features = lines[number]?.features, !features.isEmpty else { return nil }
        return "line \(number) features: "
            + features.summary(noAnswerSeconds: site.lineSettings(number).forwardNoAnswerSeconds)
    }

    func disposition() -> IncomingDisposition {
        var busyForward: IncomingDisposition?
        var waitOn: IncomingDisposition?
        var doNotDisturb = false
        for line in lines.all {
            if line.features.doNotDisturb {
                doNotDisturb = true
                continue
            }
            if let target = forwarding(.always, on: line) { return .forward(target, from: line.number) }
            if line.canRing { return .ring(line.number) }
            if waitOn == nil, line.canWait, line.active != line.callWithoutWaiting, site.lineSettings(line.number).callWaiting {
                waitOn = .wait(line.number)
            }
            if busyForward == nil, let target = forwarding(.busy, on: line) {
                busyForward = .forward(target, from: line.number)
            }
        }
        return waitOn ?? busyForward ?? .busy(doNotDisturb: doNotDisturb)
    }

    /// A forwarding in force on `line`: its number, when the line has an
    /// account to forward through (without one, the only host to name
    /// would be our own, and the caller would come straight back).
    func forwarding(_ condition: ForwardingCondition, on line: LineCalls) -> String? {
        guard account(ofLine: line.number) != nil else { return nil }
        return line.features.target(condition)
    }

    /// The Contact of the 302: the number at the line's account's domain,
    /// which the caller's proxy routes as if the phone had dialed it.
    func forwardingURI(_ target: String, line: Int) -> String {
        "sip:\(SIPPercent.encodeUser(target))@\(SIPAccount.uriHost(account(ofLine: line)?.domain ?? "invalid"))"
    }

    /// A ringing call's no-answer forwarding is due.
    func forwardUnanswered(_ call: Call<Route>, to target: String) {
        guard call.incoming?.state == .ringing else { return }
        emit(.log(.info, "line \(call.line): call \(call.callID) not answered; forwarded to \(target)"))
        apply(call.incoming?.redirect(to: target) ?? [], to: call)
    }
}
