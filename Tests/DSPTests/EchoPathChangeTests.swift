import Foundation
import XCTest
@testable import DSP

/// An echo path that moves during a call, as it does when a USB sound
/// card's stream stalls and restarts (an xrun): the canceller must find
/// the new bulk delay and cancel again within a few seconds of far-end
/// speech (ITU-T G.168 asks for reconvergence after an echo path change).
final class EchoPathChangeTests: XCTestCase {
    private let rate = 8000

    /// Far-end speech for `seconds`; its echo at `before` ms of bulk delay
    /// until `switchSecond`, at `after` ms from then on, with line noise.
    private func run(before: Int, after: Int, seconds: Double = 24, switchSecond: Int = 8,
                     hint: Bool) -> [Double] {
        let far = EchoTestSignals.speechLike(seconds: seconds, dBm0: -20, seed: 7)
        let echoBefore = EchoTestSignals.echo(of: far, bulkDelayMilliseconds: before)
        let echoAfter = EchoTestSignals.echo(of: far, bulkDelayMilliseconds: after)
        let noise = EchoTestSignals.noise(count: far.count, dBm0: -65, seed: 11)
        let switchSample = switchSecond * rate
        var echo = [Double](repeating: 0, count: far.count)
        for i in 0..<far.count { echo[i] = (i < switchSample ? echoBefore[i] : echoAfter[i]) }
        var near = [Double](repeating: 0, count: far.count)
        for i in 0..<far.count { near[i] = echo[i] + noise[i] }
        let farSamples = EchoTestSignals.toInt16(far)
        let nearSamples = EchoTestSignals.toInt16(near)
        let canceller = EchoCanceller(bulkDelay: .estimated(maximumMilliseconds: 200))
        let first = EchoTestSignals.run(canceller, far: Array(farSamples[..<switchSample]),
                                        near: Array(nearSamples[..<switchSample]))
        if hint { canceller.echoPathMayHaveMoved() }
        let second = EchoTestSignals.run(canceller, far: Array(farSamples[switchSample...]),
                                         near: Array(nearSamples[switchSample...]))
        let out = first + second
        // ERLE per second.
        return stride(from: 0, to: out.count - rate + 1, by: rate).map { start in
            let echoPower = EchoTestSignals.power(echo[start..<(start + rate)])
            let residual = EchoTestSignals.power(out[start..<(start + rate)])
            return 10 * log10(echoPower / max(residual, 1e-9))
        }
    }

    /// Measured (ERLE per second from the move, no hint): 0 4 22 29 31,
    /// 0 1 17 27 30, 9 6 17 28 31, 0 1 20 29 30; before the canceller
    /// noticed by itself it stayed near 0 dB for 6 s.
    func testAMovedEchoPathIsFoundAgainWithinThreeSeconds() {
        for (before, after) in [(48, 88), (88, 48), (88, 80), (40, 160)] {
            let values = run(before: before, after: after, seconds: 16, switchSecond: 8, hint: false)
            print("path \(before) -> \(after) ms: ERLE per second \(values.map { Int($0.rounded()) })")
            let settled = values[11...]
            XCTAssertTrue(settled.allSatisfy { $0 >= 20 },
                          "path \(before) -> \(after) ms: ERLE per second \(values.map { Int($0) })")
        }
    }

    /// An xrun the daemon saw: on a path that did not move, the filter
    /// stays and goes on cancelling while the delay is estimated again.
    func testAnXrunOnAPathThatStayedKeepsTheFilter() {
        let values = run(before: 48, after: 48, seconds: 12, switchSecond: 8, hint: true)
        XCTAssertTrue(values[8...].allSatisfy { $0 >= 24 }, "ERLE per second \(values.map { Int($0) })")
    }

    /// After an xrun that moved the path, the new delay is found from the
    /// next seconds of speech: measured 5 22 28 29 after the move.
    func testAnXrunThatMovedThePathIsFollowed() {
        let values = run(before: 40, after: 160, seconds: 12, switchSecond: 6, hint: true)
        XCTAssertTrue(values[9...].allSatisfy { $0 >= 20 }, "ERLE per second \(values.map { Int($0) })")
    }
}
