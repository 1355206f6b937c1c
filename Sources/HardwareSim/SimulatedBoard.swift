import EventLoop
import Timebase

/// The simulated board: its lines, and the 10 ms loop timer that is their
/// frame clock (a real board's clock is each sound card's capture stream).
public final class SimulatedBoard {
    public static let frameInterval = Interval.milliseconds(10)

    public private(set) var lines: [SimulatedLine] = []
    private let frameSamples: Int
    private let loop: EventLoop
    private var nextFrame: Instant
    private var frameTimer: TimerID?
    /// Times the loop stalled so long that the clock started again.
    public private(set) var lateFrames = 0

    public init(frameSamples: Int, loop: EventLoop) {
        self.loop = loop
        self.frameSamples = frameSamples
        nextFrame = loop.now
    }

    public func addLine(_ number: Int) -> SimulatedLine {
        let line = SimulatedLine(number: number, frameSamples: frameSamples, loop: loop)
        lines.append(line)
        return line
    }

    public func line(_ number: Int) -> SimulatedLine? { lines.first { $0.number == number } }

    /// Starts the frame clock (each line is started by its owner).
    public func start() {
        nextFrame = loop.now + SimulatedBoard.frameInterval
        frameTimer = loop.schedule(at: nextFrame) { self.frameTick() }
    }

    public func close() {
        if let frameTimer { loop.cancel(frameTimer) }
        frameTimer = nil
    }

    /// Every 10 ms, each line's frame in turn.
    private func frameTick() {
        let now = loop.now
        for line in lines { line.frame(at: now) }
        nextFrame += SimulatedBoard.frameInterval
        if nextFrame < now - .milliseconds(200) {
            // The loop stalled: start the clock again rather than catch up.
            lateFrames += 1
            nextFrame = now + SimulatedBoard.frameInterval
        }
        frameTimer = loop.schedule(at: nextFrame) { self.frameTick() }
    }
}
