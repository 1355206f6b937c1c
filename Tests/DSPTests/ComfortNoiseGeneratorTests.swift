import CAllocationCounter
import Foundation
import XCTest
@testable import DSP

final class ComfortNoiseGeneratorTests: XCTestCase {
    /// `bytes` as a raw buffer for the duration of `body` (Array's
    /// `withUnsafeBytes` does not pass a typed error through).
    private func withPayload<R>(_ bytes: [UInt8],
                                _ body: (UnsafeRawBufferPointer) throws(ComfortNoiseError) -> R)
        throws(ComfortNoiseError) -> R {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { raw.deallocate() }
        for (i, b) in bytes.enumerated() { raw[i] = b }
        return try body(UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count]))
    }

    private func parse(_ bytes: [UInt8]) throws(ComfortNoiseError) -> ComfortNoiseGenerator.Parameters {
        try withPayload(bytes) { raw throws(ComfortNoiseError) in try ComfortNoiseGenerator.parse(raw) }
    }

    func testParsesLevelAndToleratesSpectralCoefficients() throws {
        XCTAssertEqual(try parse([0]), .init(levelDBov: 0))
        XCTAssertEqual(try parse([127]), .init(levelDBov: -127))
        XCTAssertEqual(try parse([40, 0x7F, 0x80, 0x10]),
                       .init(levelDBov: -40, spectralCoefficientCount: 3))
        // The reserved top bit is ignored.
        XCTAssertEqual(try parse([0x80 | 50]), .init(levelDBov: -50))
    }

    func testEmptyPayloadIsATypedError() {
        XCTAssertThrowsError(try parse([])) { error in
            XCTAssertEqual(error as? ComfortNoiseError, .emptyPayload)
        }
        var generator = ComfortNoiseGenerator(levelDBov: -30)
        XCTAssertThrowsError(try withPayload([]) { raw throws(ComfortNoiseError) in
            try generator.receive(raw)
        })
        XCTAssertEqual(generator.levelDBov, -30)
    }

    /// RMS level of `count` generated samples in dBov (0 dBov = RMS 32767).
    private func measuredDBov(_ generator: inout ComfortNoiseGenerator, count: Int = 8000) -> Double {
        var sum = 0.0
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        defer { frame.deallocate() }
        for _ in 0..<(count / 160) {
            generator.generate(into: frame)
            for s in frame { sum += Double(s) * Double(s) }
        }
        return 20 * log10(max((sum / Double(count)).squareRoot(), 1e-9) / 32767)
    }

    func testLevelMatchesRequestWithinOneDB() throws {
        for level in [10, 20, 30, 40, 50, 60, 70] {
            var generator = ComfortNoiseGenerator(seed: UInt32(level))
            try withPayload([UInt8(level), 0x40, 0x40]) { raw throws(ComfortNoiseError) in
                try generator.receive(raw)
            }
            let measured = measuredDBov(&generator)
            print(String(format: "CN requested -%d dBov, measured %.2f dBov", level, measured))
            XCTAssertEqual(measured, -Double(level), accuracy: 1.0)
        }
    }

    func testZeroDBm0IsAboutMinusSixDBov() {
        // 0 dBm0 (a sine of RMS ≈ 16141) in this convention.
        let zeroDBm0 = 20 * log10(Level.meanSquare(dBm0: 0).squareRoot() / 32767)
        XCTAssertEqual(zeroDBm0, -6.15, accuracy: 0.02)
    }

    func testNoiseIsWhiteAndZeroMean() {
        var generator = ComfortNoiseGenerator(levelDBov: -30)
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 8000)
        defer { frame.deallocate() }
        generator.generate(into: frame)
        var mean = 0.0, power = 0.0, lag1 = 0.0
        for i in 0..<8000 {
            let v = Double(frame[i])
            mean += v
            power += v * v
            if i > 0 { lag1 += v * Double(frame[i - 1]) }
        }
        mean /= 8000
        XCTAssertLessThan(abs(mean), (power / 8000).squareRoot() * 0.05)
        XCTAssertLessThan(abs(lag1 / power), 0.05)
    }

    func testNoAllocationPerFrame() {
        var generator = ComfortNoiseGenerator(levelDBov: -50)
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        defer { frame.deallocate() }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 1)
        defer { payload.deallocate() }
        payload.copyBytes(from: [45, 1, 2] as [UInt8])
        atad_allocations_begin()
        for _ in 0..<1000 {
            do {
                try generator.receive(UnsafeRawBufferPointer(payload))
            } catch {
                XCTFail("\(error)")
            }
            generator.generate(into: frame)
        }
        XCTAssertEqual(atad_allocations_end(), 0)
    }
}
