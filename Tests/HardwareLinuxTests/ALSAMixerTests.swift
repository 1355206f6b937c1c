import XCTest
@testable import HardwareLinux

/// The mixer that goes with a PCM device name, and a missing card's error.
final class ALSAMixerTests: XCTestCase {
    func testCardOfDevice() {
        XCTAssertEqual(ALSAMixer.card(ofDevice: "hw:CARD=Loopback,DEV=0,SUBDEV=0"), "hw:Loopback")
        XCTAssertEqual(ALSAMixer.card(ofDevice: "plughw:CARD=Device,DEV=0"), "hw:Device")
        XCTAssertEqual(ALSAMixer.card(ofDevice: "plughw:Device,0"), "hw:Device")
        XCTAssertEqual(ALSAMixer.card(ofDevice: "hw:1"), "hw:1")
        for other in ["default", "null", "sysdefault:CARD=Device", "hw:", "hw:DEV=0", "plughw:,0"] {
            XCTAssertNil(ALSAMixer.card(ofDevice: other), other)
        }
    }

    func testAMissingCardIsAnErrorWithItsName() {
        do throws(ALSAMixer.Failure) {
            _ = try ALSAMixer(card: "hw:NoSuchCardHere")
            XCTFail("opened a card that is not there")
        } catch {
            XCTAssertTrue(error.message.hasPrefix("mixer of \"hw:NoSuchCardHere\": cannot load its controls: "), error.message)
        }
    }
}
