import DSP
import XCTest

/// The three-way call's and the call-waiting tone's mix: sums clip at full
/// scale instead of wrapping to the other sign.
final class SaturatingMixTests: XCTestCase {
    func testSumsSampleBySampleAndClipsAtFullScale() {
        let first: [Int16] = [100, 30_000, -30_000, -5, 0]
        let second: [Int16] = [23, 10_000, -10_000, 5, -32_768]
        var output = [Int16](repeating: 1, count: 5)
        first.withUnsafeBufferPointer { a in
            second.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { mixSaturating(a, b, into: $0) }
            }
        }
        XCTAssertEqual(output, [123, 32_767, -32_768, 0, -32_768])
    }

    func testMixesInPlaceAndOnlyTheShortestLength() {
        var buffer: [Int16] = [1, 2, 3, 4]
        let other: [Int16] = [10, 20]
        buffer.withUnsafeMutableBufferPointer { output in
            other.withUnsafeBufferPointer { mixSaturating(UnsafeBufferPointer(output), $0, into: output) }
        }
        XCTAssertEqual(buffer, [11, 22, 3, 4])
    }
}
