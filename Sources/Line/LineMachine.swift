import CountryPresets
import DialPlan
import Timebase

/// The FXS line: turns hook edges, DTMF digits and call-control events into
/// tones, ringing, numbers to dial and state. No I/O: every input comes with
/// the time, and `nextDeadline` says when `advance(to:)` must run next.
///
/// Hook timing: an on-hook shorter than `hangUp` keeps the line off hook.
/// While dial tone plays or digits are collected, a break up to
/// `pulseBreakMax` is a dial pulse; otherwise a break in the flash window
/// [`flashMinimum`, `flashMaximum`] is a flash, and a longer one that ends
/// before `hangUp` changes nothing. A break that reaches `hangUp` is a
/// hang-up.
public struct LineMachine: Sendable {
    public let lineNumber: Int
    public var preset: CountryPreset
    public var timings: LineTimings
    public var digitMap: DigitMap
    public var pulseMapping: PulseMapping
    /// Dialed at once on off-hook (hotline), or after `warmlineDelay`.
    public var hotline: String?
    /// How the phone is alerted to caller ID data; nil: the line sends none.
    public var callerIDAlerting: CallerIDSignalling.Alerting?
    /// The line sends a waiting call's caller ID during the call (type II,
    /// FSK lines): `LineMachine+WaitingCallerID`.
    public var sendsCallerIDDuringCall = false
    /// `polarity_reversal`: the line's polarity is reversed while a call
    /// the phone placed is connected (answer supervision for payphones and
    /// call loggers) and, with `both`, a call it answered; it comes back
    /// when the call ends.
    public var reversesPolarityOnAnswer = false
    public var reversesPolarityWhenAnswering = false
    /// `disconnect_pulse_ms`: when the far end hangs up a connected call,
    /// the loop current is cut this long (CPC), so an answering machine
    /// lets the line go; nil: never.
    public var disconnectPulse: Interval?
    /// `[features]`: codes matched before the dial plan.
    public var featureCodes = FeatureCodes.none

    public private(set) var state: LineState = .idle
    /// Digits collected so far in this dialing attempt.
    public private(set) var digits = ""
    /// The last number the dial plan produced.
    public private(set) var lastNumber: String?
    public private(set) var tone: ToneKind?
    public internal(set) var ringer: RingCadence
    public private(set) var pulseDigitsDecoded = 0

    /// Messages wait (the dial tone stutters).
    public private(set) var messageWaiting = false
    /// Do-not-disturb or a forwarding is set: the dial tone stutters too,
    /// so nobody wonders for long why the phone stays silent.
    public private(set) var featuresActive = false
    /// Call control holds a call while the line gives recall dial tone or
    /// places, or talks on, a second one: every flash goes to call control,
    /// and the far end of the second call hanging up sends no CPC pulse.
    public private(set) var holdingCall = false
    /// A second call waits (call waiting): a hang-up goes to call control
    /// even after the first call's far end left, so the phone rings for it.
    public private(set) var callWaits = false
    /// The phone's indicator has not been told of the last change yet (a
    /// burst cut short by the handset or a call is asked for again).
    private var indicatorPending = false
    /// The hook as the last hook edge left it (a dial pulse's break included).
    public internal(set) var physicallyOffHook = false
    var breakStart: Instant?
    private var pulseCount = 0
    private var lastPulseEnd: Instant?
    private var stateDeadline: Instant?
    var callerIDStep: CallerIDStep?
    var waitingCallerIDStep: WaitingCallerIDStep?
    var polarityReversed = false
    var loopPulse: LoopPulse?
    /// The hook as last reported during a disconnect pulse, and when:
    /// applied once the pulse has settled.
    var hookSeenDuringPulse: (offHook: Bool, at: Instant)?
    var pulseClosedAt: Instant?

    /// A disconnect pulse: the loop is open, then the hook reading settles
    /// (a SLIC reads an open loop as on hook: those edges are the pulse's).
    enum LoopPulse: Equatable {
        case open(until: Instant)
        case settling(until: Instant)

        var deadline: Instant {
            switch self {
            case .open(let until), .settling(let until): return until
            }
        }
    }

    /// How long hook edges after a disconnect pulse still count as its own.
    static let pulseSettling: Interval = .milliseconds(100)
    /// The confirmation tone's three 100/100 ms bursts (Telcordia GR-506).
    static let confirmationLength: Interval = .milliseconds(600)

    /// Where an incoming call's caller ID is.
    enum CallerIDStep: Equatable {
        /// Data goes in the first long pause of the cadence.
        case awaitingPause
        case sendAt(Instant)
        /// Before-ring data is on the line; ring when it ends (or at the
        /// time limit, should its end never be reported).
        case sending(limit: Instant)
        case ringAt(Instant)

        var deadline: Instant? {
            switch self {
            case .awaitingPause: return nil
            case .sendAt(let at), .sending(let at), .ringAt(let at): return at
            }
        }
    }

    /// The wait from the line reversal to before-ring data (≥200 ms for
    /// DTMF, ≥100 ms for BT), from the data's end to the first ring
    /// (200-500 ms), and from the first ring's end to data in its pause
    /// (GR-30, EN 300 659-1: at least 500 ms).
    static let reversalToData: Interval = .milliseconds(250)
    static let dataToRing: Interval = .milliseconds(250)
    static let ringEndToData: Interval = .milliseconds(500)
    /// A pause this long holds the data with room to spare (0.5 s, about
    /// 0.8 s of data, 0.2 s before the next ring).
    static let pauseForData: UInt16 = 1500
    /// Data due longer ago than this is not sent.
    static let lateDataLimit: Interval = .milliseconds(200)
    /// The longest before-ring data (DTMF: "A", 20 digits and "C" at
    /// 140 ms each, 3.1 s) with room; past it the line rings anyway.
    static let dataLimit: Interval = .seconds(4)

    public init(lineNumber: Int, preset: CountryPreset, timings: LineTimings, digitMap: DigitMap,
                pulseMapping: PulseMapping = .standard, hotline: String? = nil) {
        self.lineNumber = lineNumber
        self.preset = preset
        self.timings = timings
        self.digitMap = digitMap
        self.pulseMapping = pulseMapping
        self.hotline = hotline
        ringer = RingCadence(pattern: preset.ring.cadence)
    }

    /// Whether the line is off hook as call control sees it (a break shorter
    /// than a hang-up still counts as off hook).
    public var isOffHook: Bool { state != .idle && state != .ringing }

    public var canAcceptIncomingCall: Bool { state == .idle && loopPulse == nil }

    /// A disconnect pulse is under way (a new machine would not finish it).
    public var isSignalling: Bool { loopPulse != nil }

    /// The earliest time something happens without new input.
    public var nextDeadline: Instant? {
        var earliest: Instant?
        func consider(_ candidate: Instant?) {
            guard let candidate else { return }
            if earliest == nil || candidate < earliest! { earliest = candidate }
        }
        if let breakStart { consider(breakStart + timings.hangUp) }
        if breakStart == nil, pulseCount > 0, let lastPulseEnd { consider(lastPulseEnd + timings.interdigitPulseGap) }
        consider(stateDeadline)
        consider(ringer.nextSwitch)
        consider(callerIDStep?.deadline)
        consider(waitingCallerIDStep?.deadline)
        consider(loopPulse?.deadline)
        return earliest
    }

    // MARK: Inputs

    public mutating func handle(_ input: LineInput, at now: Instant) -> [LineAction] {
        var actions = advance(to: now)
        switch input {
        case .hook(let offHook):
            if loopPulse != nil {
                hookSeenDuringPulse = (offHook, now)
                break
            }
            guard offHook != physicallyOffHook else { break }
            physicallyOffHook = offHook
            if offHook { hookWentOff(at: now, &actions) } else { hookWentOn(at: now, &actions) }
        case .dtmf(let digit):
            // A DTMF digit means the handset is physically off hook.
            if acknowledgesAlert(digit, at: now, &actions) { break }
            if breakStart == nil { takeDigit(digit, at: now, &actions) }
        case .incomingCall(let callerID):
            guard state == .idle else { break }
            enter(.ringing, &actions)
            switch callerID ? callerIDAlerting : nil {
            case .afterFirstRing:
                callerIDStep = .awaitingPause
            case .lineReversal, .lineReversalAndDualTone:
                polarityReversed = true
                actions.append(.polarity(reversed: true))
                callerIDStep = .sendAt(now + LineMachine.reversalToData)
                return actions
            case nil:
                break
            }
            ringer.start(at: now)
            actions.append(.ringer(on: true))
        case .messageWaitingIndicatorSent:
            indicatorPending = false
        case .callerIDSent:
            if waitingCallerIDSent(&actions) { break }
            guard state == .ringing, case .sending = callerIDStep else { break }
            callerIDStep = .ringAt(now + LineMachine.dataToRing)
        case .incomingCallEnded:
            guard state == .ringing else { break }
            stopRinging(&actions)
            enter(.idle, &actions)
        case .remoteRinging:
            guard state == .calling else { break }
            enter(.ringback, &actions)
            play(.ringback, &actions)
        case .transferred:
            guard state == .talking, !holdingCall else { break }
            if tone != nil { stopTone(&actions) }
            enter(.calling, &actions)
        case .remoteAnswered:
            guard state == .calling || state == .ringback else { break }
            stopTone(&actions)
            enter(.talking, &actions)
            reverseForCall(reversesPolarityOnAnswer, &actions)
        case .callFailed(let busy):
            guard state == .calling || state == .ringback || state == .talking else { break }
            startDisconnectPulse(at: now, &actions)
            fail(busy: busy, at: now, &actions)
        case .remoteHangUp:
            guard state == .talking || state == .calling || state == .ringback else { break }
            startDisconnectPulse(at: now, &actions)
            fail(busy: true, at: now, &actions)
        case .callHeld:
            guard state == .talking else { break }
            holdingCall = true
            clearDialing()
            startDialTone(at: now, &actions)
        case .callResumed:
            guard holdingCall, isOffHook else { break }
            holdingCall = false
            stopTone(&actions)
            clearDialing()
            stateDeadline = nil
            enter(.talking, &actions)
        case .heldCallEnded:
            holdingCall = false
        case .callWaiting(let waiting):
            if waiting {
                guard state == .talking else { break }
                callWaits = true
                play(.callWaiting, &actions)
                scheduleWaitingCallerID(at: now)
            } else {
                stopWaitingCallerID(&actions)
                callWaits = false
                if tone == .callWaiting { stopTone(&actions) }
            }
        case .waitingCallAnswered:
            stopWaitingCallerID(&actions)
            if state == .talking {
                holdingCall = true
            } else {
                // The first call ended from the far end while this one
                // waited: from its busy tone (or what followed), talking.
                guard callWaits, isOffHook else { break }
                stopTone(&actions)
                clearDialing()
                stateDeadline = nil
                enter(.talking, &actions)
                // An answered call, as at any answer (the far end's hang-up
                // put the polarity back).
                reverseForCall(reversesPolarityWhenAnswering, &actions)
            }
            callWaits = false
            if tone == .callWaiting { stopTone(&actions) }
        case .featuresActive(let active):
            featuresActive = active
            // A dial tone already playing (settings restored at start
            // with the handset up) turns to the right one.
            if state == .dialTone, let tone, tone != dialToneKind { play(dialToneKind, &actions) }
        case .messageWaiting(let waiting):
            guard waiting != messageWaiting else { break }
            messageWaiting = waiting
            indicatorPending = true
            if state == .idle { tellIndicator(&actions) }
        }
        return actions
    }

    /// Runs every deadline due by `now`, in time order.
    public mutating func advance(to now: Instant) -> [LineAction] {
        var actions: [LineAction] = []
        while let due = nextDeadline, due <= now {
            fire(at: due, now: now, &actions)
        }
        return actions
    }

    /// Runs the deadline `due`; `now` is when that happens, later than
    /// `due` after a stall.
    private mutating func fire(at due: Instant, now: Instant, _ actions: inout [LineAction]) {
        if let start = breakStart, start + timings.hangUp <= due {
            breakStart = nil
            hangUp(&actions)
            return
        }
        if breakStart == nil, pulseCount > 0, let end = lastPulseEnd, end + timings.interdigitPulseGap <= due {
            let count = pulseCount
            pulseCount = 0
            lastPulseEnd = nil
            if let digit = pulseMapping.digit(forPulses: count) {
                pulseDigitsDecoded += 1
                takeDigit(digit, at: due, &actions)
            }
            return
        }
        if let switchAt = ringer.nextSwitch, switchAt <= due {
            if ringer.advance(to: due) {
                actions.append(.ringer(on: ringer.isOn))
                if !ringer.isOn, callerIDStep == .awaitingPause,
                   ringer.currentPhaseMilliseconds >= min(LineMachine.pauseForData, ringer.longestPauseMilliseconds) {
                    callerIDStep = .sendAt(due + LineMachine.ringEndToData)
                }
            }
            return
        }
        if let step = callerIDStep, let at = step.deadline, at <= due {
            callerIDStepDue(step, due: due, now: now, &actions)
            return
        }
        if let step = waitingCallerIDStep, step.deadline <= due {
            waitingCallerIDDue(step, at: due, &actions)
            return
        }
        if let pulse = loopPulse, pulse.deadline <= due {
            loopPulseDue(pulse, at: due, &actions)
            return
        }
        if let deadline = stateDeadline, deadline <= due {
            stateDeadline = nil
            stateTimerExpired(at: due, &actions)
        }
    }

    // MARK: Hook

    mutating func hookWentOff(at now: Instant, _ actions: inout [LineAction]) {
        if let start = breakStart {
            breakStart = nil
            classifyBreak(now - start, at: now, &actions)
            return
        }
        switch state {
        case .ringing:
            // Answering during a caller ID reversal keeps the line reversed
            // when answered calls are reversed too (no glitch).
            stopRinging(keepingReversal: reversesPolarityWhenAnswering, &actions)
            enter(.talking, &actions)
            reverseForCall(reversesPolarityWhenAnswering, &actions)
            actions.append(.answer)
        case .idle:
            digits = ""
            if let hotline, timings.warmlineDelay == nil {
                enter(.dialing, &actions)
                placeCall(hotline, &actions)
                return
            }
            startDialTone(at: now, &actions)
        default:
            break
        }
    }

    mutating func hookWentOn(at now: Instant, _ actions: inout [LineAction]) {
        guard isOffHook else { return }
        breakStart = now
    }

    private mutating func classifyBreak(_ length: Interval, at now: Instant, _ actions: inout [LineAction]) {
        if length < timings.glitchMax { return }
        let collecting = state == .dialTone || state == .dialing
        if collecting && length <= timings.pulseBreakMax {
            if pulseCount == 0 && state == .dialTone { stopTone(&actions) }
            pulseCount += 1
            lastPulseEnd = now
            stateDeadline = nil
            return
        }
        // Outside the flash window and short of a hang-up: nothing happened.
        guard length >= timings.flashMinimum, length <= timings.flashMaximum else { return }
        // (A call still waiting after the first one's far end hung up: the
        // flash on its busy tone answers it.)
        if state == .talking || holdingCall || callWaits {
            actions.append(.flash)
        } else if collecting {
            // A flash while dialing starts the number over.
            clearDialing()
            startDialTone(at: now, &actions)
        }
    }

    private mutating func hangUp(_ actions: inout [LineAction]) {
        // A held call is in progress too: call control rings back for it.
        let callInProgress = holdingCall || callWaits || state == .calling || state == .ringback || state == .talking
        stopTone(&actions)
        clearDialing()
        stateDeadline = nil
        enter(.idle, &actions)
        if callInProgress { actions.append(.hangUp) }
    }

    private mutating func clearDialing() {
        pulseCount = 0
        lastPulseEnd = nil
        digits = ""
    }

    // MARK: Digits

    private mutating func takeDigit(_ digit: Character, at now: Instant, _ actions: inout [LineAction]) {
        switch state {
        case .dialTone:
            stopTone(&actions)
            enter(.dialing, &actions)
            fallthrough
        case .dialing:
            digits.append(digit)
            evaluate(timerExpired: false, at: now, &actions)
        case .talking:
            actions.append(.digitInCall(digit))
        default:
            break
        }
    }

    /// Feature codes first, then the dial plan; the number after a
    /// forwarding code is checked against the dial plan on its own.
    private mutating func evaluate(timerExpired: Bool, at now: Instant, _ actions: inout [LineAction]) {
        var forwarding: ForwardingCondition?
        var number = digits
        switch featureCodes.match(digits) {
        case .request(let request):
            return confirm(request, at: now, &actions)
        case .number(let condition, let dialed):
            forwarding = condition
            number = dialed
        case .partial where !timerExpired:
            stateDeadline = now + timings.interdigitLong
            return
        case .partial, .none:
            break
        }
        let decision = number.isEmpty ? (timerExpired ? .reject : .waitLong)
            : digitMap.evaluate(number, timerExpired: timerExpired)
        switch decision {
        case .dialNow(let number):
            if let forwarding {
                // What the state file can hold and a SIP URI's user part carry.
                guard number.utf8.count <= FeatureCodes.longestNumber, number.utf8.allSatisfy(FeatureCodes.isKey) else {
                    actions.append(.numberRejected(digits))
                    return fail(busy: false, at: now, &actions)
                }
                confirm(.forward(forwarding, to: number), at: now, &actions)
            } else {
                placeCall(number, &actions)
            }
        case .waitShort:
            stateDeadline = now + timings.interdigitShort
        case .waitLong:
            stateDeadline = now + timings.interdigitLong
        case .reject:
            actions.append(.numberRejected(digits))
            fail(busy: false, at: now, &actions)
        }
    }

    /// A feature code was dialed: the setting is asked for, the
    /// confirmation tone plays, then dial tone again for the next call.
    private mutating func confirm(_ request: FeatureRequest, at now: Instant, _ actions: inout [LineAction]) {
        digits = ""
        actions.append(.feature(request))
        enter(.confirmation, &actions)
        play(.confirmation, &actions)
        stateDeadline = now + LineMachine.confirmationLength
    }

    private mutating func placeCall(_ number: String, _ actions: inout [LineAction]) {
        lastNumber = number
        stateDeadline = nil
        enter(.calling, &actions)
        actions.append(.dial(number))
    }

    // MARK: Timers and tones

    private mutating func stateTimerExpired(at now: Instant, _ actions: inout [LineAction]) {
        switch state {
        case .dialTone:
            if let hotline, timings.warmlineDelay != nil, !holdingCall {
                stopTone(&actions)
                enter(.dialing, &actions)
                placeCall(hotline, &actions)
            } else {
                startHowler(at: now, &actions)
            }
        case .dialing:
            evaluate(timerExpired: true, at: now, &actions)
        case .confirmation:
            startDialTone(at: now, &actions)
        case .busy, .congestion:
            startHowler(at: now, &actions)
        case .howler:
            stopTone(&actions)
            enter(.lockout, &actions)
        default:
            break
        }
    }

    private mutating func startDialTone(at now: Instant, _ actions: inout [LineAction]) {
        enter(.dialTone, &actions)
        play(dialToneKind, &actions)
        stateDeadline = now + dialToneWait
    }

    private mutating func fail(busy: Bool, at now: Instant, _ actions: inout [LineAction]) {
        enter(busy ? .busy : .congestion, &actions)
        play(busy ? .busy : .congestion, &actions)
        stateDeadline = now + timings.failureToneDuration
    }

    private mutating func startHowler(at now: Instant, _ actions: inout [LineAction]) {
        digits = ""
        enter(.howler, &actions)
        play(.offHookWarning, &actions)
        stateDeadline = now + timings.howlerDuration
    }

    private mutating func stopRinging(keepingReversal: Bool = false, _ actions: inout [LineAction]) {
        if ringer.isOn { actions.append(.ringer(on: false)) }
        ringer.stop()
        callerIDStep = nil
        if !keepingReversal { restorePolarity(&actions) }
    }

    /// How long dial tone waits for a first digit: a warmline's delay (not
    /// under a held call: recall dial tone never dials the hotline), else
    /// the time before the howler.
    private var dialToneWait: Interval {
        hotline != nil && !holdingCall ? (timings.warmlineDelay ?? timings.dialToneTimeout) : timings.dialToneTimeout
    }

    /// Stutter dial tone while messages wait or a feature is set; under a
    /// held call, recall dial tone, the same signal in North America
    /// (Telcordia GR-506).
    private var dialToneKind: ToneKind { holdingCall || messageWaiting || featuresActive ? .stutterDial : .dial }

    private mutating func play(_ kind: ToneKind, _ actions: inout [LineAction]) {
        tone = kind
        actions.append(.playTone(kind))
    }

    private mutating func stopTone(_ actions: inout [LineAction]) {
        guard tone != nil else { return }
        tone = nil
        actions.append(.stopTone)
    }

    private mutating func enter(_ next: LineState, _ actions: inout [LineAction]) {
        guard next != state else { return }
        let leaving = state
        state = next
        actions.append(.stateChanged(next))
        if leaving == .talking {
            restorePolarity(&actions)
            stopWaitingCallerID(&actions)
        }
        if next == .idle {
            holdingCall = false
            callWaits = false
            endDisconnectPulse(&actions)
        }
        if next == .idle && indicatorPending { tellIndicator(&actions) }
    }

    private mutating func tellIndicator(_ actions: inout [LineAction]) {
        actions.append(.sendMessageWaitingIndicator(messageWaiting))
    }
}
