import SIPTransaction
import XCTest

final class TransactionKeyTests: XCTestCase {
    private let via = SentBy(host: "192.0.2.10", port: 5060)

    // MARK: Client (RFC 3261 17.1.3)

    func testResponseMatchesClientByBranchAndCSeqMethod() {
        let invite = TransactionKey.client(branch: "z9hG4bK776asdhds", method: "INVITE")
        XCTAssertTrue(invite.matches(.client(branch: "z9hG4bK776asdhds", method: "INVITE"), responseToTag: nil))
        XCTAssertFalse(invite.matches(.client(branch: "z9hG4bK776asdhds", method: "CANCEL"), responseToTag: nil),
                       "the 200 for the CANCEL shares the branch")
        XCTAssertFalse(invite.matches(.client(branch: "z9hG4bK776asdhdt", method: "INVITE"), responseToTag: nil))
        XCTAssertFalse(invite.matches(.client(branch: "Z9HG4BK776ASDHDS", method: "INVITE"), responseToTag: nil),
                       "branch values are case-sensitive")
        XCTAssertEqual(invite.side, .client)
    }

    // MARK: Server (RFC 3261 17.2.3)

    func testMagicCookieDecidesTheKeyKind() {
        XCTAssertTrue(TransactionKey.hasMagicCookie("z9hG4bK-1"))
        XCTAssertFalse(TransactionKey.hasMagicCookie("z9hg4bk-1"))
        XCTAssertFalse(TransactionKey.hasMagicCookie("abc"))
        XCTAssertFalse(TransactionKey.hasMagicCookie(""))
        XCTAssertNil(TransactionKey.server(method: "INVITE", branch: "1234", sentBy: via))
        let key = TransactionKey.server(method: "INVITE", branch: "z9hG4bK1", sentBy: via)
        XCTAssertEqual(key?.side, .server)
        XCTAssertEqual(key?.isLegacy, false)
    }

    func testServerKeyUsesBranchSentByAndMethod() throws {
        let stored = try XCTUnwrap(TransactionKey.server(method: "INVITE", branch: "z9hG4bKnashds8", sentBy: via))
        func copy(_ method: String, _ branch: String = "z9hG4bKnashds8", sentBy: SentBy? = nil) -> TransactionKey {
            TransactionKey.server(method: method, branch: branch, sentBy: sentBy ?? via)!
        }
        XCTAssertTrue(stored.matches(copy("INVITE"), responseToTag: nil), "retransmission")
        XCTAssertTrue(stored.matches(copy("ACK"), responseToTag: nil), "ACK matches the INVITE")
        XCTAssertFalse(stored.matches(copy("CANCEL"), responseToTag: nil), "CANCEL is its own transaction")
        XCTAssertFalse(stored.matches(copy("INVITE", "z9hG4bKother"), responseToTag: nil))
        XCTAssertFalse(stored.matches(copy("INVITE", sentBy: SentBy(host: "192.0.2.11", port: 5060)), responseToTag: nil),
                       "same branch from another client")
        XCTAssertFalse(stored.matches(copy("INVITE", sentBy: SentBy(host: "192.0.2.10", port: 5070)), responseToTag: nil))
        XCTAssertFalse(stored.matches(copy("INVITE", sentBy: SentBy(host: "192.0.2.10")), responseToTag: nil),
                       "sent-by compares as given")
    }

    private func incoming(_ method: String, _ branch: String, _ sentBy: SentBy) -> TransactionKey {
        TransactionKey.server(method: method, branch: branch, sentBy: sentBy)!
    }

    func testSentByHostIsCaseInsensitive() {
        XCTAssertEqual(SentBy(host: "PC33.Atlanta.COM", port: 5060), SentBy(host: "pc33.atlanta.com", port: 5060))
        XCTAssertEqual(SentBy(host: "[2001:DB8::1]").host, "[2001:db8::1]")
        XCTAssertEqual(SentBy(host: "hôte.example").host, "hôte.example", "non-ASCII left alone")
    }

    func testNonAckMethodsAreNotFoldedIntoInvite() {
        let bye = incoming("BYE", "z9hG4bKb1", via)
        XCTAssertFalse(bye.matches(incoming("ACK", "z9hG4bKb1", via), responseToTag: nil))
        XCTAssertTrue(bye.matches(incoming("BYE", "z9hG4bKb1", via), responseToTag: nil))
    }

    func testCancelFindsTheInviteItCancels() {
        let cancel = incoming("CANCEL", "z9hG4bKc1", via)
        XCTAssertEqual(cancel.cancelledInviteKey, incoming("INVITE", "z9hG4bKc1", via))
        XCTAssertNil(incoming("INVITE", "z9hG4bKc1", via).cancelledInviteKey)
        XCTAssertNil(incoming("BYE", "z9hG4bKc1", via).cancelledInviteKey)
        XCTAssertNil(TransactionKey.client(branch: "z9hG4bKc1", method: "CANCEL").cancelledInviteKey)
        XCTAssertEqual(legacy("CANCEL").cancelledInviteKey, legacy("INVITE"))
    }

    func testClientAndServerKeysNeverMatch() {
        let client = TransactionKey.client(branch: "z9hG4bKsame", method: "INVITE")
        let server = incoming("INVITE", "z9hG4bKsame", via)
        XCTAssertNotEqual(client, server)
        XCTAssertFalse(client.matches(server, responseToTag: nil))
        XCTAssertFalse(server.matches(client, responseToTag: nil))
    }

    // MARK: RFC 2543 fallback

    private func legacy(_ method: String, toTag: String? = nil, cseq: UInt32 = 1, via topVia: String = "SIP/2.0/UDP 192.0.2.10:5060",
                        uri: String = "sip:bob@192.0.2.4", branch: String? = nil) -> TransactionKey {
        TransactionKey.server(method: method, branch: branch, sentBy: via, requestURI: uri, toTag: toTag,
                              fromTag: "1928301774", callID: "a84b4c76e66710", cseqNumber: cseq, topVia: topVia)
    }

    func testRequestsWithoutMagicCookieUseTheLegacyKey() {
        XCTAssertTrue(legacy("INVITE").isLegacy, "no branch at all")
        XCTAssertTrue(legacy("INVITE", branch: "1293").isLegacy, "branch of an RFC 2543 client")
        XCTAssertFalse(legacy("INVITE", branch: "z9hG4bK1293").isLegacy)
        XCTAssertEqual(legacy("INVITE", branch: "z9hG4bK1293"),
                       TransactionKey.server(method: "INVITE", branch: "z9hG4bK1293", sentBy: via))
    }

    func testLegacyInviteRetransmissionMatchesOnEveryField() {
        let stored = legacy("INVITE")
        XCTAssertTrue(stored.matches(legacy("INVITE"), responseToTag: nil))
        XCTAssertTrue(stored.matches(legacy("INVITE"), responseToTag: "8321234356"), "the response tag is for ACKs")
        XCTAssertFalse(stored.matches(legacy("INVITE", cseq: 2), responseToTag: nil))
        XCTAssertFalse(stored.matches(legacy("INVITE", via: "SIP/2.0/UDP 192.0.2.99:5060"), responseToTag: nil))
        XCTAssertFalse(stored.matches(legacy("INVITE", uri: "sip:carol@192.0.2.4"), responseToTag: nil))
        XCTAssertFalse(stored.matches(legacy("INVITE", toTag: "x"), responseToTag: nil))
        XCTAssertFalse(stored.matches(legacy("BYE"), responseToTag: nil), "CSeq method counts")
    }

    func testLegacyAckMatchesTheInviteByTheResponseToTag() {
        let stored = legacy("INVITE")
        XCTAssertTrue(stored.matches(legacy("ACK", toTag: "8321234356"), responseToTag: "8321234356"))
        XCTAssertFalse(stored.matches(legacy("ACK", toTag: "other"), responseToTag: "8321234356"))
        XCTAssertFalse(stored.matches(legacy("ACK"), responseToTag: "8321234356"), "an ACK carries the response's tag")
        XCTAssertFalse(stored.matches(legacy("ACK", toTag: "8321234356", cseq: 2), responseToTag: "8321234356"))
        XCTAssertFalse(stored.matches(legacy("ACK", toTag: "8321234356", via: "SIP/2.0/UDP x"), responseToTag: "8321234356"))
    }

    func testLegacyAckInsideADialogMatchesTheRequestToTag() {
        let reInvite = legacy("INVITE", toTag: "dialogtag", cseq: 5)
        XCTAssertTrue(reInvite.matches(legacy("ACK", toTag: "dialogtag", cseq: 5), responseToTag: nil))
    }

    func testLegacyAckNeverMatchesOtherMethods() {
        XCTAssertFalse(legacy("BYE").matches(legacy("ACK"), responseToTag: nil))
        XCTAssertFalse(legacy("ACK").matches(legacy("INVITE"), responseToTag: nil))
    }
}
