import CompactText
import SIPMessage

/// The requests one call sends, built from what its dialog knows (RFC 3261
/// §8.1.1, §12.2.1.1): Via with a fresh branch, Max-Forwards, the route set
/// as Route headers (loose routing), From with our tag, To with the far
/// end's tag, Call-ID, CSeq and User-Agent. The INVITE, CANCEL and ACK of a
/// call we place, and every BYE and INFO either side sends, come from here.
public struct DialogRequests: Sendable {
    public let callID: String
    /// Our From value, with our tag.
    public let local: String
    /// The far end's To value, with its tag once the dialog exists.
    public private(set) var remote: String
    /// Where requests inside the dialog go: the far end's Contact.
    public private(set) var remoteTarget: String
    /// Route header values, in the order they go in the request.
    public private(set) var routeSet: [String]
    /// The CSeq number of the last request we started (ACK and CANCEL take
    /// the INVITE's, so they do not count).
    public private(set) var localCSeq: UInt32
    private let viaPrefix: String
    private let userAgent: String

    /// - host, port: our address as it goes in Via's sent-by.
    public init(callID: String, local: String, remote: String, remoteTarget: String, routeSet: [String] = [],
                host: String, port: UInt16, transport: SIPTransport, userAgent: String, localCSeq: UInt32 = 0) {
        self.callID = callID
        self.local = local
        self.remote = remote
        self.remoteTarget = remoteTarget
        self.routeSet = routeSet
        self.localCSeq = localCSeq
        viaPrefix = "SIP/2.0/\(transport.viaName) \(SIPAccount.uriHost(host)):\(port)"
        self.userAgent = userAgent
    }

    /// The UAC learns the dialog from the 2xx (§12.1.2): the far end's tag,
    /// its Contact as the remote target, and the route set.
    public mutating func establish(remoteTag: String?, remoteTarget: String?, routeSet: [String]) {
        if let remoteTag { remote += ";tag=\(remoteTag)" }
        if let remoteTarget { self.remoteTarget = remoteTarget }
        self.routeSet = routeSet
    }

    /// The same from a response that makes a dialog (a 2xx, or a reliable
    /// 18x's early dialog): its To tag, Contact, and Record-Route reversed.
    public mutating func establish(from response: SIPMessage) {
        let contact = response.headers(named: .contact).first.flatMap { try? NameAddress.parse(response.bytes[$0.valueRange]) }
        establish(remoteTag: response.to?.tag.map { String(decoding: $0, as: UTF8.self) },
                  remoteTarget: contact.map { String(decoding: $0.uri, as: UTF8.self) },
                  routeSet: response.headers(named: .recordRoute)
                      .map { String(decoding: response.bytes[$0.valueRange], as: UTF8.self) }.reversed())
    }

    /// A target refresh (§12.2.2): an accepted re-INVITE from the far end
    /// carries its Contact, where our later BYE and INFO must go.
    public mutating func refreshTarget(from request: SIPMessage) {
        guard let header = request.headers(named: .contact).first,
              let contact = try? NameAddress.parse(request.bytes[header.valueRange]) else { return }
        remoteTarget = String(decoding: contact.uri, as: UTF8.self)
    }

    /// Takes the next CSeq number for a new request.
    public mutating func nextCSeq() -> UInt32 {
        localCSeq &+= 1
        return localCSeq
    }

    /// A new request inside the dialog, with the next CSeq number.
    public mutating func next(_ method: SIPMethod, branch: String) -> SIPMessageBuilder {
        inDialog(method, cseq: nextCSeq(), branch: branch)
    }

    /// A request inside the dialog with a given CSeq (the ACK for a 2xx
    /// takes the INVITE's): to the remote target, along the route set.
    public func inDialog(_ method: SIPMethod, cseq: UInt32, branch: String) -> SIPMessageBuilder {
        request(method, uri: remoteTarget, to: remote, cseq: cseq, branch: branch, routed: true)
    }

    /// Any request of the call, with the headers every one carries.
    public func request(_ method: SIPMethod, uri: String, to: String, cseq: UInt32, branch: String,
                        routed: Bool) -> SIPMessageBuilder {
        var builder = SIPMessageBuilder(request: method, uri: uri)
        builder.add(.via, "\(viaPrefix);branch=\(branch);rport")
        builder.add(.maxForwards, "70")
        if routed { for route in routeSet { builder.add(.route, route) } }
        builder.add(.from, local)
        builder.add(.to, to)
        builder.add(.callID, callID)
        builder.add(.cseq, "\(cseq) \(method.name)")
        builder.add(.userAgent, userAgent)
        return builder
    }
}
