import DialPlan
import XCTest

/// Malformed maps → exact column and message.
final class DigitMapErrorTests: XCTestCase {
    func testMalformedMaps() {
        let long = "(" + String(repeating: "x", count: DigitMap.maximumElements + 1) + ")"
        let table: [(map: String, column: Int, message: String, line: UInt)] = [
            ("", 1, "empty dial plan", #line),
            ("()", 2, "empty dial plan", #line),
            ("   ", 4, "empty dial plan", #line),
            ("T", 1, "empty dial plan", #line),
            ("(<:>)", 2, "empty dial plan", #line),
            ("(911||x.T)", 6, "empty alternative", #line),
            ("|911", 1, "empty alternative", #line),
            ("911|", 5, "empty alternative", #line),
            ("(911| )", 7, "empty alternative", #line),
            ("(911|T)", 6, "empty alternative", #line),
            ("(911|[2-9xxxxxx)", 6, "unclosed '['", #line),
            ("[2-9", 1, "unclosed '['", #line),
            ("([9-2]xx)", 3, "range must go upward: [9-2]", #line),
            ("([d-a])", 3, "range must go upward: [d-a]", #line),
            ("([])", 2, "empty set '[]'", #line),
            ("([-5])", 3, "'-' must be between two digits or two letters A-D", #line),
            ("([5-])", 4, "'-' must be between two digits or two letters A-D", #line),
            ("([5-A])", 4, "'-' must be between two digits or two letters A-D", #line),
            ("([5.])", 4, "unexpected character '.'", #line),
            ("(.x)", 2, "'.' must follow an element", #line),
            ("(x..)", 4, "'.' must follow an element", #line),
            ("(x|.)", 4, "'.' must follow an element", #line),
            ("(x.<9:>.)", 8, "'.' must follow an element", #line),
            ("(91q)", 4, "unexpected character 'q'", #line),
            ("(9 1 e)", 6, "unexpected character 'e'", #line),
            ("(911|9é)", 7, "unexpected character 'é'", #line),
            ("(é|q)", 2, "unexpected character 'é'", #line),
            ("(911", 1, "unclosed '('", #line),
            ("911)", 4, "unmatched ')'", #line),
            ("(911)x", 6, "unexpected character 'x'", #line),
            ("(9(1))", 3, "unexpected character '('", #line),
            ("(9])", 3, "unmatched ']'", #line),
            ("(x.T5)", 4, "'T' must end an alternative", #line),
            ("(x.T.)", 4, "'T' must end an alternative", #line),
            ("(x!5)", 3, "'!' must end an alternative", #line),
            ("(xT!<:1>)", 3, "'T' must end an alternative", #line),
            ("(xTT)", 4, "duplicate 'T'", #line),
            ("(x!!)", 4, "duplicate '!'", #line),
            ("(<9xxx)", 2, "unclosed '<'", #line),
            ("(<9:1", 2, "unclosed '<'", #line),
            ("(<9:1|x)", 2, "unclosed '<'", #line),
            ("(<9T:>)", 2, "unclosed '<'", #line),
            ("(<<9:>)", 2, "unclosed '<'", #line),
            ("(<9:1xxx)", 6, "unexpected character 'x'", #line),
            ("(<9>x)", 4, "missing ':' in '<...>'", #line),
            ("(9>x)", 3, "unmatched '>'", #line),
            ("(9:x)", 3, "':' outside '<...>'", #line),
            (long, DigitMap.maximumElements + 2,
             "alternative too long (more than \(DigitMap.maximumElements) elements)", #line),
        ]
        for item in table {
            do {
                _ = try DigitMap.parse(item.map)
                XCTFail("\(item.map) parsed", line: item.line)
            } catch {
                XCTAssertEqual(error.message, item.message, item.map, line: item.line)
                XCTAssertEqual(error.column, item.column, item.map, line: item.line)
            }
        }
    }

    func testWellFormedOddities() throws {
        for map in [
            "(9 1 [ 2 - 9 ] . T)",
            "(\n911 |\n\tx.T\n)",
            "  911  ",
            "(1900x.!T|1900x.T!)",
            "(<:911>)",
            "(<9:>)",
            "([x*#a-d]xX.t)",
            String(repeating: "x", count: DigitMap.maximumElements),
        ] {
            XCTAssertNoThrow(try DigitMap.parse(map), map)
        }
    }

    func testErrorText() {
        XCTAssertEqual(DigitMapError(column: 3, message: "unexpected character 'q'").text,
                       "3: unexpected character 'q'")
    }
}
