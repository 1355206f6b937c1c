import ControlProtocol
import EventLoop
import HardwareSim
import Line
import LineHardware
import Platform
import Timebase
import XCTest

/// The simulated board behind LineHardware: its clock, the order of each
/// frame, the handset's hook and mouth, and the bell's measurements.
final class SimulatedBoardTests: XCTestCase {
    private let clock = ManualClock()
    private lazy var loop = EventLoop(clock: clock)
    private let facts = SimulatedLineCommands.LineFacts(flashMinimum: .milliseconds(100), flashMaximum: .milliseconds(300),
                                                        pulseMapping: .standard, echoCanceller: true)

    private func run(for interval: Interval) {
        let end = clock.now + interval
        while clock.now < end {
            clock.advance(by: .milliseconds(1))
            loop.runDueTimers()
        }
    }

    func testEachFrameAsksForTheEarpieceBeforeHandingOverTheMouthpiece() {
        let board = SimulatedBoard(frameSamples: 80, loop: loop)
        let line = board.addLine(1)
        var events: [String] = []
        line.onEarpieceFrame = { frame, _ in
            events.append("ear")
            frame.update(repeating: 1000)
        }
        line.onMouthpieceFrame = { frame, _ in events.append(frame.contains { $0 != 0 } ? "mouth sound" : "mouth quiet") }
        line.start()
        board.start()
        run(for: .milliseconds(20))
        XCTAssertEqual(events, ["ear", "mouth quiet", "ear", "mouth quiet"], "on hook the mouthpiece is silent")

        // Off hook, with a 0 ms hybrid: this frame's earpiece comes back at once.
        var hooks: [Bool] = []
        line.onHook = { offHook, _ in hooks.append(offHook) }
        let commands = SimulatedLineCommands(line: line, facts: facts)
        XCTAssertTrue(commands.hook(["off"], clock.now).isOK)
        XCTAssertEqual(commands.hybrid(["0", "10"]).lines, ["echo 0 ms, 10 dB down"])
        events.removeAll()
        run(for: .milliseconds(10))
        XCTAssertEqual(hooks, [true])
        XCTAssertEqual(events, ["ear", "mouth sound"])
        board.close()
    }

    func testTheHandsetOnlyPressesKeysOffHook() {
        let board = SimulatedBoard(frameSamples: 80, loop: loop)
        let commands = SimulatedLineCommands(line: board.addLine(3), facts: facts)
        XCTAssertEqual(commands.dtmf(["5"]).message, "line 3 is on hook")
        XCTAssertEqual(commands.pulse(["5"]).message, "line 3 is on hook")
        XCTAssertTrue(commands.hook(["off"], clock.now).isOK)
        XCTAssertTrue(commands.dtmf(["5"]).isOK)
        XCTAssertEqual(commands.pulse(["20"]).lines, ["12 pulses over 2600 ms"])
        XCTAssertEqual(commands.flash([]).lines, ["flash 200 ms"])
    }

    func testTheBellMeasuresFrequencyAndCadenceFromTheOutputs() {
        let board = SimulatedBoard(frameSamples: 80, loop: loop)
        let line = board.addLine(1)
        let commands = SimulatedLineCommands(line: line, facts: facts)
        var signal = RingSignal(frequencyHz: 20)
        XCTAssertEqual(commands.ringing([]).lines, ["no"])
        // Three repetitions of 400 ms on, 200 ms off, 400 ms on, 2000 ms off.
        for _ in 0..<3 {
            for (burst, milliseconds) in [(true, 400), (false, 200), (true, 400), (false, 2000)] {
                let phase: RingPhase = burst ? .burst : .pause
                if let outputs = signal.set(phase, at: clock.now) { line.driveRinger(outputs, at: clock.now) }
                line.ringPhaseChanged(phase, at: clock.now)
                let end = clock.now + .milliseconds(Int64(milliseconds))
                while let deadline = signal.nextDeadline, deadline < end {
                    clock.advance(to: deadline)
                    if let outputs = signal.advance(to: clock.now) { line.driveRinger(outputs, at: clock.now) }
                }
                clock.advance(to: end)
            }
        }
        XCTAssertEqual(commands.ringing([]).lines, ["yes 20 Hz 400/200/400/2000", "bursts 6"])
        if let outputs = signal.set(.idle, at: clock.now) { line.driveRinger(outputs, at: clock.now) }
        line.ringPhaseChanged(.idle, at: clock.now)
        XCTAssertEqual(commands.ringing([]).lines, ["no"])
    }
}
