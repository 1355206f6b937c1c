@testable import CallControl
import Config
import Line
import SIPMessage
import Timebase
import XCTest

/// A transfer the far end asks of us (its REFER): 202, NOTIFYs with the
/// new call's progress, the line following the new call, and back to the
/// old call when the new one fails. Built on `HoldTests`' calls and
/// messages.
extension HoldTests {
    /// A REFER from c1's caller (in its dialog, CSeq `cseq`).
    private func referRequest(toTag: String, cseq: Int = 2, referTo: [String] = ["<sip:3000@127.0.0.1:7000>"],
                              referredBy: String? = "<sip:2000@atad.test>") throws -> SIPMessage {
        try message(["REFER sip:1001@127.0.0.1:5060 SIP/2.0",
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKrefer\(cseq)", "Max-Forwards: 70",
                     "From: <sip:2000@atad.test>;tag=f1", "To: <sip:1001@atad.test>;tag=\(toTag)",
                     "Call-ID: c1", "CSeq: \(cseq) REFER", "Contact: <sip:2000@127.0.0.1:5070>"]
                    + referTo.map { "Refer-To: \($0)" } + (referredBy.map { ["Referred-By: \($0)"] } ?? []))
    }

    /// The NOTIFYs among `actions`, as (sipfrag body, Subscription-State).
    private func notifies(_ actions: [Action]) -> [(body: String, state: String, text: String)] {
        sent(actions).filter { $0.text.hasPrefix("NOTIFY ") }.map {
            ($0.text.components(separatedBy: "\r\n\r\n").last ?? "", header("Subscription-State", in: $0.text) ?? "", $0.text)
        }
    }

    /// c1 answered on line 1 and referred to 3000: the REFER's actions,
    /// our To tag, and the new call's id once its route is found.
    private func referred(_ control: CallControl<String>, referTo: String = "<sip:3000@127.0.0.1:7000>")
        throws -> (refer: [Action], toTag: String, callID: String) {
        let toTag = try answeredIncoming(control)
        let actions = try XCTUnwrap(control.receive(request: try referRequest(toTag: toTag, referTo: [referTo]),
                                                    from: origin(), at: now))
        var newCall: String?
        for action in actions {
            if case .findTransferRoute(let callID, let line, let target) = action {
                XCTAssertEqual(line, 1)
                XCTAssertEqual(target, "sip:3000@127.0.0.1:7000")
                newCall = callID
            }
        }
        return (actions, toTag, try XCTUnwrap(newCall, "no route asked for: \(actions)"))
    }

    /// The new call placed once its route came: its INVITE.
    private func transferPlaced(_ control: CallControl<String>, _ callID: String) throws -> String {
        let routed = control.transferRouted(callID, through: (account, "target"), at: now)
        guard case .openMedia(callID, _, "target")? = routed.first else { throw Unexpected("expected openMedia, got \(routed)") }
        let invite = try XCTUnwrap(invites(control.mediaOpened(callID, host: "127.0.0.1", port: 41_000, at: now)).first)
        XCTAssertEqual(invite.route, "target")
        return invite.text
    }

    func testAReferIsAcceptedTheTargetCalledAndItsAnswerReportedAndTheLineFollowsIt() throws {
        let control = makeControl(site: Self.transferSite)
        let (refer, toTag, callID) = try referred(control)
        XCTAssertEqual(firstLines(refer).first, "SIP/2.0 202 Accepted")
        let trying = notifies(refer)
        XCTAssertEqual(trying.map(\.body), ["SIP/2.0 100 Trying\r\n"])
        XCTAssertEqual(trying.first?.state, "active;expires=300")
        let notify = try XCTUnwrap(trying.first?.text)
        XCTAssertEqual(header("Event", in: notify), "refer;id=2")
        XCTAssertEqual(header("Content-Type", in: notify), "message/sipfrag;version=2.0")
        XCTAssertEqual(header("Call-ID", in: notify), "c1")
        XCTAssertEqual(header("To", in: notify), "<sip:2000@atad.test>;tag=f1")
        XCTAssertEqual(lineCommands(refer), [.input(.transferred)])
        XCTAssertEqual(mediaCommands(refer), ["c1 hold 1"], "the line no longer hears the old call")
        XCTAssertEqual(control.lines[1]?.active, callID)
        control.lineStateChanged(1, to: .calling)

        let invite = try transferPlaced(control, callID)
        XCTAssertTrue(invite.hasPrefix("INVITE sip:3000@127.0.0.1:7000 SIP/2.0\r\n"), invite)
        XCTAssertEqual(header("Referred-By", in: invite), "<sip:2000@atad.test>")
        XCTAssertNil(header("Replaces", in: invite))

        // Ringing and the answer are told, one NOTIFY at a time (each
        // waits for the one before to be answered); the line hears them
        // as for a call it placed.
        let tryingNotify = try XCTUnwrap(trying.first?.text)
        XCTAssertEqual(notifies(try XCTUnwrap(control.receive(response: try response(to: tryingNotify, "200 OK"), at: now))).count, 0)
        let ringing = try XCTUnwrap(control.receive(response: try response(to: invite, "180 Ringing"), at: now))
        XCTAssertEqual(lineCommands(ringing), [.input(.remoteRinging)])
        XCTAssertEqual(notifies(ringing).map(\.body), ["SIP/2.0 180 Ringing\r\n"])
        control.lineStateChanged(1, to: .ringback)
        let answered = try XCTUnwrap(control.receive(response: try response(to: invite, "200 OK",
                                                                            extra: ["Contact: <sip:3000@127.0.0.1:7000>"],
                                                                            body: Self.sdp(port: 7002)), at: now))
        XCTAssertEqual(lineCommands(answered), [.input(.remoteAnswered)])
        XCTAssertEqual(mediaCommands(answered), ["\(callID) start 1"])
        XCTAssertEqual(notifies(answered).count, 0, "the 180's NOTIFY is still unanswered")
        control.lineStateChanged(1, to: .talking)
        let ringingNotify = try XCTUnwrap(notifies(ringing).first?.text)
        let next = try XCTUnwrap(control.receive(response: try response(to: ringingNotify, "200 OK"), at: now))
        XCTAssertEqual(notifies(next).map(\.body), ["SIP/2.0 200 OK\r\n"])
        XCTAssertEqual(notifies(next).first?.state, "terminated;reason=noresource")

        // The transferor's BYE ends the old call and tells the line nothing.
        let bye = try XCTUnwrap(control.receive(request: try request("BYE", toTag: toTag, cseq: 3), from: origin(), at: now))
        XCTAssertEqual(firstLines(bye), ["SIP/2.0 200 OK"])
        XCTAssertEqual(lineCommands(bye), [])
        XCTAssertEqual(control.lines[1]?.active, callID)
    }

    func testAReferWithReplacesPutsItInTheInvite() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, _, callID) = try referred(control, referTo: "<sip:3000@127.0.0.1:7000?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df2>")
        control.lineStateChanged(1, to: .calling)
        let invite = try transferPlaced(control, callID)
        XCTAssertTrue(invite.hasPrefix("INVITE sip:3000@127.0.0.1:7000 SIP/2.0\r\n"), invite)
        XCTAssertEqual(header("Replaces", in: invite), "abc@host;to-tag=t1;from-tag=f2")
        XCTAssertEqual(header("Require", in: invite), "replaces")
    }

    func testAFailedTransferReportsTheFailureAndTakesTheLineBackToTheOldCall() throws {
        let control = makeControl(site: Self.transferSite)
        let (refer, _, callID) = try referred(control)
        control.lineStateChanged(1, to: .calling)
        let trying = try XCTUnwrap(notifies(refer).first?.text)
        _ = control.receive(response: try response(to: trying, "200 OK"), at: now)
        let invite = try transferPlaced(control, callID)
        let busy = try XCTUnwrap(control.receive(response: try response(to: invite, "486 Busy Here"), at: now))
        XCTAssertEqual(notifies(busy).map(\.body), ["SIP/2.0 486 Busy Here\r\n"])
        XCTAssertEqual(notifies(busy).first?.state, "terminated;reason=noresource")
        XCTAssertEqual(lineCommands(busy), [.input(.remoteAnswered)], "back to talking, not busy tone")
        XCTAssertEqual(control.lines[1]?.active, "c1")
        XCTAssertTrue(mediaCommands(busy).contains("c1 start 1"), "\(mediaCommands(busy))")
    }

    func testHangingUpDuringATransferEndsTheNewCallAndTheOldOne() throws {
        let control = makeControl(site: Self.transferSite)
        let (refer, _, callID) = try referred(control)
        control.lineStateChanged(1, to: .calling)
        let invite = try transferPlaced(control, callID)
        _ = control.receive(response: try response(to: invite, "180 Ringing"), at: now)
        control.lineStateChanged(1, to: .idle)
        let hungUp = control.lineHungUp(1, at: now)
        let lines = firstLines(hungUp)
        XCTAssertTrue(lines.contains { $0.hasPrefix("CANCEL sip:3000@") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("BYE sip:2000@") }, "\(lines)")
        XCTAssertEqual(lineCommands(hungUp), [])
        // The 487 waited behind the unanswered "100 Trying": after our BYE it never goes.
        XCTAssertEqual(notifies(hungUp).count, 0)
        let trying = try XCTUnwrap(notifies(refer).first?.text)
        let after = try XCTUnwrap(control.receive(response: try response(to: trying, "200 OK"), at: now))
        XCTAssertEqual(notifies(after).count, 0, "no NOTIFY after our BYE")
    }

    func testTheTransferorLeavingBeforeTheNewCallFailsLeavesTheLineTheFailure() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, toTag, callID) = try referred(control)
        control.lineStateChanged(1, to: .calling)
        let invite = try transferPlaced(control, callID)
        _ = control.receive(request: try request("BYE", toTag: toTag, cseq: 3), from: origin(), at: now)
        let busy = try XCTUnwrap(control.receive(response: try response(to: invite, "486 Busy Here"), at: now))
        XCTAssertEqual(lineCommands(busy), [.input(.callFailed(busy: true))])
        XCTAssertNil(control.lines[1]?.active)
    }

    func testNoPortForTheNewCallTakesTheLineBackToTheOldCall() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, _, callID) = try referred(control)
        control.lineStateChanged(1, to: .calling)
        _ = control.transferRouted(callID, through: (account, "target"), at: now)
        let failed = control.mediaUnavailable(callID, at: now)
        XCTAssertEqual(lineCommands(failed), [.input(.remoteAnswered)])
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    func testNoRouteToTheTargetTakesTheLineBackToTheOldCall() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, _, callID) = try referred(control)
        control.lineStateChanged(1, to: .calling)
        let failed = control.transferRouted(callID, through: nil, at: now)
        XCTAssertEqual(lineCommands(failed), [.input(.remoteAnswered)])
        XCTAssertEqual(control.lines[1]?.active, "c1")
    }

    func testHangingUpWhileTheTargetIsLookedUpEndsTheOldCall() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, _, callID) = try referred(control)
        control.lineStateChanged(1, to: .idle)
        let hungUp = control.lineHungUp(1, at: now)
        XCTAssertTrue(firstLines(hungUp).contains { $0.hasPrefix("BYE sip:2000@") }, "\(firstLines(hungUp))")
        XCTAssertNil(control.lines[1]?.active)
        XCTAssertEqual(control.transferRouted(callID, through: (account, "target"), at: now).count, 0,
                       "the lookup's answer is dropped")
    }

    func testReferRefusals() throws {
        let control = makeControl(site: Self.transferSite)
        let toTag = try answeredIncoming(control)
        func status(_ refer: SIPMessage) throws -> String? {
            firstLines(try XCTUnwrap(control.receive(request: refer, from: origin(), at: now))).first
        }
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 2, referTo: [])), "SIP/2.0 400 Missing Refer-To")
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 3, referTo: ["<sip:a@h>", "<sip:b@h>"])),
                       "SIP/2.0 400 More Than One Refer-To")
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 4, referTo: ["<http://example.com/>"])),
                       "SIP/2.0 400 Bad Refer-To")
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 5, referTo: ["<tel:+15551234>"])),
                       "SIP/2.0 416 Unsupported URI Scheme")
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 6, referTo: ["<sip:a@h;method=BYE>"])),
                       "SIP/2.0 403 Only INVITE Is Referred")
        XCTAssertEqual(control.lines[1]?.active, "c1", "refusals change nothing")

        // A call on hold is the line's own business.
        let (_, reinvite) = try hold(control)
        _ = try answerReoffer(control, reinvite, port: 4002, direction: "recvonly")
        XCTAssertEqual(try status(try referRequest(toTag: toTag, cseq: 7)), "SIP/2.0 603 Decline")
    }

    func testASecondReferWhileTheFirstIsCarriedOutGets491() throws {
        let control = makeControl(site: Self.transferSite)
        let (_, toTag, _) = try referred(control)
        let again = try XCTUnwrap(control.receive(request: try referRequest(toTag: toTag, cseq: 3), from: origin(), at: now))
        XCTAssertEqual(firstLines(again), ["SIP/2.0 491 Request Pending"])
    }

    func testFailureStatusLines() {
        XCTAssertTrue(CallControl<String>.failureStatus("486 Busy Here") == (486, "Busy Here"))
        XCTAssertTrue(CallControl<String>.failureStatus("302 Moved (no new place to call)") == (302, "Moved"))
        XCTAssertTrue(CallControl<String>.failureStatus("no answer") == (503, "Service Unavailable"))
        XCTAssertTrue(CallControl<String>.failureStatus("200 OK") == (503, "Service Unavailable"))
    }
}
