import CALSA

/// An ALSA configuration: the system's (alsa.conf, asound.conf, ~/.asoundrc)
/// plus PCM definitions of our own, for `PCMStream(device:..., definitions:)`.
/// Lets a board file or a test name PCMs without touching global files.
public final class ALSAConfigTree {
    let tree: OpaquePointer

    /// Loads the system configuration and adds `text` (ALSA's syntax, e.g.
    /// `pcm.line { type file slave.pcm null file "/tmp/x" infile "/tmp/y" format raw }`).
    /// `name` only labels errors.
    public init(adding text: String, name: String = "configuration") throws(ALSAError) {
        var base: OpaquePointer?
        var code = snd_config_update_ref(&base)
        var tree: OpaquePointer?
        if code >= 0, let base {
            code = snd_config_copy(&tree, base)
            snd_config_unref(base)
        } else {
            code = snd_config_top(&tree)
        }
        guard code >= 0, let tree else {
            throw ALSAError(device: name, direction: .playback, operation: .loadConfiguration, code: code)
        }
        var input: OpaquePointer?
        code = text.withCString { snd_input_buffer_open(&input, $0, -1) }
        if code >= 0, let input {
            code = snd_config_load(tree, input)
            snd_input_close(input)
        }
        if code < 0 {
            snd_config_delete(tree)
            throw ALSAError(device: name, direction: .playback, operation: .loadConfiguration, code: code,
                            detail: "bad ALSA configuration text")
        }
        self.tree = tree
    }

    deinit { snd_config_delete(tree) }
}
