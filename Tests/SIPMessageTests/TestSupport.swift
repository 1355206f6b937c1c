import Foundation
import SIPMessage
import XCTest

/// The RFC 4475 messages are fixtures in this test target (Fixtures/sip-torture),
/// found next to this source file so that a plain clone of the repository runs them.
func tortureDirectory() -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // SIPMessageTests
        .appendingPathComponent("Fixtures/sip-torture")
}

func tortureFiles() throws -> [(name: String, bytes: [UInt8])] {
    let dir = tortureDirectory()
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
        XCTFail("torture folder missing: \(dir.path)")
        throw CocoaError(.fileNoSuchFile)
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        .filter { $0.hasSuffix(".dat") }.sorted()
    return try names.map { name in
        (String(name.dropLast(4)), [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))))
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Lines joined with CRLF, plus the empty line that ends the headers.
func message(_ lines: [String], body: String = "") -> [UInt8] {
    bytes(lines.joined(separator: "\r\n") + "\r\n\r\n" + body)
}

func parse(_ b: [UInt8], _ framing: SIPFraming = .datagram) -> SIPMessage? {
    try? SIPParser().parse(b, framing: framing)
}

let baseRequest = [
    "OPTIONS sip:alice@example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc",
    "To: <sip:alice@example.com>",
    "From: \"Bob\" <sip:bob@example.com>;tag=1928",
    "Call-ID: a84b4c76e66710@pc33",
    "CSeq: 314159 OPTIONS",
    "Max-Forwards: 70",
]

extension SIPParseOutcome {
    var summary: String {
        switch self {
        case .request: return "request"
        case .response: return "response"
        case .reject(let r): return "\(r.status)"
        case .drop: return "drop"
        case .needMoreData: return "more"
        }
    }

    var rejection: SIPRejection? {
        if case .reject(let r) = self { return r }
        return nil
    }

    var message: SIPMessage? {
        switch self {
        case .request(let m), .response(let m): return m
        default: return nil
        }
    }
}
