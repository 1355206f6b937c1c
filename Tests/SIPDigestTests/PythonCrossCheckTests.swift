import Foundation
import SIPDigest
import XCTest

/// Every algorithm × qop combination against an independent implementation:
/// Python's hashlib, run as a subprocess. Skipped when python3 is missing.
final class PythonCrossCheckTests: XCTestCase {
    static let script = #"""
import hashlib, sys
def H(alg, data): return hashlib.new(alg, data).hexdigest()
for line in sys.stdin.read().splitlines():
    alg, sess, qop, user, realm, pw, method, uri, nonce, nc, cnonce, body = line.split("\t")
    e = lambda s: s.encode()
    body = bytes.fromhex(body).decode()
    ha1 = H(alg, e(f"{user}:{realm}:{pw}"))
    if sess == "1": ha1 = H(alg, e(f"{ha1}:{nonce}:{cnonce}"))
    a2 = f"{method}:{uri}" if qop != "auth-int" else f"{method}:{uri}:{H(alg, e(body))}"
    ha2 = H(alg, e(a2))
    if qop == "-": print(H(alg, e(f"{ha1}:{nonce}:{ha2}")))
    else: print(H(alg, e(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")))
"""#

    func python(_ input: String) throws -> [String] {
        guard let path = ["/usr/bin/python3", "/usr/local/bin/python3"]
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("python3 not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-c", Self.script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func testMatrixAgainstHashlib() throws {
        let algorithms: [(DigestAlgorithm, String)] = [
            (.md5, "md5"), (.md5Session, "md5"), (.sha256, "sha256"), (.sha256Session, "sha256"),
            (.sha512_256, "sha512_256"), (.sha512_256Session, "sha512_256"),
        ]
        let qops: [DigestQop?] = [nil, .auth, .authInt]
        let body = "v=0\r\no=alice 2890844526 2890844526 IN IP4 host.example.com\r\ns=-\r\n"
        var lines: [String] = []
        var ours: [String] = []
        for (algorithm, pythonName) in algorithms {
            for qop in qops where !(algorithm.isSession && qop == nil) {
                for nc: UInt32 in [1, 0x2a] {
                    let challenge = DigestChallenge(
                        realm: "sip.example.com", nonce: "a84b4c76cc7f4dd6", algorithm: algorithm,
                        algorithmGiven: true, qop: DigestQopOptions(auth: true, authInt: true))
                    let answer = DigestAuthorization.compute(
                        challenge: challenge, username: "bob", password: "zanzibar",
                        method: "INVITE", uri: "sip:bob@biloxi.example.com", body: Array(body.utf8),
                        qop: qop, nonceCount: nc, cnonce: "0a4f113b")
                    ours.append(answer.response)
                    let ncText = nc == 1 ? "00000001" : "0000002a"
                    let bodyHex = body.utf8.map { String(format: "%02x", $0) }.joined()
                    lines.append([pythonName, algorithm.isSession ? "1" : "0", qop?.token ?? "-",
                                  "bob", "sip.example.com", "zanzibar", "INVITE",
                                  "sip:bob@biloxi.example.com", "a84b4c76cc7f4dd6", ncText, "0a4f113b",
                                  bodyHex].joined(separator: "\t"))
                }
            }
        }
        XCTAssertEqual(ours.count, 30)
        let expected = try python(lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(expected, ours)
    }
}
