import Line

/// The calls one line holds, by the part each plays. Today a line has one
/// call at most (`active`); the other places are where call waiting, hold
/// and three-way calling put their second call, so those features need no
/// new model.
public struct LineCalls: Equatable, Sendable {
    public let number: Int
    /// The line's state as the line last reported it.
    public var state: LineState = .idle
    /// The call the handset talks on, rings for, or is placing.
    public var active: String?
    /// A call put on hold by a flash, to go back to.
    public var held: String?
    /// A second incoming call, announced by the call-waiting tone.
    public var waiting: String?
    /// `active` and `held` are mixed into one conversation (three-way).
    public var conference = false
    /// A call the phone placed while another was held: hanging up while
    /// it is the active call transfers the held one to it.
    public var consultation: String?
    /// Do-not-disturb and forwarding, as the phone set them.
    public var features = LineFeatures()
    /// *70 dialed since the line was last idle: the next call it places
    /// becomes `callWithoutWaiting`.
    public var callWaitingCancelled = false
    /// The call placed after *70: while it is the line's call, no other
    /// waits (one taken back from hold, or placed later, may).
    public var callWithoutWaiting: String?

    public init(number: Int) { self.number = number }

    /// A new incoming call may ring the line: idle, with no call at all.
    public var canRing: Bool { state == .idle && active == nil && held == nil && waiting == nil }

    /// A new call may wait on this line: it is in a call, with nothing
    /// held or waiting.
    public var canWait: Bool { state == .talking && active != nil && held == nil && waiting == nil && !conference }

    /// Takes `callID` out of whatever place it had.
    public mutating func remove(_ callID: String) {
        if active == callID { active = nil }
        if held == callID { held = nil }
        if waiting == callID { waiting = nil }
        if consultation == callID { consultation = nil }
        if active == nil || held == nil { conference = false }
    }
}

/// Every line's calls, in board order, found by line number (a board has
/// a handful of lines: a list costs less than a dictionary).
public struct LineTable: Sendable {
    public private(set) var all: [LineCalls]

    init(numbers: [Int]) { all = numbers.map { LineCalls(number: $0) } }

    public subscript(line: Int) -> LineCalls? {
        get { all.first { $0.number == line } }
        set {
            guard let newValue, let index = all.firstIndex(where: { $0.number == line }) else { return }
            all[index] = newValue
        }
    }
}
