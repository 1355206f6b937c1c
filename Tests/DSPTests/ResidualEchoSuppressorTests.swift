import CAllocationCounter
import Foundation
import XCTest
@testable import DSP

/// The non-linear stage after the canceller: residual echo goes, near-end
/// speech (double talk) stays.
final class ResidualEchoSuppressorTests: XCTestCase {
    private let seconds = 10.0

    /// Canceller then suppressor over a simulated hybrid (48 ms bulk delay,
    /// −65 dBm0 line noise) with an optional near-end tone from 6 s to 9 s.
    private func run(nearTone: Bool) -> (echo: [Double], near: [Double], output: [Int16]) {
        let count = Int(seconds * 8000)
        let far = EchoTestSignals.speechLike(seconds: seconds, dBm0: -20, seed: 7)
        let echo = EchoTestSignals.echo(of: far, bulkDelayMilliseconds: 48)
        let noise = EchoTestSignals.noise(count: count, dBm0: -65, seed: 11)
        let peak = Level.peakAmplitude(dBm0: -20)
        var talker = [Double](repeating: 0, count: count)
        if nearTone { for i in (6 * 8000)..<(9 * 8000) { talker[i] = peak * sin(2 * Double.pi * 400 * Double(i) / 8000) } }
        let near = (0..<count).map { echo[$0] + noise[$0] + talker[$0] }
        let farSamples = EchoTestSignals.toInt16(far)
        let nearSamples = EchoTestSignals.toInt16(near)
        let canceller = EchoCanceller(bulkDelay: .fixed(milliseconds: 48))
        let suppressor = ResidualEchoSuppressor()
        var output = EchoTestSignals.run(canceller, far: farSamples, near: nearSamples)
        farSamples.withUnsafeBufferPointer { farAll in
            nearSamples.withUnsafeBufferPointer { nearAll in
                output.withUnsafeMutableBufferPointer { outAll in
                    var offset = 0
                    while offset + 80 <= count {
                        suppressor.process(farEnd: UnsafeBufferPointer(rebasing: farAll[offset..<(offset + 80)]),
                                           nearEnd: UnsafeBufferPointer(rebasing: nearAll[offset..<(offset + 80)]),
                                           output: UnsafeMutableBufferPointer(rebasing: outAll[offset..<(offset + 80)]))
                        offset += 80
                    }
                }
            }
        }
        return (echo, talker, output)
    }

    func testResidualEchoIsSuppressedWhileOnlyTheFarEndTalks() {
        let (echo, _, output) = run(nearTone: false)
        // Over the second half, in the 10 ms frames that carry echo (above
        // −45 dBm0): in the far end's pauses there is no echo to remove and
        // the output is the line's own noise, which must pass.
        var echoPower = 0.0, outputPower = 0.0
        var frame = output.count / 2
        while frame + 80 <= output.count {
            let e = EchoTestSignals.power(echo[frame..<(frame + 80)])
            if Level.dBm0(meanSquare: e) >= -45 {
                echoPower += e
                outputPower += EchoTestSignals.power(output[frame..<(frame + 80)])
            }
            frame += 80
        }
        let erle = 10 * log10(echoPower / max(outputPower, 1e-9))
        print(String(format: "ERLE with canceller and residual suppression, 48 ms bulk delay, echo frames: %.1f dB", erle))
        XCTAssertGreaterThanOrEqual(erle, 50)
    }

    func testNearEndSpeechPassesDuringDoubleTalk() {
        let (_, near, output) = run(nearTone: true)
        // Skip the first 100 ms of the near-end tone (the gain's release).
        let window = (6 * 8000 + 800)..<(9 * 8000)
        let wanted = EchoTestSignals.power(near[window])
        let got = EchoTestSignals.power(output[window])
        let loss = 10 * log10(wanted / max(got, 1e-9))
        print(String(format: "Double talk through canceller and suppressor: near end attenuated by %.2f dB", loss))
        XCTAssertLessThan(abs(loss), 3)
    }

    func testSilentFarEndLeavesTheNearEndAlone() {
        let suppressor = ResidualEchoSuppressor()
        let far = [Int16](repeating: 0, count: 80)
        let near = [Int16](repeating: 300, count: 80)
        var output = [Int16](repeating: 20, count: 80)
        for _ in 0..<50 {
            output = [Int16](repeating: 20, count: 80)
            far.withUnsafeBufferPointer { f in near.withUnsafeBufferPointer { n in
                output.withUnsafeMutableBufferPointer { suppressor.process(farEnd: f, nearEnd: n, output: $0) } } }
        }
        XCTAssertEqual(output, [Int16](repeating: 20, count: 80))
        XCTAssertEqual(suppressor.suppressedFrames, 0)
    }

    func testAllocatesNothingPerFrame() {
        let suppressor = ResidualEchoSuppressor()
        let far = [Int16](repeating: 5000, count: 80)
        let near = [Int16](repeating: 1000, count: 80)
        var output = [Int16](repeating: 10, count: 80)
        far.withUnsafeBufferPointer { f in near.withUnsafeBufferPointer { n in
            output.withUnsafeMutableBufferPointer { o in
                // Warm up: the first calls bind libm's symbols lazily.
                for _ in 0..<10 { suppressor.process(farEnd: f, nearEnd: n, output: o) }
                atad_allocations_begin()
                for _ in 0..<1000 { suppressor.process(farEnd: f, nearEnd: n, output: o) }
                XCTAssertEqual(atad_allocations_end(), 0)
            }
        } }
        XCTAssertGreaterThan(suppressor.suppressedFrames, 900)
    }
}
