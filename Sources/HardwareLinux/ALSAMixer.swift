import CALSA

/// A sound card's mixer through alsa-lib's simple mixer API, the controls
/// `amixer sset` and alsamixer show ("Mic", "Speaker", "Auto Gain
/// Control"): open it, set a few controls, close it. Only for setting the
/// card up when its audio opens, never per frame.
public final class ALSAMixer {
    /// Which side of a control to set; `.any` takes what the control has,
    /// playback first.
    public enum Side: Equatable, Sendable { case capture, playback, any }

    /// What a mixer call was for when it failed.
    public struct Failure: Error, Equatable, Sendable {
        public var card: String
        public var control: String
        /// What was being done, e.g. "open the mixer of", "find".
        public var action: String
        /// Negative errno from alsa-lib, or 0 when the control lacks what
        /// was asked of it.
        public var code: Int32
        public var detail: String

        /// One line for the log, e.g. `mixer of "hw:Device": no control "Mic"`.
        public var message: String {
            var text = "mixer of \"\(card)\": "
            if control.isEmpty { text += "cannot \(action)" } else { text += "\(action) \"\(control)\"" }
            if !detail.isEmpty { text += " (\(detail))" }
            if code != 0, let cText = snd_strerror(code) { text += ": " + String(cString: cText) }
            return text
        }
    }

    public let card: String
    private var handle: OpaquePointer?

    /// Opens the mixer of `card` (e.g. `hw:Device`) and loads its controls.
    public init(card: String) throws(Failure) {
        self.card = card
        var mixer: OpaquePointer?
        var code = snd_mixer_open(&mixer, 0)
        guard code >= 0, let mixer else {
            throw Failure(card: card, control: "", action: "open the mixer", code: code, detail: "")
        }
        code = snd_mixer_attach(mixer, card)
        if code >= 0 { code = snd_mixer_selem_register(mixer, nil, nil) }
        if code >= 0 { code = snd_mixer_load(mixer) }
        guard code >= 0 else {
            snd_mixer_close(mixer)
            throw Failure(card: card, control: "", action: "load the mixer controls", code: code, detail: "")
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
        var rest = Substring(device)
        if rest.hasPrefix("plughw:") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("hw:") {
            rest = rest.dropFirst(3)
        } else {
            return nil
        }
        guard var first = rest.split(separator: ",", omittingEmptySubsequences: false).first, !first.isEmpty else {
            return nil
        }
        if first.hasPrefix("CARD=") { first = first.dropFirst(5) }
        if first.contains("=") || first.isEmpty { return nil }
        return "hw:" + String(first)
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
                  control, "set the dB gain of", detail: "has it no dB scale? use a percent")
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
            throw Failure(card: card, control: control, action: "no switch on", code: 0,
                          detail: side == .any ? "" : "no \(side == .capture ? "capture" : "playback") switch")
        }
        try check(chosen == .capture ? snd_mixer_selem_set_capture_switch_all(element, on ? 1 : 0)
                  : snd_mixer_selem_set_playback_switch_all(element, on ? 1 : 0), control, "set")
        return chosen
    }

    /// Selects an item of an enumerated control by its name; a volume or
    /// switch control given a name is an error.
    public func setItem(_ control: String, name: String) throws(Failure) {
        let element = try find(control)
        guard snd_mixer_selem_is_enumerated(element) != 0 else {
            throw Failure(card: card, control: control, action: "not a list of choices:", code: 0,
                          detail: "give on/off, a percent, a dB gain or a number")
        }
        let count = snd_mixer_selem_get_enum_items(element)
        try check(count, control, "list the items of")
        var buffer = [CChar](repeating: 0, count: 64)
        var names: [String] = []
        for index in 0..<UInt32(count) {
            try check(snd_mixer_selem_get_enum_item_name(element, index, buffer.count - 1, &buffer),
                      control, "list the items of")
            let item = String(cString: buffer)
            if item == name {
                // Every channel the control has: 0 (mono/front left) on up.
                var channel: Int32 = 0
                repeat {
                    try check(snd_mixer_selem_set_enum_item(element, snd_mixer_selem_channel_id_t(channel), index),
                              control, "set")
                    channel += 1
                } while channel <= SND_MIXER_SCHN_LAST.rawValue
                    && (snd_mixer_selem_is_enum_playback(element) != 0
                        ? snd_mixer_selem_has_playback_channel(element, snd_mixer_selem_channel_id_t(channel))
                        : snd_mixer_selem_has_capture_channel(element, snd_mixer_selem_channel_id_t(channel))) != 0
                return
            }
            names.append(item)
        }
        throw Failure(card: card, control: control, action: "no item '\(name)' in", code: 0,
                      detail: "it has " + names.joined(separator: ", "))
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
        guard let handle else { throw Failure(card: card, control: control, action: "closed before", code: 0, detail: "") }
        var identifier: OpaquePointer?
        guard snd_mixer_selem_id_malloc(&identifier) >= 0, let identifier else {
            throw Failure(card: card, control: control, action: "look up", code: -12, detail: "")
        }
        defer { snd_mixer_selem_id_free(identifier) }
        snd_mixer_selem_id_set_index(identifier, 0)
        snd_mixer_selem_id_set_name(identifier, control)
        guard let element = snd_mixer_find_selem(handle, identifier) else {
            let known = controlNames
            throw Failure(card: card, control: control, action: "no control", code: 0,
                          detail: known.isEmpty ? "the card has no mixer controls"
                              : "it has " + known.map { "\"\($0)\"" }.joined(separator: ", "))
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
            let what = side == .capture ? "capture volume" : side == .playback ? "playback volume" : "volume"
            throw Failure(card: card, control: control, action: "no \(what) on", code: 0, detail: "")
        }
    }

    private func check(_ code: Int32, _ control: String, _ action: String, detail: String = "") throws(Failure) {
        guard code < 0 else { return }
        throw Failure(card: card, control: control, action: "cannot \(action)", code: code, detail: detail)
    }
}
