import CSpanDSP

/// Fills the holes lost or late RTP packets leave in received audio, with
/// spandsp's generic concealer (`plc_rx` / `plc_fillin`, the approach of
/// G.711 Appendix I adjusted for 20 ms packets, with no added delay).
///
/// Every frame that did arrive goes through `received(_:)`: it keeps the
/// recent history from which a lost frame is rebuilt, and after a loss it
/// blends the first real samples with the synthetic ones so the seam does
/// not click. A lost frame is produced by `conceal(_:)`, which repeats the
/// last pitch period of the history.
///
/// By design the fill-in fades linearly to silence 50 ms into a gap
/// (spandsp's attenuation step is 1/400 per sample at 8 kHz): repeating a
/// pitch period for longer sounds like a robotic buzz, worse than a gap.
/// With 20 ms frames the first lost frame is at about −2 dB, the second
/// about −8 dB, the third fades out, and later ones are silent.
///
/// spandsp's concealer works on 16-bit samples in both its floating- and
/// fixed-point builds, and its pitch search assumes 8 kHz audio.
/// The state is allocated once at init; nothing allocates per frame.
public final class PacketLossConcealment {
    private let state: UnsafeMutablePointer<plc_state_t>

    public init() {
        guard let state = plc_init(nil) else {
            fatalError("plc_init failed")
        }
        self.state = state
    }

    deinit {
        plc_free(state)
    }

    /// Forgets the history, as at the start of a new call.
    public func reset() {
        _ = plc_init(state)
    }

    /// A frame that arrived: trains the history and, just after a loss,
    /// cross-fades its start with the fill-in (so it may change `frame`).
    public func received(_ frame: UnsafeMutableBufferPointer<Int16>) {
        guard let base = frame.baseAddress, frame.count > 0 else { return }
        _ = plc_rx(state, base, Int32(frame.count))
    }

    /// A frame that is missing: writes its synthetic replacement.
    public func conceal(_ frame: UnsafeMutableBufferPointer<Int16>) {
        guard let base = frame.baseAddress, frame.count > 0 else { return }
        _ = plc_fillin(state, base, Int32(frame.count))
    }
}
