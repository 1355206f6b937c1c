import Timebase

/// What one remote source's packets look like on arrival: RFC 3550
/// Appendix A.1 source validation and sequence-number tracking, A.3 loss
/// accounting and A.8 interarrival jitter. It feeds our RTCP reception
/// reports and the call-quality numbers atad logs.
///
/// A source must send `minimumSequential` packets in sequence before it
/// counts (so one stray packet cannot claim the stream); a jump of
/// `maximumDropout` or more is believed only when the next packet follows
/// it in sequence (the sender restarted); packets up to `maximumMisorder`
/// behind the highest are late or duplicates and still count as received,
/// which is why the RFC lets cumulative loss go negative.
public struct RTPReceptionStatistics: Sendable {
    /// RFC 3550 A.1's constants.
    public static let minimumSequential: UInt16 = 2
    public static let maximumDropout: UInt16 = 3000
    public static let maximumMisorder: UInt16 = 100

    /// What `record` made of one packet.
    public enum Verdict: Equatable, Sendable {
        /// In sequence, or a forward gap under `maximumDropout`: play it.
        case accepted
        /// The source is not validated yet (A.1's probation).
        case probation
        /// At or behind the highest sequence number, within
        /// `maximumMisorder`: counted, but a jitter buffer may find it late.
        case duplicateOrOld
        /// A large jump confirmed by the packet after it: the sender
        /// restarted its sequence, and the counts start again from here.
        case restarted
        /// A large jump, not (yet) confirmed: ignore the packet.
        case invalid
    }

    /// Clock rate of the payload's RTP timestamps, Hz.
    public let clockRate: UInt32

    private var maxSequence: UInt16 = 0
    /// Sequence-number wraps seen, times 65536 (A.1's `cycles`).
    private var cycles: UInt64 = 0
    private var baseSequence: UInt32 = 0
    /// Sequence number that would confirm a large jump; 65536 = none.
    private var badSequence: UInt32 = 65536 + 1
    private var probation: UInt16 = 0
    private var received: UInt64 = 0
    private var expectedPrior: UInt64 = 0
    private var receivedPrior: UInt64 = 0
    private var hasFirstPacket = false
    /// True once the source passed probation (A.1).
    public private(set) var isValidated = false

    /// Previous packet's relative transit time (arrival − timestamp, in
    /// timestamp units); none after a restart.
    private var lastTransit: UInt32 = 0
    private var hasTransit = false
    /// Jitter times 16, as A.8 keeps it to avoid rounding drift.
    private var scaledJitter: UInt64 = 0

    public init(clockRate: UInt32) {
        precondition(clockRate > 0, "RTP clock rate must be positive")
        self.clockRate = clockRate
    }

    /// One arriving packet. `arrival` is local time; jitter uses it
    /// converted to clock-rate units.
    public mutating func record(sequence: UInt16, timestamp: UInt32, arrival: Instant) -> Verdict {
        if !hasFirstPacket {
            hasFirstPacket = true
            restart(at: sequence)
            maxSequence = sequence &- 1
            probation = RTPReceptionStatistics.minimumSequential
        }
        let verdict = updateSequence(sequence)
        switch verdict {
        case .accepted, .duplicateOrOld, .restarted:
            updateJitter(timestamp: timestamp, arrival: arrival)
        case .probation, .invalid:
            break
        }
        return verdict
    }

    /// A.1's `update_seq`, with the outcome named.
    private mutating func updateSequence(_ sequence: UInt16) -> Verdict {
        let forward = sequence &- maxSequence
        if probation > 0 {
            if sequence == maxSequence &+ 1 {
                probation -= 1
                maxSequence = sequence
                if probation == 0 {
                    restart(at: sequence)
                    isValidated = true
                    received += 1
                    return .accepted
                }
            } else {
                probation = RTPReceptionStatistics.minimumSequential - 1
                maxSequence = sequence
            }
            return .probation
        }
        let verdict: Verdict
        if forward < RTPReceptionStatistics.maximumDropout {
            if sequence < maxSequence { cycles += 65536 }
            maxSequence = sequence
            verdict = forward == 0 ? .duplicateOrOld : .accepted
        } else if forward <= UInt16.max - RTPReceptionStatistics.maximumMisorder {
            // A jump too large to be loss: believe it only when the next
            // packet follows it.
            guard UInt32(sequence) == badSequence else {
                badSequence = (UInt32(sequence) + 1) & 0xffff
                return .invalid
            }
            restart(at: sequence)
            hasTransit = false
            verdict = .restarted
        } else {
            verdict = .duplicateOrOld
        }
        received += 1
        return verdict
    }

    /// A.1's `init_seq`.
    private mutating func restart(at sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        badSequence = 65536 + 1
        cycles = 0
        received = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// A.8: the mean deviation of the transit-time difference between
    /// successive packets, smoothed with gain 1/16.
    private mutating func updateJitter(timestamp: UInt32, arrival: Instant) {
        let transit = arrivalInClockUnits(arrival) &- timestamp
        defer { lastTransit = transit; hasTransit = true }
        guard hasTransit else { return }
        let difference = Int32(bitPattern: transit &- lastTransit)
        let magnitude = UInt64(difference.magnitude)
        scaledJitter = scaledJitter + magnitude - ((scaledJitter + 8) >> 4)
    }

    /// The arrival time on the RTP clock, wrapping like RTP timestamps do
    /// (only differences matter).
    private func arrivalInClockUnits(_ arrival: Instant) -> UInt32 {
        let nanoseconds = arrival.nanoseconds
        var seconds = nanoseconds / 1_000_000_000
        var remainder = nanoseconds % 1_000_000_000
        if remainder < 0 { remainder += 1_000_000_000; seconds -= 1 }
        let rate = Int64(clockRate)
        let whole = UInt64(bitPattern: seconds &* rate)
        let part = UInt64(remainder * rate / 1_000_000_000)
        return UInt32(truncatingIfNeeded: whole &+ part)
    }

    // MARK: Reported figures

    /// Packets counted since validation or the last restart (A.1's `received`).
    public var packetsReceived: UInt64 { received }

    /// Packets the sequence numbers say were sent since the first counted one (A.3).
    public var packetsExpected: UInt64 {
        guard isValidated else { return 0 }
        return cycles + UInt64(maxSequence) - UInt64(baseSequence) + 1
    }

    /// Expected minus received; negative when duplicates outnumber losses (A.3).
    public var cumulativeLost: Int64 { Int64(packetsExpected) - Int64(received) }

    /// Cumulative loss as a percentage of packets expected, 0...100.
    public var lossPercent: Double {
        let expected = packetsExpected
        guard expected > 0, cumulativeLost > 0 else { return 0 }
        return min(100, Double(cumulativeLost) * 100 / Double(expected))
    }

    /// Interarrival jitter in timestamp units (A.8).
    public var jitter: UInt32 { UInt32(clamping: scaledJitter >> 4) }

    public var jitterMilliseconds: Double { Double(jitter) * 1000 / Double(clockRate) }

    /// Highest sequence number seen, with the wrap count in the upper 16 bits.
    public var extendedHighestSequence: UInt32 {
        UInt32(truncatingIfNeeded: cycles) &+ UInt32(maxSequence)
    }

    /// A report block for an RTCP RR/SR about this source; advances the A.3
    /// interval ("fraction lost since last report").
    public mutating func makeReportBlock(ssrc: UInt32, lastSenderReport: UInt32,
                                         delaySinceLastSenderReport: UInt32) -> RTCPReportBlock {
        let expected = packetsExpected
        let expectedInterval = expected &- expectedPrior
        let receivedInterval = received &- receivedPrior
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = Int64(bitPattern: expectedInterval) - Int64(bitPattern: receivedInterval)
        var fraction: UInt8 = 0
        if expectedInterval > 0, lostInterval > 0 {
            fraction = UInt8(clamping: (UInt64(lostInterval) << 8) / expectedInterval)
        }
        return RTCPReportBlock(ssrc: ssrc, fractionLost: fraction,
                               cumulativeLost: RTCPReportBlock.clampedCumulativeLost(cumulativeLost),
                               extendedHighestSequence: extendedHighestSequence, jitter: jitter,
                               lastSenderReport: lastSenderReport,
                               delaySinceLastSenderReport: delaySinceLastSenderReport)
    }
}
