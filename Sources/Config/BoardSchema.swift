/// The keys of a board file: what is wired where.
public enum BoardSchema {
    public static let drivers = ["sim", "gpio"]
    public static let biasChoices = ["as-is", "disabled", "pull-up", "pull-down"]

    public static var schema: ConfigSchema {
        ConfigSchema(sections: [
            SectionSpec("board", required: true, keys: [
                KeySpec("name", .text, "what this board is, for logs and status"),
                KeySpec("driver", .choice(drivers), required: true,
                        "sim (simulated handset, driven from the control socket) or gpio (a SLIC on GPIO + ALSA)"),
                KeySpec("gpio_chip", .text,
                        "GPIO chip by name (gpiochip0), path (/dev/gpiochip4) or label (pinctrl-bcm2711); gpio only"),
            ]),
            SectionSpec("line", argument: .number(1...64), keys: [
                KeySpec("hook_gpio", .integer(0...1023), "line offset of the SLIC's hook output (SHK); gpio only"),
                KeySpec("hook_active_low", .boolean, "SHK reads low when off hook (default no)"),
                KeySpec("hook_bias", .choice(biasChoices), "pull on the SHK input (default as-is)"),
                KeySpec("hook_debounce_ms", .integer(0...100), "hook debounce time (default 20)"),
                KeySpec("ring_mode_gpio", .integer(0...1023), "line offset driving the SLIC's ring mode input (RM)"),
                KeySpec("ring_mode_active_low", .boolean, "RM is active low (default no)"),
                KeySpec("forward_reverse_gpio", .integer(0...1023),
                        "line offset driving forward/reverse (F/R), toggled at the ring frequency"),
                KeySpec("loop_disconnect_gpio", .integer(0...1023),
                        "line offset driving what cuts the line's loop current (a relay in series with tip or ring), for disconnect_pulse_ms"),
                KeySpec("loop_disconnect_active_low", .boolean, "the loop-disconnect output is active low (default no)"),
                KeySpec("playback", .text, "ALSA device for audio to the phone, e.g. plughw:CARD=Device,DEV=0"),
                KeySpec("capture", .text, "ALSA device for audio from the phone (default: same as playback)"),
                KeySpec("period_ms", .choice(["10", "20"]), "audio period in ms (default 10)"),
                KeySpec("capture_volume", .text,
                        "gain from the phone, as a percent of the control's range (50%) or in dB (-6dB); gpio only"),
                KeySpec("capture_control", .text, "mixer control capture_volume sets (default Mic)"),
                KeySpec("playback_volume", .text, "gain to the phone, as a percent (80%) or in dB (0dB); gpio only"),
                KeySpec("playback_control", .text, "mixer control playback_volume sets (default Speaker)"),
                KeySpec("agc", .boolean, "the codec's automatic gain control: set it off for a SLIC; gpio only"),
                KeySpec("agc_control", .text, "mixer switch agc sets (default Auto Gain Control)"),
                KeySpec("mic_monitor", .boolean, "the codec's mic-to-speaker loop: set it off; gpio only"),
                KeySpec("mic_monitor_control", .text, "mixer control whose playback switch mic_monitor sets (default Mic)"),
                KeySpec("mixer", .text, "other mixer controls to set: NAME=VALUE[, NAME=VALUE ...]; gpio only"),
            ]),
        ])
    }
}
