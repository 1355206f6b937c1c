import CSpanDSP

/// Sends one caller ID burst to the phone: an FSK message through spandsp's
/// ADSI transmitter (Bell 202 or V.23, optionally after the 2130+2750 Hz
/// dual-tone alert), or DTMF digits.
///
/// spandsp 0.0.6 quirks this works around (docs/research/caller-id.md):
/// the modem is made and the message queued before the first sample is
/// pulled (pulled earlier, it sends a burst of junk); the last pull returns
/// short and later ones nothing, so the rest of the frame is zeroed here;
/// the message is handed over whole (its `adsi_add_field` corrupts 16-byte
/// fields), spandsp adding the length and checksum. DTMF caller ID uses
/// our own generator: spandsp's sends 50 ms digits, shorter than the
/// 70 ms the national specifications ask for.
///
/// The modem state is allocated once per burst (not per frame) and freed
/// when the transmitter goes.
public final class CallerIDTransmitter {
    public enum Modem: Sendable {
        case bell202
        case v23
    }

    private var modem: OpaquePointer?
    private var digits: DTMFGenerator?
    public private(set) var isDone = false

    /// An FSK burst: `message` is the MDMF message without its checksum.
    /// `markBits` is the mark run before the message (180 on hook, GR-30
    /// and EN 300 659-1; 80 for BT, within SIN 227's 55-90, and off hook).
    /// `channelSeizure`: the 300 alternating bits first (on hook; off-hook
    /// data has none).
    public init?(message: [UInt8], modem kind: Modem, dualToneAlert: Bool, markBits: Int32,
                 channelSeizure: Bool = true) {
        guard let state = adsi_tx_init(nil, kind == .bell202 ? 1 : 2) else { return nil }  // ADSI_STANDARD_CLASS, _CLIP
        modem = state
        adsi_tx_set_preamble(state, channelSeizure ? -1 : 0, markBits, -1, -1)
        if dualToneAlert { adsi_tx_send_alert_tone(state) }
        let queued = message.withUnsafeBufferPointer { adsi_tx_put_message(state, $0.baseAddress, Int32($0.count)) }
        guard queued == Int32(message.count) else {
            adsi_tx_free(state)
            modem = nil
            return nil
        }
    }

    /// DTMF digits, 70 ms on and 70 ms off.
    public init?(dtmf text: String, levelDBm0: Double) {
        var generator = DTMFGenerator(levelDBm0: levelDBm0, twistDB: 0, onMs: 70, offMs: 70)
        guard generator.enqueue(text) else { return nil }
        digits = generator
    }

    deinit {
        if let modem { adsi_tx_free(modem) }
    }

    /// Fills `buffer` with the next samples, silence once the burst is over
    /// (`isDone`).
    public func generate(into buffer: UnsafeMutableBufferPointer<Int16>) {
        guard let base = buffer.baseAddress else { return }
        var filled = 0
        if let modem, !isDone {
            filled = Int(adsi_tx(modem, base, Int32(buffer.count)))
            if filled < buffer.count { isDone = true }
        } else if digits != nil, !isDone {
            if digits!.isIdle {
                isDone = true
            } else {
                digits!.generate(into: buffer)
                filled = buffer.count
            }
        }
        if filled < buffer.count { (base + filled).update(repeating: 0, count: buffer.count - filled) }
    }
}
