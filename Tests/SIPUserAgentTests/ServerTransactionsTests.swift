import SIPMessage
import SIPTransaction
@testable import SIPUserAgent
import Timebase
import XCTest

/// The server transaction layer in front of the calls, with explicit times.
final class ServerTransactionsTests: XCTestCase {
    private let now = Instant.zero + .seconds(100)

    private func parse(_ text: String) throws -> SIPMessage {
        try SIPParser().parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), framing: .datagram)
    }

    private func request(_ method: String, branch: String, cseq: Int, toTag: String? = "to1",
                         cseqMethod: String? = nil) throws -> SIPMessage {
        try parse("""
        \(method) sip:1001@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch)
        Max-Forwards: 70
        From: <sip:2000@atad.test>;tag=from1
        To: <sip:1001@atad.test>\(toTag.map { ";tag=\($0)" } ?? "")
        Call-ID: call-1
        CSeq: \(cseq) \(cseqMethod ?? method)
        Content-Length: 0


        """)
    }

    private func response(to request: SIPMessage, _ status: Int, _ reason: String) -> [UInt8] {
        var copy = request
        copy.source = SIPSource(host: "127.0.0.1", port: 5070)
        return SIPMessageBuilder.response(to: copy, status: status, reason: reason, toTag: "to1").serialize()
    }

    private func texts(_ sends: [ServerTransactions<Int>.Send]?) -> [String] {
        (sends ?? []).map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    func testABYERepeatedAfterItsOKGetsTheOKAgainUntilTimerJ() throws {
        var layer = ServerTransactions<Int>()
        let bye = try request("BYE", branch: "z9hG4bKbye", cseq: 2)
        XCTAssertEqual(layer.receive(bye, route: 7, timers: .unreliable, at: now).arrival, .new)
        let ok = response(to: bye, 200, "OK")
        let sent = try XCTUnwrap(layer.respond(ok, at: now))
        XCTAssertEqual(sent.map { $0.bytes }, [ok])
        XCTAssertEqual(sent.first?.route, 7)

        let again = layer.receive(bye, route: 7, timers: .unreliable, at: now + .seconds(5))
        XCTAssertEqual(again.arrival, .absorbed, "the call never sees the copy")
        XCTAssertEqual(again.sends.map { $0.bytes }, [ok])

        XCTAssertEqual(layer.nextDeadline, now + .seconds(32), "Timer J: 64*T1")
        _ = layer.advance(to: now + .seconds(32))
        XCTAssertEqual(layer.count, 0)
        XCTAssertEqual(layer.receive(bye, route: 7, timers: .unreliable, at: now + .seconds(33)).arrival, .new)
    }

    func testAFailureToAnINVITEIsRepeatedOnTimerGUntilItsACK() throws {
        var layer = ServerTransactions<Int>()
        let invite = try request("INVITE", branch: "z9hG4bKinv", cseq: 1, toTag: nil)
        XCTAssertEqual(layer.receive(invite, route: 1, timers: .unreliable, at: now).arrival, .new)
        let ringing = response(to: invite, 180, "Ringing")
        XCTAssertEqual(texts(layer.respond(ringing, at: now)).count, 1)
        // A copy of the INVITE while it rings gets the 180 again.
        XCTAssertEqual(layer.receive(invite, route: 1, timers: .unreliable, at: now).sends.map { $0.bytes }, [ringing])

        let declined = response(to: invite, 603, "Decline")
        XCTAssertEqual(try XCTUnwrap(layer.respond(declined, at: now)).map { $0.bytes }, [declined])
        var times: [Int64] = []
        var time = now
        while let due = layer.nextDeadline, due <= now + .seconds(8) {
            time = due
            if !layer.advance(to: time).isEmpty { times.append((time - now).milliseconds) }
        }
        XCTAssertEqual(times, [500, 1500, 3500, 7500], "Timer G: T1, doubling to T2")

        let ack = try request("ACK", branch: "z9hG4bKinv", cseq: 1)
        let absorbed = layer.receive(ack, route: 1, timers: .unreliable, at: time)
        XCTAssertEqual(absorbed.arrival, .absorbed, "the ACK for a 603 is the transaction's")
        XCTAssertTrue(absorbed.sends.isEmpty)
        XCTAssertTrue(layer.advance(to: time + .seconds(4)).isEmpty, "no more 603 after the ACK")
    }

    func testWithoutAnACKTheFailureStopsAfterTimerH() throws {
        var layer = ServerTransactions<Int>()
        let invite = try request("INVITE", branch: "z9hG4bKinv", cseq: 1, toTag: nil)
        _ = layer.receive(invite, route: 1, timers: .unreliable, at: now)
        _ = layer.respond(response(to: invite, 487, "Request Terminated"), at: now)
        var sends = 0
        while let due = layer.nextDeadline, due <= now + .seconds(60) { sends += layer.advance(to: due).count }
        XCTAssertEqual(layer.count, 0)
        XCTAssertEqual(sends, 10, "0.5, 1.5, 3.5, 7.5, then every 4 s until 32 s")
    }

    func testAnINVITEAnsweredWith2xxAbsorbsCopiesAndLetsTheACKThrough() throws {
        var layer = ServerTransactions<Int>()
        let invite = try request("INVITE", branch: "z9hG4bKinv", cseq: 1, toTag: nil)
        _ = layer.receive(invite, route: 1, timers: .unreliable, at: now)
        XCTAssertEqual(texts(layer.respond(response(to: invite, 200, "OK"), at: now)).count, 1)
        let copy = layer.receive(invite, route: 1, timers: .unreliable, at: now)
        XCTAssertEqual(copy.arrival, .absorbed)
        XCTAssertTrue(copy.sends.isEmpty, "the call repeats its 2xx itself (RFC 6026)")
        // The ACK for a 2xx has its own branch: the call's.
        let ack = try request("ACK", branch: "z9hG4bKack", cseq: 1)
        XCTAssertEqual(layer.receive(ack, route: 1, timers: .unreliable, at: now).arrival, .new)
        // And a later repeat of the 2xx by the call still goes out.
        XCTAssertEqual(texts(layer.respond(response(to: invite, 200, "OK"), at: now + .seconds(1))).count, 1)
    }

    func testAResponseToNoRequestHereIsLeftToTheCaller() throws {
        var layer = ServerTransactions<Int>()
        let info = try request("INFO", branch: "z9hG4bKinfo", cseq: 3)
        XCTAssertNil(layer.respond(response(to: info, 200, "OK"), at: now))
    }

    func testACancelFindsTheINVITEItNames() throws {
        var layer = ServerTransactions<Int>()
        let invite = try request("INVITE", branch: "z9hG4bKinv", cseq: 1, toTag: nil)
        _ = layer.receive(invite, route: 1, timers: .unreliable, at: now)
        let cancel = try request("CANCEL", branch: "z9hG4bKinv", cseq: 1, toTag: nil)
        XCTAssertTrue(layer.holdsInvite(cancelledBy: cancel))
        XCTAssertEqual(layer.receive(cancel, route: 1, timers: .unreliable, at: now).arrival, .new,
                       "the CANCEL is its own transaction")
        let stray = try request("CANCEL", branch: "z9hG4bKother", cseq: 1, toTag: nil)
        XCTAssertFalse(layer.holdsInvite(cancelledBy: stray))
    }

    func testAFullLayerDropsAnsweredTransactionsFirstThenRefuses() throws {
        var layer = ServerTransactions<Int>(capacity: 2)
        let first = try request("INFO", branch: "z9hG4bK1", cseq: 1)
        _ = layer.receive(first, route: 1, timers: .unreliable, at: now)
        _ = layer.respond(response(to: first, 200, "OK"), at: now)
        _ = layer.receive(try request("INFO", branch: "z9hG4bK2", cseq: 2), route: 1, timers: .unreliable, at: now)
        XCTAssertEqual(layer.receive(try request("INFO", branch: "z9hG4bK3", cseq: 3), route: 1,
                                     timers: .unreliable, at: now).arrival, .new, "the answered one made room")
        XCTAssertEqual(layer.receive(try request("INFO", branch: "z9hG4bK4", cseq: 4), route: 1,
                                     timers: .unreliable, at: now).arrival, .full, "two unanswered: no room")
        XCTAssertEqual(layer.count, 2)
    }

    /// RFC 2543 (no magic cookie): the ACK matches by the To tag of our answer.
    func testAnRFC2543ACKStopsTheFailureItAcknowledges() throws {
        var layer = ServerTransactions<Int>()
        let invite = try request("INVITE", branch: "old1", cseq: 1, toTag: nil)
        _ = layer.receive(invite, route: 1, timers: .unreliable, at: now)
        _ = layer.respond(response(to: invite, 486, "Busy Here"), at: now)
        let ack = try request("ACK", branch: "old1", cseq: 1, toTag: "to1")
        XCTAssertEqual(layer.receive(ack, route: 1, timers: .unreliable, at: now).arrival, .absorbed)
        XCTAssertTrue(layer.advance(to: now + .seconds(2)).isEmpty, "no 486 after the ACK")
    }
}
