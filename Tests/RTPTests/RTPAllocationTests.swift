import CAllocationCounter
import RTP
import Timebase
import XCTest


/// Everything RTP does per packet: statistics, source filter, telephone
/// events sent and received, and an RTCP report written and parsed.
private struct PacketPipeline {
    var statistics = RTPReceptionStatistics(clockRate: 8000)
    var filter = RTPSourceFilter(negotiated: RTPEndpoint(host: UInt32(0xc000_020a), port: 4000))
    let source = RTPEndpoint(host: UInt32(0xc000_020a), port: 4000)
    var sender = TelephoneEventSender()
    var receiver = TelephoneEventReceiver()
    let rtcp = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 4)
    let cname = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
    let eventBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
    var accepted = 0
    var events = 0
    var reports = 0
    var written = 0

    init() {
        cname.initializeMemory(as: UInt8.self, repeating: 0x61)
        _ = statistics.record(sequence: 0, timestamp: 0, arrival: .zero)
    }

    func deallocate() {
        rtcp.deallocate()
        cname.deallocate()
        eventBytes.deallocate()
    }

    mutating func packet(_ index: Int) {
        let sequence = UInt16(truncatingIfNeeded: index)
        let arrival = Instant(nanoseconds: Int64(index) * 20_000_000 + Int64(index % 3) * 1_000_000)
        if filter.admit(from: source, ssrc: 9, sequence: sequence) != .ignored,
           statistics.record(sequence: sequence, timestamp: UInt32(index) * 160, arrival: arrival) == .accepted {
            accepted += 1
        }
        if index % 50 == 10 { sender.press(event: UInt8(index / 50 % 16), at: UInt32(index) * 160) }
        if index % 50 == 15 { sender.release() }
        if let packet = sender.nextPacket(periodSamples: 160) {
            packet.payload.write(into: eventBytes)
            if let payload = try? TelephoneEventPayload(parsing: UnsafeRawBufferPointer(eventBytes)) {
                let changes = receiver.receive(payload, timestamp: packet.timestamp, marker: packet.marker, arrival: arrival)
                if changes.ended != nil { events += 1 }
            }
        }
        _ = receiver.expire(at: arrival)
        let block = statistics.makeReportBlock(ssrc: 9, lastSenderReport: 0, delaySinceLastSenderReport: 0)
        let info = RTCPSenderInfo(ntpTimestamp: NTPTimestamp.from(arrival), rtpTimestamp: UInt32(index) * 160,
                                  packetCount: UInt32(index), octetCount: UInt32(index) * 160)
        if let count = try? RTCPCompoundWriter.write(into: rtcp, ssrc: 1, senderInfo: info, reportBlock: block,
                                                     cname: UnsafeRawBufferPointer(cname), goodbye: index % 100 == 0) {
            written += count
            if let summary = try? RTCPCompoundSummary(parsing: UnsafeRawBufferPointer(rebasing: rtcp[0..<count]), ourSSRC: 9),
               summary.reportAboutUs != nil {
                reports += 1
            }
        }
    }
}

final class RTPAllocationTests: XCTestCase {
    func testSteadyStateAllocatesNothing() {
        // A first pipeline warms the runtime's type caches.
        var warmUp = PacketPipeline()
        for index in 1...100 { warmUp.packet(index) }
        warmUp.deallocate()

        var pipeline = PacketPipeline()
        defer { pipeline.deallocate() }
        atad_allocations_begin()
        for index in 1...1000 { pipeline.packet(index) }
        let allocations = atad_allocations_end()
        print("1000 packets: \(pipeline.accepted) accepted, \(pipeline.events) events, \(pipeline.reports) reports, "
              + "\(pipeline.written) RTCP bytes, \(allocations) allocations")
        XCTAssertEqual(allocations, 0)
        XCTAssertEqual(pipeline.accepted, 1000)
        XCTAssertEqual(pipeline.events, 20)
        XCTAssertEqual(pipeline.reports, 1000)
    }
}
