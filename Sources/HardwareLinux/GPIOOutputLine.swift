import CGpiod
import Platform

/// An output line, e.g. the SLIC's ring mode (RM) or forward/reverse (F/R)
/// input. Values are logical: with `activeLow`, `set(true)` drives it low.
public final class GPIOOutputLine {
    public let chip: GPIOChip
    public let offset: Int
    public let activeLow: Bool
    /// The logical value last set.
    public private(set) var isOn: Bool

    private var line: OpaquePointer?

    public init(chip: GPIOChip, offset: Int, initiallyOn: Bool = false, activeLow: Bool = false,
                consumer: String = "atad") throws(GPIOError) {
        let line = try chip.line(at: offset)
        let flags = gpioRequestFlags(activeLow: activeLow, bias: .asIs)
        let result = consumer.withCString { name -> Int32 in
            var config = gpiod_line_request_config(
                consumer: name, request_type: Int32(GPIOD_LINE_REQUEST_DIRECTION_OUTPUT), flags: flags)
            return gpiod_line_request(line, &config, initiallyOn ? 1 : 0)
        }
        if result != 0 { throw GPIOError.lineFailed(.request, chip: chip.name, offset: offset, Errno.current) }
        self.chip = chip
        self.offset = offset
        self.activeLow = activeLow
        self.isOn = initiallyOn
        self.line = line
    }

    public var isOpen: Bool { line != nil && chip.isOpen }

    /// Drives the line; a value equal to the last one set costs no system call.
    public func set(_ on: Bool) throws(GPIOError) {
        guard let line, chip.isOpen else { throw GPIOError.closed(chip: chip.name, offset: offset) }
        if on == isOn { return }
        if gpiod_line_set_value(line, on ? 1 : 0) != 0 {
            throw GPIOError.lineFailed(.setValue, chip: chip.name, offset: offset, Errno.current)
        }
        isOn = on
    }

    /// The logical value the kernel reports for the line: what its driver
    /// drives, read back to confirm a `set` reached the chip.
    public func readBack() throws(GPIOError) -> Bool {
        guard let line, chip.isOpen else { throw GPIOError.closed(chip: chip.name, offset: offset) }
        let value = gpiod_line_get_value(line)
        if value < 0 { throw GPIOError.lineFailed(.getValue, chip: chip.name, offset: offset, Errno.current) }
        return value != 0
    }

    /// Releases the line; the kernel keeps driving the last value (or
    /// reverts it, depending on the driver): set it safe before closing.
    public func close() {
        if let line, chip.isOpen { gpiod_line_release(line) }
        line = nil
    }

    deinit { close() }
}
