import CGpiod
import Platform

/// An open GPIO chip (libgpiod v1). Whoever opens it closes it; lines
/// requested from it must be closed first (closing the chip releases them,
/// and they report `.closed` afterwards).
public final class GPIOChip {
    /// The kernel's name, e.g. "gpiochip0".
    public let name: String
    /// The driver's label, e.g. "pinctrl-bcm2711".
    public let label: String
    /// How many lines the chip has.
    public let lineCount: Int
    /// The candidate that opened.
    public let openedAs: String

    var handle: OpaquePointer?

    /// Opens the first candidate of `description` that works: a
    /// comma-separated list of names (`gpiochip0`), paths (`/dev/gpiochip4`),
    /// labels (`pinctrl-rp1`) or numbers (`4`), e.g.
    /// `"pinctrl-rp1,pinctrl-bcm2711,gpiochip0"` for a Pi 5 or a Pi 4.
    public init(opening description: String) throws(GPIOError) {
        var attempts: [GPIOChipAttempt] = []
        for candidate in GPIOChip.candidates(in: description) {
            if let chip = gpiod_chip_open_lookup(candidate) {
                handle = chip
                name = gpiod_chip_name(chip).map { String(cString: $0) } ?? candidate
                label = gpiod_chip_label(chip).map { String(cString: $0) } ?? ""
                lineCount = Int(gpiod_chip_num_lines(chip))
                openedAs = candidate
                return
            }
            var error = Errno.current
            if error.code == 0 { error = Errno.notFound }
            attempts.append(GPIOChipAttempt(candidate: candidate, error: error))
        }
        throw GPIOError.chipNotFound(attempts)
    }

    /// The candidates of a comma-separated description, trimmed, empty ones
    /// dropped.
    public static func candidates(in description: String) -> [String] {
        var result: [String] = []
        for part in description.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var slice = part[...]
            while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
            while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
            if !slice.isEmpty { result.append(String(decoding: slice, as: UTF8.self)) }
        }
        return result
    }

    public var isOpen: Bool { handle != nil }

    /// Closes the chip and releases every line still requested from it.
    public func close() {
        if let chip = handle {
            gpiod_chip_close(chip)
            handle = nil
        }
    }

    deinit { close() }

    /// The libgpiod line at `offset` (owned by the chip).
    func line(at offset: Int) throws(GPIOError) -> OpaquePointer {
        guard let chip = handle else { throw GPIOError.closed(chip: name, offset: offset) }
        guard offset >= 0, offset < lineCount else {
            throw GPIOError.lineFailed(.getLine, chip: name, offset: offset, Errno.invalidArgument)
        }
        guard let line = gpiod_chip_get_line(chip, UInt32(offset)) else {
            throw GPIOError.lineFailed(.getLine, chip: name, offset: offset, Errno.current)
        }
        return line
    }
}
