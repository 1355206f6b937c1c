import CompactText
import SIPMessage

/// A voicemail server's `application/simple-message-summary` body (RFC
/// 3842): whether messages wait, and the voice messages' counts when it
/// gives them (`Voice-Message: NEW/OLD (URGENT_NEW/URGENT_OLD)`).
public struct MessageSummary: Equatable, Sendable {
    public var waiting: Bool
    public var newMessages: Int?
    public var oldMessages: Int?

    public init(waiting: Bool, newMessages: Int? = nil, oldMessages: Int? = nil) {
        self.waiting = waiting
        self.newMessages = newMessages
        self.oldMessages = oldMessages
    }

    /// nil when the body has no `Messages-Waiting: yes|no` line, the one
    /// the RFC requires.
    public static func parse(_ body: ArraySlice<UInt8>) -> MessageSummary? {
        var summary: MessageSummary?
        var voice: (Int, Int)?
        for rawLine in body.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D }) {
            guard let colon = rawLine.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = rawLine[..<colon].trimmingLWS
            let value = rawLine[(colon + 1)...].trimmingLWS
            if name.equalsIgnoringCase("Messages-Waiting") {
                if value.equalsIgnoringCase("yes") { summary = MessageSummary(waiting: true) }
                else if value.equalsIgnoringCase("no") { summary = MessageSummary(waiting: false) }
            } else if name.equalsIgnoringCase("Voice-Message") {
                voice = counts(value)
            }
        }
        if var summary, let voice {
            summary.newMessages = voice.0
            summary.oldMessages = voice.1
            return summary
        }
        return summary
    }

    /// "2/8" or "2/8 (0/1)": the new and old counts.
    private static func counts(_ value: ArraySlice<UInt8>) -> (Int, Int)? {
        let pair = value.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "(") && $0 != 0x09 }
        guard let slash = pair.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        guard let new = number(pair[..<slash]), let old = number(pair[(slash + 1)...]) else { return nil }
        return (new, old)
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 6 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// `waiting, 2 new, 8 old` or `none waiting`, for `status`.
    public var statusText: String {
        guard waiting else { return "none waiting" }
        var text = "waiting"
        if let newMessages, let oldMessages { text += ", \(newMessages) new, \(oldMessages) old" }
        return text
    }
}
