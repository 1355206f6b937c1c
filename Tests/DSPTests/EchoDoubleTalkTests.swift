import Foundation
import XCTest
@testable import DSP

/// Both ends talk at once (the tone pairs of the two-atad scenario tests),
/// with no echo path and with a simulated hybrid. What the canceller sends
/// must be the near end's voice: nothing of the far end added, nothing of
/// the near end taken.
final class EchoDoubleTalkTests: XCTestCase {
    private static let rate = 8000.0

    private func tone(_ frequency: Double, dBm0: Double, count: Int, from: Int = 0) -> [Double] {
        let peak = Level.peakAmplitude(dBm0: dBm0)
        return (0..<count).map { $0 < from ? 0 : peak * sin(2 * Double.pi * frequency * Double($0) / Self.rate) }
    }

    /// Level, dBm0, of what `out` has beyond `expected` (the part the
    /// canceller added or took), over `range`.
    private func deviation(_ out: [Int16], from expected: [Double], _ range: Range<Int>) -> Double {
        var sum = 0.0
        for i in range { let d = Double(out[i]) - expected[i]; sum += d * d }
        return Level.dBm0(meanSquare: sum / Double(range.count))
    }

    private func amplitudeDB(_ out: [Int16], _ frequency: Double, _ range: Range<Int>) -> Double {
        var c = 0.0, s = 0.0
        for i in range {
            let phase = 2 * Double.pi * frequency * Double(i) / Self.rate
            c += Double(out[i]) * cos(phase)
            s += Double(out[i]) * sin(phase)
        }
        return Level.dBm0(peakAmplitude: 2 * (c * c + s * s).squareRoot() / Double(range.count))
    }

    private let pairs: [(Double, Double)] = [(500, 1000), (1000, 500), (700, 1300), (1300, 700), (941, 1477), (1477, 941)]

    /// No echo path: the far end's tone starts first (single talk the
    /// filter may learn from), then the near end's joins for 4 s, at the
    /// same level and 15 dB quieter (which the Geigel test cannot tell
    /// from echo). The output equals the input within −60 dBm0.
    func testWithoutAnEchoPathTheOutputIsTheNearEndUntouched() {
        let count = 6 * 8000
        for (nearHz, farHz) in pairs {
            for nearLevel in [-10.0, -25.0] {
                let far = EchoTestSignals.toInt16(tone(farHz, dBm0: -10, count: count))
                let nearSignal = tone(nearHz, dBm0: nearLevel, count: count, from: 2 * 8000)
                let near = EchoTestSignals.toInt16(nearSignal)
                for mode in [EchoCanceller.BulkDelay.fixed(milliseconds: 0), .estimated(maximumMilliseconds: 200)] {
                    let canceller = EchoCanceller(bulkDelay: mode)
                    let out = EchoTestSignals.run(canceller, far: far, near: near)
                    let added = deviation(out, from: near.map(Double.init), (2 * 8000)..<count)
                    XCTAssertLessThan(added, -60, "near \(nearHz) Hz at \(nearLevel), far \(farHz) Hz, \(mode)")
                }
            }
        }
    }

    /// A steady tone over the hybrid for 12 s: once the canceller works,
    /// no new delay estimate (a tone gives arbitrary ones) may throw its
    /// filter away; every half second after the first 3 s stays cancelled.
    func testASteadyToneStaysCancelled() {
        let count = 12 * 8000
        // (Before the rule, 941 Hz at 30 and 120 ms took a new estimate after
        // converging and fell to 17 dB for a while.)
        for (farHz, delay) in [(941.0, 30), (941.0, 120), (1000.0, 30)] {
            let farSignal = tone(farHz, dBm0: -10, count: count)
            let echo = EchoTestSignals.echo(of: farSignal, bulkDelayMilliseconds: delay)
            let noise = EchoTestSignals.noise(count: count, dBm0: -70, seed: 5)
            let near = EchoTestSignals.toInt16((0..<count).map { echo[$0] + noise[$0] })
            let canceller = EchoCanceller(bulkDelay: .estimated(maximumMilliseconds: 200))
            let out = EchoTestSignals.run(canceller, far: EchoTestSignals.toInt16(farSignal), near: near)
            var worst = 99.0
            for start in stride(from: 3 * 8000, to: count, by: 4000) {
                let range = start..<(start + 4000)
                let erle = Level.dBm0(meanSquare: EchoTestSignals.power(echo[range]))
                    - Level.dBm0(meanSquare: EchoTestSignals.power(out[range]))
                worst = min(worst, erle)
            }
            print(String(format: "steady %.0f Hz, %d ms: worst half-second ERLE after 3 s: %.1f dB", farHz, delay, worst))
            XCTAssertGreaterThanOrEqual(worst, 30, "\(farHz) Hz, \(delay) ms")
        }
    }

    /// The simulated hybrid of the daemon (`hybrid 1 30 10`: 30 ms bulk
    /// delay, 10 dB loss): 3 s of the far end alone, then both for 5 s.
    /// During single talk the echo is cancelled by at least 30 dB; during
    /// double talk the near end's tone passes within 0.5 dB and the far
    /// end's echo stays at least 25 dB down.
    func testWithAHybridNearEndPassesAndEchoStaysCancelled() {
        let count = 8 * 8000
        for (nearHz, farHz) in pairs {
            let farSignal = tone(farHz, dBm0: -10, count: count)
            let echo = EchoTestSignals.echo(of: farSignal, bulkDelayMilliseconds: 30)
            let noise = EchoTestSignals.noise(count: count, dBm0: -70, seed: 3)
            let nearVoice = tone(nearHz, dBm0: -10, count: count, from: 3 * 8000)
            let near = EchoTestSignals.toInt16((0..<count).map { echo[$0] + noise[$0] + nearVoice[$0] })
            let canceller = EchoCanceller(bulkDelay: .estimated(maximumMilliseconds: 200))
            let out = EchoTestSignals.run(canceller, far: EchoTestSignals.toInt16(farSignal), near: near)

            let single = (2 * 8000)..<(3 * 8000)
            let echoLevel = Level.dBm0(meanSquare: EchoTestSignals.power(echo[single]))
            let residual = Level.dBm0(meanSquare: EchoTestSignals.power(out[single]))
            print(String(format: "hybrid, far %.0f Hz: single talk ERLE %.1f dB; ", farHz, echoLevel - residual), terminator: "")
            XCTAssertGreaterThanOrEqual(echoLevel - residual, 30, "far \(farHz) Hz")
            // The canceller's own figure (`hear` shows it) agrees, from its
            // last half second of single talk.
            let reported = canceller.echoReturnLossEnhancementDB ?? 0
            XCTAssertGreaterThanOrEqual(reported, 30, "far \(farHz) Hz")
            XCTAssertLessThanOrEqual(reported, echoLevel - residual + 12, "far \(farHz) Hz")

            let both = (3 * 8000 + 400)..<count
            let nearLevel = amplitudeDB(out, nearHz, both)
            let farLeft = amplitudeDB(out, farHz, both)
            let echoTone = amplitudeDB(EchoTestSignals.toInt16(echo), farHz, both)
            print(String(format: "double talk: near %.0f Hz at %.2f dBm0, echo %.1f dB down", nearHz, nearLevel, echoTone - farLeft))
            XCTAssertEqual(nearLevel, -10, accuracy: 0.5, "near \(nearHz) Hz")
            XCTAssertGreaterThanOrEqual(echoTone - farLeft, 25, "far \(farHz) Hz")
        }
    }

    /// A call's start, as two atads see it: first the far end speaks and
    /// the filter learns the echo. Then the handset speaks, and the far
    /// end, whose own canceller is still learning, sends part of that
    /// voice back (at 80 ms and −6 dB, −10 dB and 0 dB): the quiet moments
    /// of the voice pass the double-talk test, and a filter may learn to
    /// predict the voice from its returning copy. Such a filter must not
    /// reach the foreground: while both then talk (tones 500 and 1000 Hz)
    /// the far end's echo must stay cancelled. Before the adoption rule
    /// asked for 10 dB of cancellation over five frames, the foreground
    /// took that filter, made every double-talk frame louder, and was
    /// bypassed: the whole echo went out.
    func testTheFarEndReturningTheHandsetsVoiceTeachesNothing() {
        for returnGain in [0.5, 0.3, 1.0] {
            let canceller = EchoCanceller(bulkDelay: .estimated(maximumMilliseconds: 200))
            let learn = 3 * 8000, talk = 3 * 8000, both = 2 * 8000
            let farVoice = EchoTestSignals.speechLike(seconds: 3, dBm0: -15, seed: 21)
            let nearVoice = EchoTestSignals.speechLike(seconds: 3, dBm0: -15, seed: 22)
            var far = farVoice
            for i in 0..<talk { far.append(i >= 640 ? returnGain * nearVoice[i - 640] : 0) }
            far += tone(500, dBm0: -10, count: both)
            var near = [Double](repeating: 0, count: learn) + nearVoice + tone(1000, dBm0: -10, count: both)
            let echo = EchoTestSignals.echo(of: far, bulkDelayMilliseconds: 30)
            for i in 0..<near.count { near[i] += echo[i] }
            let out = EchoTestSignals.run(canceller, far: EchoTestSignals.toInt16(far),
                                          near: EchoTestSignals.toInt16(near))
            let measured = (learn + talk + 8000)..<(learn + talk + both)
            let nearTone = tone(1000, dBm0: -10, count: learn + talk + both, from: learn + talk)
            let echoLevel = Level.dBm0(meanSquare: EchoTestSignals.power(echo[measured]))
            let left = deviation(out, from: nearTone, measured)
            print(String(format: "Voice returned at %.1f: echo %.1f dBm0, left while both talk %.1f dBm0, %d adoptions",
                         returnGain, echoLevel, left, canceller.adoptedFilters))
            XCTAssertLessThanOrEqual(left, echoLevel - 25, "voice returned at \(returnGain)")
        }
    }
}
