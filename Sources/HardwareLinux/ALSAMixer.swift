import CompactText
import CALSA

/// A sound card's mixer through alsa-lib's simple mixer API, the controls
/// `amixer sset` and alsamixer show ("Mic", "Speaker", "Auto Gain
/// Control"): open it, set a few controls, close it. Only for setting the
/// card up when its audio opens, never per frame.
public final class ALSAMixer {
    /// Which side of a control to set; `.any` takes what the control has,
    /// playback first.
    public enum Side: Equatable, Sendable { case capture, playback, any }

    /// A mixer call that failed, as one line for the log, e.g. `mixer of
    /// "hw:Device": no control "Mic" (it has "Speaker")`.
    public struct Failure: Error, Equatable, Sendable {
        public var message: String
        public init(message: String) { self.message = message }
    }

    public let card: String
    private var handle: OpaquePointer?

    /// Opens the mixer of `card` (e.g. `hw:Device`) and loads its controls.
    public init(card: String) throws(Failure) {
        self.card = card
        var mixer: OpaquePointer?
        var code = snd_mixer_open(&mixer, 0)
        guard code >= 0, let mixer else { throw ALSAMixer.failure(card, "cannot open it", code) }
        code = snd_mixer_attach(mixer, card)
        if code >= 0 { code = snd_mixer_selem_register(mixer, nil, nil) }
        if code >= 0 { code = snd_mixer_load(mixer) }
        guard code >= 0 else {
            snd_mixer_close(mixer)
            throw ALSAMixer.failure(card, "cannot load its controls", code)
        }
        handle = mixer
    }

    deinit { close() }

    public func close() {
        if let handle { snd_mixer_close(handle) }
        handle = nil
    }

    /// The card whose mixer goes with a PCM device name: `hw:CARD=X,DEV=0`,
    /// `plughw:X,0` and `hw:1` give `hw:X` / `hw:1`; nil for names that are
    /// not a card's (`default`, `null`, a plugin of asoundrc).
    public static func card(ofDevice device: String) -> String? {
        // Bytes, not Characters: the firmware stays clear of Unicode tables.
        let bytes = Array(device.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let kind = String(decoding: bytes[..<colon], as: UTF8.self)
        guard kind == "hw" || kind == "plughw" else { return nil }
        var first = bytes[(colon + 1)...].prefix { $0 != UInt8(ascii: ",") }
        if first.count > 5 && String(decoding: first.prefix(5), as: UTF8.self) == "CARD=" { first = first.dropFirst(5) }
        guard !first.isEmpty, !first.contains(UInt8(ascii: "=")) else { return nil }
        return "hw:" + String(decoding: first, as: UTF8.self)
    }

    // MARK: Setting controls

    /// Sets a volume to `percent` of the control's range (as `amixer sset
    /// NAME 50%`); returns the side it set.
    @discardableResult
    public func setVolume(_ control: String, side: Side, percent: Int) throws(Failure) -> Side {
        let (element, chosen) = try volumeElement(control, side)
        var low = 0, high = 0
        let ranged = chosen == .capture ? snd_mixer_selem_get_capture_volume_range(element, &low, &high)
            : snd_mixer_selem_get_playback_volume_range(element, &low, &high)
        try check(ranged, control, "read the range of")
        let value = low + (high - low) * max(0, min(percent, 100)) / 100
        try check(chosen == .capture ? snd_mixer_selem_set_capture_volume_all(element, value)
                  : snd_mixer_selem_set_playback_volume_all(element, value), control, "set")
        return chosen
    }

    /// Sets a volume to a gain in hundredths of a dB, rounded to the
    /// nearest step the control has; needs the driver's dB scale.
    @discardableResult
    public func setVolume(_ control: String, side: Side, hundredthsOfDB: Int) throws(Failure) -> Side {
        let (element, chosen) = try volumeElement(control, side)
        try check(chosen == .capture ? snd_mixer_selem_set_capture_dB_all(element, hundredthsOfDB, 0)
                  : snd_mixer_selem_set_playback_dB_all(element, hundredthsOfDB, 0),
                  control, "set the dB gain of", detail: " (has it no dB scale? give a percent)")
        return chosen
    }

    /// Sets a volume in the control's own units.
    @discardableResult
    public func setVolume(_ control: String, side: Side, raw: Int) throws(Failure) -> Side {
        let (element, chosen) = try volumeElement(control, side)
        try check(chosen == .capture ? snd_mixer_selem_set_capture_volume_all(element, raw)
                  : snd_mixer_selem_set_playback_volume_all(element, raw), control, "set")
        return chosen
    }

    /// Turns a switch on or off (a mute, "Auto Gain Control", a monitor).
    @discardableResult
    public func setSwitch(_ control: String, side: Side, on: Bool) throws(Failure) -> Side {
        let element = try find(control)
        let playback = snd_mixer_selem_has_playback_switch(element) != 0
            || snd_mixer_selem_has_common_switch(element) != 0
        let capture = snd_mixer_selem_has_capture_switch(element) != 0
        let chosen: Side
        switch side {
        case .playback where playback, .any where playback: chosen = .playback
        case .capture where capture, .any where capture: chosen = .capture
        default:
            throw ALSAMixer.failure(card, "no " + (side == .capture ? "capture " : side == .playback ? "playback " : "")
                                    + "switch on \"" + control + "\"", 0)
        }
        try check(chosen == .capture ? snd_mixer_selem_set_capture_switch_all(element, on ? 1 : 0)
                  : snd_mixer_selem_set_playback_switch_all(element, on ? 1 : 0), control, "set")
        return chosen
    }

    /// The names of the card's controls, for an error that says what there is.
    public var controlNames: [String] {
        guard let handle else { return [] }
        var names: [String] = []
        var element = snd_mixer_first_elem(handle)
        while let current = element {
            if let name = snd_mixer_selem_get_name(current) {
                let text = String(cString: name)
                if !names.contains(text) { names.append(text) }
            }
            element = snd_mixer_elem_next(current)
        }
        return names
    }

    // MARK: Finding controls

    private func find(_ control: String) throws(Failure) -> OpaquePointer {
        guard let handle else { throw ALSAMixer.failure(card, "closed", 0) }
        var identifier: OpaquePointer?
        guard snd_mixer_selem_id_malloc(&identifier) >= 0, let identifier else {
            throw ALSAMixer.failure(card, "cannot look up \"" + control + "\"", -12)
        }
        defer { snd_mixer_selem_id_free(identifier) }
        snd_mixer_selem_id_set_index(identifier, 0)
        snd_mixer_selem_id_set_name(identifier, control)
        guard let element = snd_mixer_find_selem(handle, identifier) else {
            let known = controlNames
            throw ALSAMixer.failure(card, "no control \"" + control + "\" ("
                                    + (known.isEmpty ? "the card has none" : "it has \"" + known.joined(separator: "\", \"") + "\"")
                                    + ")", 0)
        }
        return element
    }

    /// The element and the side of its volume to set: the side asked, or
    /// for `.any` playback (or common) before capture.
    private func volumeElement(_ control: String, _ side: Side) throws(Failure) -> (OpaquePointer, Side) {
        let element = try find(control)
        let playback = snd_mixer_selem_has_playback_volume(element) != 0
            || snd_mixer_selem_has_common_volume(element) != 0
        let capture = snd_mixer_selem_has_capture_volume(element) != 0
        switch side {
        case .playback where playback, .any where playback: return (element, .playback)
        case .capture where capture, .any where capture: return (element, .capture)
        default:
            throw ALSAMixer.failure(card, "no " + (side == .capture ? "capture " : side == .playback ? "playback " : "")
                                    + "volume on \"" + control + "\"", 0)
        }
    }

    private func check(_ code: Int32, _ control: String, _ action: String, detail: String = "") throws(Failure) {
        guard code < 0 else { return }
        throw ALSAMixer.failure(card, "cannot " + action + " \"" + control + "\"" + detail, code)
    }

    private static func failure(_ card: String, _ what: String, _ code: Int32) -> Failure {
        var text = "mixer of \"" + card + "\": " + what
        if code != 0, let reason = snd_strerror(code) { text += ": " + String(cString: reason) }
        return Failure(message: text)
    }
}
