import SIPDigest
import XCTest

/// Challenge header values → parsed challenge or typed refusal.
final class ChallengeParseTests: XCTestCase {
    func parsed(_ text: String, line: UInt = #line) -> DigestChallenge? {
        do {
            return try DigestChallenge.parse(text)
        } catch {
            XCTFail("\(text): \(error.text)", line: line)
            return nil
        }
    }

    func testVariants() {
        let table: [(text: String, check: (DigestChallenge) -> Bool, line: UInt)] = [
            // Minimal, defaults.
            (#"Digest realm="a", nonce="b""#,
             { $0.realm == "a" && $0.nonce == "b" && $0.algorithm == .md5 && !$0.algorithmGiven
               && $0.qop.isEmpty && !$0.stale && $0.opaque == nil }, #line),
            // Scheme and parameter names ignore case; spacing around "=" and commas.
            (#"DIGEST REALM = "a" ,NONCE= "b",,  Opaque ="o""#,
             { $0.realm == "a" && $0.nonce == "b" && $0.opaque == "o" }, #line),
            // Folded over lines, tabs.
            ("Digest\r\n realm=\"a\",\r\n\tnonce=\"b\"",
             { $0.realm == "a" && $0.nonce == "b" }, #line),
            // Unquoted tokens, base64 nonce unquoted.
            ("Digest realm=asterisk, nonce=AbC+/9==, algorithm=md5",
             { $0.realm == "asterisk" && $0.nonce == "AbC+/9==" && $0.algorithm == .md5 && $0.algorithmGiven }, #line),
            // Every algorithm, any case.
            ("Digest realm=r, nonce=n, algorithm=MD5-sess, qop=auth", { $0.algorithm == .md5Session }, #line),
            ("Digest realm=r, nonce=n, algorithm=sha-256", { $0.algorithm == .sha256 }, #line),
            ("Digest realm=r, nonce=n, algorithm=SHA-256-sess, qop=auth", { $0.algorithm == .sha256Session }, #line),
            ("Digest realm=r, nonce=n, algorithm=SHA-512-256", { $0.algorithm == .sha512_256 }, #line),
            ("Digest realm=r, nonce=n, algorithm=\"SHA-512-256-SESS\", qop=auth",
             { $0.algorithm == .sha512_256Session }, #line),
            // qop lists.
            (#"Digest realm=r, nonce=n, qop="auth,auth-int""#, { $0.qop.auth && $0.qop.authInt }, #line),
            (#"Digest realm=r, nonce=n, qop=" auth-int , AUTH ""#, { $0.qop.auth && $0.qop.authInt }, #line),
            (#"Digest realm=r, nonce=n, qop="auth-int""#, { !$0.qop.auth && $0.qop.authInt }, #line),
            (#"Digest realm=r, nonce=n, qop="auth-conf, auth""#, { $0.qop.auth && !$0.qop.authInt }, #line),
            ("Digest realm=r, nonce=n, qop=auth", { $0.qop.auth }, #line),
            // stale.
            ("Digest realm=r, nonce=n, stale=TRUE", { $0.stale }, #line),
            ("Digest realm=r, nonce=n, stale=true", { $0.stale }, #line),
            (#"Digest realm=r, nonce=n, stale="true""#, { $0.stale }, #line),
            ("Digest realm=r, nonce=n, stale=false", { !$0.stale }, #line),
            ("Digest realm=r, nonce=n, stale=maybe", { !$0.stale }, #line),
            // domain, userhash, charset, unknown parameters.
            (#"Digest realm=r, nonce=n, domain="sip:a.example  sip:b.example""#,
             { $0.domain == ["sip:a.example", "sip:b.example"] }, #line),
            ("Digest realm=r, nonce=n, userhash=true, charset=utf-8", { $0.userhash && $0.charsetUTF8 }, #line),
            (#"Digest future="x, y", realm=r, nonce=n, x-vendor=1"#, { $0.realm == "r" }, #line),
            // Backslash escapes inside quoted strings; empty realm is allowed.
            (#"Digest realm="say \"hi\" \\ bye", nonce="n\,""#,
             { $0.realm == #"say "hi" \ bye"# && $0.nonce == "n," }, #line),
            (#"Digest realm="", nonce="n""#, { $0.realm == "" }, #line),
            // UTF-8 in quoted strings passes through.
            ("Digest realm=\"caf\u{e9}\", nonce=n", { $0.realm == "caf\u{e9}" }, #line),
            // Another scheme first, in the same header value.
            (#"Basic realm="b", Digest realm="d", nonce="n""#, { $0.realm == "d" }, #line),
            ("Negotiate, Digest realm=d, nonce=n", { $0.realm == "d" }, #line),
            ("Basic dXNlcjpwYXNz==, Digest realm=d, nonce=n", { $0.realm == "d" }, #line),
            // Leading commas and spaces.
            (" , Digest realm=d, nonce=n , ", { $0.realm == "d" }, #line),
        ]
        for item in table {
            guard let challenge = parsed(item.text, line: item.line) else { continue }
            XCTAssertTrue(item.check(challenge), "\(item.text) → \(challenge)", line: item.line)
        }
    }

    func testRefusals() {
        let table: [(text: String, error: DigestChallengeError, line: UInt)] = [
            ("", .empty, #line),
            ("  ,  ", .empty, #line),
            (#"Basic realm="x""#, .unsupportedScheme("Basic"), #line),
            ("Bearer", .unsupportedScheme("Bearer"), #line),
            ("Negotiate abc==", .unsupportedScheme("Negotiate"), #line),
            (#"Digest nonce="n""#, .missingRealm, #line),
            (#"Digest realm="r""#, .missingNonce, #line),
            ("Digest", .missingRealm, #line),
            (#"Digest realm="r", nonce="n", realm="s""#, .duplicateParameter("realm"), #line),
            (#"Digest realm="r", nonce="n", NONCE="m""#, .duplicateParameter("nonce"), #line),
            ("Digest realm=r, nonce=n, algorithm=SHA-1", .unsupportedAlgorithm("SHA-1"), #line),
            ("Digest realm=r, nonce=n, algorithm=AKAv1-MD5", .unsupportedAlgorithm("AKAv1-MD5"), #line),
            (#"Digest realm=r, nonce=n, qop="auth-conf""#, .unsupportedQop("auth-conf"), #line),
            ("Digest realm=r, nonce=n, algorithm=MD5-sess", .sessionAlgorithmWithoutQop, #line),
            (#"Digest realm="r, nonce=n"#, .malformed(offset: 24, expected: "closing quote"), #line),
            (#"Digest realm="r, nonce="n""#, .malformed(offset: 24, expected: "comma"), #line),
            (#"Digest realm="r\"#, .malformed(offset: 16, expected: "character after backslash"), #line),
            ("Digest realm=, nonce=n", .malformed(offset: 13, expected: "value for realm"), #line),
            ("Digest realm nonce", .malformed(offset: 13, expected: "\"=\" after realm"), #line),
            (#"Digest realm="r" nonce="n""#, .malformed(offset: 17, expected: "comma"), #line),
            (#"Digest realm="r", "junk""#, .malformed(offset: 18, expected: "parameter name"), #line),
            (#"Digest="x""#, .malformed(offset: 6, expected: "space after authentication scheme"), #line),
            (#"realm="x""#, .malformed(offset: 5, expected: "space after authentication scheme"), #line),
            (#""Digest""#, .malformed(offset: 0, expected: "authentication scheme"), #line),
        ]
        for item in table {
            do {
                let challenge = try DigestChallenge.parse(item.text)
                XCTFail("\(item.text) parsed as \(challenge)", line: item.line)
            } catch {
                XCTAssertEqual(error, item.error, "\(item.text): \(error.text)", line: item.line)
                XCTAssertFalse(error.text.isEmpty, line: item.line)
            }
        }
    }

    func testParseEachReportsEveryChallenge() {
        let results = DigestChallenge.parseEach(
            #"Basic realm="b", Digest realm="d", nonce="n", algorithm=SHA-1, Digest realm="d", nonce="m""#)
        XCTAssertEqual(results, [
            .refused(.unsupportedScheme("Basic")),
            .refused(.unsupportedAlgorithm("SHA-1")),
            .parsed(DigestChallenge(realm: "d", nonce: "m")),
        ])
    }

    func testStrongestAcrossHeaderLines() throws {
        let lines = [
            #"Digest realm="r", nonce="n1", algorithm=MD5, qop="auth""#,
            #"Digest realm="r", nonce="n2", algorithm=SHA-512-256, qop="auth""#,
            #"Digest realm="r", nonce="n3", algorithm=SHA-256, qop="auth""#,
        ]
        XCTAssertEqual(try DigestChallenge.strongest(in: lines).nonce, "n2")
        XCTAssertEqual(try DigestChallenge.strongest(in: [lines[0], lines[2]]).nonce, "n3")
        XCTAssertEqual(try DigestChallenge.strongest(in: [lines[2], lines[0]]).nonce, "n3")
        // Equal strength: the first offered wins (-sess ranks with its hash).
        XCTAssertEqual(try DigestChallenge.strongest(in: [
            #"Digest realm="r", nonce="a", algorithm=SHA-256-sess, qop=auth"#,
            #"Digest realm="r", nonce="b", algorithm=SHA-256, qop=auth"#,
        ]).nonce, "a")
        // Unusable lines are skipped.
        XCTAssertEqual(try DigestChallenge.strongest(in: [
            "Digest realm=r, nonce=x, algorithm=SHA-3",
            #"Basic realm="r""#,
            "Digest realm=r, nonce=ok",
            #"Digest realm="broken"#,
        ]).nonce, "ok")
        // Nothing usable: the Digest problem beats the foreign scheme.
        XCTAssertThrowsError(try DigestChallenge.strongest(in: [
            #"Basic realm="r""#, "Digest realm=r, nonce=x, algorithm=SHA-3",
        ])) { error in
            XCTAssertEqual(error as? DigestChallengeError, .unsupportedAlgorithm("SHA-3"))
        }
        XCTAssertThrowsError(try DigestChallenge.strongest(in: [#"Basic realm="r""#])) { error in
            XCTAssertEqual(error as? DigestChallengeError, .unsupportedScheme("Basic"))
        }
        XCTAssertThrowsError(try DigestChallenge.strongest(in: [])) { error in
            XCTAssertEqual(error as? DigestChallengeError, .empty)
        }
    }

    /// Truncations and byte flips of a full challenge never trap, and every
    /// value yields at least one result.
    func testMangledInputNeverTraps() {
        let base = Array(#"Digest realm="r\"x", nonce="abc", qop="auth,auth-int", algorithm=SHA-256, opaque=o, stale=true"#.utf8)
        let specials: [UInt8] = Array(#"",=\ "#.utf8) + [0x09, 0x0D, 0x0A, 0x00, 0xFF, 0xC3]
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        for length in 0...base.count {
            XCTAssertFalse(DigestChallenge.parseEach(String(decoding: base[0..<length], as: UTF8.self)).isEmpty)
        }
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + next() % 4) {
                bytes[next() % bytes.count] = specials[next() % specials.count]
            }
            XCTAssertFalse(DigestChallenge.parseEach(String(decoding: bytes, as: UTF8.self)).isEmpty)
        }
    }
}
