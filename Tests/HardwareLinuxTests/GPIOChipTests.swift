@testable import HardwareLinux
import Platform
import XCTest

/// There is no GPIO chip (nor gpio-sim) on the build machines: these check
/// the lookup and its errors; the logic above the lines is tested apart.
final class GPIOChipTests: XCTestCase {
    func testCandidateListsAreSplitAndTrimmed() {
        XCTAssertEqual(GPIOChip.candidates(in: "gpiochip0"), ["gpiochip0"])
        XCTAssertEqual(GPIOChip.candidates(in: " pinctrl-rp1 , pinctrl-bcm2711,,gpiochip0 "),
                       ["pinctrl-rp1", "pinctrl-bcm2711", "gpiochip0"])
        XCTAssertEqual(GPIOChip.candidates(in: " , "), [])
    }

    func testAChipThatIsNowhereNamesEveryCandidateTried() throws {
        try XCTSkipIf(FileManager.default.fileExists(atPath: "/dev/gpiochip9"), "this machine has GPIO chips")
        XCTAssertThrowsError(try GPIOChip(opening: "pinctrl-rp1-atad-test,/dev/gpiochip99,gpiochip98")) { error in
            guard case GPIOError.chipNotFound(let attempts) = error as! GPIOError else {
                return XCTFail("wrong error: \(error)")
            }
            XCTAssertEqual(attempts.map(\.candidate), ["pinctrl-rp1-atad-test", "/dev/gpiochip99", "gpiochip98"])
            XCTAssertEqual(attempts.map(\.error), [Errno.notFound, Errno.notFound, Errno.notFound])
            let message = (error as! GPIOError).message
            XCTAssertEqual(message, "cannot open GPIO chip: tried \"pinctrl-rp1-atad-test\" (No such file or directory), "
                + "\"/dev/gpiochip99\" (No such file or directory), \"gpiochip98\" (No such file or directory)")
        }
    }

    func testAFileThatIsNotAChipIsRefused() {
        XCTAssertThrowsError(try GPIOChip(opening: "/dev/null")) { error in
            guard case GPIOError.chipNotFound(let attempts) = error as! GPIOError else {
                return XCTFail("wrong error: \(error)")
            }
            XCTAssertEqual(attempts.count, 1)
            XCTAssertEqual(attempts.first?.candidate, "/dev/null")
            XCTAssertNotEqual(attempts.first?.error.code, 0)
        }
    }

    func testAnEmptyDescriptionSaysSo() {
        XCTAssertThrowsError(try GPIOChip(opening: "")) { error in
            XCTAssertEqual(error as? GPIOError, .chipNotFound([]))
            XCTAssertEqual((error as! GPIOError).message,
                           "cannot open GPIO chip: no chip name, path, label or number given")
        }
    }

    func testLineErrorsNameTheChipAndOffset() {
        let busy = GPIOError.lineFailed(.request, chip: "gpiochip0", offset: 17, Errno(16))
        XCTAssertEqual(busy.message,
                       "cannot request GPIO line 17 of gpiochip0: Device or resource busy (another program holds it: see gpioinfo)")
        XCTAssertEqual(GPIOError.closed(chip: "gpiochip0", offset: 27).message, "GPIO line 27 of gpiochip0 is closed")
    }

    func testOnlyNoSuchDeviceMeansTheChipIsGone() {
        // What the kernel answers on a line of a chip whose driver went away.
        XCTAssertTrue(GPIOError.lineFailed(.readEvents, chip: "gpiochip0", offset: 17, Errno.noDevice).isDeviceGone)
        XCTAssertFalse(GPIOError.lineFailed(.readEvents, chip: "gpiochip0", offset: 17, Errno.invalidArgument).isDeviceGone)
        XCTAssertFalse(GPIOError.closed(chip: "gpiochip0", offset: 17).isDeviceGone)
        XCTAssertFalse(GPIOError.chipNotFound([]).isDeviceGone)
    }
}
