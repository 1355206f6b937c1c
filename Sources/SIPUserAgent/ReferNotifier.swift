import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// Our side of the subscription a REFER we accepted makes (RFC 3515
/// §2.4.4): NOTIFYs whose `message/sipfrag` body is the status line of our
/// call to the target, "100 Trying" at once, the final one ending the
/// subscription. One NOTIFY at a time; a status that comes while one is
/// out waits, the newest only (a final status is never dropped). 481 to
/// a NOTIFY means the referrer no longer listens: nothing more is sent.
/// No I/O.
struct ReferNotifier {
    /// The REFER's CSeq: the `id` of its event (RFC 3515 §2.4.6).
    let id: UInt32
    private var sender: DialogRequestSender?
    private var waiting: (status: Int, reason: String)?
    /// The final status went out (or the referrer stopped listening).
    private(set) var isDone = false
    /// The last status sent was final: once it is answered, nothing is left.
    private var sentFinal = false

    init(id: UInt32) { self.id = id }

    /// Our BYE goes: a status still waiting is never sent (the NOTIFY in
    /// flight may finish).
    mutating func stop() {
        waiting = nil
        isDone = true
    }

    /// Nothing in flight and nothing more to tell.
    var isOver: Bool { sender == nil && (isDone || sentFinal) }

    var nextDeadline: Instant? { sender?.nextDeadline }

    /// Tells the referrer where the new call stands (`status` >= 200 ends
    /// the subscription); sent now, or once the NOTIFY in flight is answered.
    @inline(never)
    mutating func report(status: Int, reason: String, contact: String, dialog: inout DialogRequests,
                         digest: DigestSession?, timers: TransactionTimers, makeToken: @escaping () -> String,
                         at now: Instant) -> [DialogRequestOutput] {
        guard !isDone, !sentFinal else { return [] }
        guard sender == nil else {
            if (waiting?.status ?? 0) < 200 { waiting = (status, reason) }
            return []
        }
        return send(status: status, reason: reason, contact: contact, dialog: &dialog, digest: digest, timers: timers,
                    makeToken: makeToken, at: now)
    }

    /// A response to a NOTIFY: the one in flight is done, and a status
    /// that waited goes.
    @inline(never)
    mutating func handle(response: SIPMessage, contact: String, dialog: inout DialogRequests, digest: DigestSession?,
                         timers: TransactionTimers, makeToken: @escaping () -> String, at now: Instant) -> [DialogRequestOutput] {
        guard var current = sender else { return [] }
        let outputs = current.handle(response: response, dialog: &dialog, at: now)
        sender = current
        return finish(outputs, contact: contact, dialog: &dialog, digest: digest, timers: timers, makeToken: makeToken, at: now)
    }

    /// Timer E resends the NOTIFY; Timer F gives it up (what waited goes).
    @inline(never)
    mutating func advance(to now: Instant, contact: String, dialog: inout DialogRequests, digest: DigestSession?,
                          timers: TransactionTimers, makeToken: @escaping () -> String) -> [DialogRequestOutput] {
        guard var current = sender else { return [] }
        let outputs = current.advance(to: now)
        sender = current
        return finish(outputs, contact: contact, dialog: &dialog, digest: digest, timers: timers, makeToken: makeToken, at: now)
    }

    private mutating func finish(_ outputs: [DialogRequestOutput], contact: String, dialog: inout DialogRequests,
                                 digest: DigestSession?, timers: TransactionTimers, makeToken: @escaping () -> String,
                                 at now: Instant) -> [DialogRequestOutput] {
        var result: [DialogRequestOutput] = []
        for output in outputs {
            switch output {
            case .send: result.append(output)
            case .answered(let response):
                sender = nil
                if response.statusCode == 481 { isDone = true }
            case .unanswered:
                sender = nil
            }
        }
        if sender == nil, !isDone, !sentFinal, let next = waiting {
            waiting = nil
            result += send(status: next.status, reason: next.reason, contact: contact, dialog: &dialog, digest: digest,
                           timers: timers, makeToken: makeToken, at: now)
        }
        if sender == nil, sentFinal { isDone = true }
        return result
    }

    @inline(never)
    private mutating func send(status: Int, reason: String, contact: String, dialog: inout DialogRequests,
                               digest: DigestSession?, timers: TransactionTimers, makeToken: @escaping () -> String,
                               at now: Instant) -> [DialogRequestOutput] {
        let final = status >= 200
        sentFinal = final
        let headers: [(HeaderName, String)] = [
            (.event, "refer;id=\(id)"),
            (.subscriptionState, final ? "terminated;reason=noresource" : "active;expires=\(ReferNotifier.expiresSeconds)"),
            (.contact, "<\(contact)>"),
            (.contentType, "message/sipfrag;version=2.0"),
        ]
        let (started, outputs) = DialogRequestSender.start(.notify, headers: headers, body: Array("SIP/2.0 \(status) \(reason)\r\n".utf8),
                                                           dialog: &dialog, digest: digest, timers: timers,
                                                           makeToken: makeToken, at: now)
        sender = started
        return outputs
    }

    /// How long the subscription is said to last while the new call is
    /// set up (RFC 3515 leaves it to us; the final NOTIFY ends it sooner):
    /// longer than a target is likely to ring.
    static var expiresSeconds: Int { 300 }
}
