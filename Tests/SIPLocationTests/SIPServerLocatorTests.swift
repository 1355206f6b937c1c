import SIPLocation
import SIPMessage
import XCTest

final class SIPServerLocatorTests: XCTestCase {
    // MARK: IP literals and explicit ports

    func testIPv4LiteralIsTheTargetWithoutAnyQuery() {
        var locator = makeLocator("192.0.2.7")
        XCTAssertEqual(locator.start(), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [target("192.0.2.7", 5060, "192.0.2.7")])
        XCTAssertNil(locator.failure)
        XCTAssertNil(locator.ttlSeconds)
    }

    func testIPv6LiteralKeepsTheConfiguredPortAndTransport() {
        var locator = makeLocator("2001:db8::1", port: 5070, transport: .tcp)
        XCTAssertEqual(locator.start(), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [target("2001:db8::1", 5070, "2001:db8::1", .tcp)])
    }

    func testBracketedIPv6LiteralLosesItsBrackets() {
        var locator = makeLocator("[::1]")
        XCTAssertEqual(locator.start(), [])
        XCTAssertEqual(locator.targets, [target("::1", 5060, "::1")])
    }

    func testNameWithAPortLooksUpOnlyItsAddresses() {
        var locator = makeLocator("PBX.Example.COM.", port: 5080)
        XCTAssertEqual(locator.start(), [addressQuery("pbx.example.com")])
        XCTAssertFalse(locator.isFinished)
        XCTAssertEqual(locator.receive(.addresses(["192.0.2.1", "2001:db8::5"], ttlSeconds: 300),
                                       for: addressQuery("pbx.example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [target("192.0.2.1", 5080, "pbx.example.com"),
                                         target("2001:db8::5", 5080, "pbx.example.com")])
        XCTAssertEqual(locator.ttlSeconds, 300)
        XCTAssertNil(locator.failure)
    }

    // MARK: NAPTR -> SRV -> addresses

    func testFullChainKeepsSRVOrderWhenAddressAnswersArriveOutOfOrder() {
        var locator = makeLocator("example.com")
        XCTAssertEqual(locator.start(), [naptrQuery("example.com")])
        let next = locator.receive(.naptr([
            naptr(10, 10, "S", "SIP+D2T", "_sip._tcp.example.com"),
            naptr(20, 10, "s", "sip+d2u", "_sip._udp.example.com."),
        ]), for: naptrQuery("example.com"))
        XCTAssertEqual(next, [srvQuery("_sip._udp.example.com")], "only the UDP record is followed")
        let lookups = locator.receive(.srv([srv(20, 0, 5070, "B.example.com."), srv(10, 0, 5062, "a.example.com")]),
                                      for: srvQuery("_sip._udp.example.com"))
        XCTAssertEqual(lookups, [addressQuery("a.example.com"), addressQuery("b.example.com")])

        XCTAssertEqual(locator.receive(.addresses(["192.0.2.20"], ttlSeconds: 60), for: addressQuery("b.example.com")), [])
        XCTAssertFalse(locator.isFinished, "a.example.com is still outstanding")
        XCTAssertEqual(locator.receive(.addresses(["192.0.2.10", "2001:db8::10"], ttlSeconds: 120),
                                       for: addressQuery("a.example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [
            target("192.0.2.10", 5062, "a.example.com"),
            target("2001:db8::10", 5062, "a.example.com"),
            target("192.0.2.20", 5070, "b.example.com"),
        ])
        XCTAssertEqual(locator.ttlSeconds, 60)
        XCTAssertNil(locator.failure)
    }

    func testNAPTRRecordsAreFollowedByOrderThenPreference() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        let next = locator.receive(.naptr([
            naptr(20, 5, "S", "SIP+D2U", "third.example.com"),
            naptr(10, 50, "S", "SIP+D2U", "second.example.com"),
            naptr(10, 10, "S", "SIP+D2U", "first.example.com"),
        ]), for: naptrQuery("example.com"))
        XCTAssertEqual(next, [srvQuery("first.example.com"), srvQuery("second.example.com"),
                              srvQuery("third.example.com")])
        // The answers come last-first; the targets still follow the NAPTR order.
        XCTAssertEqual(locator.receive(.srv([srv(0, 0, 5003, "c.example.com")]), for: srvQuery("third.example.com")), [])
        XCTAssertEqual(locator.receive(.srv([srv(0, 0, 5002, "b.example.com")]), for: srvQuery("second.example.com")), [])
        let lookups = locator.receive(.srv([srv(0, 0, 5001, "a.example.com")]), for: srvQuery("first.example.com"))
        XCTAssertEqual(lookups, [addressQuery("a.example.com"), addressQuery("b.example.com"),
                                 addressQuery("c.example.com")])
    }

    func testNAPTRForAnotherTransportOrFlagIsIgnored() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        let next = locator.receive(.naptr([
            naptr(10, 10, "S", "SIP+D2T", "_sip._tcp.example.com"),
            naptr(20, 10, "A", "SIP+D2U", "udp-a-record.example.com"),
            naptr(30, 10, "S", "SIPS+D2T", "_sips._tcp.example.com"),
        ]), for: naptrQuery("example.com"))
        XCTAssertEqual(next, [srvQuery("_sip._udp.example.com")])

        var tcp = makeLocator("example.com", transport: .tcp)
        _ = tcp.start()
        XCTAssertEqual(tcp.receive(.naptr([naptr(10, 10, "S", "SIP+D2U", "_sip._udp.example.com")]),
                                   for: naptrQuery("example.com")),
                       [srvQuery("_sip._tcp.example.com")])
    }

    func testSRVWithoutRecordsFallsBackToTheNameOnPort5060() {
        var locator = makeLocator("example.com", transport: .tcp)
        _ = locator.start()
        XCTAssertEqual(locator.receive(.noRecords, for: naptrQuery("example.com")), [srvQuery("_sip._tcp.example.com")])
        XCTAssertEqual(locator.receive(.noRecords, for: srvQuery("_sip._tcp.example.com")), [addressQuery("example.com")])
        XCTAssertEqual(locator.receive(.addresses(["192.0.2.9"], ttlSeconds: 30), for: addressQuery("example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [target("192.0.2.9", 5060, "example.com", .tcp)])
        XCTAssertEqual(locator.ttlSeconds, 30)
    }

    func testNAPTRDerivedSRVSetsWithNothingFallBackToTheName() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        XCTAssertEqual(locator.receive(.naptr([naptr(1, 1, "S", "SIP+D2U", "sip-udp.example.com"),
                                               naptr(2, 1, "S", "SIP+D2U", "backup.example.com")]),
                                       for: naptrQuery("example.com")),
                       [srvQuery("sip-udp.example.com"), srvQuery("backup.example.com")])
        XCTAssertEqual(locator.receive(.noRecords, for: srvQuery("sip-udp.example.com")), [])
        XCTAssertEqual(locator.receive(.failed("DNS timeout"), for: srvQuery("backup.example.com")),
                       [addressQuery("example.com")])
        _ = locator.receive(.addresses(["192.0.2.3"], ttlSeconds: 10), for: addressQuery("example.com"))
        XCTAssertEqual(locator.targets, [target("192.0.2.3", 5060, "example.com")])
    }

    // MARK: RFC 2782 weights

    /// Weights 10 and 20 at one priority: a draw in 0...30; up to 10 picks
    /// the first record, above it the second.
    private func weightedOrder(draw: UInt32) -> (order: [DNSQuery], bounds: [UInt32]) {
        let random = ScriptedRandom([draw])
        var locator = makeLocator("example.com", random: random)
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
        let order = locator.receive(.srv([srv(5, 10, 5060, "light.example.com"), srv(5, 20, 5060, "heavy.example.com")]),
                                    for: srvQuery("_sip._udp.example.com"))
        return (order, random.bounds)
    }

    func testWeightedChoiceFollowsTheDraw() {
        let low = weightedOrder(draw: 10)
        XCTAssertEqual(low.order, [addressQuery("light.example.com"), addressQuery("heavy.example.com")])
        XCTAssertEqual(low.bounds.first, 31, "the draw is from 0 to the sum of weights, inclusive")
        XCTAssertEqual(low.bounds.dropFirst().first, 21, "the second draw is among the record left")

        let high = weightedOrder(draw: 11)
        XCTAssertEqual(high.order, [addressQuery("heavy.example.com"), addressQuery("light.example.com")])
        XCTAssertEqual(high.bounds.dropFirst().first, 11)
    }

    func testWeightZeroRecordsComeFirstInTheRunningSum() {
        func order(draw: UInt32) -> [DNSQuery] {
            var locator = makeLocator("example.com", random: ScriptedRandom([draw]))
            _ = locator.start()
            _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
            return locator.receive(.srv([srv(1, 10, 5060, "weighted.example.com"), srv(1, 0, 5060, "zero.example.com")]),
                                   for: srvQuery("_sip._udp.example.com"))
        }
        XCTAssertEqual(order(draw: 0), [addressQuery("zero.example.com"), addressQuery("weighted.example.com")])
        XCTAssertEqual(order(draw: 1), [addressQuery("weighted.example.com"), addressQuery("zero.example.com")])
    }

    // MARK: Failures

    func testDNSFailuresAllTheWayFallThroughAndSaySo() {
        var locator = makeLocator("example.com")
        XCTAssertEqual(locator.start(), [naptrQuery("example.com")])
        XCTAssertEqual(locator.receive(.failed("DNS timeout"), for: naptrQuery("example.com")),
                       [srvQuery("_sip._udp.example.com")])
        XCTAssertEqual(locator.receive(.failed("DNS timeout"), for: srvQuery("_sip._udp.example.com")),
                       [addressQuery("example.com")])
        XCTAssertEqual(locator.receive(.failed("DNS timeout"), for: addressQuery("example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [])
        XCTAssertEqual(locator.failure, "cannot resolve example.com: DNS timeout")
    }

    func testNoRecordsEverywhereIsNoSuchName() {
        var locator = makeLocator("nowhere.example.com")
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("nowhere.example.com"))
        _ = locator.receive(.noRecords, for: srvQuery("_sip._udp.nowhere.example.com"))
        XCTAssertEqual(locator.receive(.noRecords, for: addressQuery("nowhere.example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [])
        XCTAssertEqual(locator.failure, "cannot resolve nowhere.example.com: no such name")
    }

    func testExplicitPortNameWithoutAddressesFails() {
        var locator = makeLocator("pbx.example.com", port: 5060)
        _ = locator.start()
        _ = locator.receive(.failed("DNS server failure"), for: addressQuery("pbx.example.com"))
        XCTAssertEqual(locator.failure, "cannot resolve pbx.example.com: DNS server failure")
    }

    func testSRVTargetWhoseLookupFailsIsSkipped() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
        _ = locator.receive(.srv([srv(1, 0, 5060, "down.example.com"), srv(2, 0, 5061, "up.example.com")]),
                            for: srvQuery("_sip._udp.example.com"))
        XCTAssertEqual(locator.receive(.failed("DNS timeout"), for: addressQuery("down.example.com")), [])
        XCTAssertEqual(locator.receive(.addresses(["192.0.2.2"], ttlSeconds: 50), for: addressQuery("up.example.com")), [])
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [target("192.0.2.2", 5061, "up.example.com")])
        XCTAssertNil(locator.failure)
    }

    func testSRVTargetsThatAllFailReportTheDNSFailure() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
        _ = locator.receive(.srv([srv(1, 0, 5060, "a.example.com"), srv(2, 0, 5060, "b.example.com")]),
                            for: srvQuery("_sip._udp.example.com"))
        _ = locator.receive(.noRecords, for: addressQuery("a.example.com"))
        _ = locator.receive(.failed("DNS refused"), for: addressQuery("b.example.com"))
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [])
        XCTAssertEqual(locator.failure, "cannot resolve example.com: DNS refused")
    }

    func testDotTargetMeansTheServiceIsNotOffered() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
        XCTAssertEqual(locator.receive(.srv([srv(0, 0, 0, ".")]), for: srvQuery("_sip._udp.example.com")), [],
                       "no address lookup, not even the 5060 fallback")
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.targets, [])
        XCTAssertEqual(locator.failure, "example.com does not offer SIP over UDP (SRV target \".\")")
    }

    func testDotTargetAmongRealRecordsIsSkipped() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        _ = locator.receive(.noRecords, for: naptrQuery("example.com"))
        XCTAssertEqual(locator.receive(.srv([srv(0, 0, 0, "."), srv(1, 0, 5060, "real.example.com")]),
                                       for: srvQuery("_sip._udp.example.com")),
                       [addressQuery("real.example.com")])
    }

    func testAnswerOfTheWrongKindCountsAsAFailure() {
        var locator = makeLocator("example.com", port: 5060)
        _ = locator.start()
        _ = locator.receive(.srv([srv(0, 0, 5060, "x.example.com")]), for: addressQuery("example.com"))
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(locator.failure, "cannot resolve example.com: unexpected DNS answer")
    }

    // MARK: Deduplication and bounds

    func testTargetsAreDeduplicatedByAddressPortAndTransport() {
        var locator = makeLocator("example.com")
        _ = locator.start()
        XCTAssertEqual(locator.receive(.naptr([naptr(1, 1, "S", "SIP+D2U", "_sip._udp.example.com"),
                                               naptr(2, 1, "S", "SIP+D2U", "_SIP._UDP.example.com.")]),
                                       for: naptrQuery("example.com")),
                       [srvQuery("_sip._udp.example.com")], "one SRV lookup for the same name twice")
        let lookups = locator.receive(.srv([
            srv(1, 0, 5060, "a.example.com"), srv(2, 0, 5060, "A.example.com."),
            srv(3, 0, 5060, "b.example.com"), srv(4, 0, 5080, "b.example.com"),
        ]), for: srvQuery("_sip._udp.example.com"))
        XCTAssertEqual(lookups, [addressQuery("a.example.com"), addressQuery("b.example.com")],
                       "one address lookup per target name")
        _ = locator.receive(.addresses(["192.0.2.1", "192.0.2.1"], ttlSeconds: 60), for: addressQuery("a.example.com"))
        _ = locator.receive(.addresses(["192.0.2.1"], ttlSeconds: 60), for: addressQuery("b.example.com"))
        XCTAssertEqual(locator.targets, [target("192.0.2.1", 5060, "a.example.com"),
                                         target("192.0.2.1", 5080, "b.example.com")])
    }

    func testHostileAnswersCannotGrowTheLookupBeyondItsBounds() {
        var locator = makeLocator("example.com")
        var issued = locator.start()
        let manyNAPTR = (0..<10).map { naptr(UInt16($0), 0, "S", "SIP+D2U", "set\($0).example.com") }
        let srvQueries = locator.receive(.naptr(manyNAPTR), for: naptrQuery("example.com"))
        issued += srvQueries
        XCTAssertEqual(srvQueries.count, SIPServerLocator.maxNAPTRFollowed)
        XCTAssertEqual(srvQueries.first, srvQuery("set0.example.com"))

        var addressQueries: [DNSQuery] = []
        for query in srvQueries {
            let records = (0..<100).map { srv(UInt16($0), 1, 5060, "host\($0).\(query.name)") }
            addressQueries += locator.receive(.srv(records), for: query)
        }
        issued += addressQueries
        XCTAssertEqual(addressQueries.count, SIPServerLocator.maxSRVTargets)
        XCTAssertEqual(addressQueries.first, addressQuery("host0.set0.example.com"))

        for query in addressQueries {
            let flood = (0..<40).map { "10.\($0).0.1" }
            issued += locator.receive(.addresses(flood, ttlSeconds: 5), for: query)
            // Repeated and never-asked answers change nothing.
            issued += locator.receive(.addresses(["192.0.2.99"], ttlSeconds: 1), for: query)
            issued += locator.receive(.srv([srv(0, 0, 5060, "more.example.com")]), for: srvQuery("other.example.com"))
        }
        XCTAssertTrue(locator.isFinished)
        XCTAssertEqual(issued.count, 1 + 4 + 8)
        XCTAssertLessThanOrEqual(issued.count, 16)
        XCTAssertEqual(locator.targets.count, SIPServerLocator.maxTargets)
        XCTAssertFalse(locator.targets.contains { $0.address == "192.0.2.99" })
        XCTAssertEqual(locator.ttlSeconds, 5)
    }

    func testStartTwiceAndAnswersAfterFinishingAreIgnored() {
        var locator = makeLocator("pbx.example.com", port: 5060)
        XCTAssertEqual(locator.start(), [addressQuery("pbx.example.com")])
        XCTAssertEqual(locator.start(), [])
        _ = locator.receive(.addresses(["192.0.2.1"], ttlSeconds: 60), for: addressQuery("pbx.example.com"))
        XCTAssertEqual(locator.receive(.addresses(["192.0.2.2"], ttlSeconds: 60), for: addressQuery("pbx.example.com")), [])
        XCTAssertEqual(locator.targets, [target("192.0.2.1", 5060, "pbx.example.com")])
    }
}
