/// A transport address: host (in whatever form the daemon keeps it, e.g.
/// IPv4 bytes or text) and UDP port.
public struct RTPEndpoint<Host: Equatable>: Equatable {
    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }
}

extension RTPEndpoint: Sendable where Host: Sendable {}

/// Symmetric RTP (RFC 4961) with protection against "RTP bleed".
///
/// Behind NAT the far end's media comes from a port other than the one in
/// its SDP, so we send back to where its packets really come from. Latching
/// onto whatever arrives first would let anyone who can reach our port
/// hijack the call's audio (RTP bleed). So: only packets from the
/// negotiated host are ever accepted; the first source there that proves
/// itself with `RTPReceptionStatistics.minimumSequential` packets in
/// sequence from one SSRC is latched, becomes the send-to address, and from
/// then on is the only source accepted. Everything else is counted and
/// dropped.
public struct RTPSourceFilter<Host: Equatable> {
    /// What to do with one packet.
    public enum Verdict: Equatable, Sendable {
        case accepted
        /// Accepted, and its source is now latched as the send-to address.
        case acceptedAndLatched
        case ignored
    }

    /// The address the SDP gave.
    public let negotiated: RTPEndpoint<Host>
    /// The source media is accepted from and sent to, once proven.
    public private(set) var latched: RTPEndpoint<Host>?
    /// Packets dropped for coming from the wrong place.
    public private(set) var ignoredPackets: UInt64 = 0

    /// The source trying to prove itself, with its SSRC, the last sequence
    /// number, and how many in-sequence packets it has sent.
    private var candidate: RTPEndpoint<Host>?
    private var candidateSSRC: UInt32 = 0
    private var candidateSequence: UInt16 = 0
    private var candidateRun: UInt16 = 0

    public init(negotiated: RTPEndpoint<Host>) {
        self.negotiated = negotiated
    }

    /// Where our RTP goes: the latched source, else the negotiated address.
    public var sendAddress: RTPEndpoint<Host> { latched ?? negotiated }

    /// Judges one received packet by its source address and RTP header.
    public mutating func admit(from source: RTPEndpoint<Host>, ssrc: UInt32, sequence: UInt16) -> Verdict {
        if let latched {
            guard source == latched else { return ignore() }
            return .accepted
        }
        guard source.host == negotiated.host else { return ignore() }
        if let candidate, candidate == source, ssrc == candidateSSRC, sequence == candidateSequence &+ 1 {
            candidateRun += 1
        } else {
            candidate = source
            candidateSSRC = ssrc
            candidateRun = 1
        }
        candidateSequence = sequence
        if candidateRun >= RTPReceptionStatistics.minimumSequential {
            latched = source
            return .acceptedAndLatched
        }
        return .accepted
    }

    private mutating func ignore() -> Verdict {
        ignoredPackets += 1
        return .ignored
    }
}

extension RTPSourceFilter: Sendable where Host: Sendable {}
