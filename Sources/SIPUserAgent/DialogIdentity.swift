import SIPMessage

/// Whose dialog a request is, and whether it comes in order (RFC 3261
/// §12.2.2). A request the far end sends inside a call carries our tag in
/// To and its own in From; anything else, though it knows the Call-ID, is
/// not the far end of this call and gets 481, so a stranger cannot hang up
/// a call or move its audio. Its CSeq must not go back: a lower one gets 500.
public struct DialogIdentity: Sendable, Equatable {
    public enum Verdict: Equatable, Sendable {
        case accepted
        /// 481 Call/Transaction Does Not Exist.
        case unknownDialog
        /// 500: the CSeq number is below the last one seen.
        case outOfOrder
    }

    public let callID: String
    /// Our tag: To's in requests the far end sends.
    public let localTag: String
    /// The far end's tag (From's in its requests); nil until known.
    public private(set) var remoteTag: String?
    /// The highest CSeq number of the far end's requests so far.
    public private(set) var remoteCSeq: UInt32?

    public init(callID: String, localTag: String, remoteTag: String?, remoteCSeq: UInt32? = nil) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.remoteCSeq = remoteCSeq
    }

    /// The far end's tag, from a response that created or confirmed the
    /// dialog (a 2xx's tag is the one the call keeps).
    public mutating func learnRemoteTag(_ tag: String) {
        remoteTag = tag
    }

    /// Whether both tags are this dialog's (the Call-ID was matched already).
    public func owns(_ request: SIPMessage) -> Bool {
        guard let remoteTag, let to = request.to?.tag, to.elementsEqual(localTag.utf8) else { return false }
        // An RFC 2543 caller sent no From tag: its requests carry none.
        guard let from = request.from?.tag else { return remoteTag.isEmpty }
        return from.elementsEqual(remoteTag.utf8)
    }

    /// Checks a request from the far end and, when it is accepted, notes
    /// its CSeq. ACK repeats its INVITE's number and is not ordered.
    public mutating func admit(_ request: SIPMessage) -> Verdict {
        guard owns(request) else { return .unknownDialog }
        guard request.method != .ack, let number = request.cseq?.number else { return .accepted }
        if let last = remoteCSeq, number < last { return .outOfOrder }
        remoteCSeq = number
        return .accepted
    }
}
