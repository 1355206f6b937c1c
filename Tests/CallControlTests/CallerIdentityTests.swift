import CallControl
import CallerID
import SIPMessage
import XCTest

/// Who the display says calls, from the headers of an INVITE.
final class CallerIdentityTests: XCTestCase {
    private func identity(_ headers: [String]) throws -> CallerIdentity {
        let text = (["INVITE sip:1001@atad.test SIP/2.0",
                     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1",
                     "Call-ID: c1", "CSeq: 1 INVITE", "To: <sip:1001@atad.test>", "Max-Forwards: 70"]
                    + headers + ["Content-Length: 0"]).joined(separator: "\r\n") + "\r\n\r\n"
        let message = try SIPParser().parse(Array(text.utf8), framing: .datagram)
        return CallerIdentity(invite: message)
    }

    func testFromGivesNumberAndDisplayName() throws {
        XCTAssertEqual(try identity(["From: \"Alice Example\" <sip:+1-555-123-4567@example.com>;tag=1"]),
                       CallerIdentity(number: .shown("15551234567"), name: .shown("Alice Example")))
    }

    func testAssertedIdentityWinsOverRemotePartyIDAndFrom() throws {
        let headers = ["From: \"Somebody\" <sip:999@example.com>;tag=1",
                       "Remote-Party-ID: \"Rpid\" <sip:888@example.com>;party=calling",
                       "P-Asserted-Identity: \"Carol\" <sip:5550001@example.com>, <tel:+15550001>"]
        XCTAssertEqual(try identity(headers), CallerIdentity(number: .shown("5550001"), name: .shown("Carol")))
        XCTAssertEqual(try identity(Array(headers.prefix(2))), CallerIdentity(number: .shown("888"), name: .shown("Rpid")))
    }

    func testRemotePartyIDPrivacyAndCalledPartyEntries() throws {
        let from = "From: <sip:999@example.com>;tag=1"
        XCTAssertEqual(try identity([from, "Remote-Party-ID: \"R\" <sip:888@h>;party=calling;privacy=full"]), .anonymous)
        XCTAssertEqual(try identity([from, "Remote-Party-ID: \"R\" <sip:888@h>;privacy=name"]),
                       CallerIdentity(number: .shown("888"), name: .withheld))
        XCTAssertEqual(try identity([from, "Remote-Party-ID: \"R\" <sip:888@h>;party=called"]),
                       CallerIdentity(number: .shown("999"), name: .unavailable), "only the calling party counts")
    }

    func testPrivacyHeaderAndAnonymousFromWithholdBoth() throws {
        XCTAssertEqual(try identity(["From: \"Carol\" <sip:5550001@example.com>;tag=1", "Privacy: id"]), .anonymous)
        XCTAssertEqual(try identity(["From: \"Carol\" <sip:5550001@example.com>;tag=1",
                                     "P-Asserted-Identity: <sip:5550001@example.com>", "Privacy: none ; header"]), .anonymous)
        XCTAssertEqual(try identity(["From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1"]), .anonymous)
        XCTAssertEqual(try identity(["From: \"Carol\" <sip:5550001@example.com>;tag=1", "Privacy: none"]),
                       CallerIdentity(number: .shown("5550001"), name: .shown("Carol")))
    }

    func testATelIdentityBesideASipOneGivesTheNumber() throws {
        XCTAssertEqual(try identity(["From: <sip:999@example.com>;tag=1",
                                     "P-Asserted-Identity: \"Alice\" <sip:alice@example.com>, <tel:+15551234567>"]),
                       CallerIdentity(number: .shown("15551234567"), name: .shown("Alice")))
        XCTAssertEqual(try identity(["From: <sip:999@example.com>;tag=1", "P-Asserted-Identity: <tel:+4930123456>"]),
                       CallerIdentity(number: .shown("4930123456"), name: .unavailable))
    }

    func testUserPartParametersEndTheNumber() throws {
        XCTAssertEqual(try identity(["From: <sip:+15551234567;npdi;rn=+15550000000@example.com;user=phone>;tag=1"]),
                       CallerIdentity(number: .shown("15551234567"), name: .unavailable))
        XCTAssertEqual(try identity(["From: \"Bob\" <sip:5551234;phone-context=+1555@example.com>;tag=1"]),
                       CallerIdentity(number: .shown("5551234"), name: .shown("Bob")))
    }

    func testANumberTooLongToShowWholeIsUnavailable() throws {
        XCTAssertEqual(try identity(["From: \"Long\" <sip:123456789012345678901@example.com>;tag=1"]),
                       CallerIdentity(number: .unavailable, name: .shown("Long")))
        XCTAssertEqual(try identity(["From: \"Twenty\" <sip:12345678901234567890@example.com>;tag=1"]),
                       CallerIdentity(number: .shown("12345678901234567890"), name: .shown("Twenty")))
    }

    func testAUserNameIsNoNumberButNamesTheCaller() throws {
        XCTAssertEqual(try identity(["From: <sip:alice@example.com>;tag=1"]),
                       CallerIdentity(number: .unavailable, name: .shown("alice")))
    }
}
