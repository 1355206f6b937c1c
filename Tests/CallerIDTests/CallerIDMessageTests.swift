import CallerID
import CountryPresets
import XCTest

final class CallerIDMessageTests: XCTestCase {
    private let march14 = CallerIDDate(month: 3, day: 14, hour: 15, minute: 26)

    func testMDMFCarriesDateNumberAndNameInGR30Order() {
        let message = CallerIDMessage.mdmf(CallerIdentity(number: .shown("5551234567"), name: .shown("ALICE EXAMPLE")),
                                           date: march14, modulation: .bell202)
        var expected: [UInt8] = [0x80, 0]
        expected += [0x01, 8] + Array("03141526".utf8)
        expected += [0x02, 10] + Array("5551234567".utf8)
        expected += [0x07, 13] + Array("ALICE EXAMPLE".utf8)
        expected[1] = UInt8(expected.count - 2)
        XCTAssertEqual(message, expected)
        // The checksum the modem appends makes every byte sum to zero.
        let sum = (message + [CallerIDMessage.checksum(message)]).reduce(UInt8(0), &+)
        XCTAssertEqual(sum, 0)
    }

    func testWithheldAndUnavailableFieldsSayWhy() {
        let withheld = CallerIDMessage.mdmf(.anonymous, date: nil, modulation: .v23)
        XCTAssertEqual(withheld, [0x80, 6, 0x04, 1, UInt8(ascii: "P"), 0x08, 1, UInt8(ascii: "P")])
        let unknown = CallerIDMessage.mdmf(CallerIdentity(number: .unavailable, name: .unavailable), date: nil, modulation: .v23)
        XCTAssertEqual(unknown, [0x80, 6, 0x04, 1, UInt8(ascii: "O"), 0x08, 1, UInt8(ascii: "O")])
    }

    func testNamesAreCutToTheStandardsDisplayAndKeptPrintable() {
        let long = CallerIdentity(number: .shown("1"), name: .shown("Bartholomew Longname-Smith"))
        let bell = CallerIDMessage.mdmf(long, date: nil, modulation: .bell202)
        XCTAssertEqual(Array(bell.suffix(17)), [0x07, 15] + Array("Bartholomew Lon".utf8))
        let etsi = CallerIDMessage.mdmf(long, date: nil, modulation: .v23)
        XCTAssertEqual(Array(etsi.suffix(22)), [0x07, 20] + Array("Bartholomew Longname".utf8))
        let accented = CallerIDMessage.mdmf(CallerIdentity(number: .shown("1"), name: .shown("Jürgen")), date: nil,
                                            modulation: .v23)
        XCTAssertEqual(Array(accented.suffix(6)), Array("J?rgen".utf8))
    }

    func testSixteenCharacterNamesAreNotEscaped() {
        // spandsp's own field builder doubles a 0x10 length; ours must not.
        let message = CallerIDMessage.mdmf(CallerIdentity(number: .shown("1"), name: .shown("ABCDEFGHIJKLMNOP")),
                                           date: nil, modulation: .v23)
        XCTAssertEqual(Array(message.suffix(18)), [0x07, 0x10] + Array("ABCDEFGHIJKLMNOP".utf8))
        XCTAssertEqual(Int(message[1]), message.count - 2)
    }

    func testDTMFFormats() {
        let caller = CallerIdentity(number: .shown("0701234567"), name: .shown("Anna"))
        let sweden = CallerIDSignalling.usual(inCountry: "se")!
        XCTAssertEqual(CallerIDMessage.dtmf(caller, signalling: sweden), "A0701234567C")
        XCTAssertEqual(CallerIDMessage.dtmf(.anonymous, signalling: sweden), "B10C")
        XCTAssertEqual(CallerIDMessage.dtmf(CallerIdentity(number: .unavailable, name: .unavailable), signalling: sweden), "B00C")
        let denmark = CallerIDSignalling.usual(inCountry: "dk")!
        XCTAssertEqual(CallerIDMessage.dtmf(caller, signalling: denmark), "A0701234567#")
        XCTAssertNil(CallerIDMessage.dtmf(.anonymous, signalling: denmark))
        XCTAssertEqual(CallerIDMessage.dtmf(caller, signalling: CallerIDSignalling.usual(inCountry: "nl")!), "D0701234567C")
        // "*" and "#" frame DTMF caller ID: a number with them is unavailable.
        XCTAssertEqual(CallerIDMessage.dtmf(CallerIdentity(number: .shown("*31#"), name: .unavailable), signalling: sweden),
                       "B00C")
    }

    func testNumbersAreDigitsOnly() {
        XCTAssertEqual(CallerIdentity.digits(of: "+1 (555) 123-4567"), "15551234567")
        XCTAssertEqual(CallerIdentity.digits(of: "2000"), "2000")
        XCTAssertNil(CallerIdentity.digits(of: "alice"))
        XCTAssertNil(CallerIdentity.digits(of: "+"))
        XCTAssertNil(CallerIdentity.digits(of: "12+34"))
        XCTAssertNil(CallerIdentity.digits(of: "123456789012345678901"), "longer than 20 digits")
    }

    func testDateIsMonthDayHourMinute() {
        XCTAssertEqual(CallerIDDate(month: 12, day: 6, hour: 9, minute: 5).digits, Array("12060905".utf8))
    }

    func testCountriesSignalling() {
        XCTAssertEqual(CallerIDSignalling.usual(inCountry: "us"), CallerIDSignalling(modulation: .bell202, alerting: .afterFirstRing))
        XCTAssertEqual(CallerIDSignalling.usual(inCountry: "de"), CallerIDSignalling(modulation: .v23, alerting: .afterFirstRing))
        XCTAssertEqual(CallerIDSignalling.usual(inCountry: "gb"),
                       CallerIDSignalling(modulation: .v23, alerting: .lineReversalAndDualTone))
        XCTAssertEqual(CallerIDSignalling.usual(inCountry: "se")?.modulation, .dtmf)
        XCTAssertNil(CallerIDSignalling.usual(inCountry: "jp"))
        // Every preset country is either in the table or left out on purpose.
        for code in CountryPresets.codes where CallerIDSignalling.usual(inCountry: code) == nil {
            XCTAssertTrue(["jp", "ru"].contains(code), "\(code) has no caller ID")
        }
        // A modulation the country does not use gets its usual alerting.
        XCTAssertEqual(CallerIDSignalling.chosen(.dtmf, inCountry: "us").alerting, .lineReversal)
        XCTAssertEqual(CallerIDSignalling.chosen(.v23, inCountry: "gb").alerting, .lineReversalAndDualTone)
        XCTAssertEqual(CallerIDSignalling.chosen(.v23, inCountry: "us").alerting, .afterFirstRing)
    }
}
