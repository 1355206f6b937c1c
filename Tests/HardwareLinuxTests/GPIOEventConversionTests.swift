import CGpiod
@testable import HardwareLinux
import XCTest

final class GPIOEventConversionTests: XCTestCase {
    func testKernelEventsBecomeEdgesWithNanosecondTimestamps() {
        var event = gpiod_line_event()
        event.ts.tv_sec = 1234
        event.ts.tv_nsec = 567_890_123
        event.event_type = Int32(GPIOD_LINE_EVENT_RISING_EDGE)
        XCTAssertEqual(GPIOInputLine.convert(event),
                       GPIOEdgeEvent(edge: .rising, timestampNanoseconds: 1_234_567_890_123))
        event.event_type = Int32(GPIOD_LINE_EVENT_FALLING_EDGE)
        XCTAssertEqual(GPIOInputLine.convert(event).edge, .falling)
        XCTAssertTrue(GPIOEdge.rising.level)
        XCTAssertFalse(GPIOEdge.falling.level)
    }
}
