import SIPMessage
@testable import SIPUserAgent
import Timebase
import XCTest

/// Registration driven with explicit times and hand-written responses.
final class RegistrationTests: XCTestCase {
    private var now = Instant.zero + .seconds(1000)
    private var counter = 0

    private func makeRegistration(password: String = "secret", expires: Int = 600,
                                  fixedPublicHost: String? = nil) -> Registration {
        let settings = SIPAccount(
            accountName: "home", user: "1001", domain: "atad.test", authUser: nil, password: password,
            displayName: "Kitchen", registrarHost: "127.0.0.1", registrarPort: 5060, transport: .udp,
            expires: expires, localHost: "127.0.0.1", localPort: 5070, userAgent: "atad/test",
            fixedPublicHost: fixedPublicHost)
        return Registration(settings: settings, makeToken: { [unowned self] in
            self.counter += 1
            return "t\(self.counter)"
        })
    }

    private let home = RegistrarTarget(host: "127.0.0.1", port: 5060, localHost: "127.0.0.1")

    /// Answers a `.locate` among `actions` with `targets`, as the daemon
    /// does once its lookup ends; returns every action.
    private func located(_ actions: [RegistrationAction], _ registration: inout Registration,
                         _ targets: [RegistrarTarget]? = nil) -> [RegistrationAction] {
        guard actions.contains(.locate) else { return actions }
        return actions + registration.located(targets ?? [home], at: now)
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

    /// A response to `request` with the given status and extra header lines.
    private func response(to request: String, _ status: String, _ extra: [String] = []) throws -> SIPMessage {
        var lines = ["SIP/2.0 \(status)"]
        for name in ["Via", "From", "Call-ID", "CSeq"] { lines.append("\(name): \(header(name, in: request)!)") }
        lines.append("To: \(header("To", in: request)!);tag=registrar")
        lines += extra
        lines.append("Content-Length: 0")
        let text = lines.joined(separator: "\r\n") + "\r\n\r\n"
        return try SIPParser().parse(Array(text.utf8), framing: .datagram)
    }

    func testRegisterCarriesWhatARegistrarNeeds() throws {
        var registration = makeRegistration()
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        XCTAssertTrue(request.hasPrefix("REGISTER sip:atad.test SIP/2.0\r\n"), request)
        XCTAssertEqual(header("Via", in: request), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKt3;rport")
        XCTAssertEqual(header("From", in: request), "\"Kitchen\" <sip:1001@atad.test>;tag=t2")
        XCTAssertEqual(header("To", in: request), "<sip:1001@atad.test>")
        XCTAssertEqual(header("CSeq", in: request), "1 REGISTER")
        XCTAssertEqual(header("Contact", in: request), "<sip:1001@127.0.0.1:5070;transport=udp>")
        XCTAssertEqual(header("Expires", in: request), "600")
        XCTAssertEqual(header("Max-Forwards", in: request), "70")
        XCTAssertEqual(registration.state, .registering)
        XCTAssertEqual(registration.branch, "z9hG4bKt3")
    }

    func testDigestChallengeIsAnsweredThenRegisteredAndRefreshedAhead() throws {
        var registration = makeRegistration()
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let challenge = try response(to: first, "401 Unauthorized",
                                     ["WWW-Authenticate: Digest realm=\"atad.test\", nonce=\"abc\", qop=\"auth\", algorithm=MD5"])
        let second = try XCTUnwrap(sent(registration.handle(response: challenge, at: now)).first)
        XCTAssertEqual(header("CSeq", in: second), "2 REGISTER")
        let authorization = try XCTUnwrap(header("Authorization", in: second))
        XCTAssertTrue(authorization.hasPrefix("Digest "), authorization)
        XCTAssertTrue(authorization.contains("username=\"1001\""), authorization)
        XCTAssertTrue(authorization.contains("uri=\"sip:atad.test\""), authorization)
        XCTAssertTrue(authorization.contains("nc=00000001"), authorization)
        let ok = try response(to: second, "200 OK", ["Contact: <sip:1001@127.0.0.1:5070;transport=udp>;expires=300"])
        let actions = registration.handle(response: ok, at: now)
        XCTAssertEqual(registration.state, .registered(until: now + .seconds(300)))
        XCTAssertTrue(actions.contains { if case .logInfo(let text) = $0 { return text.contains("registered") } else { return false } })
        // The refresh goes out at 85 % of the granted 300 s, not before.
        XCTAssertTrue(sent(located(registration.advance(to: now + .seconds(254)), &registration)).isEmpty)
        XCTAssertEqual(registration.nextDeadline, now + .seconds(255))
        let refresh = try XCTUnwrap(sent(located(registration.advance(to: now + .seconds(255)), &registration)).first)
        XCTAssertEqual(header("CSeq", in: refresh), "3 REGISTER")
        XCTAssertTrue(header("Authorization", in: refresh)?.contains("nc=00000002") ?? false, "the nonce is reused")
    }

    func testWrongPasswordFailsOnceLoudlyThenBacksOffQuietly() throws {
        var registration = makeRegistration(password: "wrong")
        let challengeHeader = "WWW-Authenticate: Digest realm=\"atad.test\", nonce=\"n1\", algorithm=MD5"
        var request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        request = try XCTUnwrap(sent(registration.handle(response: try response(to: request, "401 Unauthorized", [challengeHeader]), at: now)).first)
        var actions = registration.handle(response: try response(to: request, "401 Unauthorized", [challengeHeader]), at: now)
        guard case .failed(let reason, let retryAt) = registration.state else { return XCTFail("\(registration.state)") }
        XCTAssertTrue(reason.contains("authentication failed"), reason)
        XCTAssertEqual(retryAt, now + Registration.minimumBackoff)
        XCTAssertEqual(actions.filter { if case .logWarning = $0 { return true } else { return false } }.count, 1)
        // The retry fails the same way: logged at debug level only, and the
        // back-off doubles.
        now = retryAt
        request = try XCTUnwrap(sent(located(registration.advance(to: now), &registration)).first)
        request = try XCTUnwrap(sent(registration.handle(response: try response(to: request, "401 Unauthorized", [challengeHeader]), at: now)).first)
        actions = registration.handle(response: try response(to: request, "401 Unauthorized", [challengeHeader]), at: now)
        XCTAssertFalse(actions.contains { if case .logWarning = $0 { return true } else { return false } })
        guard case .failed(_, let nextRetry) = registration.state else { return XCTFail() }
        XCTAssertEqual(nextRetry, now + Registration.minimumBackoff * 2)
    }

    func testUnansweredRegisterIsRetransmittedThenTimesOut() throws {
        var registration = makeRegistration()
        XCTAssertEqual(sent(located(registration.start(at: now), &registration)).count, 1)
        var sends = 0
        var time = now
        while time < now + .seconds(33) {
            time = time + .milliseconds(100)
            sends += sent(registration.advance(to: time)).count
            if case .failed = registration.state { break }
        }
        // Timer E: 0.5, 1.5, 3.5, 7.5, then every T2 (4 s) until Timer F at 32 s.
        XCTAssertEqual(sends, 10)
        guard case .failed(let reason, _) = registration.state else { return XCTFail("\(registration.state)") }
        XCTAssertEqual(reason, "no response from 127.0.0.1:5060/udp")
    }

    func testIntervalTooBriefAsksAgainWithTheMinimum() throws {
        var registration = makeRegistration(expires: 60)
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let again = try XCTUnwrap(sent(registration.handle(response: try response(to: request, "423 Interval Too Brief", ["Min-Expires: 120"]), at: now)).first)
        XCTAssertEqual(header("Expires", in: again), "120")
    }

    func testUnregisterSendsExpiresZero() throws {
        var registration = makeRegistration()
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
        let goodbye = try XCTUnwrap(sent(registration.unregister(at: now)).first)
        XCTAssertEqual(header("Expires", in: goodbye), "0")
        XCTAssertEqual(registration.state, .unregistering)
        _ = registration.handle(response: try response(to: goodbye, "200 OK"), at: now)
        XCTAssertEqual(registration.state, .unregistered)
    }

    // MARK: Looking the registrar up, and the next server

    func testTheRegistrarIsLookedUpBeforeTheFirstRegister() throws {
        var registration = makeRegistration()
        XCTAssertEqual(registration.start(at: now), [.locate])
        XCTAssertEqual(registration.state, .resolving)
        XCTAssertEqual(registration.statusText(at: now), "resolving")
        let found = [RegistrarTarget(host: "192.0.2.7", port: 5080, localHost: "192.0.2.50")]
        let request = try XCTUnwrap(sent(registration.located(found, at: now)).first)
        XCTAssertEqual(header("Via", in: request)?.hasPrefix("SIP/2.0/UDP 192.0.2.50:5070;"), true)
        XCTAssertEqual(header("Contact", in: request), "<sip:1001@192.0.2.50:5070;transport=udp>")
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
        XCTAssertEqual(registration.statusText(at: now), "registered, expires in 600 s, with 192.0.2.7:5080/udp")
    }

    func testALookupThatFailsIsRetriedAfterABackOffCappedForTheNetwork() {
        var registration = makeRegistration()
        _ = registration.start(at: now)
        for attempt in 1...8 {
            _ = registration.notLocated("cannot resolve atad.test: DNS timeout", at: now)
            guard case .failed(let reason, let retryAt) = registration.state else { return XCTFail("\(registration.state)") }
            XCTAssertEqual(reason, "cannot resolve atad.test: DNS timeout")
            // 5, 10, 20, then never more than 30 s: a board that booted before
            // its network registers soon after the network comes.
            XCTAssertEqual(retryAt - now, attempt == 1 ? .seconds(5) : attempt == 2 ? .seconds(10) : attempt == 3 ? .seconds(20) : .seconds(30))
            now = retryAt
            XCTAssertEqual(registration.advance(to: now), [.locate])
            XCTAssertEqual(registration.state, .resolving)
        }
    }

    func testATimeoutMovesToTheNextServerAtOnce() throws {
        var registration = makeRegistration()
        let first = RegistrarTarget(host: "192.0.2.1", port: 5060, localHost: "192.0.2.50")
        let second = RegistrarTarget(host: "192.0.2.2", port: 5062, localHost: "192.0.2.51")
        XCTAssertEqual(sent(located(registration.start(at: now), &registration, [first, second])).count, 1)
        var moved: [RegistrationAction] = []
        var time = now
        while time < now + .seconds(33) && registration.currentTarget == 0 {
            time = time + .milliseconds(100)
            moved = registration.advance(to: time)
        }
        XCTAssertEqual(registration.currentTarget, 1)
        XCTAssertEqual(registration.state, .registering, "no failure while a server is left")
        XCTAssertTrue(moved.contains(.logInfo("account home: no response from 192.0.2.1:5060/udp; trying 192.0.2.2:5062")), "\(moved)")
        let request = try XCTUnwrap(sent(moved).first)
        XCTAssertEqual(header("Contact", in: request), "<sip:1001@192.0.2.51:5070;transport=udp>")
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: time)
        XCTAssertEqual(registration.statusText(at: time), "registered, expires in 600 s, with 192.0.2.2:5062/udp")
        // The refresh looks up again and goes back to the preferred server.
        time = time + .seconds(510)
        let refresh = try XCTUnwrap(sent(located(registration.advance(to: time), &registration, [first, second])).first)
        XCTAssertEqual(registration.currentTarget, 0)
        XCTAssertEqual(header("Contact", in: refresh), "<sip:1001@192.0.2.50:5070;transport=udp>")
    }

    func testA503MovesToTheNextServerAndTheLastOneFails() throws {
        var registration = makeRegistration()
        let targets = [RegistrarTarget(host: "192.0.2.1", port: 5060, localHost: "192.0.2.50"),
                       RegistrarTarget(host: "192.0.2.2", port: 5060, localHost: "192.0.2.50")]
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration, targets)).first)
        let second = try XCTUnwrap(sent(registration.handle(response: try response(to: first, "503 Service Unavailable"), at: now)).first)
        XCTAssertEqual(registration.currentTarget, 1)
        XCTAssertEqual(header("CSeq", in: second), "2 REGISTER")
        XCTAssertTrue(sent(registration.handle(response: try response(to: second, "503 Service Unavailable"), at: now)).isEmpty)
        guard case .failed(let reason, _) = registration.state else { return XCTFail("\(registration.state)") }
        XCTAssertEqual(reason, "503 Service Unavailable from 192.0.2.2:5060/udp")
    }

    func testARefreshWhoseLookupFailsKeepsTheServerInUse() throws {
        var registration = makeRegistration()
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
        now = now + .seconds(510)
        XCTAssertEqual(registration.advance(to: now), [.locate])
        if case .registered = registration.state {} else { XCTFail("a refresh under way stays registered: \(registration.state)") }
        let refresh = try XCTUnwrap(sent(registration.notLocated("cannot resolve atad.test: DNS timeout", at: now)).first)
        XCTAssertEqual(header("CSeq", in: refresh), "2 REGISTER")
    }

    func testAClosedConnectionRegistersAgainAtOnce() throws {
        var registration = makeRegistration()
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
        let actions = registration.transportFailed(at: now + .seconds(3))
        XCTAssertTrue(actions.contains(.locate), "\(actions)")
        let again = try XCTUnwrap(sent(registration.located([home], at: now + .seconds(3))).first)
        XCTAssertEqual(header("CSeq", in: again), "2 REGISTER")
        // A second report of the same break asks for nothing more.
        XCTAssertEqual(registration.transportFailed(at: now + .seconds(3)).filter { $0 == .locate }.count, 0)
    }

    func testASilentRegistrarIsRegisteredWithAgainAfterALookup() throws {
        var registration = makeRegistration()
        XCTAssertEqual(registration.registrarSilent(at: now), [], "nothing to do before a registration")
        let request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        _ = registration.handle(response: try response(to: request, "200 OK", ["Expires: 600"]), at: now)
        XCTAssertTrue(registration.registrarSilent(at: now + .seconds(60)).contains(.locate))
        XCTAssertEqual(registration.registrarSilent(at: now + .seconds(61)), [], "one lookup at a time")
        let again = try XCTUnwrap(sent(registration.located([home], at: now + .seconds(61))).first)
        XCTAssertEqual(header("CSeq", in: again), "2 REGISTER")
        XCTAssertEqual(registration.state, .registering)
    }

    // MARK: NAT (RFC 3581)

    /// `response(to:)`, with the top Via's `rport` filled in as a registrar
    /// behind a NAT from us would: `received` and the port it saw.
    private func seenFrom(_ request: String, _ status: String, host: String?, port: Int,
                          _ extra: [String] = []) throws -> SIPMessage {
        let via = header("Via", in: request)!
        let filled = via.replacingOccurrences(of: ";rport", with: (host.map { ";received=\($0)" } ?? "") + ";rport=\(port)")
        let patched = request.replacingOccurrences(of: "Via: \(via)", with: "Via: \(filled)")
        return try response(to: patched, status, extra)
    }

    private func contacts(in message: String) -> [String] {
        message.components(separatedBy: "\r\n").filter { $0.hasPrefix("Contact:") }.map {
            $0.dropFirst(8).trimmingCharacters(in: .whitespaces)
        }
    }

    func testARegistrarThatSeesUsThroughANATGetsThatAddressAsContact() throws {
        var registration = makeRegistration()
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let moved = registration.handle(response: try seenFrom(first, "200 OK", host: "203.0.113.7", port: 40001,
                                                               ["Expires: 600"]), at: now)
        let again = try XCTUnwrap(sent(moved).first, "registers again at once: \(moved)")
        XCTAssertEqual(header("CSeq", in: again), "2 REGISTER")
        XCTAssertEqual(contacts(in: again), ["<sip:1001@203.0.113.7:40001;transport=udp>",
                                             "<sip:1001@127.0.0.1:5070;transport=udp>;expires=0"])
        XCTAssertEqual(header("Via", in: again)?.hasPrefix("SIP/2.0/UDP 127.0.0.1:5070;"), true, "Via keeps our own address")
        // The registrar sees the same address again: settled.
        let settled = registration.handle(response: try seenFrom(again, "200 OK", host: "203.0.113.7", port: 40001,
                                                                 ["Expires: 600"]), at: now)
        XCTAssertEqual(sent(settled), [])
        XCTAssertEqual(registration.settings.contactURI, "sip:1001@203.0.113.7:40001;transport=udp")
        guard case .registered = registration.state else { return XCTFail("\(registration.state)") }
        // The refresh keeps the public Contact, and the old one is gone for good.
        let refresh = try XCTUnwrap(sent(located(registration.advance(to: now + .seconds(600)), &registration)).first)
        XCTAssertEqual(contacts(in: refresh), ["<sip:1001@203.0.113.7:40001;transport=udp>"])
    }

    func testAConfiguredPublicAddressIsTheContactWhateverTheRegistrarSees() throws {
        var registration = makeRegistration(fixedPublicHost: "198.51.100.4")
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        XCTAssertEqual(contacts(in: first), ["<sip:1001@198.51.100.4:5070;transport=udp>"])
        XCTAssertEqual(header("Via", in: first)?.hasPrefix("SIP/2.0/UDP 127.0.0.1:5070;"), true, "Via keeps our own address")
        let done = registration.handle(response: try seenFrom(first, "200 OK", host: "203.0.113.7", port: 40001,
                                                              ["Expires: 600"]), at: now)
        XCTAssertEqual(sent(done), [], "the user forwards ports: what a NAT shows does not move the Contact")
        XCTAssertEqual(registration.settings.contactURI, "sip:1001@198.51.100.4:5070;transport=udp")
    }

    func testNoNATNoSecondRegister() throws {
        var registration = makeRegistration()
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let done = registration.handle(response: try seenFrom(first, "200 OK", host: nil, port: 5070, ["Expires: 600"]),
                                       at: now)
        XCTAssertEqual(sent(done), [])
        XCTAssertNil(registration.settings.publicAddress)
    }

    func testAKeepAliveAnswerShowingANewBindingRegistersItAtOnce() throws {
        var registration = makeRegistration()
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let again = try XCTUnwrap(sent(registration.handle(response: try seenFrom(first, "200 OK", host: "203.0.113.7",
                                                                                  port: 40001, ["Expires: 600"]), at: now)).first)
        _ = registration.handle(response: try seenFrom(again, "200 OK", host: "203.0.113.7", port: 40001, ["Expires: 600"]),
                                at: now)
        let options = "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKka1;rport\r\n"
            + "From: <sip:1001@atad.test>;tag=1\r\nCall-ID: ka-1\r\nCSeq: 1 OPTIONS\r\nTo: <sip:127.0.0.1:5060>\r\n\r\n"
        let same = registration.keepAliveAnswered(try seenFrom(options, "200 OK", host: "203.0.113.7", port: 40001),
                                                  at: now + .seconds(30))
        XCTAssertEqual(sent(same), [], "the binding holds")
        let rebound = registration.keepAliveAnswered(try seenFrom(options, "200 OK", host: "203.0.113.7", port: 40777),
                                                     at: now + .seconds(60))
        let moved = try XCTUnwrap(sent(rebound).first, "\(rebound)")
        XCTAssertEqual(contacts(in: moved), ["<sip:1001@203.0.113.7:40777;transport=udp>",
                                             "<sip:1001@203.0.113.7:40001;transport=udp>;expires=0"])
        XCTAssertEqual(registration.keepAliveAnswered(try seenFrom(options, "200 OK", host: "203.0.113.7", port: 40999),
                                                      at: now + .seconds(61)), [], "not while a REGISTER is in flight")
    }

    func testARegistrarWhoseViewKeepsChangingStopsMovingTheContact() throws {
        var registration = makeRegistration()
        var request = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        var registers = 0
        for port in 40001...40006 {
            let actions = registration.handle(response: try seenFrom(request, "200 OK", host: "203.0.113.7", port: port,
                                                                     ["Expires: 600"]), at: now)
            guard let next = sent(actions).first else { break }
            registers += 1
            request = next
        }
        XCTAssertEqual(registers, 2, "two moves in a row at most")
    }

    func testOverTCPTheContactStaysOurOwn() throws {
        var settings = makeRegistration().settings
        settings.transport = .tcp
        var registration = Registration(settings: settings, makeToken: { [unowned self] in
            self.counter += 1
            return "t\(self.counter)"
        })
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        let done = registration.handle(response: try seenFrom(first, "200 OK", host: "203.0.113.7", port: 40001,
                                                              ["Expires: 600"]), at: now)
        XCTAssertEqual(sent(done), [])
    }

    func testANewOwnAddressIsRegisteredAtOnceAndTheOldContactRemoved() throws {
        var registration = makeRegistration()
        let first = try XCTUnwrap(sent(located(registration.start(at: now), &registration)).first)
        _ = registration.handle(response: try response(to: first, "200 OK", ["Expires: 600"]), at: now)
        XCTAssertEqual(registration.ownAddressChanged(to: "127.0.0.1", at: now), [], "the same address: nothing")
        let actions = registration.ownAddressChanged(to: "127.0.0.9", at: now + .seconds(30))
        XCTAssertTrue(actions.contains(.locate), "\(actions)")
        let moved = RegistrarTarget(host: "127.0.0.1", port: 5060, localHost: "127.0.0.9")
        let again = try XCTUnwrap(sent(registration.located([moved], at: now + .seconds(30))).first)
        XCTAssertEqual(contacts(in: again), ["<sip:1001@127.0.0.9:5070;transport=udp>",
                                             "<sip:1001@127.0.0.1:5070;transport=udp>;expires=0"])
        XCTAssertEqual(header("Via", in: again)?.hasPrefix("SIP/2.0/UDP 127.0.0.9:5070;"), true)
    }
}
