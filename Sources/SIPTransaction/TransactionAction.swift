// SIPTransaction: the RFC 3261 section 17 transaction layer as four I/O-free
// state machines, plus the keys and the bounded table that match incoming
// messages to them.
//
// The machines never see a message. The UA parses a message, builds a
// `TransactionKey` from a few of its fields, finds the machine in a
// `TransactionTable`, and feeds it a small input (a status code, "the
// request again", "an ACK"). The machine answers with actions and its next
// deadline; the UA keeps the bytes of the request, of the ACK it built and
// of the last response, keyed by transaction, and applies the actions.
//
// Every input comes with the time. `handle(_:at:)` first fires what was due
// by then, applies the input, then fires timers that became due at once
// (the zero-length timers of a reliable transport), so a 486 over TCP
// comes back as pass-up, ACK and terminated in one call.
//
// RFC 6026 is implemented: both INVITE machines have the Accepted state
// (Timers L and M), so a 2xx ends neither transaction at once. See
// `InviteClientTransaction` and `InviteServerTransaction`.

/// What a transaction asks the UA to do. The UA holds the messages: each
/// action names which one to send or to hand to the transaction user (TU).
public enum TransactionAction: Equatable, Sendable {
    /// Client: send the request that created the transaction (first send
    /// and every retransmission).
    case sendRequest
    /// INVITE client: send the ACK for the 300-699 final response (build it
    /// once per RFC 3261 17.1.1.3 and resend the same bytes).
    case sendAck
    /// INVITE server: build a 100 Trying from the request and send it (the
    /// only response a transaction makes up on its own).
    case sendTrying
    /// Server: send the response with this status code, the one the TU gave
    /// most recently (first send and every retransmission).
    case sendResponse(statusCode: Int)
    /// Server: hand the request that created the transaction to the TU.
    case passRequestToTU
    /// INVITE server in Accepted (RFC 6026): hand this ACK for the 2xx to the TU.
    case passAckToTU
    /// Client: hand the response just received to the TU.
    case passResponseToTU(statusCode: Int)
    /// Timer B, F or H fired: tell the TU the transaction failed (a client
    /// treats it as a 408; an INVITE server never got its ACK).
    case timeout
    /// The transport reported a failure: tell the TU (a client treats it as
    /// a 503).
    case transportError
    /// The transaction is over: remove it from the table and drop its
    /// messages. Always the last action of a list.
    case terminated
}

/// What a client transaction is told after it started.
public enum ClientTransactionInput: Equatable, Sendable {
    /// A response matched the transaction (see `TransactionKey.client`).
    case response(statusCode: Int)
    /// Sending the request or the ACK failed.
    case transportError
}

/// What a server transaction is told after it started.
public enum ServerTransactionInput: Equatable, Sendable {
    /// A retransmission of the request that created the transaction.
    case request
    /// An ACK matched the transaction (INVITE server transactions only).
    case ack
    /// The TU gives a response with this status code; the UA has stored it
    /// as the transaction's last response.
    case tuResponse(statusCode: Int)
    /// Sending a response failed.
    case transportError
}

/// The status code classes the machines care about. Codes outside
/// 100...699 are not SIP responses and every machine ignores them.
enum StatusClass {
    case provisional, success, failure, invalid

    init(_ code: Int) {
        switch code {
        case 100...199: self = .provisional
        case 200...299: self = .success
        case 300...699: self = .failure
        default: self = .invalid
        }
    }
}
