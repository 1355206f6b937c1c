import SIPTransaction
import Timebase
import XCTest

final class TransactionTableTests: XCTestCase {
    private let via = SentBy(host: "192.0.2.10", port: 5060)

    private func serverKey(_ n: Int, _ method: String = "OPTIONS") -> TransactionKey {
        TransactionKey.server(method: method, branch: "z9hG4bK\(n)", sentBy: via)!
    }

    func testInsertLookupAndRemove() {
        var table = TransactionTable<Int>(clientCapacity: 2, serverCapacity: 2)
        let key = TransactionKey.client(branch: "z9hG4bKa", method: "REGISTER")
        XCTAssertTrue(table.isEmpty)
        XCTAssertEqual(table.insert(1, for: key), .inserted)
        XCTAssertEqual(table.insert(2, for: key), .duplicate)
        XCTAssertEqual(table[key], 1, "the first one stays")
        XCTAssertEqual(table.value(matching: .client(branch: "z9hG4bKa", method: "REGISTER")), 1)
        XCTAssertNil(table.value(matching: .client(branch: "z9hG4bKa", method: "CANCEL")))
        XCTAssertEqual(table.count, 1)
        XCTAssertEqual(table.clientCount, 1)
        XCTAssertEqual(table.remove(key), 1)
        XCTAssertNil(table.remove(key))
        XCTAssertEqual(table.clientCount, 0)
        XCTAssertTrue(table.isEmpty)
    }

    func testAckFindsTheInviteTransactionAndDrivesIt() throws {
        var table = TransactionTable<InviteServerTransaction>()
        let inviteKey = serverKey(7, "INVITE")
        let (invite, started) = InviteServerTransaction.start(timers: .unreliable, at: ms(0))
        XCTAssertEqual(started, [.passRequestToTU])
        XCTAssertEqual(table.insert(invite, for: inviteKey), .inserted)
        XCTAssertEqual(table.update(matching: serverKey(7, "INVITE")) { $0.handle(.tuResponse(statusCode: 486), at: ms(100)) },
                       [.sendResponse(statusCode: 486)])
        let ackKey = serverKey(7, "ACK")
        XCTAssertEqual(table.matchingKey(for: ackKey), inviteKey)
        XCTAssertEqual(table.update(matching: ackKey) { $0.handle(.ack, at: ms(700)) }, [.sendResponse(statusCode: 486)],
                       "Timer G at 600 ms fired first")
        XCTAssertEqual(table.value(matching: ackKey)?.state, .confirmed)
        XCTAssertNil(table.update(matching: serverKey(7, "CANCEL")) { $0.handle(.request, at: ms(800)) })
    }

    func testLegacyAckMatchesAfterTheResponseTagIsRecorded() {
        var table = TransactionTable<String>()
        func legacy(_ method: String, toTag: String?) -> TransactionKey {
            TransactionKey.server(method: method, branch: nil, sentBy: via, requestURI: "sip:bob@192.0.2.4", toTag: toTag,
                                  fromTag: "f1", callID: "c1@host", cseqNumber: 314, topVia: "SIP/2.0/UDP 192.0.2.10")
        }
        let inviteKey = legacy("INVITE", toTag: nil)
        XCTAssertEqual(table.insert("call", for: inviteKey), .inserted)
        XCTAssertEqual(table.value(matching: legacy("INVITE", toTag: nil)), "call", "INVITE retransmission")
        XCTAssertNil(table.value(matching: legacy("ACK", toTag: "t42")), "no response sent yet")
        table.setResponseToTag("t42", for: inviteKey)
        XCTAssertEqual(table.matchingKey(for: legacy("ACK", toTag: "t42")), inviteKey)
        XCTAssertNil(table.value(matching: legacy("ACK", toTag: "t43")))
        XCTAssertEqual(table.value(matching: legacy("INVITE", toTag: nil)), "call")
    }

    func testClientAndServerSidesHaveSeparateBounds() {
        var table = TransactionTable<Int>(clientCapacity: 1, serverCapacity: 3)
        for n in 0..<3 { XCTAssertEqual(table.insert(n, for: serverKey(n)), .inserted) }
        XCTAssertEqual(table.insert(3, for: serverKey(3)), .full)
        XCTAssertEqual(table.insert(9, for: .client(branch: "z9hG4bKreg", method: "REGISTER")), .inserted,
                       "a full server side does not block our own requests")
        XCTAssertEqual(table.insert(10, for: .client(branch: "z9hG4bKreg2", method: "REGISTER")), .full)
        XCTAssertEqual(table.serverCount, 3)
        XCTAssertEqual(table.clientCount, 1)
        XCTAssertEqual(table.count, 4)
    }

    func testFloodOfNewRequestsCannotGrowTheTable() {
        var table = TransactionTable<NonInviteServerTransaction>(clientCapacity: 4, serverCapacity: 64)
        var inserted = 0
        var refused = 0
        for n in 0..<10_000 {
            let (transaction, _) = NonInviteServerTransaction.start(timers: .unreliable, at: ms(Int64(n)))
            switch table.insert(transaction, for: serverKey(n)) {
            case .inserted: inserted += 1
            case .full: refused += 1
            default: XCTFail("unexpected result")
            }
        }
        XCTAssertEqual(inserted, 64)
        XCTAssertEqual(refused, 9_936)
        XCTAssertEqual(table.count, 64)
        XCTAssertEqual(table.keys.first, serverKey(0), "the first ones are kept, not displaced")
    }

    func testFloodEvictsOnlyLingeringTransactions() {
        var table = TransactionTable<NonInviteServerTransaction>(clientCapacity: 1, serverCapacity: 4)
        // Two answered requests wait for Timer J; two are still with the TU.
        for n in 0..<4 {
            var (transaction, _) = NonInviteServerTransaction.start(timers: .unreliable, at: ms(0))
            if n.isMultiple(of: 2) { _ = transaction.handle(.tuResponse(statusCode: 200), at: ms(1)) }
            XCTAssertEqual(table.insert(transaction, for: serverKey(n)), .inserted)
        }
        func flood(_ n: Int) -> TransactionTable<NonInviteServerTransaction>.InsertResult {
            let (transaction, _) = NonInviteServerTransaction.start(timers: .unreliable, at: ms(2))
            return table.insert(transaction, for: serverKey(n), evictingOldestWhere: { $0.isLingering })
        }
        XCTAssertEqual(flood(100), .evicted(serverKey(0)), "the oldest lingering one goes first")
        XCTAssertEqual(flood(101), .evicted(serverKey(2)))
        XCTAssertEqual(flood(102), .full, "live transactions are never evicted")
        XCTAssertEqual(Set(table.keys), [serverKey(1), serverKey(3), serverKey(100), serverKey(101)])
        XCTAssertEqual(table.serverCount, 4)
    }

    func testTerminatedTransactionsAreRemovedAndTheirPlacesReused() {
        var table = TransactionTable<NonInviteClientTransaction>(clientCapacity: 2, serverCapacity: 0)
        let keys = [TransactionKey.client(branch: "z9hG4bK1", method: "OPTIONS"),
                    TransactionKey.client(branch: "z9hG4bK2", method: "OPTIONS")]
        for key in keys {
            let (transaction, _) = NonInviteClientTransaction.start(timers: .reliable, at: ms(0))
            XCTAssertEqual(table.insert(transaction, for: key), .inserted)
        }
        XCTAssertEqual(table.update(matching: keys[0]) { $0.handle(.response(statusCode: 200), at: ms(5)) },
                       [.passResponseToTU(statusCode: 200), .terminated])
        XCTAssertEqual(table.removeAll(where: { $0.isTerminated }), [keys[0]])
        XCTAssertEqual(table.clientCount, 1)
        let (fresh, _) = NonInviteClientTransaction.start(timers: .reliable, at: ms(6))
        XCTAssertEqual(table.insert(fresh, for: .client(branch: "z9hG4bK3", method: "OPTIONS")), .inserted)
        XCTAssertEqual(table.insert(fresh, for: serverKey(1)), .full, "a zero-capacity side refuses everything")
    }

    func testUpdateAllAdvancesEveryTransactionAndFindsTheEarliestDeadline() {
        var table = TransactionTable<NonInviteClientTransaction>()
        for (n, startMs) in [(1, Int64(0)), (2, Int64(200))] {
            let (transaction, _) = NonInviteClientTransaction.start(timers: .unreliable, at: ms(startMs))
            _ = table.insert(transaction, for: .client(branch: "z9hG4bK\(n)", method: "OPTIONS"))
        }
        var sends: [TransactionKey] = []
        var earliest: Instant?
        table.updateAll { key, transaction in
            if transaction.advance(to: ms(600)) == [.sendRequest] { sends.append(key) }
            if let due = transaction.nextDeadline, earliest == nil || due < earliest! { earliest = due }
        }
        XCTAssertEqual(sends, [.client(branch: "z9hG4bK1", method: "OPTIONS")])
        XCTAssertEqual(earliest, ms(700))
    }

    func testNegativeCapacitiesAreZero() {
        var table = TransactionTable<Int>(clientCapacity: -3, serverCapacity: -1)
        XCTAssertEqual(table.clientCapacity, 0)
        XCTAssertEqual(table.insert(1, for: .client(branch: "b", method: "INVITE")), .full)
    }
}
