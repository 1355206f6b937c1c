import Timebase

/// The RFC 3261 transaction timers (section 17 and table 4, plus Timers L
/// and M of RFC 6026), all derived from T1, T2, T4 and whether the
/// transport is reliable.
///
/// On a reliable transport (TCP, TLS, SCTP) nothing is retransmitted: the
/// retransmission timers A, E and G are `nil`, and the wait timers D, I, J
/// and K are zero, so a transaction that reaches Completed (or Confirmed)
/// terminates in the same call.
public struct TransactionTimers: Equatable, Sendable {
    /// RTT estimate: the first retransmission interval. 500 ms by default.
    public private(set) var t1: Interval
    /// The longest retransmission interval for non-INVITE requests and
    /// INVITE responses. 4 s by default.
    public private(set) var t2: Interval
    /// How long a message may stay in the network. 5 s by default.
    public private(set) var t4: Interval
    /// TCP, TLS or SCTP: the transport delivers, so nothing is retransmitted.
    public private(set) var reliableTransport: Bool
    /// How long an INVITE server transaction waits for the TU's first
    /// response before it sends 100 Trying itself (RFC 3261 17.2.1: "if the
    /// TU will not generate a provisional or final response within 200 ms").
    /// Zero sends 100 Trying as soon as the INVITE arrives.
    public private(set) var tryingDelay: Interval

    /// Values out of range are brought into range rather than trapping (they
    /// may come from a config file): T1 is at least 1 ms, T2 at least T1,
    /// T4 and the Trying delay at least zero.
    public init(t1: Interval = .milliseconds(500), t2: Interval = .seconds(4), t4: Interval = .seconds(5),
                reliableTransport: Bool = false, tryingDelay: Interval = .milliseconds(200)) {
        let minimumT1 = Interval.milliseconds(1)
        self.t1 = t1 < minimumT1 ? minimumT1 : t1
        self.t2 = t2 < self.t1 ? self.t1 : t2
        self.t4 = t4 < .zero ? .zero : t4
        self.reliableTransport = reliableTransport
        self.tryingDelay = tryingDelay < .zero ? .zero : tryingDelay
    }

    /// RFC 3261 defaults over UDP.
    public static let unreliable = TransactionTimers()
    /// RFC 3261 defaults over TCP, TLS or SCTP.
    public static let reliable = TransactionTimers(reliableTransport: true)

    /// The same values for the other kind of transport.
    public func with(reliableTransport: Bool) -> TransactionTimers {
        var copy = self
        copy.reliableTransport = reliableTransport
        return copy
    }

    private var sixtyFourT1: Interval { t1 * 64 }

    /// Timer A: first INVITE retransmission interval (T1, doubling without
    /// a cap). `nil` on a reliable transport.
    public var timerA: Interval? { reliableTransport ? nil : t1 }
    /// Timer B: INVITE transaction timeout, 64*T1.
    public var timerB: Interval { sixtyFourT1 }
    /// Timer D: how long an INVITE client transaction stays in Completed to
    /// re-ACK retransmitted final responses. RFC 3261 asks for at least
    /// 32 s on UDP; we use max(32 s, 64*T1) so it also covers the server's
    /// Timer H when T1 is raised. Zero on a reliable transport.
    public var timerD: Interval {
        if reliableTransport { return .zero }
        let floor = Interval.seconds(32)
        return sixtyFourT1 < floor ? floor : sixtyFourT1
    }
    /// Timer E: first non-INVITE retransmission interval (T1, doubling up
    /// to T2). `nil` on a reliable transport.
    public var timerE: Interval? { reliableTransport ? nil : t1 }
    /// Timer F: non-INVITE transaction timeout, 64*T1.
    public var timerF: Interval { sixtyFourT1 }
    /// Timer G: first INVITE final-response retransmission interval (T1,
    /// doubling up to T2). `nil` on a reliable transport.
    public var timerG: Interval? { reliableTransport ? nil : t1 }
    /// Timer H: how long an INVITE server transaction waits for the ACK, 64*T1.
    public var timerH: Interval { sixtyFourT1 }
    /// Timer I: how long an INVITE server transaction stays in Confirmed to
    /// absorb ACK retransmissions. T4 on UDP, zero on a reliable transport.
    public var timerI: Interval { reliableTransport ? .zero : t4 }
    /// Timer J: how long a non-INVITE server transaction stays in Completed
    /// to answer request retransmissions. 64*T1 on UDP, zero when reliable.
    public var timerJ: Interval { reliableTransport ? .zero : sixtyFourT1 }
    /// Timer K: how long a non-INVITE client transaction stays in Completed
    /// to absorb response retransmissions. T4 on UDP, zero when reliable.
    public var timerK: Interval { reliableTransport ? .zero : t4 }
    /// Timer L (RFC 6026): how long an INVITE server transaction stays in
    /// Accepted after a 2xx, 64*T1 on every transport.
    public var timerL: Interval { sixtyFourT1 }
    /// Timer M (RFC 6026): how long an INVITE client transaction stays in
    /// Accepted after a 2xx, 64*T1 on every transport.
    public var timerM: Interval { sixtyFourT1 }

    /// The interval after `interval` for Timers E and G: doubled, at most T2.
    func backedOff(_ interval: Interval) -> Interval {
        let doubled = interval * 2
        return t2 < doubled ? t2 : doubled
    }
}

/// The earliest of some optional instants.
func earliest(_ candidates: Instant?...) -> Instant? {
    var result: Instant?
    for case let candidate? in candidates where result == nil || candidate < result! {
        result = candidate
    }
    return result
}
