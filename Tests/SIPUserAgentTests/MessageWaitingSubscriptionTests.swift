import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// The message-summary subscription driven with explicit times and
/// hand-written responses and NOTIFYs.
final class MessageWaitingSubscriptionTests: XCTestCase {
    private var now = Instant.zero + .seconds(1000)
    private var counter = 0
    private let server = RegistrarTarget(host: "192.0.2.10", port: 5060, localHost: "192.0.2.2")
    private let backup = RegistrarTarget(host: "192.0.2.11", port: 5060, localHost: "192.0.2.2")

    private func makeSubscription(uri: String = "sip:*97@pbx.test") -> MessageWaitingSubscription {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "pbx.test", authUser: nil, password: "secret",
            displayName: nil, registrarHost: "pbx.test", registrarPort: 5060, transport: .udp,
            expires: 600, localHost: "0.0.0.0", localPort: 5070, userAgent: "atad/test")
        return MessageWaitingSubscription(settings: settings, voicemailURI: uri, makeToken: { [unowned self] in
            self.counter += 1
            return "t\(self.counter)"
        })
    }

    private func sent(_ actions: [RegistrationAction]) -> [String] {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    private func header(_ name: String, in message: String) -> String? {
        for line in message.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Starts one and answers its lookup; returns the first SUBSCRIBE.
    private func subscribe(_ subscription: inout MessageWaitingSubscription,
                           _ targets: [RegistrarTarget]? = nil) throws -> String {
        XCTAssertEqual(subscription.start(at: now), [.locate])
        return try XCTUnwrap(sent(subscription.located(targets ?? [server], at: now)).first)
    }

    private func response(to request: String, _ status: String, _ extra: [String] = []) throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        let to = header("To", in: request)!
        lines.append(to.contains(";tag=") ? "To: \(to)" : "To: \(to);tag=vm1")
        lines += extra
        lines.append("Content-Length: 0")
        return try SIPParser().parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8), framing: .datagram)
    }

    /// The voicemail server's NOTIFY in the dialog `request` started.
    private func notify(for request: String, state: String, cseq: Int = 1, fromTag: String = "vm1",
                        body: String = "Messages-Waiting: yes\r\n") throws -> SIPMessage {
        let ourFrom = header("From", in: request)!
        let text = [
            "NOTIFY sip:1001@192.0.2.2:5070 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKn\(cseq)",
            "From: <sip:*97@pbx.test>;tag=\(fromTag)",
            "To: \(ourFrom)",
            "Call-ID: \(header("Call-ID", in: request)!)",
            "CSeq: \(cseq) NOTIFY",
            "Contact: <sip:vm@192.0.2.10:5060>",
            "Max-Forwards: 70",
            "Event: message-summary",
            "Subscription-State: \(state)",
            "Content-Type: application/simple-message-summary",
            "Content-Length: \(body.utf8.count)",
            "", body,
        ].joined(separator: "\r\n")
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    func testSubscribeNamesTheVoicemailServerAndThePackage() throws {
        var subscription = makeSubscription()
        let request = try subscribe(&subscription)
        XCTAssertTrue(request.hasPrefix("SUBSCRIBE sip:*97@pbx.test SIP/2.0\r\n"), request)
        XCTAssertEqual(header("To", in: request), "<sip:*97@pbx.test>")
        XCTAssertEqual(header("From", in: request), "<sip:1001@pbx.test>;tag=t1")
        XCTAssertEqual(header("Via", in: request), "SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKt3;rport")
        XCTAssertEqual(header("Event", in: request), "message-summary")
        XCTAssertEqual(header("Accept", in: request), "application/simple-message-summary")
        XCTAssertEqual(header("Expires", in: request), "3600")
        XCTAssertEqual(header("Contact", in: request), "<sip:1001@192.0.2.2:5070;transport=udp>")
        XCTAssertEqual(header("CSeq", in: request), "1 SUBSCRIBE")
        XCTAssertEqual(subscription.state, .subscribing)
        XCTAssertEqual(subscription.branch, "z9hG4bKt3")
    }

    func testTheRefreshGoesInsideTheDialogAheadOfExpiry() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600", "Contact: <sip:vm@192.0.2.10:5060>",
                                                                              "Record-Route: <sip:proxy.pbx.test;lr>"]), at: now)
        XCTAssertEqual(subscription.state, .active(until: now + .seconds(600)))
        XCTAssertEqual(subscription.refreshAt, now + .seconds(510))
        XCTAssertEqual(sent(subscription.advance(to: now + .seconds(509))), [])
        now = now + .seconds(510)
        let refresh = try XCTUnwrap(sent(subscription.advance(to: now)).first)
        XCTAssertTrue(refresh.hasPrefix("SUBSCRIBE sip:vm@192.0.2.10:5060 SIP/2.0\r\n"), refresh)
        XCTAssertEqual(header("To", in: refresh), "<sip:*97@pbx.test>;tag=vm1")
        XCTAssertEqual(header("Call-ID", in: refresh), header("Call-ID", in: first))
        XCTAssertEqual(header("CSeq", in: refresh), "2 SUBSCRIBE")
        XCTAssertEqual(header("Route", in: refresh), "<sip:proxy.pbx.test;lr>")
        _ = subscription.handle(response: try response(to: refresh, "200 OK", ["Expires: 2"]), at: now)
        // 85 % of 2 s is under the shortest refresh: 2 s.
        XCTAssertEqual(subscription.refreshAt, now + .seconds(2))
        XCTAssertEqual(subscription.acceptedCount, 2)
    }

    func testANotifyBeforeTheAnswerMakesTheDialogAndIsOwned() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        let early = try notify(for: first, state: "active;expires=300")
        XCTAssertTrue(subscription.owns(early))
        let (status, takeBody, _) = subscription.handle(notify: early, at: now)
        XCTAssertEqual(status, 200)
        XCTAssertTrue(takeBody)
        XCTAssertEqual(subscription.state, .active(until: now + .seconds(300)))
        // Another notifier's tag (a fork) is not this dialog's.
        XCTAssertFalse(subscription.owns(try notify(for: first, state: "active", cseq: 2, fromTag: "other")))
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 3600"]), at: now)
        XCTAssertTrue(subscription.owns(try notify(for: first, state: "active", cseq: 2)))
        // The NOTIFY's shorter lifetime keeps the refresh early.
        XCTAssertEqual(subscription.refreshAt, now + .seconds(255))
    }

    func testStrangersAndOutOfOrderNotifiesAreRefused() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        let wrongCallID = try notify(for: first.replacingOccurrences(of: "Call-ID: t2@atad", with: "Call-ID: x@y"),
                                     state: "active")
        XCTAssertFalse(subscription.owns(wrongCallID))
        XCTAssertEqual(subscription.handle(notify: try notify(for: first, state: "active", cseq: 5), at: now).status, 200)
        XCTAssertEqual(subscription.handle(notify: try notify(for: first, state: "active", cseq: 4), at: now).status, 500)
        var noState = try notify(for: first, state: "active", cseq: 6)
        noState = try SIPParser().parse(Array(String(decoding: noState.bytes, as: UTF8.self)
            .replacingOccurrences(of: "Subscription-State: active\r\n", with: "").utf8), framing: .datagram)
        XCTAssertEqual(subscription.handle(notify: noState, at: now).status, 400)
    }

    func testDigestChallengeIsAnswered() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        let challenge = try response(to: first, "407 Proxy Authentication Required",
                                     ["Proxy-Authenticate: Digest realm=\"pbx.test\", nonce=\"n1\", algorithm=MD5"])
        let second = try XCTUnwrap(sent(subscription.handle(response: challenge, at: now)).first)
        XCTAssertEqual(header("CSeq", in: second), "2 SUBSCRIBE")
        XCTAssertEqual(header("Call-ID", in: second), header("Call-ID", in: first))
        let authorization = try XCTUnwrap(header("Proxy-Authorization", in: second))
        XCTAssertTrue(authorization.contains("uri=\"sip:*97@pbx.test\""), authorization)
    }

    func testTerminatedByTimeoutSubscribesAgainAtOnceInANewDialog() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        let (status, _, actions) = subscription.handle(notify: try notify(for: first, state: "terminated;reason=timeout"), at: now)
        XCTAssertEqual(status, 200)
        XCTAssertTrue(actions.contains(.locate))
        let again = try XCTUnwrap(sent(subscription.located([server], at: now)).first)
        XCTAssertNotEqual(header("Call-ID", in: again), header("Call-ID", in: first))
        XCTAssertEqual(header("To", in: again), "<sip:*97@pbx.test>")
    }

    func testTerminatedWithRetryAfterWaitsAndRejectedStops() throws {
        var subscription = makeSubscription()
        var first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        _ = subscription.handle(notify: try notify(for: first, state: "terminated;reason=probation;retry-after=120"), at: now)
        XCTAssertEqual(subscription.nextDeadline, now + .seconds(120))
        now = now + .seconds(120)
        XCTAssertEqual(subscription.advance(to: now), [.locate])
        first = try XCTUnwrap(sent(subscription.located([server], at: now)).first)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        _ = subscription.handle(notify: try notify(for: first, state: "terminated;reason=rejected"), at: now)
        XCTAssertEqual(subscription.state, .refused(reason: "rejected"))
        XCTAssertNil(subscription.nextDeadline)
    }

    func testARefreshTheServerForgotStartsAgain() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 100"]), at: now)
        now = now + .seconds(85)
        let refresh = try XCTUnwrap(sent(subscription.advance(to: now)).first)
        XCTAssertTrue(subscription.handle(response: try response(to: refresh, "481 Subscription Does Not Exist"),
                                          at: now).contains(.locate))
        let again = try XCTUnwrap(sent(subscription.located([server], at: now)).first)
        XCTAssertTrue(again.hasPrefix("SUBSCRIBE sip:*97@pbx.test SIP/2.0\r\n"), again)
        XCTAssertEqual(header("CSeq", in: again), "1 SUBSCRIBE")
    }

    func testFailuresBackOffAndTimeoutsTryTheNextServer() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription, [server, backup])
        let bad = subscription.handle(response: try response(to: first, "489 Bad Event"), at: now)
        XCTAssertTrue(bad.contains { if case .logWarning = $0 { return true } else { return false } })
        XCTAssertEqual(subscription.state, .failed(reason: "489 Bad Event", retryAt: now + .seconds(5)))
        now = now + .seconds(5)
        XCTAssertEqual(subscription.advance(to: now), [.locate])
        _ = subscription.located([server, backup], at: now)
        // No answer at all (timer F, 32 s): the next server, a new dialog.
        var actions: [RegistrationAction] = []
        for _ in 0..<40 {
            now = now + .seconds(1)
            actions += subscription.advance(to: now)
            if subscription.currentTarget == 1 { break }
        }
        XCTAssertEqual(subscription.currentTarget, 1)
        XCTAssertEqual(subscription.state, .subscribing)
    }

    func testUnsubscribeSendsExpiresZeroInTheDialog() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        let last = try XCTUnwrap(sent(subscription.unsubscribe(at: now)).first)
        XCTAssertEqual(header("Expires", in: last), "0")
        XCTAssertEqual(header("To", in: last), "<sip:*97@pbx.test>;tag=vm1")
        XCTAssertEqual(subscription.state, .unsubscribing)
        _ = subscription.handle(response: try response(to: last, "200 OK", ["Expires: 0"]), at: now)
        XCTAssertEqual(subscription.state, .ended)
        XCTAssertNil(subscription.refreshAt)
        XCTAssertEqual(sent(subscription.advance(to: now + .seconds(3600))), [])
    }

    func testARefreshThatGetsNoAnswerKeepsTheSubscriptionUntilItExpires() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        let until = now + .seconds(600)
        now = now + .seconds(510)
        let refresh = try XCTUnwrap(sent(subscription.advance(to: now)).first)
        // Timer F: 32 s without an answer.
        for _ in 0..<33 {
            now = now + .seconds(1)
            _ = subscription.advance(to: now)
        }
        XCTAssertEqual(subscription.state, .active(until: until))
        let again = try XCTUnwrap(sent(subscription.advance(to: now + .seconds(5))).first)
        XCTAssertEqual(header("Call-ID", in: again), header("Call-ID", in: refresh))
        XCTAssertEqual(header("CSeq", in: again), "3 SUBSCRIBE")
        XCTAssertTrue(subscription.owns(try notify(for: first, state: "active")))
    }

    func testUnsubscribingDuringALookupEndsAtOnce() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        _ = subscription.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        XCTAssertTrue(subscription.handle(notify: try notify(for: first, state: "terminated;reason=deactivated"),
                                          at: now).actions.contains(.locate))
        XCTAssertEqual(subscription.state, .resolving)
        XCTAssertEqual(subscription.unsubscribe(at: now), [])
        XCTAssertEqual(subscription.state, .ended)
        XCTAssertNil(subscription.nextDeadline)
    }

    func testAServerThatKeepsEndingSubscriptionsAtOnceIsSlowedDown() throws {
        var subscription = makeSubscription()
        var request = try subscribe(&subscription)
        var waits: [Instant?] = []
        for round in 0..<3 {
            _ = subscription.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
            let ended = subscription.handle(notify: try notify(for: request, state: "terminated;reason=deactivated"), at: now)
            if round == 0 {
                XCTAssertTrue(ended.actions.contains(.locate))
            } else {
                XCTAssertFalse(ended.actions.contains(.locate))
                waits.append(subscription.nextDeadline)
                now = subscription.nextDeadline!
                XCTAssertEqual(subscription.advance(to: now), [.locate])
            }
            request = try XCTUnwrap(sent(subscription.located([server], at: now)).first)
        }
        XCTAssertEqual(waits.count, 2)
    }

    func testHugeLifetimesAreCutAndCopiesOfAnAnswerIgnored() throws {
        var subscription = makeSubscription()
        let first = try subscribe(&subscription)
        let answer = try response(to: first, "200 OK", ["Expires: 4294967295"])
        _ = subscription.handle(response: answer, at: now)
        XCTAssertEqual(subscription.state, .active(until: now + .seconds(3600)))
        XCTAssertEqual(subscription.handle(notify: try notify(for: first, state: "active;expires=4294967295"),
                                           at: now).status, 200)
        XCTAssertEqual(subscription.state, .active(until: now + .seconds(3600)))
        XCTAssertEqual(SubscriptionStateHeader.parse(ArraySlice("active;expires=99999999999".utf8))?.expires, 86_400)
        _ = subscription.handle(response: answer, at: now)
        XCTAssertEqual(subscription.acceptedCount, 1)
    }

    func testSubscriptionStateHeaderReadsItsParameters() {
        let header = SubscriptionStateHeader.parse(ArraySlice("Terminated ; reason=Timeout;retry-after=30".utf8))
        XCTAssertEqual(header, SubscriptionStateHeader(phase: .terminated, expires: nil, reason: "timeout", retryAfter: 30))
        XCTAssertEqual(SubscriptionStateHeader.parse(ArraySlice("pending;expires=60".utf8))?.expires, 60)
        XCTAssertEqual(SubscriptionStateHeader.parse(ArraySlice("future-state".utf8))?.phase, .active)
    }
}
