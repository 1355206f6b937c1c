import CAllocationCounter
import XCTest

/// The counter other tests rely on to prove "no allocation per frame" must
/// itself see allocations, or those proofs would pass vacuously.
final class AllocationCounterTests: XCTestCase {
    func testCountsAnArrayAllocation() {
        atad_allocations_begin()
        let array = [Int](repeating: 7, count: 1000)
        let count = atad_allocations_end()
        XCTAssertEqual(array.count, 1000)
        XCTAssertGreaterThanOrEqual(count, 1)
    }

    func testCountsNothingWhenNothingAllocates() {
        var total = 0
        atad_allocations_begin()
        for value in 0..<1000 { total &+= value }
        let count = atad_allocations_end()
        XCTAssertEqual(total, 499_500)
        XCTAssertEqual(count, 0)
    }
}
