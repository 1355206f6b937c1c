import RTP
import XCTest

final class RTPSourceFilterTests: XCTestCase {
    private typealias Endpoint = RTPEndpoint<String>
    private let negotiated = Endpoint(host: "192.0.2.10", port: 4000)
    private let natted = Endpoint(host: "192.0.2.10", port: 61_000)
    private let attacker = Endpoint(host: "198.51.100.7", port: 4000)
    private let sameHostOtherPort = Endpoint(host: "192.0.2.10", port: 62_000)

    func testLatchesTheFirstSourceThatProvesItself() {
        var filter = RTPSourceFilter(negotiated: negotiated)
        XCTAssertEqual(filter.sendAddress, negotiated)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 0x1234, sequence: 100), .accepted)
        XCTAssertNil(filter.latched)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 0x1234, sequence: 101), .acceptedAndLatched)
        XCTAssertEqual(filter.sendAddress, natted)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 0x1234, sequence: 102), .accepted)
        XCTAssertEqual(filter.ignoredPackets, 0)
    }

    func testRTPBleed() {
        var filter = RTPSourceFilter(negotiated: negotiated)
        // Someone elsewhere sprays our port first, in perfect sequence: never accepted.
        for sequence in UInt16(0)..<10 {
            XCTAssertEqual(filter.admit(from: attacker, ssrc: 0x666, sequence: sequence), .ignored)
        }
        XCTAssertNil(filter.latched)
        XCTAssertEqual(filter.ignoredPackets, 10)
        // The real far end latches.
        XCTAssertEqual(filter.admit(from: natted, ssrc: 7, sequence: 500), .accepted)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 7, sequence: 501), .acceptedAndLatched)
        // After latching, even the negotiated host on another port is ignored.
        XCTAssertEqual(filter.admit(from: sameHostOtherPort, ssrc: 7, sequence: 502), .ignored)
        XCTAssertEqual(filter.admit(from: negotiated, ssrc: 7, sequence: 503), .ignored)
        XCTAssertEqual(filter.admit(from: attacker, ssrc: 0x666, sequence: 11), .ignored)
        XCTAssertEqual(filter.ignoredPackets, 13)
        XCTAssertEqual(filter.sendAddress, natted)
    }

    func testInterleavedSourcesMustEachBeInSequence() {
        var filter = RTPSourceFilter(negotiated: negotiated)
        // Two ports on the right host alternate: neither gets two in a row.
        XCTAssertEqual(filter.admit(from: natted, ssrc: 1, sequence: 10), .accepted)
        XCTAssertEqual(filter.admit(from: sameHostOtherPort, ssrc: 1, sequence: 11), .accepted)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 1, sequence: 12), .accepted)
        // Same source but a different SSRC, or a gap, does not count either.
        XCTAssertEqual(filter.admit(from: natted, ssrc: 2, sequence: 13), .accepted)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 2, sequence: 15), .accepted)
        XCTAssertNil(filter.latched)
        XCTAssertEqual(filter.admit(from: natted, ssrc: 2, sequence: 16), .acceptedAndLatched)
        XCTAssertEqual(filter.latched, natted)
    }

    func testWorksWithBinaryAddresses() {
        var filter = RTPSourceFilter(negotiated: RTPEndpoint(host: UInt32(0xc000_020a), port: 4000))
        XCTAssertEqual(filter.admit(from: RTPEndpoint(host: 0xc000_020a, port: 4000), ssrc: 1, sequence: 65535), .accepted)
        XCTAssertEqual(filter.admit(from: RTPEndpoint(host: 0xc000_020a, port: 4000), ssrc: 1, sequence: 0), .acceptedAndLatched)
    }
}
