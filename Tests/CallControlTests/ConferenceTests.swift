@testable import CallControl
import Config
import SIPMessage
import Timebase
import XCTest

/// Three-way calling (`three_way_calling`, on by default): with c1 held and
/// the second call the line dialed answered, a flash joins the three (c1
/// taken off hold, its media `.join`ed to the line's call); a flash in the
/// conference drops the second party; a party hanging up leaves the line
/// with the other; hanging up ends both. Built on `HoldTests`' calls.
extension HoldTests {
    /// c1 held, the second call answered, then the flash that joins them:
    /// the control, the second call's Call-ID and INVITE, our To tag in c1,
    /// and the flash's actions.
    private func inConference() throws
        -> (control: CallControl<String>, second: String, invite: String, toTag: String, joined: [Action]) {
        let (control, second, invite, toTag) = try heldAndSecondPlaced(answered: true)
        let joined = control.lineFlashed(1, at: now)
        return (control, second, invite, toTag, joined)
    }

    func testAFlashInTheAnsweredSecondCallJoinsTheHeldCallToIt() throws {
        let (control, second, _, _, joined) = try inConference()
        let offers = invites(joined)
        XCTAssertEqual(offers.count, 1, "only the held call is asked back: \(offers.map(\.text))")
        let resume = try XCTUnwrap(offers.first)
        XCTAssertEqual(header("Call-ID", in: resume.text), "c1")
        XCTAssertEqual(resume.route, "caller")
        XCTAssertTrue(resume.text.contains("a=sendrecv\r\n"), resume.text)
        XCTAssertEqual(mediaCommands(joined), ["c1 join 1"], "c1's audio joins the line's call; the second's stays")
        XCTAssertEqual(lineCommands(joined), [], "the line goes on talking")
        XCTAssertEqual(control.lines[1]?.conference, true)
        XCTAssertEqual(control.lines[1]?.active, second)
        XCTAssertEqual(control.lines[1]?.held, "c1")
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 three-way: c1 \(second)")

        // c1's answer re-points its media, still joined (not the line's own).
        let answered = try answerReoffer(control, resume.text, port: 4004, direction: "sendrecv", version: 3)
        XCTAssertEqual(mediaCommands(answered), ["c1 join 1"])
        XCTAssertTrue(invites(answered).isEmpty)
        XCTAssertFalse(control.lines[1]?.canWait ?? true, "no call waits on a three-way call")
    }

    func testAFlashBeforeTheSecondCallIsAnsweredDoesNotJoin() throws {
        let (control, second, _, _) = try heldAndSecondPlaced(answered: false)
        let flashed = control.lineFlashed(1, at: now)
        XCTAssertTrue(firstLines(flashed).contains { $0.hasPrefix("CANCEL ") }, "\(firstLines(flashed))")
        XCTAssertEqual(control.lines[1]?.conference, false)
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNotEqual(control.lines[1]?.held, second)
    }

    func testAFlashInTheConferenceDropsTheSecondPartyAndKeepsTheFirst() throws {
        let (control, second, _, _, _) = try inConference()
        let dropped = control.lineFlashed(1, at: now)
        let bye = try XCTUnwrap(sent(dropped).first { $0.text.hasPrefix("BYE ") }, "\(firstLines(dropped))")
        XCTAssertEqual(header("Call-ID", in: bye.text), second)
        XCTAssertEqual(bye.route, "proxy")
        XCTAssertTrue(mediaCommands(dropped).contains("c1 start 1"), "\(mediaCommands(dropped))")
        XCTAssertEqual(lineCommands(dropped), [.input(.callResumed)])
        XCTAssertEqual(control.lines[1]?.conference, false)
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertNil(control.heldStatus(ofLine: 1))
    }

    func testHangingUpInTheConferenceEndsBothCallsWithoutARingBack() throws {
        let (control, second, _, _, _) = try inConference()
        let hungUp = control.lineHungUp(1, at: now)
        let byes = sent(hungUp).filter { $0.text.hasPrefix("BYE ") }.compactMap { header("Call-ID", in: $0.text) }
        XCTAssertEqual(byes.sorted(), ["c1", second].sorted())
        XCTAssertFalse(firstLines(hungUp).contains { $0.hasPrefix("REFER ") }, "a conference is not transferred")
        XCTAssertEqual(lineCommands(hungUp), [], "no ring-back")
        XCTAssertEqual(control.lines[1]?.conference, false)
        XCTAssertNil(control.lines[1]?.held)
    }

    func testTheSecondPartyHangingUpLeavesTheLineTalkingWithTheFirst() throws {
        let (control, second, invite, _, _) = try inConference()
        let bye = try farEndRequest("BYE", to: invite, cseq: 1)
        let ended = try XCTUnwrap(control.receive(request: bye, from: origin(), at: now))
        XCTAssertEqual(firstLines(ended), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(ended), ["\(second) close 1", "c1 start 1"])
        XCTAssertEqual(lineCommands(ended), [.input(.heldCallEnded)], "no busy tone: the call goes on")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertEqual(control.lines[1]?.conference, false)
    }

    func testTheFirstPartyHangingUpLeavesTheLineTalkingWithTheSecond() throws {
        let (control, second, _, toTag, _) = try inConference()
        let bye = try request("BYE", callID: "c1", toTag: toTag, cseq: 3)
        let ended = try XCTUnwrap(control.receive(request: bye, from: origin(), at: now))
        XCTAssertEqual(firstLines(ended), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(ended), ["c1 close 1"])
        XCTAssertEqual(lineCommands(ended), [.input(.heldCallEnded)])
        XCTAssertEqual(control.lines[1]?.active, second)
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertEqual(control.lines[1]?.conference, false)
    }

    func testAReferDuringTheConferenceIsDeclined() throws {
        let (control, _, _, toTag, _) = try inConference()
        let refer = try message(["REFER sip:1001@127.0.0.1:5060 SIP/2.0",
                                 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKrefer3", "Max-Forwards: 70",
                                 "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>;tag=\(toTag)",
                                 "Call-ID: c1", "CSeq: 3 REFER", "Contact: <sip:2000@127.0.0.1:5070>",
                                 "Refer-To: <sip:3000@atad.test>"])
        let refused = try XCTUnwrap(control.receive(request: refer, from: origin(), at: now))
        XCTAssertEqual(firstLines(refused).first.map { String($0.prefix(11)) }, "SIP/2.0 603")
    }

    func testAPartyWhoseMediaStoppedLeavesAtOnceAndTheOtherStays() throws {
        let (control, second, _, _, _) = try inConference()
        let later = now + .seconds(60)
        let timedOut = control.mediaTimedOut(second, lastHeard: now, seconds: 30, at: later)
        XCTAssertEqual(sent(timedOut).filter { $0.text.hasPrefix("BYE ") }.compactMap { header("Call-ID", in: $0.text) },
                       [second])
        XCTAssertEqual(mediaCommands(timedOut), ["\(second) hold 1", "c1 start 1"], "off the line before its BYE's answer")
        XCTAssertEqual(lineCommands(timedOut), [.input(.heldCallEnded)], "no busy tone: the call with c1 goes on")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertNil(control.lines[1]?.held)
        XCTAssertEqual(control.lines[1]?.conference, false)

        // A flash now is a flash in a plain call: c1 is held, not hung up.
        let flashed = control.lineFlashed(1, at: later)
        XCTAssertFalse(sent(flashed).contains { $0.text.hasPrefix("BYE ") }, "\(firstLines(flashed))")
        XCTAssertEqual(control.lines[1]?.held, "c1")
    }

    func testHangingUpTakesTheFirstPartyOffTheLineAtOnce() throws {
        let (control, second, _, _, _) = try inConference()
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(mediaCommands(hungUp), ["c1 hold 1"], "not left for the daemon to fall back on")
        XCTAssertFalse(mediaCommands(hungUp).contains("\(second) start 1"))
    }
}
