import CAllocationCounter
import CountryPresets
import DSP
import RTP
import SDP
import Timebase
import Foundation
import XCTest
@testable import Media

/// Two media sessions wired back to back through in-memory "sockets": what
/// one line says, the other hears; keys travel as RFC 4733 events; the
/// steady state allocates nothing.
final class MediaSessionTests: XCTestCase {
    static func negotiated(codec: AudioCodec = .pcmu, ptime: UInt32 = 20, events: Bool = true) -> NegotiatedMedia {
        NegotiatedMedia(remoteAddress: ConnectionAddress(.ip4, "127.0.0.1"), remoteRTPPort: 4000,
                        remoteRTCPAddress: ConnectionAddress(.ip4, "127.0.0.1"), remoteRTCPPort: 4001,
                        codec: codec, payloadType: codec == .pcma ? 8 : 0, receivePayloadType: codec == .pcma ? 8 : 0,
                        clockRate: 8000, telephoneEventPayloadType: events ? 101 : nil,
                        receiveTelephoneEventPayloadType: events ? 101 : nil,
                        telephoneEvents: events ? .dtmf : TelephoneEvents(), comfortNoisePayloadType: nil,
                        ptime: ptime, direction: .sendrecv, heldByRemote: false)
    }

    static func session(ssrc: UInt32, codec: AudioCodec = .pcmu, ptime: UInt32 = 20,
                        relay: MediaSession.DTMFRelay = .rfc4733, events: Bool = true) -> MediaSession {
        var settings = MediaSession.Settings()
        settings.ssrc = ssrc
        settings.initialSequence = UInt16(truncatingIfNeeded: ssrc &* 7)
        settings.initialTimestamp = ssrc &* 13
        settings.dtmfRelay = relay
        return MediaSession(media: negotiated(codec: codec, ptime: ptime, events: events), settings: settings)
    }

    /// Runs `frames` 10 ms ticks of A → B: A's mouth is `source`, B's ear
    /// collects what it plays. Returns B's earpiece audio and A's packets.
    final class Link {
        let a: MediaSession
        let b: MediaSession
        var now = Instant(nanoseconds: 1_000_000_000)
        var packet = [UInt8](repeating: 0, count: 1500)
        var mouth = [Int16](repeating: 0, count: 80)
        var ear = [Int16](repeating: 0, count: 80)
        var packetsSent = 0
        let detector = DTMFDetector()

        init(a: MediaSession, b: MediaSession) {
            self.a = a
            self.b = b
        }

        func tick(_ fill: (UnsafeMutableBufferPointer<Int16>) -> Void, heard: (UnsafeBufferPointer<Int16>) -> Void) {
            mouth.withUnsafeMutableBufferPointer { fill($0) }
            let status: DTMFDetector.Status = mouth.withUnsafeBufferPointer { buffer in
                detector.process(buffer) { _ in }
                return detector.status
            }
            let length = mouth.withUnsafeBufferPointer { buffer in
                packet.withUnsafeMutableBytes { a.capture(buffer, dtmf: status, into: $0) }
            }
            if length > 0 {
                packetsSent += 1
                packet.withUnsafeBytes { b.receive(UnsafeRawBufferPointer(rebasing: $0[0..<length]), at: now) }
            }
            ear.withUnsafeMutableBufferPointer { b.playout(into: $0, at: now) }
            ear.withUnsafeBufferPointer { heard($0) }
            now = now + .milliseconds(10)
        }
    }

    func testToneCrossesAtEveryPacketTimeAndBothLaws() {
        for codec in [AudioCodec.pcmu, .pcma] {
            for ptime: UInt32 in [10, 20, 30] {
                let link = Link(a: Self.session(ssrc: 1, codec: codec, ptime: ptime), b: Self.session(ssrc: 2, codec: codec, ptime: ptime))
                var tone = ToneGenerator(spec: ToneSpec(frequencies: [1000], levelDBm0: -10))
                let analyzer = ToneAnalyzer()
                for _ in 0..<150 {
                    link.tick({ tone.generate(into: $0) }, heard: { analyzer.feed($0) })
                }
                guard case .tone(let frequencies, let level, _) = analyzer.analyze() else {
                    return XCTFail("\(codec) \(ptime) ms: B heard \(analyzer.analyze())")
                }
                XCTAssertEqual(frequencies.count, 1)
                XCTAssertEqual(frequencies.first ?? 0, 1000, accuracy: 10, "\(codec) \(ptime) ms")
                XCTAssertEqual(level, -10, accuracy: 1.5, "\(codec) \(ptime) ms")
                XCTAssertEqual(link.packetsSent, 1500 / Int(ptime))
                XCTAssertEqual(link.b.statistics.packetsReceived, UInt64(link.packetsSent))
                XCTAssertEqual(link.b.statistics.framesConcealed, 0)
            }
        }
    }

    func testHeldKeyTravelsAsAnEventAndIsPlayedForItsDuration() {
        let link = Link(a: Self.session(ssrc: 3), b: Self.session(ssrc: 4))
        var keys = DTMFGenerator(levelDBm0: -8, twistDB: 2, onMs: 1500, offMs: 100)
        XCTAssertTrue(keys.enqueue("5"))
        let inBand = DTMFDetector()
        var heardDigits = ""
        var loudFrames = 0
        for _ in 0..<200 {
            link.tick({ keys.generate(into: $0) }, heard: { frame in
                inBand.process(frame) { heardDigits.append($0.character) }
                if frame.contains(where: { $0 > 500 || $0 < -500 }) { loudFrames += 1 }
            })
        }
        XCTAssertEqual(link.a.statistics.digitsSent, 1)
        XCTAssertEqual(link.b.statistics.digitsReceived, 1)
        XCTAssertGreaterThan(link.a.statistics.eventPacketsSent, 10)
        XCTAssertEqual(heardDigits, "5", "B's earpiece carries the key once")
        // About 1500 ms of tone at B: the event's duration, not a fixed burst.
        XCTAssertGreaterThanOrEqual(loudFrames, 144)
        XCTAssertLessThanOrEqual(loudFrames, 156)
    }

    /// Presses `digits` on A's handset for `ticks` frames; returns the digits
    /// a DTMF receiver finds in B's earpiece. `afterTick` sees each tick.
    static func pressKeys(_ digits: String, on link: Link, onMs: Int, ticks: Int,
                          afterTick: (Int) -> Void = { _ in }) -> String {
        var keys = DTMFGenerator(levelDBm0: -8, twistDB: 2, onMs: onMs, offMs: 100)
        XCTAssertTrue(keys.enqueue(digits))
        let inBand = DTMFDetector()
        var heardDigits = ""
        for tick in 0..<ticks {
            link.tick({ keys.generate(into: $0) }, heard: { frame in inBand.process(frame) { heardDigits.append($0.character) } })
            afterTick(tick)
        }
        return heardDigits
    }

    /// The far end's source changes (a new SSRC, its timestamps starting
    /// lower: a PBX that re-anchors the call, a restarted peer): its keys
    /// are played, not taken for late copies of the old source's last.
    func testKeysFromANewSourceArePlayed() {
        let b = Self.session(ssrc: 8)
        let first = Link(a: Self.session(ssrc: 100), b: b)
        XCTAssertEqual(Self.pressKeys("5", on: first, onMs: 300, ticks: 60), "5")
        let second = Link(a: Self.session(ssrc: 2), b: b)
        second.now = first.now
        XCTAssertEqual(Self.pressKeys("5", on: second, onMs: 300, ticks: 60), "5")
        XCTAssertEqual(b.statistics.sourceChanges, 1)
        XCTAssertEqual(b.statistics.digitsReceived, 2)
    }

    /// A far end without telephone-event: the key must stay in the audio
    /// (muting it would lose it), and no event is sent.
    func testKeysStayInBandWhenTheFarEndTakesNoEvents() {
        let link = Link(a: Self.session(ssrc: 41, events: false), b: Self.session(ssrc: 42, events: false))
        XCTAssertEqual(Self.pressKeys("7", on: link, onMs: 200, ticks: 60), "7")
        XCTAssertEqual(link.a.statistics.eventPacketsSent, 0)
    }

    /// `dtmf_relay = info`: the key is muted from the audio, no RFC 4733
    /// event goes out (though the far end takes them), and the key is
    /// reported once, at its release, with how long it sounded.
    func testInfoRelayMutesTheKeyAndReportsItOnceAtRelease() {
        let link = Link(a: Self.session(ssrc: 51, relay: .info), b: Self.session(ssrc: 52))
        var released: [(digit: DTMFDigit, milliseconds: Int, tick: Int)] = []
        let heardDigits = Self.pressKeys("5#", on: link, onMs: 500, ticks: 150) { tick in
            if let key = link.a.takeReleasedKey() { released.append((key.digit, key.milliseconds, tick)) }
        }
        XCTAssertEqual(released.map(\.digit), [.d5, .pound])
        for key in released { XCTAssertEqual(Double(key.milliseconds), 500, accuracy: 40, "\(key)") }
        // Released a few frames after the tone stops (500 ms, then 600 + 500 ms).
        XCTAssertEqual(Double(released.first?.tick ?? 0), 53, accuracy: 5)
        XCTAssertEqual(link.a.statistics.digitsSent, 2)
        XCTAssertEqual(link.a.statistics.eventPacketsSent, 0)
        XCTAssertEqual(heardDigits, "", "the tone is muted from the audio")
        XCTAssertNil(link.a.takeReleasedKey())
    }

    /// Dials `number` into the link's detector alone (no call yet), until
    /// its last digit is confirmed (the number is complete and the call is
    /// placed); `offset` samples of silence first shift the detector's
    /// blocks against the 10 ms frames. Then `setupFrames` more frames of
    /// the last digit (the far end answering) before the call's first frame
    /// reaches `capture`. Returns the dialing generator, mid-digit.
    static func dialBeforeTheCall(_ number: String, on link: Link, offset: Int, setupFrames: Int) -> DTMFGenerator {
        var dialing = DTMFGenerator(levelDBm0: -8, twistDB: 2, onMs: 80, offMs: 80)
        XCTAssertTrue(dialing.enqueue(number))
        var confirmed = ""
        let silence = [Int16](repeating: 0, count: offset)
        silence.withUnsafeBufferPointer { link.detector.process($0) { confirmed.append($0.character) } }
        var frame = [Int16](repeating: 0, count: 80)
        for _ in 0..<200 where confirmed.count < number.count {
            frame.withUnsafeMutableBufferPointer { dialing.generate(into: $0) }
            frame.withUnsafeBufferPointer { link.detector.process($0) { confirmed.append($0.character) } }
        }
        XCTAssertEqual(confirmed, number)
        for _ in 0..<setupFrames {
            frame.withUnsafeMutableBufferPointer { dialing.generate(into: $0) }
            frame.withUnsafeBufferPointer { link.detector.process($0) { _ in } }
        }
        return dialing
    }

    /// The far end answers while the last digit dialed still sounds, and a
    /// key is pressed at once: the handset's tone goes from the dialed 0
    /// straight to the 5, with no silence between (the detector goes held
    /// 0, candidate, held 5). The 0 belongs to the dialing; the 5 is the
    /// call's first key and must be relayed at its release, whatever the
    /// detector's blocks against the frames. (It used to be taken for the
    /// dialing's key, muted and never sent: no SIP INFO, no event.)
    func testKeyPressedStraightOverTheLastDialedDigitIsRelayed() {
        var swallowed: [String] = []
        for relay in [MediaSession.DTMFRelay.info, .rfc4733] {
            for offset in stride(from: 0, to: DTMFDetector.hop, by: 2) {
                for setupFrames in 0...2 {
                    let link = Link(a: Self.session(ssrc: 61, relay: relay), b: Self.session(ssrc: 62))
                    var dialing = Self.dialBeforeTheCall("2000", on: link, offset: offset, setupFrames: setupFrames)
                    let what = "\(relay) offset \(offset) setup \(setupFrames)"
                    // The call's first frame: the 0 still sounds.
                    link.tick({ dialing.generate(into: $0) }, heard: { _ in })
                    XCTAssertEqual(link.detector.status, .held(.d0), what)
                    var released: [(digit: DTMFDigit, milliseconds: Int)] = []
                    let heard = Self.pressKeys("5", on: link, onMs: 1500, ticks: 170) { _ in
                        if let key = link.a.takeReleasedKey() { released.append(key) }
                    }
                    if link.a.statistics.digitsSent != 1 { swallowed.append(what) }
                    if relay == .info {
                        XCTAssertEqual(released.map(\.digit), [.d5], what)
                        XCTAssertEqual(Double(released.first?.milliseconds ?? 0), 1500, accuracy: 50, what)
                    } else {
                        XCTAssertEqual(heard, "5", what)
                        XCTAssertGreaterThan(link.a.statistics.eventPacketsSent, 10, what)
                    }
                }
            }
        }
        XCTAssertEqual(swallowed, [], "keys taken for the dialing's last digit")
    }

    /// The last digit dialed still sounding when the call comes up, and
    /// nothing after it: not relayed (it belongs to the dialing), muted.
    func testLastDialedDigitStillSoundingIsNotRelayed() {
        for relay in [MediaSession.DTMFRelay.info, .rfc4733] {
            let link = Link(a: Self.session(ssrc: 63, relay: relay), b: Self.session(ssrc: 64))
            var dialing = Self.dialBeforeTheCall("2000", on: link, offset: 0, setupFrames: 0)
            var statuses: [DTMFDetector.Status] = []
            for _ in 0..<30 {
                link.tick({ dialing.generate(into: $0) }, heard: { _ in })
                statuses.append(link.detector.status)
                XCTAssertNil(link.a.takeReleasedKey(), "\(relay)")
            }
            XCTAssertEqual(statuses.first, .held(.d0), "\(relay)")
            XCTAssertEqual(statuses.last, DTMFDetector.Status.none, "\(relay)")
            XCTAssertEqual(link.a.statistics.digitsSent, 0, "\(relay)")
            XCTAssertEqual(link.a.statistics.eventPacketsSent, 0, "\(relay)")
        }
    }

    /// A far end that refused SIP INFO: keys go back into the audio.
    func testKeysGoInBandOnceInfoIsRefused() {
        let link = Link(a: Self.session(ssrc: 53, relay: .info), b: Self.session(ssrc: 54))
        link.a.sendKeysInBand()
        let heardDigits = Self.pressKeys("7", on: link, onMs: 200, ticks: 60) { _ in XCTAssertNil(link.a.takeReleasedKey()) }
        XCTAssertEqual(heardDigits, "7")
        XCTAssertEqual(link.a.statistics.eventPacketsSent, 0)
    }

    func testLossIsConcealedAndCounted() {
        let a = Self.session(ssrc: 5)
        let b = Self.session(ssrc: 6)
        var tone = ToneGenerator(spec: ToneSpec(frequencies: [600], levelDBm0: -12))
        var packet = [UInt8](repeating: 0, count: 1500)
        var mouth = [Int16](repeating: 0, count: 80)
        var ear = [Int16](repeating: 0, count: 80)
        var now = Instant(nanoseconds: 5_000_000_000)
        var sent = 0
        var silentFrames = 0
        for tick in 0..<400 {
            mouth.withUnsafeMutableBufferPointer { tone.generate(into: $0) }
            let length = mouth.withUnsafeBufferPointer { m in packet.withUnsafeMutableBytes { a.capture(m, dtmf: .none, into: $0) } }
            if length > 0 {
                sent += 1
                // Every 10th packet is lost (10 %), never two in a row.
                if sent % 10 != 0 {
                    packet.withUnsafeBytes { b.receive(UnsafeRawBufferPointer(rebasing: $0[0..<length]), at: now) }
                }
            }
            ear.withUnsafeMutableBufferPointer { b.playout(into: $0, at: now) }
            if tick > 20, !ear.contains(where: { $0 > 300 || $0 < -300 }) { silentFrames += 1 }
            now = now + .milliseconds(10)
        }
        XCTAssertEqual(sent, 200)
        XCTAssertGreaterThan(b.statistics.framesConcealed, 30)
        XCTAssertEqual(silentFrames, 0, "single losses are bridged, never silent")
        XCTAssertEqual(b.lossPercent, 10, accuracy: 1)
    }

    /// Packets that arrive out of order (within the jitter buffer's delay)
    /// are played in order, not concealed.
    func testReorderedPacketsArePlayed() {
        let a = Self.session(ssrc: 31)
        let b = Self.session(ssrc: 32)
        var tone = ToneGenerator(spec: ToneSpec(frequencies: [800], levelDBm0: -12))
        var mouth = [Int16](repeating: 0, count: 80)
        var ear = [Int16](repeating: 0, count: 80)
        var packets: [[UInt8]] = []
        var scratch = [UInt8](repeating: 0, count: 1500)
        for _ in 0..<200 {
            mouth.withUnsafeMutableBufferPointer { tone.generate(into: $0) }
            let length = mouth.withUnsafeBufferPointer { m in scratch.withUnsafeMutableBytes { a.capture(m, dtmf: .none, into: $0) } }
            if length > 0 { packets.append(Array(scratch[0..<length])) }
        }
        // Swap every 5th packet with the next one; deliver one packet per
        // 20 ms, playing two frames between deliveries.
        for index in stride(from: 5, to: packets.count - 1, by: 5) { packets.swapAt(index, index + 1) }
        var now = Instant(nanoseconds: 3_000_000_000)
        for packet in packets {
            packet.withUnsafeBytes { b.receive($0, at: now) }
            for _ in 0..<2 {
                ear.withUnsafeMutableBufferPointer { b.playout(into: $0, at: now) }
                now = now + .milliseconds(10)
            }
        }
        XCTAssertEqual(b.statistics.packetsReceived, 100)
        XCTAssertEqual(b.packetsLost, 0)
        // Only the start can need concealment while the delay settles.
        XCTAssertLessThanOrEqual(b.statistics.framesConcealed, 4)
    }

    /// RFC 3389: after the far end's last audio packet, its silence
    /// descriptor (level 50 −dBov) is played as noise at that level, and real
    /// audio replaces it again.
    func testComfortNoiseIsPlayedAtItsLevel() {
        var media = Self.negotiated()
        media.comfortNoisePayloadType = 13
        let b = MediaSession(media: media)
        var now = Instant(nanoseconds: 7_000_000_000)
        var ear = [Int16](repeating: 0, count: 80)
        var packet = [UInt8](repeating: 0, count: 13)
        packet.withUnsafeMutableBytes { _ = RTPHeader(marker: true, payloadType: 13, sequenceNumber: 10, timestamp: 800, ssrc: 5).write(into: $0) }
        packet[12] = 50
        packet.withUnsafeBytes { b.receive($0, at: now) }
        var power = 0.0
        for _ in 0..<100 {
            ear.withUnsafeMutableBufferPointer { b.playout(into: $0, at: now) }
            for sample in ear { power += Double(sample) * Double(sample) }
            now = now + .milliseconds(10)
        }
        let dBov = 10 * log10(power / 8000 / (32767.0 * 32767.0))
        XCTAssertEqual(dBov, -50, accuracy: 1.5)
    }

    func testMalformedAndForeignPayloadsAreCountedNotPlayed() {
        let b = Self.session(ssrc: 7)
        let now = Instant(nanoseconds: 1)
        let garbage: [UInt8] = [1, 2, 3]
        garbage.withUnsafeBytes { b.receive($0, at: now) }
        var packet = [UInt8](repeating: 0xff, count: 172)
        packet.withUnsafeMutableBytes { _ = RTPHeader(payloadType: 18, sequenceNumber: 1, timestamp: 0, ssrc: 9).write(into: $0) }
        packet.withUnsafeBytes { b.receive($0, at: now) }
        XCTAssertEqual(b.statistics.malformedPackets, 1)
        XCTAssertEqual(b.statistics.unknownPayloadPackets, 1)
        XCTAssertEqual(b.statistics.packetsReceived, 0)
    }

    func testReportsCarryLossAndRoundTrip() {
        let a = Self.session(ssrc: 11)
        let b = Self.session(ssrc: 12)
        var packet = [UInt8](repeating: 0, count: 1500)
        let mouth = [Int16](repeating: 1000, count: 80)
        var now = Instant(nanoseconds: 9_000_000_000)
        var sent = 0
        for _ in 0..<200 {
            let length = mouth.withUnsafeBufferPointer { m in packet.withUnsafeMutableBytes { a.capture(m, dtmf: .none, into: $0) } }
            if length > 0 {
                sent += 1
                if sent % 4 != 0 { packet.withUnsafeBytes { b.receive(UnsafeRawBufferPointer(rebasing: $0[0..<length]), at: now) } }
            }
            now = now + .milliseconds(10)
        }
        // A's sender report reaches B 30 ms later; B's receiver report comes back after 20 ms more.
        let srLength = packet.withUnsafeMutableBytes { a.makeReport(into: $0, at: now) }
        XCTAssertGreaterThan(srLength, 0)
        now = now + .milliseconds(30)
        packet.withUnsafeBytes { b.receiveControl(UnsafeRawBufferPointer(rebasing: $0[0..<srLength]), at: now) }
        now = now + .milliseconds(100)
        let rrLength = packet.withUnsafeMutableBytes { b.makeReport(into: $0, at: now) }
        now = now + .milliseconds(20)
        packet.withUnsafeBytes { a.receiveControl(UnsafeRawBufferPointer(rebasing: $0[0..<rrLength]), at: now) }
        XCTAssertEqual(a.statistics.reportsReceived, 1)
        XCTAssertEqual(a.statistics.roundTripMilliseconds ?? -1, 50, accuracy: 1)
        // 1 in 4 lost: fraction 64/256 (the last lost packet is beyond the highest received).
        XCTAssertEqual(Int(a.statistics.remoteFractionLost ?? 0), 64, accuracy: 3)
        XCTAssertTrue(a.summary.contains("rtt 50"), a.summary)
    }

    /// Issue 5: no heap allocation per audio frame in steady state, both
    /// directions, with a key pressed and RTCP, over 1000 frames.
    func testSteadyStateAllocatesNothing() {
        let link = Link(a: Self.session(ssrc: 21), b: Self.session(ssrc: 22))
        var tone = ToneGenerator(spec: ToneSpec(frequencies: [440], levelDBm0: -15))
        var report = [UInt8](repeating: 0, count: 1500)
        // Warm up: the first packets, events and reports set up state once.
        for _ in 0..<100 { link.tick({ tone.generate(into: $0) }, heard: { _ in }) }
        _ = report.withUnsafeMutableBytes { link.a.makeReport(into: $0, at: link.now) }
        atad_allocations_begin()
        for index in 0..<1000 {
            link.tick({ tone.generate(into: $0) }, heard: { _ in })
            if index % 500 == 0 {
                let length = report.withUnsafeMutableBytes { link.a.makeReport(into: $0, at: link.now) }
                report.withUnsafeBytes { link.b.receiveControl(UnsafeRawBufferPointer(rebasing: $0[0..<length]), at: link.now) }
            }
        }
        let allocations = atad_allocations_end()
        print("media path: 1000 frames, \(link.packetsSent) packets, \(allocations) allocations")
        XCTAssertEqual(allocations, 0)
    }
}
