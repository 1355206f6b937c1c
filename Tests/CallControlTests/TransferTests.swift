@testable import CallControl
import Config
import SIPMessage
import Timebase
import XCTest

/// Transfer by hanging up (`transfer_on_hang_up`, on by default): the
/// held party gets our REFER, to the number dialed while the second call
/// rings (blind) or to the answering phone with Replaces (attended). Built
/// on `HoldTests`' calls and messages.
extension HoldTests {
    static let transferSite = makeTransferSite()
    /// The same with `three_way_calling = no` on line 1: a flash swaps.
    static let transferSiteSwapping = makeTransferSite(line: "[line 1]\nthree_way_calling = no\n")

    static func makeTransferSite(line: String = "") -> SiteConfig {
        let files: [String: String] = [
            "/c/site.conf": "[general]\nboard = board.conf\n[account home]\nuser = 1001\ndomain = atad.test\n"
                + "password = secret\nregister = no\n" + line,
            "/c/board.conf": "[board]\ndriver = sim\n[line 1]\n[line 2]\n",
        ]
        let result = ConfigLoader.loadSite(path: "/c/site.conf") { path in
            files[path].map { .contents(Array($0.utf8), permissions: 0o600) } ?? .failure("no such file")
        }
        return result.site!
    }

    /// Line 1 answered c1 from 2000, held it (its hold answered), and
    /// placed a second call; returns the control and the second call.
    func heldAndSecondPlaced(answered: Bool, site: SiteConfig = HoldTests.transferSite)
        throws -> (CallControl<String>, callID: String, invite: String, toTag: String) {
        let control = makeControl(site: site)
        let toTag = try answeredIncoming(control)
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        if answered {
            let (second, invite) = try answeredOutgoing(control)
            return (control, second, invite, toTag)
        }
        let (second, invite) = try placed(control)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        control.lineStateChanged(1, to: .ringback)
        return (control, second, invite, toTag)
    }

    /// The REFER among `actions` (text and route).
    private func refer(_ actions: [Action]) throws -> (text: String, route: String) {
        try XCTUnwrap(sent(actions).first { $0.text.hasPrefix("REFER ") }, "no REFER: \(firstLines(actions))")
    }

    /// A NOTIFY from c1's caller about the transfer, its body a sipfrag.
    private func notify(_ status: String, toTag: String, cseq: Int = 2, event: String? = "refer",
                        terminated: Bool? = nil) throws -> SIPMessage {
        let body = "SIP/2.0 \(status)\r\n"
        let over = terminated ?? !status.hasPrefix("1")
        let lines = ["NOTIFY sip:1001@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKnotify\(cseq)", "Max-Forwards: 70",
                     "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>;tag=\(toTag)",
                     "Call-ID: c1", "CSeq: \(cseq) NOTIFY"] + (event.map { ["Event: \($0)"] } ?? []) + [
                     "Subscription-State: " + (over ? "terminated;reason=noresource" : "active;expires=60"),
                     "Content-Type: message/sipfrag;version=2.0", "Content-Length: \(body.utf8.count)"]
        return try SIPParser().parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8), framing: .datagram)
    }

    func testHangingUpWhileTheSecondCallRingsCancelsItAndRefersTheHeldPartyToTheNumberDialed() throws {
        let (control, second, invite, toTag) = try heldAndSecondPlaced(answered: false)
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(firstLines(hungUp).map { String($0.prefix(7)) }, ["CANCEL ", "REFER s"])
        let referral = try refer(hungUp)
        XCTAssertEqual(referral.route, "caller")
        XCTAssertTrue(referral.text.hasPrefix("REFER sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), referral.text)
        XCTAssertEqual(header("Refer-To", in: referral.text), "<sip:2000@atad.test>")
        XCTAssertEqual(header("Call-ID", in: referral.text), "c1")
        XCTAssertEqual(lineCommands(hungUp), [], "no ring-back")
        XCTAssertNil(control.heldStatus(ofLine: 1))
        XCTAssertNil(control.lines[1]?.active)
        control.lineStateChanged(1, to: .idle)
        XCTAssertTrue(control.lines[1]?.canRing ?? false, "a new call may ring the line")

        // The cancelled call's 487 ends it and tells the line nothing.
        _ = control.receive(response: try response(to: try XCTUnwrap(sent(hungUp).first?.text), "200 OK"), at: now)
        let terminated = try XCTUnwrap(control.receive(response: try response(to: invite, "487 Request Terminated"), at: now))
        XCTAssertEqual(mediaCommands(terminated), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(terminated), [])

        // Accepted: our part is done, the held call ends with our BYE.
        let accepted = try XCTUnwrap(control.receive(response: try response(to: referral.text, "202 Accepted"), at: now))
        let bye = try XCTUnwrap(sent(accepted).first)
        XCTAssertTrue(bye.text.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye.text)
        XCTAssertEqual(header("Call-ID", in: bye.text), "c1")
        XCTAssertEqual(lineCommands(accepted), [])

        // Its NOTIFY, crossing our BYE, is answered.
        let notified = try XCTUnwrap(control.receive(request: try notify("100 Trying", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(firstLines(notified), ["SIP/2.0 200 OK"])
    }

    func testHangingUpOnAnAnsweredSecondCallRefersTheHeldPartyToItWithReplaces() throws {
        let (control, second, invite, toTag) = try heldAndSecondPlaced(answered: true)
        let fromTag = try XCTUnwrap(header("From", in: invite)?.components(separatedBy: "tag=").last)
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(firstLines(hungUp).count, 1, "only the REFER: \(firstLines(hungUp))")
        let referral = try refer(hungUp)
        let escapedCallID = SIPPercent.encodeHeaderValue(second)
        XCTAssertEqual(header("Refer-To", in: referral.text),
                       "<sip:2000@127.0.0.1:6000?Replaces=\(escapedCallID)%3Bto-tag%3Dfar%3Bfrom-tag%3D\(fromTag)>")
        XCTAssertEqual(mediaCommands(hungUp), ["\(second) hold 1"], "the line no longer hears the second call")
        XCTAssertEqual(lineCommands(hungUp), [])

        let accepted = try XCTUnwrap(control.receive(response: try response(to: referral.text, "202 Accepted"), at: now))
        XCTAssertEqual(sent(accepted).count, 0, "the held call waits for the outcome")
        let trying = try XCTUnwrap(control.receive(request: try notify("100 Trying", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(firstLines(trying), ["SIP/2.0 200 OK"])

        // The new call is up: the held call ends; the target ends ours.
        let done = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag, cseq: 3), from: origin(), at: now))
        XCTAssertEqual(firstLines(done).first, "SIP/2.0 200 OK")
        let bye = try XCTUnwrap(sent(done).last)
        XCTAssertTrue(bye.text.hasPrefix("BYE sip:2000@127.0.0.1:5070 SIP/2.0\r\n"), bye.text)
        XCTAssertEqual(header("Call-ID", in: bye.text), "c1")
        let targetBye = try XCTUnwrap(control.receive(request: try farEndRequest("BYE", to: invite, cseq: 1),
                                                      from: origin(), at: now))
        XCTAssertEqual(firstLines(targetBye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(mediaCommands(targetBye), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(targetBye), [])
    }

    func testAReferRefusedRingsTheLineBackForTheHeldParty() throws {
        let (control, _, _, _) = try heldAndSecondPlaced(answered: false)
        let referral = try refer(control.lineHungUp(1, at: now))
        control.lineStateChanged(1, to: .idle)
        let refused = try XCTUnwrap(control.receive(response: try response(to: referral.text, "403 Forbidden"), at: now))
        XCTAssertEqual(sent(refused).count, 0)
        XCTAssertEqual(lineCommands(refused), [.input(.incomingCall(callerID: false))])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
        control.lineStateChanged(1, to: .ringing)
        XCTAssertEqual(mediaCommands(control.lineAnswered(1, at: now)), ["c1 start 1"], "answering takes it back")
    }

    func testAnAttendedTransferWhoseNewCallFailsEndsTheSecondCallAndRingsBack() throws {
        let (control, second, _, toTag) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        control.lineStateChanged(1, to: .idle)
        _ = control.receive(response: try response(to: referral.text, "202 Accepted"), at: now)
        let failed = try XCTUnwrap(control.receive(request: try notify("486 Busy Here", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(firstLines(failed).first, "SIP/2.0 200 OK")
        let bye = try XCTUnwrap(sent(failed).first { $0.text.hasPrefix("BYE ") })
        XCTAssertEqual(header("Call-ID", in: bye.text), second)
        XCTAssertEqual(lineCommands(failed), [.input(.incomingCall(callerID: false))])
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: c1")
    }

    func testAnAcceptedAttendedTransferWithoutAFinalNotifyEndsBothCalls() throws {
        let (control, second, _, _) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        // The 202 comes 5 s late: the 32 s run from it, for both calls.
        now = now + .seconds(5)
        _ = control.receive(response: try response(to: referral.text, "202 Accepted"), at: now)
        now = now + .seconds(31)
        XCTAssertEqual(firstLines(control.advance(to: now)).filter { $0.hasPrefix("BYE ") }, [])
        now = now + .seconds(2)
        let byes = sent(control.advance(to: now)).filter { $0.text.hasPrefix("BYE ") }
        XCTAssertEqual(Set(byes.compactMap { header("Call-ID", in: $0.text) }), ["c1", second])
    }

    func testTheHeldPartyHangingUpBeforeTakingTheTransferEndsTheSecondCall() throws {
        let (control, second, _, toTag) = try heldAndSecondPlaced(answered: true)
        _ = try refer(control.lineHungUp(1, at: now))
        _ = control.receive(request: try request("BYE", toTag: toTag, cseq: 2), from: origin(), at: now)
        let byes = sent(control.advance(to: now)).filter { $0.text.hasPrefix("BYE ") }
        XCTAssertEqual(byes.compactMap { header("Call-ID", in: $0.text) }, [second])
    }

    func testANotifyInACallWithNoTransferGets481() throws {
        let control = makeControl(site: Self.transferSite)
        let toTag = try answeredIncoming(control)
        let answered = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(firstLines(answered), ["SIP/2.0 481 Subscription Does Not Exist"])
    }

    func testHangingUpWithOnlyACallHeldStillRingsBack() throws {
        let control = makeControl(site: Self.transferSite)
        try answeredIncoming(control)
        _ = try hold(control)
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertEqual(sent(hungUp).count, 0)
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
    }

    func testACallThePhonePlacedIsTransferredTheSameWay() throws {
        let control = makeControl(site: Self.transferSite)
        let (first, firstInvite) = try answeredOutgoing(control)
        _ = try hold(control)
        let (_, secondInvite) = try placed(control)
        _ = control.receive(response: try response(to: secondInvite, "180 Ringing", toTag: "far2"), at: now)
        let referral = try refer(control.lineHungUp(1, at: now))
        XCTAssertEqual(referral.route, "proxy")
        XCTAssertTrue(referral.text.hasPrefix("REFER sip:2000@127.0.0.1:6000 SIP/2.0\r\n"), referral.text)
        XCTAssertEqual(header("Call-ID", in: referral.text), first)
        // Its 202 reaches the transfer: our BYE goes, the REFER is not sent again.
        let accepted = try XCTUnwrap(control.receive(response: try response(to: referral.text, "202 Accepted"), at: now))
        XCTAssertEqual(firstLines(accepted).map { String($0.prefix(4)) }, ["BYE "])
        XCTAssertEqual(header("Call-ID", in: try XCTUnwrap(sent(accepted).first?.text)), first)
        now = now + .seconds(1)
        XCTAssertFalse(firstLines(control.advance(to: now)).contains { $0.hasPrefix("REFER ") })
        _ = firstInvite
    }

    func testAFinalNotifyBeforeThe202CompletesTheAttendedTransfer() throws {
        let (control, _, _, toTag) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        let done = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(firstLines(done).map { String($0.prefix(7)) }, ["SIP/2.0", "BYE sip"])
        let accepted = try XCTUnwrap(control.receive(response: try response(to: referral.text, "202 Accepted"), at: now))
        XCTAssertEqual(sent(accepted).count, 0)
    }

    func testTheTargetsByeBeforeTheFinalNotifyEndsItQuietly() throws {
        let (control, second, invite, toTag) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        _ = control.receive(response: try response(to: referral.text, "202 Accepted"), at: now)
        let targetBye = try XCTUnwrap(control.receive(request: try farEndRequest("BYE", to: invite, cseq: 1),
                                                      from: origin(), at: now))
        XCTAssertEqual(mediaCommands(targetBye), ["\(second) close 1"])
        XCTAssertEqual(lineCommands(targetBye), [])
        let done = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag), from: origin(), at: now))
        XCTAssertEqual(sent(done).filter { $0.text.hasPrefix("BYE ") }.compactMap { header("Call-ID", in: $0.text) }, ["c1"])
    }

    func testAReferAnsweredWith481EndsTheHeldCallWithoutARingBack() throws {
        let (control, second, _, _) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        control.lineStateChanged(1, to: .idle)
        let lost = try XCTUnwrap(control.receive(response: try response(to: referral.text, "481 Call/Transaction Does Not Exist"),
                                                 at: now))
        XCTAssertEqual(sent(lost).filter { $0.text.hasPrefix("BYE ") }.compactMap { header("Call-ID", in: $0.text) }, ["c1"])
        XCTAssertEqual(lineCommands(lost), [])
        XCTAssertNil(control.heldStatus(ofLine: 1))
        // The consultation call has nobody left on our side: it ends next.
        let byes = sent(control.advance(to: now)).filter { $0.text.hasPrefix("BYE ") }
        XCTAssertEqual(byes.compactMap { header("Call-ID", in: $0.text) }, [second])
    }

    func testASubscriptionEndingWithoutAFinalAnswerRingsBack() throws {
        let (control, _, _, toTag) = try heldAndSecondPlaced(answered: true)
        let referral = try refer(control.lineHungUp(1, at: now))
        control.lineStateChanged(1, to: .idle)
        _ = control.receive(response: try response(to: referral.text, "202 Accepted"), at: now)
        let ended = try XCTUnwrap(control.receive(request: try notify("180 Ringing", toTag: toTag, terminated: true),
                                                  from: origin(), at: now))
        XCTAssertEqual(lineCommands(ended), [.input(.incomingCall(callerID: false))])
    }

    func testANotifyOfAnotherEventGets489AndOneWithoutAnEvent400() throws {
        let (control, _, _, toTag) = try heldAndSecondPlaced(answered: true)
        _ = try refer(control.lineHungUp(1, at: now))
        let other = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag, event: "referral"),
                                                  from: origin(), at: now))
        XCTAssertEqual(firstLines(other), ["SIP/2.0 489 Bad Event"])
        let none = try XCTUnwrap(control.receive(request: try notify("200 OK", toTag: toTag, cseq: 3, event: nil),
                                                 from: origin(), at: now))
        XCTAssertEqual(firstLines(none), ["SIP/2.0 400 Missing Event"])
        let parameters = try XCTUnwrap(control.receive(request: try notify("100 Trying", toTag: toTag, cseq: 4, event: "REFER;id=9"),
                                                       from: origin(), at: now))
        XCTAssertEqual(firstLines(parameters), ["SIP/2.0 200 OK"])
    }

    func testAfterASwapBackHangingUpRingsBackForTheSecondCall() throws {
        let (control, second, _, _) = try heldAndSecondPlaced(answered: true, site: Self.transferSiteSwapping)
        let swapped = control.lineFlashed(1, at: now)
        XCTAssertEqual(control.heldStatus(ofLine: 1), "line 1 held: \(second)", "\(firstLines(swapped))")
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertFalse(firstLines(hungUp).contains { $0.hasPrefix("REFER ") })
        XCTAssertEqual(lineCommands(hungUp), [.input(.incomingCall(callerID: false))])
    }

    func testSipfragStatusAndHeaderValueEscaping() {
        XCTAssertEqual(CallControl<String>.sipfragStatus(Array("SIP/2.0 180 Ringing\r\n".utf8)), 180)
        XCTAssertEqual(CallControl<String>.sipfragStatus(Array("SIP/2.0 603".utf8)), 603)
        XCTAssertNil(CallControl<String>.sipfragStatus(Array("SIP/2.0 2x0 OK".utf8)))
        XCTAssertNil(CallControl<String>.sipfragStatus(Array("INVITE sip:a@b SIP/2.0".utf8)))
        XCTAssertEqual(SIPPercent.encodeHeaderValue("a1@h.x;to-tag=t_1~"), "a1%40h.x%3Bto-tag%3Dt_1~")
    }
}
