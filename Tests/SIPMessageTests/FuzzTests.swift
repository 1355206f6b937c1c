import SIPMessage
import XCTest

/// Random mutations of the torture messages: the parser and validation never
/// crash and always produce an outcome; every accepted message's lazy views
/// can be evaluated; every rejection serializes.
final class FuzzTests: XCTestCase {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static let interesting: [UInt8] = Array("\r\n \t:;,<>\"\\%@=?/[]0123456789-".utf8) + [0, 0xFF, 0x80]

    func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + rng.below(6)) {
            if b.isEmpty { b.append(Self.interesting[rng.below(Self.interesting.count)]); continue }
            let i = rng.below(b.count)
            switch rng.below(7) {
            case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b[i] = Self.interesting[rng.below(Self.interesting.count)]
            case 2: b.remove(at: i)
            case 3: b.insert(Self.interesting[rng.below(Self.interesting.count)], at: i)
            case 4: b.removeSubrange(i..<min(b.count, i + rng.below(40)))
            case 5:
                let j = rng.below(b.count)
                let chunk = Array(b[j..<min(b.count, j + rng.below(60))])
                b.insert(contentsOf: chunk, at: i)
            default: b = Array(b[0..<i])
            }
        }
        return b
    }

    func exercise(_ m: SIPMessage) {
        _ = m.requestURI?.userText
        _ = m.vias?.map { ($0.branch, $0.rport, $0.ttl, $0.hasRport) }
        _ = m.from?.displayNameText
        _ = m.to?.sipURI?.headerFields
        _ = m.contacts?.map { $0.sipURI?.unescapedUser }
        _ = m.cseq
        _ = m.maxForwards
        _ = m.expires
        _ = m.authParams(.authorization)
        _ = m.allowedMethods
        for h in m.headers { _ = m.value(of: h).unfoldedText }
    }

    func testRandomMutationsNeverCrash() throws {
        let files = try tortureFiles()
        var rng = SplitMix(state: 0x5EED_4475)
        var counts: [String: Int] = [:]
        for _ in 0..<20_000 {
            let source = files[rng.below(files.count)].bytes
            let data = mutate(source, &rng)
            let framing: SIPFraming = rng.below(4) == 0 ? .stream : .datagram
            let outcome = SIPParseOutcome.evaluate(data, framing: framing, uas: TortureTests.profile)
            counts[outcome.summary, default: 0] += 1
            switch outcome {
            case .request(let m), .response(let m):
                exercise(m)
            case .reject(let r):
                XCTAssertTrue(r.status >= 400 && r.status <= 599)
                XCTAssertNotEqual(r.request.method, .ack)
                exercise(r.request)
                _ = r.response(toTag: "f").serialize()
            case .drop, .needMoreData:
                break
            }
        }
        XCTAssertGreaterThan(counts["request", default: 0], 100)
        XCTAssertGreaterThan(counts["drop", default: 0], 100)
        XCTAssertGreaterThan(counts["400", default: 0], 100)
    }
}
