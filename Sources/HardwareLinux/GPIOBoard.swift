import Config
import EventLoop
import LineHardware
import Platform

/// A real board: one GPIO chip, and a GPIOLineHardware per line on it
/// (started and closed by their owner, before the chip is closed).
public final class GPIOBoard {
    private let chip: GPIOChip
    private let frameSamples: Int
    private let loop: EventLoop
    private let log: Logger

    public init(chip name: String, frameSamples: Int, loop: EventLoop, log: Logger) throws(LineHardwareError) {
        do throws(GPIOError) {
            chip = try GPIOChip(opening: name)
        } catch {
            throw LineHardwareError(message: error.message)
        }
        self.frameSamples = frameSamples
        self.loop = loop
        self.log = log
    }

    /// Claims the line's GPIO lines (its audio opens on `start`).
    public func addLine(_ line: BoardConfig.Line) throws(LineHardwareError) -> GPIOLineHardware {
        try GPIOLineHardware(line: line, chip: chip, frameSamples: frameSamples, loop: loop, log: log)
    }

    public func close() { chip.close() }
}
