import CompactText
import SIPDigest
import SIPMessage
import SIPTransaction
import Timebase

/// What sending keys by INFO asks of the call that owns the sender.
public enum DTMFInfoOutput: Equatable, Sendable {
    /// Send this INFO (first time or a retransmission) the way the call's
    /// requests go.
    case send([UInt8])
    /// 481, 408 or no answer at all: the far end no longer knows the dialog
    /// (RFC 3261 §12.2.1.2, RFC 5057): the call is over.
    case dialogGone(reason: String)
    /// Some other final response (415, 501, 488, 403...): the far end does
    /// not take keys by INFO. None are sent in this call any more: the
    /// refused key and the `lost` ones waiting behind it are dropped.
    case refused(reason: String, lost: Int)
    /// The queue was full: this key was dropped.
    case dropped(key: UInt8)
}

/// Keys pressed during a call, sent as SIP INFO `application/dtmf-relay`
/// inside the call's dialog (RFC 6086 §4.2.2 asks for one INFO at a time
/// per dialog): the first goes out at once, the others wait in a bounded
/// queue and each goes when the one before it has its final response.
/// Each INFO is its own non-INVITE client transaction (Timer E
/// retransmits it over UDP, Timer F gives up). A 401/407 is answered once
/// per INFO when the account has credentials. No I/O.
///
/// A key is handed over when it is released, with the time it sounded:
/// Duration is then what the handset really sent (a held `#` stays long at
/// the far end, as IVRs and voicemail menus expect), at the cost of the
/// key's own length in latency (about 100 ms for a typical press). Sending
/// at the press would have to guess Duration (the usual fixed 160 ms) and
/// a second INFO could not say when the key ended.
///
/// Answers (RFC 3261 §12.2.1.2, RFC 5057): 2xx sends the next key; 481,
/// 408 or no answer at all means the dialog is gone and the call ends as
/// if the far end had hung up (no BYE: the far end no longer knows it);
/// any other final answer (415, 501, 488, 403, a second challenge...)
/// stops INFO for the call, and the call sends its later keys in band.
public struct DTMFInfoSender {
    /// Keys waiting behind the one in flight; more are dropped and counted.
    public static let queueLimit = 16

    public private(set) var queue: [DTMFRelayBody] = []
    /// The key whose INFO is in flight, its transaction, branch and bytes.
    public private(set) var current: DTMFRelayBody?
    public private(set) var branch: String?
    private var transaction: NonInviteClientTransaction?
    private var request: [UInt8] = []
    private var sentAuthorization: [DigestHeader] = []
    /// Once an INFO was challenged, the next ones carry credentials at once.
    private var authorizing = false
    private var digest: DigestSession?
    private let timers: TransactionTimers
    private let makeToken: () -> String
    /// The far end refused INFO: nothing more is sent.
    public private(set) var refused = false
    /// Keys dropped because the queue was full.
    public private(set) var droppedKeys = 0

    /// - digest: the account's credentials, for a far end or proxy that
    ///   challenges INFO; nil when there are none.
    public init(timers: TransactionTimers, digest: DigestSession?, makeToken: @escaping () -> String) {
        self.timers = timers
        self.digest = digest
        self.makeToken = makeToken
    }

    public var nextDeadline: Instant? { transaction?.nextDeadline }

    /// Queues a key; nothing is sent until `pump`.
    public mutating func enqueue(_ key: DTMFRelayBody) -> [DTMFInfoOutput] {
        guard !refused else { return [] }
        guard queue.count < DTMFInfoSender.queueLimit else {
            droppedKeys += 1
            return [.dropped(key: key.key)]
        }
        queue.append(key)
        return []
    }

    /// Sends the next waiting key when no INFO is in flight.
    public mutating func pump(dialog: inout DialogRequests, at now: Instant) -> [DTMFInfoOutput] {
        guard !refused, transaction == nil, !queue.isEmpty else { return [] }
        let key = queue.removeFirst()
        return start(key, dialog: &dialog, at: now)
    }

    /// A response whose CSeq method is INFO; ignored unless it answers the
    /// INFO in flight (its Via branch).
    public mutating func handle(response: SIPMessage, dialog: inout DialogRequests, at now: Instant) -> [DTMFInfoOutput] {
        guard var transaction, let status = response.statusCode, let branch,
              let answered = response.topVia?.branch, answered.elementsEqual(branch.utf8) else { return [] }
        _ = transaction.handle(.response(statusCode: status), at: now)
        guard status >= 200 else {
            self.transaction = transaction
            return []
        }
        // Its final response is in: the transaction's Completed state only
        // absorbs copies of it, which no longer match a branch here.
        self.transaction = nil
        self.branch = nil
        let key = current
        current = nil
        if status < 300 { return pump(dialog: &dialog, at: now) }
        let reason = "\(status) " + (response.reasonPhrase.map { String(decoding: $0, as: UTF8.self) } ?? "")
        if status == 481 || status == 408 {
            finish()
            return [.dialogGone(reason: "the far end answered a key's INFO with \(reason)")]
        }
        if (status == 401 || status == 407), let key, var session = digest {
            let challenges = response.headers(named: status == 401 ? .wwwAuthenticate : .proxyAuthenticate)
                .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }
            let outcome = session.receive(challenges: challenges, from: status == 401 ? .server : .proxy,
                                          sent: sentAuthorization)
            digest = session
            if case .retry = outcome {
                authorizing = true
                return start(key, dialog: &dialog, at: now)
            }
        }
        refused = true
        let lost = queue.count
        queue.removeAll()
        return [.refused(reason: reason, lost: lost)]
    }

    /// Timer E retransmits the INFO in flight; Timer F ends the dialog.
    public mutating func advance(to now: Instant) -> [DTMFInfoOutput] {
        guard var transaction, let due = transaction.nextDeadline, due <= now else { return [] }
        var outputs: [DTMFInfoOutput] = []
        for action in transaction.advance(to: now) {
            switch action {
            case .sendRequest: outputs.append(.send(request))
            case .timeout, .transportError:
                finish()
                return [.dialogGone(reason: "no answer to a key's INFO")]
            default: break
            }
        }
        self.transaction = transaction.isTerminated ? nil : transaction
        return outputs
    }

    /// The call is ending: nothing more is sent or retransmitted.
    public mutating func finish() {
        queue.removeAll()
        transaction = nil
        current = nil
        branch = nil
    }

    private mutating func start(_ key: DTMFRelayBody, dialog: inout DialogRequests, at now: Instant) -> [DTMFInfoOutput] {
        let newBranch = "z9hG4bK" + makeToken()
        var builder = dialog.next(.info, branch: newBranch)
        sentAuthorization = []
        if authorizing, var session = digest {
            sentAuthorization = session.authorize(method: "INFO", uri: dialog.remoteTarget, body: key.serialized)
            digest = session
            for header in sentAuthorization { builder.add(named: header.name, header.value) }
        }
        builder.add(.contentType, "application/dtmf-relay")
        builder.body = key.serialized
        request = builder.serialize()
        current = key
        branch = newBranch
        let (started, actions) = NonInviteClientTransaction.start(timers: timers, at: now)
        transaction = started
        return actions.contains(.sendRequest) ? [.send(request)] : []
    }
}
