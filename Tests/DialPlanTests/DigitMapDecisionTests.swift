import DialPlan
import XCTest

/// Maps × dialed digits × timer → decision.
final class DigitMapDecisionTests: XCTestCase {
    struct Case {
        var map: String
        var digits: String
        var timer: Bool
        var expected: DialDecision
        var line: UInt
    }

    static let us = "(911|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|*xx|x.T)"

    func c(_ map: String, _ digits: String, _ timer: Bool, _ expected: DialDecision,
           line: UInt = #line) -> Case {
        Case(map: map, digits: digits, timer: timer, expected: expected, line: line)
    }

    func run(_ cases: [Case]) {
        for item in cases {
            let map: DigitMap
            do {
                map = try DigitMap.parse(item.map)
            } catch {
                XCTFail("\(item.map): \(error.text)", line: item.line)
                continue
            }
            let got = map.evaluate(item.digits, timerExpired: item.timer)
            XCTAssertEqual(got, item.expected,
                           "\(item.map) with \"\(item.digits)\" timer=\(item.timer)", line: item.line)
            // The byte API agrees with the String API.
            XCTAssertEqual(map.evaluate(ascii: Array(item.digits.utf8), timerExpired: item.timer),
                           got, line: item.line)
        }
    }

    func testUSMap() {
        let us = Self.us
        run([
            c(us, "", false, .waitLong),
            c(us, "", true, .reject),                     // x.T never dials an empty number
            c(us, "9", false, .waitLong),
            c(us, "9", true, .dialNow("9")),              // via x.T
            c(us, "91", false, .waitLong),                // 911 and [2-9]xxxxxx only started
            c(us, "91", true, .dialNow("91")),
            // 911 is complete, but [2-9]xxxxxx could still take 4 more digits.
            c(us, "911", false, .waitShort),
            c(us, "911", true, .dialNow("911")),
            c(us, "911#", false, .dialNow("911")),
            c(us, "555", false, .waitLong),
            c(us, "555123", false, .waitLong),
            c(us, "5551234", false, .dialNow("5551234")), // x.T does not hold it back
            c(us, "5551234", true, .dialNow("5551234")),
            c(us, "55512345", false, .waitLong),          // only x.T is left
            c(us, "55512345", true, .dialNow("55512345")),
            c(us, "555#", false, .dialNow("555")),
            c(us, "1", false, .waitLong),
            c(us, "11", false, .waitLong),                // x.T
            c(us, "1212555123", false, .waitLong),
            c(us, "12125551234", false, .dialNow("12125551234")),
            c(us, "*", false, .waitLong),
            c(us, "*6", false, .waitLong),
            c(us, "*69", false, .dialNow("*69")),
            c(us, "*6", true, .reject),
            c(us, "*6#", false, .reject),
            c(us, "*691", false, .reject),
            c(us, "0", false, .waitLong),
            c(us, "0", true, .dialNow("0")),
            c(us, "#", false, .reject),
            c(us, "5x", false, .reject),                  // not a key
        ])
    }

    func testSubstitutions() {
        run([
            c("(<9:>xxxxxxx)", "9", false, .waitLong),
            c("(<9:>xxxxxxx)", "95551234", false, .dialNow("5551234")),
            c("(<9:>xxxxxxx)", "8", false, .reject),
            c("(<:1>[2-9]xxxxxxxxx)", "2125551234", false, .dialNow("12125551234")),
            c("(<8:1650>xxxxxxx)", "85551234", false, .dialNow("16505551234")),
            c("(<8:1650>xxxxxxx)", "16505551234", false, .reject),
            c("(<011:00>x.T)", "01144", true, .dialNow("0044")),
            c("(<011:00>x.T)", "01", false, .waitLong),
            c("(xxx<:#>)", "123", false, .dialNow("123#")),
            c("(xx.<#:>)", "123#", false, .dialNow("123")),   // '#' taken and stripped
            c("(1<2:34>5<:6>)", "125", false, .dialNow("13456")),
            c("(<x:>xx)", "123", false, .dialNow("23")),       // strip any first digit
            c("(<*:>x.T)", "*12", true, .dialNow("12")),
            c("(<9:>)", "9", false, .reject),                  // would dial an empty number
            // Hotline and warmline.
            c("(<:911>)", "", false, .dialNow("911")),
            c("(<:911>T|x.T)", "", false, .waitLong),
            c("(<:911>T|x.T)", "", true, .dialNow("911")),
            c("(<:911>T|x.T)", "5", true, .dialNow("5")),
            c("(<:1>aB)", "ab", false, .dialNow("1AB")),
        ])
    }

    func testBarring() {
        let toll = "(1900xxxxxxx!|1[2-9]xx[2-9]xxxxxx)"
        let exception = "(1900555xxxx|1900xxxxxxx!)"
        let catchAll = "(x.T|1900x.!)"
        run([
            c(toll, "19005551234", false, .reject),
            c(toll, "1900", false, .waitLong),                 // the allowed pattern is still alive
            c(toll, "12125551234", false, .dialNow("12125551234")),
            c(exception, "19005551234", false, .dialNow("19005551234")),  // more specific
            c(exception, "19006661234", false, .reject),
            c(exception, "19006", false, .reject),             // only the barred one is left
            c(catchAll, "190", false, .waitLong),
            c(catchAll, "1900", false, .reject),
            c(catchAll, "1900555#", false, .reject),
            c(catchAll, "1901555#", false, .dialNow("1901555")),
            c("(911!)", "91", false, .reject),
            c("(911!)", "911", true, .reject),
            c("(1900!|1900x)", "1900", false, .waitShort),     // 1900x may still come
            c("(1900!|1900x)", "1900", true, .reject),
            c("(1900!|1900x)", "19005", false, .dialNow("19005")),
            c("(1900x.T!|x.T)", "19001", true, .reject),
            c("(1900x.T!|x.T)", "19001", false, .waitLong),
        ])
    }

    func testHashEndsDialing() {
        run([
            c("(x.T)", "123#", false, .dialNow("123")),
            c("(x.T)", "123#", true, .dialNow("123")),
            c("(x.T)", "1#2", false, .reject),
            c("(x.T)", "#", false, .reject),
            c("(xxx#)", "123#", false, .dialNow("123#")),      // '#' is part of the number
            c("(xxx#|x.T)", "12#", false, .dialNow("12")),
            c("(xxxx)", "12#", false, .reject),
            c("(xxxx)", "1234#", false, .dialNow("1234")),    // no alternative takes the '#'
            c("(xx|xxxx)", "12#", false, .dialNow("12")),
            c("(xx|xxxx)", "12", false, .waitShort),
            c("(*x.#)", "*12#", false, .dialNow("*12#")),
            c("(*x.#)", "*12", false, .waitLong),
        ])
    }

    func testSetsAndRanges() {
        let star = "([13-5*#]x)"
        run([
            c("([2-9]11)", "411", false, .dialNow("411")),
            c("([2-9]11)", "1", false, .reject),
            c(star, "3", false, .waitLong),
            c(star, "4", false, .waitLong),
            c(star, "*0", false, .dialNow("*0")),
            c(star, "#5", false, .dialNow("#5")),
            c(star, "2", false, .reject),
            c(star, "6", false, .reject),
            c("([a-c]x)", "b5", false, .dialNow("B5")),
            c("([A-C]x)", "D5", false, .reject),
            c("([x*]x)", "*1", false, .dialNow("*1")),
            c("([ 2 - 4 7 ] 0)", "70", false, .dialNow("70")),
            c("([0-0]0)", "00", false, .dialNow("00")),
        ])
    }

    func testRepetition() {
        run([
            c("(xx.)", "", false, .waitLong),
            c("(xx.)", "5", false, .waitShort),
            c("(xx.)", "5", true, .dialNow("5")),
            c("(xx.)", "", true, .reject),
            c("(xx.)", "5551234", false, .waitShort),
            c("(x.)", "", false, .waitLong),                   // empty number is no match
            c("(x.)", "12", false, .waitShort),
            c("(0.1)", "0001", false, .dialNow("0001")),
            c("(0.1)", "1", false, .dialNow("1")),
            c("(0.1)", "000", false, .waitLong),
            c("(0.1)", "0002", false, .reject),
            c("([2-9].5)", "2345", false, .waitShort),         // 23455 would match too
            c("([2-9].5)", "2345", true, .dialNow("2345")),
            c("(x.<9:>x)", "1995", true, .dialNow("195")),     // x. takes all it can
        ])
    }

    func testKeysAndCase() {
        let keys = "(A1|b2|*#|D.)"
        run([
            c(keys, "A1", false, .dialNow("A1")),
            c(keys, "a1", false, .dialNow("A1")),
            c(keys, "B2", false, .dialNow("B2")),
            c(keys, "*#", false, .dialNow("*#")),
            c(keys, "C", false, .reject),
            c(keys, "dd", false, .waitShort),
            c(keys, "dd", true, .dialNow("DD")),
            c("(XX.t)", "12", false, .waitLong),
            c("(XX.t)", "12", true, .dialNow("12")),
        ])
    }

    func testSpecificity() {
        run([
            c("(<:1>9xx|<:2>911)", "911", false, .dialNow("2911")),   // fewer wildcard keys
            c("(<:1>9xx|<:2>9xx)", "911", false, .dialNow("1911")),   // tie: earlier
            c("(<:1>x.|<:2>xxx)", "123", false, .waitShort),
            c("(<:1>x.|<:2>xxx)", "123", true, .dialNow("2123")),     // fewer repeated keys
            c("(<:1>[1-2]xx|<:2>xxx)", "123", false, .dialNow("1123")),  // equal: a set is a wildcard
            c("(<:2>x.T|<:1>911)", "911", true, .dialNow("1911")),
            c("(<:2>911T|<:1>9xx)", "911", true, .dialNow("1911")),   // plain before T
        ])
    }

    func testEmptyAndHopeless() {
        run([
            c("(911)", "", false, .waitLong),
            c("(911)", "", true, .reject),
            c("(911)", "8", false, .reject),
            c("(911)", "9", false, .waitLong),
            c("(911)", "9", true, .reject),
            c("(911)", "911", false, .dialNow("911")),
            c("(911)", "9111", false, .reject),
            c("911|x.T", "911", false, .dialNow("911")),       // parentheses are optional
        ])
    }

    func testAnything() {
        let map = DigitMap.anything
        XCTAssertEqual(map.evaluate("", timerExpired: false), .waitLong)
        XCTAssertEqual(map.evaluate("", timerExpired: true), .reject)
        XCTAssertEqual(map.evaluate("5551234", timerExpired: false), .waitLong)
        XCTAssertEqual(map.evaluate("5551234", timerExpired: true), .dialNow("5551234"))
        XCTAssertEqual(map.evaluate("5551234#", timerExpired: false), .dialNow("5551234"))
        XCTAssertEqual(map.evaluate("*69", timerExpired: true), .dialNow("*69"))
        XCTAssertEqual(map.evaluate("A", timerExpired: false), .reject)
        XCTAssertEqual(map.alternativeCount, 1)
    }

    func testTextIsKept() throws {
        let map = try DigitMap.parse(" (911 | x.T) ")
        XCTAssertEqual(map.text, " (911 | x.T) ")
        XCTAssertEqual(map.alternativeCount, 2)
        XCTAssertEqual(map, try DigitMap.parse(" (911 | x.T) "))
    }

    func testLongestAlternative() throws {
        let longest = String(repeating: "x", count: DigitMap.maximumElements)
        let map = try DigitMap.parse(longest)
        let digits = String(repeating: "7", count: DigitMap.maximumElements)
        XCTAssertEqual(map.evaluate(String(digits.dropLast()), timerExpired: false), .waitLong)
        XCTAssertEqual(map.evaluate(digits, timerExpired: false), .dialNow(digits))
        XCTAssertEqual(map.evaluate(digits + "7", timerExpired: false), .reject)
        let repeated = try DigitMap.parse(String(repeating: "x.", count: DigitMap.maximumElements) + "T")
        let many = String(repeating: "1", count: 200)
        XCTAssertEqual(repeated.evaluate(many, timerExpired: true), .dialNow(many))
    }
}
