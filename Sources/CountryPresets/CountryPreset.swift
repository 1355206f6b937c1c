/// A call-progress tone: one to four frequencies played together at one
/// level, switched on and off by a cadence.
public struct ToneSpec: Equatable, Sendable {
    /// Frequencies in Hz. With `modulated`, frequencies[0] is the carrier and
    /// frequencies[1] the modulating frequency (e.g. "425*25").
    public var frequencies: [UInt16]
    public var modulated: Bool
    /// Level of each frequency component, in dBm0.
    public var levelDBm0: Int8
    /// Alternating on/off durations in ms, repeated forever; empty means the
    /// tone is continuous.
    public var cadence: [UInt16]
    /// Alternating on/off durations in ms played once before `cadence`
    /// (stutter dial tone); usually empty.
    public var leadIn: [UInt16]

    public init(frequencies: [UInt16], modulated: Bool = false, levelDBm0: Int8,
                cadence: [UInt16] = [], leadIn: [UInt16] = []) {
        self.frequencies = frequencies
        self.modulated = modulated
        self.levelDBm0 = levelDBm0
        self.cadence = cadence
        self.leadIn = leadIn
    }
}

/// How the bell rings: the ring voltage's frequency and the cadence.
public struct RingSpec: Equatable, Sendable {
    public var frequencyHz: UInt8
    /// Alternating on/off durations in ms, repeated.
    public var cadence: [UInt16]

    public init(frequencyHz: UInt8, cadence: [UInt16]) {
        self.frequencyHz = frequencyHz
        self.cadence = cadence
    }
}

/// Everything analog that one `country =` setting selects.
public struct CountryPreset: Sendable {
    /// ISO 3166-1 alpha-2, lower case ("us", "gb", "de").
    public var code: String
    public var name: String
    public var dial: ToneSpec
    public var ringback: ToneSpec
    public var busy: ToneSpec
    public var congestion: ToneSpec
    public var callWaiting: ToneSpec
    /// Stutter dial tone: message waiting or call forwarding active.
    public var stutterDial: ToneSpec
    /// Off-hook warning (howler), played when the handset stays off hook.
    public var offHookWarning: ToneSpec
    public var ring: RingSpec
    /// A hook-on shorter than the minimum is a glitch; one between minimum
    /// and maximum is a flash.
    public var flashMinimumMs: UInt16
    public var flashMaximumMs: UInt16
    /// An on-hook this long is a hang-up. Kept apart from the flash window
    /// (a break between the two changes nothing), so a phone whose R key
    /// sends a longer break than the country's does not drop the call.
    public var hangUpMs: UInt16
    /// The hang-up time wherever the country has no longer one of its own.
    public static let defaultHangUpMs: UInt16 = 400
    /// Where the figures come from.
    public var source: String

    public init(code: String, name: String, dial: ToneSpec, ringback: ToneSpec, busy: ToneSpec,
                congestion: ToneSpec, callWaiting: ToneSpec, stutterDial: ToneSpec,
                offHookWarning: ToneSpec, ring: RingSpec, flashMinimumMs: UInt16,
                flashMaximumMs: UInt16, hangUpMs: UInt16 = CountryPreset.defaultHangUpMs, source: String) {
        self.code = code
        self.name = name
        self.dial = dial
        self.ringback = ringback
        self.busy = busy
        self.congestion = congestion
        self.callWaiting = callWaiting
        self.stutterDial = stutterDial
        self.offHookWarning = offHookWarning
        self.ring = ring
        self.flashMinimumMs = flashMinimumMs
        self.flashMaximumMs = flashMaximumMs
        self.hangUpMs = hangUpMs
        self.source = source
    }
}
