import RTP
import Timebase
import XCTest

final class TelephoneEventTests: XCTestCase {
    private typealias Changes = TelephoneEventReceiver.Changes
    private typealias Ending = TelephoneEventReceiver.Ending

    private func at(milliseconds: Int64) -> Instant { Instant(nanoseconds: milliseconds * 1_000_000) }

    private func payload(_ event: UInt8, _ duration: UInt16, end: Bool = false) -> TelephoneEventPayload {
        TelephoneEventPayload(event: event, isEnd: end, volume: 10, duration: duration)
    }

    func testPayloadParseAndWrite() throws {
        let bytes: [UInt8] = [0x05, 0x8a, 0x03, 0x20]
        let parsed = try bytes.withUnsafeBytes { buffer throws(TelephoneEventParseError) in
            try TelephoneEventPayload(parsing: buffer)
        }
        XCTAssertEqual(parsed, TelephoneEventPayload(event: 5, isEnd: true, volume: 10, duration: 800))
        var out = [UInt8](repeating: 0xff, count: 4)
        out.withUnsafeMutableBytes { XCTAssertEqual(parsed.write(into: $0), 4) }
        XCTAssertEqual(out, bytes)
        // The reserved bit is ignored on input and sent as zero.
        let reserved: [UInt8] = [11, 0x40 | 63, 0, 160]
        let withReserved = try reserved.withUnsafeBytes { buffer throws(TelephoneEventParseError) in
            try TelephoneEventPayload(parsing: buffer)
        }
        XCTAssertEqual(withReserved, TelephoneEventPayload(event: 11, isEnd: false, volume: 63, duration: 160))
        let short: TelephoneEventParseError? = [UInt8](repeating: 0, count: 3).withUnsafeBytes { buffer in
            do throws(TelephoneEventParseError) { _ = try TelephoneEventPayload(parsing: buffer); return nil } catch { return error }
        }
        XCTAssertEqual(short, .tooShort)
    }

    func testEventCodesForKeys() {
        let keys: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"]
        for (code, key) in keys.enumerated() {
            XCTAssertEqual(TelephoneEventCode.code(for: key), UInt8(code))
            XCTAssertEqual(TelephoneEventCode.key(for: UInt8(code)), key)
        }
        XCTAssertEqual(TelephoneEventCode.code(for: "d"), 15)
        XCTAssertNil(TelephoneEventCode.code(for: "x"))
        XCTAssertNil(TelephoneEventCode.key(for: 16))
    }

    func testReceiverReportsStartAndEndOnce() {
        var receiver = TelephoneEventReceiver()
        var log: [Changes] = []
        let durations: [(UInt16, Bool)] = [(160, false), (320, false), (320, false), (480, false),
                                           (640, true), (640, true), (640, true)]
        for (index, (duration, end)) in durations.enumerated() {
            log.append(receiver.receive(payload(5, duration, end: end), timestamp: 1000, marker: index == 0,
                                        arrival: at(milliseconds: Int64(index) * 20)))
        }
        XCTAssertEqual(log, [Changes(started: 5), Changes(), Changes(), Changes(),
                             Changes(ended: Ending(event: 5, duration: 640)), Changes(), Changes()])
        XCTAssertNil(receiver.activeEvent)
        // A late update of the finished event changes nothing; the next timestamp is a new event.
        XCTAssertEqual(receiver.receive(payload(5, 480), timestamp: 1000, marker: false, arrival: at(milliseconds: 200)), Changes())
        XCTAssertEqual(receiver.receive(payload(5, 160), timestamp: 3000, marker: true, arrival: at(milliseconds: 300)),
                       Changes(started: 5))
    }

    func testNewEventInterruptsOneWithoutEnd() {
        var receiver = TelephoneEventReceiver()
        _ = receiver.receive(payload(1, 160), timestamp: 0, marker: true, arrival: at(milliseconds: 0))
        _ = receiver.receive(payload(1, 320), timestamp: 0, marker: false, arrival: at(milliseconds: 20))
        // The new event's first packet (marker) was lost, too.
        XCTAssertEqual(receiver.receive(payload(2, 320), timestamp: 800, marker: false, arrival: at(milliseconds: 120)),
                       Changes(interrupted: Ending(event: 1, duration: 320), started: 2))
        XCTAssertEqual(receiver.activeEvent, 2)
        // Straggling packets of the interrupted event are history.
        XCTAssertEqual(receiver.receive(payload(1, 480, end: true), timestamp: 0, marker: false, arrival: at(milliseconds: 121)),
                       Changes())
    }

    func testOnlyEndPacketsArrive() {
        var receiver = TelephoneEventReceiver()
        XCTAssertEqual(receiver.receive(payload(9, 800, end: true), timestamp: 42, marker: false, arrival: at(milliseconds: 0)),
                       Changes(started: 9, ended: Ending(event: 9, duration: 800)))
        XCTAssertEqual(receiver.receive(payload(9, 800, end: true), timestamp: 42, marker: false, arrival: at(milliseconds: 1)),
                       Changes())
    }

    func testExpiryEndsAnEventWhoseUpdatesStopped() {
        var receiver = TelephoneEventReceiver(timeout: .milliseconds(150))
        _ = receiver.receive(payload(3, 160), timestamp: 500, marker: true, arrival: at(milliseconds: 1000))
        _ = receiver.receive(payload(3, 320), timestamp: 500, marker: false, arrival: at(milliseconds: 1020))
        XCTAssertEqual(receiver.expiryDeadline, at(milliseconds: 1170))
        XCTAssertNil(receiver.expire(at: at(milliseconds: 1169)))
        XCTAssertEqual(receiver.expire(at: at(milliseconds: 1170)), Ending(event: 3, duration: 320))
        XCTAssertNil(receiver.expire(at: at(milliseconds: 2000)))
        XCTAssertNil(receiver.expiryDeadline)
        // The end packets arriving late cannot restart it.
        XCTAssertEqual(receiver.receive(payload(3, 800, end: true), timestamp: 500, marker: false, arrival: at(milliseconds: 1300)),
                       Changes())
    }

    func testSenderPacketSequence() {
        var sender = TelephoneEventSender(volume: 10)
        XCTAssertFalse(sender.isActive)
        XCTAssertNil(sender.nextPacket(periodSamples: 160))
        sender.press(event: 11, at: 8000)
        XCTAssertTrue(sender.isActive)
        var packets: [TelephoneEventPacket] = []
        packets.append(sender.nextPacket(periodSamples: 160)!)
        packets.append(sender.nextPacket(periodSamples: 160)!)
        sender.release()
        for _ in 0..<3 {
            XCTAssertTrue(sender.isActive)
            packets.append(sender.nextPacket(periodSamples: 160)!)
        }
        XCTAssertFalse(sender.isActive)
        XCTAssertNil(sender.nextPacket(periodSamples: 160))
        func packet(_ marker: Bool, _ duration: UInt16, _ end: Bool) -> TelephoneEventPacket {
            TelephoneEventPacket(marker: marker, timestamp: 8000,
                                 payload: TelephoneEventPayload(event: 11, isEnd: end, volume: 10, duration: duration))
        }
        XCTAssertEqual(packets, [packet(true, 160, false), packet(false, 320, false),
                                 packet(false, 480, true), packet(false, 480, true), packet(false, 480, true)])
    }

    func testPressAndReleaseWithinOnePeriodStillSendsTheEvent() {
        var sender = TelephoneEventSender()
        sender.press(event: 1, at: 0)
        sender.release()
        let packets = (0..<5).compactMap { _ in sender.nextPacket(periodSamples: 160) }
        XCTAssertEqual(packets.map(\.payload.isEnd), [false, true, true, true])
        XCTAssertEqual(packets.map(\.payload.duration), [160, 320, 320, 320])
    }

    func testPressWhileActiveEndsThePreviousFirst() {
        var sender = TelephoneEventSender()
        sender.press(event: 1, at: 0)
        _ = sender.nextPacket(periodSamples: 160)
        _ = sender.nextPacket(periodSamples: 160)
        sender.press(event: 2, at: 320)
        var packets: [TelephoneEventPacket] = []
        while let packet = sender.nextPacket(periodSamples: 160), packets.count < 10 {
            packets.append(packet)
            if packets.count == 5 { sender.release() }
        }
        XCTAssertEqual(packets.map(\.payload.event), [1, 1, 1, 2, 2, 2, 2, 2])
        XCTAssertEqual(packets.map(\.payload.isEnd), [true, true, true, false, false, true, true, true])
        // Event 2 starts in the period after event 1's last end packet: 320 + 3 x 160.
        XCTAssertEqual(packets[3].timestamp, 800)
        XCTAssertTrue(packets[3].marker)
        XCTAssertFalse(sender.isActive)
    }

    /// Sender to receiver, including an event long enough to be split into
    /// segments (more than 0xFFFF units: over 8.2 s at 8 kHz).
    func testSenderToReceiverAcrossSegments() {
        var sender = TelephoneEventSender()
        var receiver = TelephoneEventReceiver()
        var started: [UInt8] = []
        var ended: [Ending] = []
        var segmentTimestamps: Set<UInt32> = []
        var timestamp: UInt32 = 4_000_000_000
        var now = at(milliseconds: 0)
        for (key, periods) in [(UInt8(5), 10), (UInt8(0), 450), (UInt8(5), 3)] {
            sender.press(event: key, at: timestamp)
            var sent = 0
            while let packet = sender.nextPacket(periodSamples: 160) {
                sent += 1
                if sent == periods { sender.release() }
                if key == 0 { segmentTimestamps.insert(packet.timestamp) }
                let changes = receiver.receive(packet.payload, timestamp: packet.timestamp, marker: packet.marker, arrival: now)
                XCTAssertNil(changes.interrupted)
                if let event = changes.started { started.append(event) }
                if let ending = changes.ended { ended.append(ending) }
                timestamp &+= 160
                now += .milliseconds(20)
            }
            // A gap of silence between keys.
            timestamp &+= 1600
            now += .milliseconds(200)
        }
        XCTAssertEqual(started, [5, 0, 5])
        // Each event lasted its periods plus the one in which it was released.
        XCTAssertEqual(ended, [Ending(event: 5, duration: 11 * 160), Ending(event: 0, duration: 451 * 160),
                               Ending(event: 5, duration: 4 * 160)])
        XCTAssertEqual(segmentTimestamps.count, 2)
        print("long event: \(451 * 160) units in \(segmentTimestamps.count) segments")
    }
}
