import SIPUserAgent
import XCTest

final class DTMFRelayBodyTests: XCTestCase {
    private func parse(_ text: String) -> DTMFRelayBody? { DTMFRelayBody(parsing: Array(text.utf8)) }

    func testParsesSignalAndDuration() {
        XCTAssertEqual(parse("Signal=5\r\nDuration=160\r\n"), DTMFRelayBody(key: UInt8(ascii: "5"), durationMilliseconds: 160))
        XCTAssertEqual(parse("signal = #\nduration= 250"), DTMFRelayBody(key: UInt8(ascii: "#"), durationMilliseconds: 250))
        XCTAssertEqual(parse("Signal=d\r\n")?.key, UInt8(ascii: "D"))
        XCTAssertEqual(parse("Signal=*")?.durationMilliseconds, DTMFRelayBody.defaultDuration)
        // Some senders number * and # as events 10 and 11.
        XCTAssertEqual(parse("Signal=10\r\nDuration=100")?.key, UInt8(ascii: "*"))
        XCTAssertEqual(parse("Signal=11")?.key, UInt8(ascii: "#"))
    }

    func testRejectsBodiesWithoutAValidSignal() {
        XCTAssertNil(parse(""))
        XCTAssertNil(parse("Duration=160"))
        XCTAssertNil(parse("Signal=E"))
        XCTAssertNil(parse("Signal=55"))
        XCTAssertNil(parse("Signal="))
        // A bad duration falls back to the default, the key still counts.
        XCTAssertEqual(parse("Signal=1\r\nDuration=-4")?.durationMilliseconds, DTMFRelayBody.defaultDuration)
    }

    func testSerializes() {
        let body = DTMFRelayBody(key: UInt8(ascii: "9"), durationMilliseconds: 120)
        XCTAssertEqual(String(decoding: body.serialized, as: UTF8.self), "Signal=9\r\nDuration=120\r\n")
        XCTAssertEqual(DTMFRelayBody(parsing: body.serialized), body)
    }
}
