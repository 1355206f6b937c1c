import Foundation
import XCTest
@testable import DSP

/// Talk-off: speech must never be taken for a DTMF digit. About 40 s of
/// synthetic speech (espeak-ng, several voices, languages and rates,
/// counting included) goes through the detector at its natural level and
/// 6 dB louder and softer.
final class DTMFTalkOffTests: XCTestCase {
    private static let passages: [(voice: String, speed: Int, text: String)] = [
        ("en-us", 160, "Hello, this is a test of the telephone adapter. Please call me back at five five five, "
            + "one two three four, any time after nine o'clock. Thank you, and have a wonderful evening."),
        ("en-gb", 175, "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, "
            + "while the weather forecast promises rain, sunshine and a little snow in the mountains."),
        ("en-us+f3", 150, "Zero, one, two, three, four, five, six, seven, eight, nine. Star, hash, pound. "
            + "Operator, I would like to place a collect call to my grandmother, please."),
        ("en-us+m7", 190, "Whistling while working, humming a tune; meet me at noon by the old mill, "
            + "we will eat, sing, and beep the horn twice when we arrive."),
        ("de", 160, "Guten Tag, hier spricht der automatische Anrufbeantworter. Bitte hinterlassen Sie "
            + "eine Nachricht nach dem Signalton. Eins, zwei, drei, vier, fünf, sechs, sieben."),
        ("fr", 165, "Bonjour, vous êtes bien chez nous. Laissez un message après le bip sonore, "
            + "nous vous rappellerons dès que possible. Un, deux, trois, quatre, cinq."),
        ("es", 170, "Buenos días, gracias por llamar. Marque uno para ventas, dos para soporte técnico, "
            + "o espere en la línea y un agente le atenderá en breve."),
        ("it", 160, "Pronto, chi parla? Sono Maria, ti chiamo per la cena di stasera: alle otto e mezza "
            + "al ristorante vicino alla stazione, va bene?"),
    ]

    private static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    private static func run(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "talkoff", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(path) \(arguments) failed"])
        }
    }

    /// Speech as 8 kHz mono 16-bit linear.
    private func speech() throws -> [Int16] {
        guard let espeak = Self.tool("espeak-ng") else {
            XCTFail("espeak-ng is not installed (Debian package espeak-ng; `make test-deps` installs it)")
            return []
        }
        guard let sox = Self.tool("sox") else {
            XCTFail("sox is not installed (Debian package sox; `make test-deps` installs it)")
            return []
        }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("atad-talkoff-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var samples: [Int16] = []
        for (index, passage) in Self.passages.enumerated() {
            let wav = dir.appendingPathComponent("p\(index).wav").path
            let raw = dir.appendingPathComponent("p\(index).raw").path
            try Self.run(espeak, ["-v", passage.voice, "-s", "\(passage.speed)", "-w", wav, passage.text])
            try Self.run(sox, [wav, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                               "--endian", "little", raw])
            let data = try Data(contentsOf: URL(fileURLWithPath: raw))
            data.withUnsafeBytes { bytes in
                for i in 0..<(bytes.count / 2) {
                    samples.append(Int16(littleEndian: bytes.load(fromByteOffset: 2 * i, as: Int16.self)))
                }
            }
        }
        return samples
    }

    func testSpeechDetectsNoDigits() throws {
        let speech = try speech()
        guard !speech.isEmpty else { return }
        let seconds = Double(speech.count) / Double(TestSignals.rate)
        XCTAssertGreaterThanOrEqual(seconds, 30, "need at least 30 s of speech")
        let power = speech.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(speech.count)
        var report: [String] = []
        for gainDB in [0.0, 6.0, -6.0] {
            let gain = pow(10.0, gainDB / 20)
            let scaled = speech.map { Int16(max(-32768, min(32767, (Double($0) * gain).rounded()))) }
            let detector = DTMFDetector()
            let digits = TestSignals.detect(detector, scaled)
            XCTAssertEqual(digits, "", "talk-off at \(gainDB) dB gain")
            report.append("\(gainDB >= 0 ? "+" : "")\(Int(gainDB)) dB: \(digits.count) digits (\(detector.rejectedAtConfirmation) runs of hits stopped by the confirming measurement, \(detector.rejectedForFrequency) of them for frequency)")
        }
        print("DTMF talk-off: \(String(format: "%.1f", seconds)) s of speech at \(String(format: "%.1f", Level.dBm0(meanSquare: power))) dBm0 mean; " + report.joined(separator: "; "))
    }

    /// Noise and music-like tones that are not DTMF: white noise at several
    /// levels, pairs of tones ~5 % off the DTMF grid (between its rows and
    /// columns), single DTMF tones, and three-note chords, one of which
    /// holds a real DTMF pair under an equally loud third note.
    func testNoiseAndNonDTMFTonesDetectNoDigits() {
        var random = SeededRandom(seed: 21)
        var found: [String] = []
        for level in [-30.0, -20.0, -10.0, 0.0] {
            let noise = (0..<(3 * TestSignals.rate)).map { _ -> Int16 in
                // Sum of four uniforms: near-Gaussian, σ = the level's RMS.
                let u = (0..<4).reduce(0.0) { sum, _ in sum + random.unit() - 0.5 } * 3.4641016 / 2
                let v = u * Level.meanSquare(dBm0: level).squareRoot()
                return Int16(max(-32768, min(32767, v.rounded())))
            }
            let digits = TestSignals.detect(DTMFDetector(), noise)
            if !digits.isEmpty { found.append("noise \(level) dBm0: \(digits)") }
        }
        // Between the rows and between the columns, ~5 % from each neighbour.
        let betweenRows = [733.0, 811.0, 896.0, 990.0]
        let betweenColumns = [1150.0, 1272.0, 1406.0, 1555.0, 1715.0]
        var pairs: [[Double]] = []
        for low in betweenRows { for high in betweenColumns { pairs.append([low, high]) } }
        for row in DTMFDigit.rowFrequencies { for high in betweenColumns { pairs.append([row, high]) } }
        for low in betweenRows { for column in DTMFDigit.columnFrequencies { pairs.append([low, column]) } }
        for f in DTMFDigit.rowFrequencies + DTMFDigit.columnFrequencies { pairs.append([f]) }
        // Chords: A major, C major, an E minor seventh, and 697 + 1209 Hz ("1") with 1000 Hz.
        pairs += [[440, 554.37, 659.26], [523.25, 659.26, 783.99, 1046.5], [659.26, 783.99, 987.77, 1174.66],
                  [697, 1000, 1209]]
        for level in [-20.0, -6.0] {
            for frequencies in pairs {
                let tone = TestSignals.sines(frequencies.map { ($0, level, random.phase()) }, count: 2400)
                let digits = TestSignals.detect(DTMFDetector(), TestSignals.silence(milliseconds: 20) + tone
                                                + TestSignals.silence(milliseconds: 100))
                if !digits.isEmpty { found.append("\(frequencies) at \(level) dBm0: \(digits)") }
            }
        }
        XCTAssertEqual(found, [])
    }
}
