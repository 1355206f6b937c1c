@testable import Config
import XCTest

/// The board's mixer keys: what they turn into, and the FILE:LINE errors
/// for values that are no level.
final class MixerKeyTests: XCTestCase {
    private static let gpioHead = """
        [board]
        driver = gpio
        gpio_chip = gpiochip0
        [line 1]
        hook_gpio = 17
        ring_mode_gpio = 27
        forward_reverse_gpio = 22
        playback = plughw:CARD=Device,DEV=0

        """

    private func load(_ keys: String, head: String = MixerKeyTests.gpioHead) -> (BoardConfig?, [String]) {
        var files = MemoryFiles()
        files.add("/b.conf", head + keys)
        let (board, diagnostics) = ConfigLoader.loadBoard(path: "/b.conf", read: files.read)
        return (board, diagnostics.map { $0.text })
    }

    func testCM108DefaultsAndOrder() throws {
        let (board, errors) = load("""
            capture_volume = 50%
            playback_volume = -6dB
            agc = off
            mic_monitor = off
            """)
        XCTAssertEqual(errors, [])
        let mixer = try XCTUnwrap(board?.lines.first?.mixer)
        XCTAssertEqual(mixer, [
            MixerSetting(control: "Auto Gain Control", direction: .any, value: .on(false), key: "agc"),
            MixerSetting(control: "Mic", direction: .playback, value: .on(false), key: "mic_monitor"),
            MixerSetting(control: "Mic", direction: .capture, value: .percent(50), key: "capture_volume"),
            MixerSetting(control: "Speaker", direction: .playback, value: .hundredthsOfDB(-600), key: "playback_volume"),
        ])
        XCTAssertEqual(mixer.map { $0.summary }, ["Auto Gain Control=off", "Mic=off", "Mic=50%", "Speaker=-6.00dB"])
    }

    func testNamedControlsAndTheGenericKey() throws {
        let (board, errors) = load("""
            capture_volume = 4.5 dB
            capture_control = Capture
            playback_volume = 100%
            playback_control = PCM
            mixer = PCM Notify=on, PCM Rate Shift 100000 = 100200, Boost=-1.05dB
            """)
        XCTAssertEqual(errors, [])
        let mixer = try XCTUnwrap(board?.lines.first?.mixer)
        XCTAssertEqual(mixer.map { $0.summary }, [
            "Capture=4.50dB", "PCM=100%", "PCM Notify=on", "PCM Rate Shift 100000=100200", "Boost=-1.05dB",
        ])
        XCTAssertEqual(mixer.map { $0.direction }, [.capture, .playback, .any, .any, .any])
    }

    func testNoMixerKeysSetNothing() throws {
        let (board, errors) = load("")
        XCTAssertEqual(errors, [])
        XCTAssertEqual(board?.lines.first?.mixer, [])
    }

    func testBadValuesNameTheirLine() {
        let (_, errors) = load("""
            capture_volume = 50
            playback_volume = 120%
            agc = maybe
            mixer = PCM Notify
            """)
        let (_, more) = load("mixer = PCM Notify=on, Input Source=Line\n")
        XCTAssertEqual(more, ["/b.conf:9: error: invalid value 'PCM Notify=on, Input Source=Line' for 'mixer': "
                              + "'Input Source=Line' is not NAME=VALUE with VALUE on/off, a percent, a dB gain or an integer"])
        XCTAssertEqual(errors, [
            "/b.conf:9: error: invalid value '50' for 'capture_volume': expected a percent (0%-100%) or a gain in dB (-120dB to 60dB, e.g. -6dB)",
            "/b.conf:10: error: invalid value '120%' for 'playback_volume': expected a percent (0%-100%) or a gain in dB (-120dB to 60dB, e.g. -6dB)",
            "/b.conf:11: error: invalid value 'maybe' for 'agc': expected yes or no",
            "/b.conf:12: error: invalid value 'PCM Notify' for 'mixer': 'PCM Notify' is not NAME=VALUE with VALUE on/off, a percent, a dB gain or an integer",
        ])
    }

    func testTheSimulatedBoardHasNoMixer() {
        let (_, errors) = load("agc = off\n", head: "[board]\ndriver = sim\n[line 1]\n")
        XCTAssertEqual(errors, ["/b.conf:4: error: 'agc' needs driver = gpio (the simulated board has no sound card)"])
    }

    func testVolumeSyntax() {
        XCTAssertEqual(MixerSetting.parseVolume("0%"), .percent(0))
        XCTAssertEqual(MixerSetting.parseVolume("-6dB"), .hundredthsOfDB(-600))
        XCTAssertEqual(MixerSetting.parseVolume("+3.5db"), .hundredthsOfDB(350))
        XCTAssertEqual(MixerSetting.parseVolume("-0.05 dB"), .hundredthsOfDB(-5))
        for bad in ["", "%", "dB", "50", "101%", "-1%", "5.dB", "1.234dB", "-600dB", "six dB", "--6dB"] {
            XCTAssertNil(MixerSetting.parseVolume(bad), bad)
        }
    }
}
