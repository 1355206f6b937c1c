import SDP
import XCTest

/// Deterministic PRNG (SplitMix64) so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class FuzzTests: XCTestCase {
    private static let tokens: [[UInt8]] = [
        "\r\n", "\n", "\r", "=", ":", "/", " ", "0", "65535", "65536", "127", "128", "-", ",",
        "a=rtpmap:", "a=fmtp:", "m=audio ", "c=IN IP4 ", "c=IN IP6 ", "0.0.0.0", "::", "RTP/AVP ",
        "a=sendonly", "a=inactive", "a=ptime:", "a=rtcp:", "telephone-event/8000", "99999999999999999999999",
        "\u{0}", "\u{FF}", "é",
    ].map { Array($0.utf8) }

    private func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            if bytes.isEmpty { bytes = Self.tokens.randomElement(using: &rng)!; continue }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &rng)))
            case 3: bytes.insert(contentsOf: Self.tokens.randomElement(using: &rng)!, at: at)
            case 4: bytes.removeSubrange(at...)
            case 5:
                let end = min(bytes.count, at + Int.random(in: 1...80, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 6: bytes[at] = [0x30, 0x39, 0x20, 0x0A, 0x0D, 0x3D, 0x3A, 0x2F].randomElement(using: &rng)!
            default:
                // Swap two lines.
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                if lines.count > 2 {
                    lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                }
                bytes = Array(lines.joined(separator: [0x0A]))
            }
        }
        return bytes
    }

    func testRandomMutationsNeverCrash() throws {
        var rng = SplitMix64(state: 0xA7AD_5D9)
        let seeds = Offers.all.map { Array($0.utf8) }
        let offer = OfferAnswer.makeOffer(ours4, origin: ourOrigin4)
        var parsed = 0, failed = 0, answered = 0
        for iteration in 0..<20_000 {
            var input = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) { input = mutate(input, &rng) }
            do {
                let sdp = try SessionDescription(parsing: input)
                parsed += 1
                // Whatever parses serializes to text that parses again to the same text.
                let text = sdp.serialized()
                let again = try SessionDescription(parsing: text)
                XCTAssertEqual(again.serialized(), text)
                for caps in [ours4, ours6] {
                    if case .success(let result) = OfferAnswer.answer(to: sdp, ours: caps, origin: ourOrigin4) {
                        answered += 1
                        XCTAssertEqual(result.sdp.media.count, sdp.media.count)
                        XCTAssertNoThrow(try SessionDescription(parsing: result.sdp.serialized()))
                    }
                }
                _ = OfferAnswer.negotiated(from: sdp, to: offer)
            } catch {
                failed += 1
                XCTAssertGreaterThanOrEqual(error.line, 0)
                XCTAssertFalse(error.message.isEmpty)
            }
        }
        XCTAssertGreaterThan(parsed, 1000)
        XCTAssertGreaterThan(failed, 1000)
        XCTAssertGreaterThan(answered, 500)
    }

    func testRandomBytesNeverCrash() {
        var rng = SplitMix64(state: 42)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...300, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if Bool.random(using: &rng) { bytes = Array("v=0\n".utf8) + bytes }
            _ = try? SessionDescription(parsing: bytes)
        }
    }
}
