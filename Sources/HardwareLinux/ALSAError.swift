import CALSA
import CompactText

/// Which way audio moves through a PCM.
public enum PCMDirection: Equatable, Sendable {
    /// To the phone (the sound card's output).
    case playback
    /// From the phone (the sound card's input).
    case capture

    public var name: String { self == .playback ? "playback" : "capture" }
}

/// What an ALSA call was for when it failed.
public enum ALSAOperation: Equatable, Sendable {
    case open, configure, pollDescriptors, pollEvents, read, write, start, prepare, resume, available, loadConfiguration

    public var name: String {
        switch self {
        case .open: return "open"
        case .configure: return "configure"
        case .pollDescriptors: return "get the poll descriptors of"
        case .pollEvents: return "decode poll events of"
        case .read: return "read from"
        case .write: return "write to"
        case .start: return "start"
        case .prepare: return "prepare"
        case .resume: return "resume"
        case .available: return "query"
        case .loadConfiguration: return "load the configuration for"
        }
    }
}

/// An ALSA failure: the device, what was being done, ALSA's (negative)
/// error code and its text (snd_strerror), plus a detail when the error
/// code alone does not say it (e.g. which hardware parameter was refused).
public struct ALSAError: Error, Equatable, Sendable {
    public var device: String
    public var direction: PCMDirection
    public var operation: ALSAOperation
    /// Negative errno, as ALSA returns it (e.g. -ENOENT).
    public var code: Int32
    public var detail: String

    public init(device: String, direction: PCMDirection, operation: ALSAOperation, code: Int32, detail: String = "") {
        self.device = device
        self.direction = direction
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    /// ALSA's text for `code`, e.g. "No such file or directory".
    public var alsaMessage: String {
        guard let text = snd_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The device vanished (a USB sound card unplugged): close the stream
    /// and open it again later.
    public var isDeviceGone: Bool { code == -19 /* ENODEV */ }

    /// One line for the log, e.g. `cannot open ALSA playback device "hw:5":
    /// No such file or directory`.
    public var message: String {
        var text = "cannot \(operation.name) ALSA \(direction.name) device \"\(device)\""
        if !detail.isEmpty { text += " (\(detail))" }
        text += ": \(alsaMessage)"
        return text
    }
}
