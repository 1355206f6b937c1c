import CompactText
import Platform

/// One chip description tried by `GPIOChip.open`, and why it did not open.
public struct GPIOChipAttempt: Equatable, Sendable {
    public var candidate: String
    public var error: Errno

    public init(candidate: String, error: Errno) {
        self.candidate = candidate
        self.error = error
    }
}

/// What a GPIO line was doing when it failed.
public enum GPIOOperation: Equatable, Sendable {
    case getLine, request, readEvents, getValue, setValue

    public var name: String {
        switch self {
        case .getLine: return "look up"
        case .request: return "request"
        case .readEvents: return "read events of"
        case .getValue: return "read"
        case .setValue: return "set"
        }
    }
}

/// Every failure of the libgpiod wrappers, with what was tried.
public enum GPIOError: Error, Equatable, Sendable {
    /// No candidate chip opened (an empty list means none was given).
    case chipNotFound([GPIOChipAttempt])
    /// A line operation failed: chip name, line offset, errno.
    case lineFailed(GPIOOperation, chip: String, offset: Int, Errno)
    /// The line or its chip was closed already.
    case closed(chip: String, offset: Int)

    /// The chip went away (its driver unbound, a USB expander unplugged):
    /// its lines fail for good until it is opened again.
    public var isDeviceGone: Bool {
        if case .lineFailed(_, _, _, let error) = self { return error == Errno.noDevice }
        return false
    }

    /// One line for the log, e.g. `cannot open GPIO chip: tried "gpiochip0"
    /// (No such file or directory), "pinctrl-rp1" (No such file or directory)`.
    public var message: String {
        switch self {
        case .chipNotFound(let attempts):
            if attempts.isEmpty { return "cannot open GPIO chip: no chip name, path, label or number given" }
            var text = "cannot open GPIO chip: tried "
            for (index, attempt) in attempts.enumerated() {
                if index > 0 { text += ", " }
                text += "\"\(attempt.candidate)\" (\(attempt.error.message))"
            }
            return text
        case .lineFailed(let operation, let chip, let offset, let error):
            var text = "cannot \(operation.name) GPIO line \(offset) of \(chip): \(error.message)"
            if operation == .request && error.code == Errno(16).code {
                text += " (another program holds it: see gpioinfo)"
            }
            return text
        case .closed(let chip, let offset):
            return "GPIO line \(offset) of \(chip) is closed"
        }
    }
}
