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
            report.append("\(gainDB >= 0 ? "+" : "")\(Int(gainDB)) dB: \(digits.count) digits (\(detector.rejectedForFrequency) more stopped by the frequency check)")
        }
        print("DTMF talk-off: \(String(format: "%.1f", seconds)) s of speech at \(String(format: "%.1f", Level.dBm0(meanSquare: power))) dBm0 mean; " + report.joined(separator: "; "))
    }
}
