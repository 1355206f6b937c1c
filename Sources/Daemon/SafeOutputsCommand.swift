import CompactText
import Config
import HardwareLinux

/// `atad safe --config FILE`: drives every line's ringer outputs to rest
/// (RM off, F/R forward) without the daemon, then exits. The systemd unit
/// runs it after atad stops, whatever the reason: a daemon killed in a ring
/// burst would otherwise leave the SLIC in ring mode on boards whose GPIO
/// keeps its last value.
enum SafeOutputsCommand {
    static func run(config: String) -> Int32 {
        let result = ConfigFiles.loadSite(config)
        for diagnostic in result.diagnostics { Console.err(diagnostic.text) }
        guard let site = result.site else {
            Console.err("atad safe: \(config) has errors; outputs left as they are")
            return 1
        }
        guard site.board.driver == .gpio else {
            Console.out("board '\(site.board.name)' (driver \(site.board.driver.rawValue)): no outputs to drive")
            return 0
        }
        let chip: GPIOChip
        do throws(GPIOError) {
            chip = try GPIOChip(opening: site.board.gpioChip ?? "gpiochip0")
        } catch {
            Console.err("atad safe: \(error.message)")
            return 1
        }
        defer { chip.close() }
        var allSafe = true
        for line in site.board.lines {
            // Each line on its own: one that fails must not keep the others ringing.
            if let problem = makeSafe(line, chip: chip) {
                Console.err("atad safe: line \(line.number): \(problem)")
                allSafe = false
            } else {
                Console.out("line \(line.number): ring mode off, forward/reverse forward")
            }
        }
        return allSafe ? 0 : 1
    }

    /// Requests the line's outputs at their resting values, reads them back
    /// and releases them. Returns what went wrong, or nil.
    private static func makeSafe(_ line: BoardConfig.Line, chip: GPIOChip) -> String? {
        var problems: [String] = []
        if let offset = line.ringModeGPIO {
            if let problem = drive(chip: chip, offset: offset, on: false, activeLow: line.ringModeActiveLow) {
                problems.append("ring mode: \(problem)")
            }
        }
        if let offset = line.forwardReverseGPIO {
            if let problem = drive(chip: chip, offset: offset, on: true, activeLow: false) {
                problems.append("forward/reverse: \(problem)")
            }
        }
        if let offset = line.loopDisconnectGPIO {
            if let problem = drive(chip: chip, offset: offset, on: false, activeLow: line.loopDisconnectActiveLow) {
                problems.append("loop disconnect: \(problem)")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    private static func drive(chip: GPIOChip, offset: Int, on: Bool, activeLow: Bool) -> String? {
        do throws(GPIOError) {
            // Requesting the line as an output sets the value at once.
            let output = try GPIOOutputLine(chip: chip, offset: offset, initiallyOn: on, activeLow: activeLow,
                                            consumer: "atad-safe")
            defer { output.close() }
            if try output.readBack() != on { return "the line did not take the value (read back differs)" }
            return nil
        } catch {
            return error.message
        }
    }
}
