import SIPDigest
import XCTest

/// The worked examples of RFC 2617 §3.5 and RFC 7616 §3.9, end to end:
/// challenge text in, Authorization value out.
final class RFCExampleTests: XCTestCase {
    func answer(_ challengeText: String, username: String, password: String,
                method: String = "GET", uri: String, qop: DigestQop?, nc: UInt32 = 1,
                cnonce: String) throws -> DigestAuthorization {
        let challenge = try DigestChallenge.parse(challengeText)
        return DigestAuthorization.compute(challenge: challenge, username: username,
                                           password: password, method: method, uri: uri,
                                           qop: qop, nonceCount: nc, cnonce: cnonce)
    }

    func testRFC2617Section3_5() throws {
        let challenge = """
            Digest
                realm="testrealm@host.com",
                qop="auth,auth-int",
                nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                opaque="5ccc069c403ebaf9f0171e9517f40e41"
            """
        let result = try answer(challenge, username: "Mufasa", password: "Circle Of Life",
                                uri: "/dir/index.html", qop: .auth, cnonce: "0a4f113b")
        XCTAssertEqual(result.response, "6629fae49393a05397450978507c4ef1")
        XCTAssertEqual(result.headerValue,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
            + "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
            + "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", "
            + "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001")
    }

    static let rfc7616Challenge = """
        Digest
            realm="http-auth@example.org",
            qop="auth, auth-int",
            algorithm=%@,
            nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        """

    func testRFC7616Section3_9_1MD5() throws {
        let result = try answer(Self.rfc7616Challenge.replacingOccurrences(of: "%@", with: "MD5"),
                                username: "Mufasa", password: "Circle of Life",
                                uri: "/dir/index.html", qop: .auth,
                                cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        XCTAssertEqual(result.response, "8ca523f5e9506fed4657c9700eebdbec")
        XCTAssertEqual(result.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    }

    func testRFC7616Section3_9_1SHA256() throws {
        let result = try answer(Self.rfc7616Challenge.replacingOccurrences(of: "%@", with: "SHA-256"),
                                username: "Mufasa", password: "Circle of Life",
                                uri: "/dir/index.html", qop: .auth,
                                cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        XCTAssertEqual(result.response,
                       "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        XCTAssertTrue(result.headerValue.contains(", algorithm=SHA-256, "))
    }

    /// RFC 7616 §3.9.2 (SHA-512-256, charset, userhash). The printed username
    /// hash and response in the RFC do not follow from its own inputs
    /// (erratum 4897, "Reported"); these values were computed with Python's
    /// hashlib from the stated inputs:
    ///   sha512_256("J\u{e4}s\u{f8}n Doe:api@example.org") = 793263ca...
    ///   response = 3798d413...
    func testRFC7616Section3_9_2UserhashSHA512_256() throws {
        let challenge = """
            Digest
                realm="api@example.org",
                qop="auth",
                algorithm=SHA-512-256,
                nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
                opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
                charset=UTF-8,
                userhash=true
            """
        let result = try answer(challenge, username: "J\u{e4}s\u{f8}n Doe", password: "Secret, or not?",
                                uri: "/doe.json", qop: .auth,
                                cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v")
        XCTAssertEqual(result.username, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b")
        XCTAssertEqual(result.response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5")
        XCTAssertTrue(result.headerValue.hasSuffix(", qop=auth, nc=00000001, userhash=true"))
        XCTAssertTrue(result.headerValue.contains("algorithm=SHA-512-256,"))
    }

    /// Without userhash, a non-ASCII username under charset=UTF-8 goes out as
    /// RFC 7616 `username*` (RFC 8187 encoding).
    func testExtendedUsername() throws {
        let result = try answer("Digest realm=\"r\", nonce=\"n\", qop=auth, charset=UTF-8",
                                username: "J\u{e4}s\u{f8}n Doe", password: "p",
                                uri: "/", qop: .auth, cnonce: "c")
        XCTAssertTrue(result.headerValue.hasPrefix("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\""),
                      result.headerValue)
    }

    /// RFC 2069 compatibility: no qop → response = H(HA1:nonce:HA2), and
    /// neither cnonce nor nc is sent.
    func testNoQop() throws {
        // Python: HA1=md5("2001:asterisk:hunter2"), HA2=md5("REGISTER:sip:pbx.example.net"),
        // md5(HA1 + ":1a2b3c4d5e6f:" + HA2) = af6cb103fde06d5742680fdbae4398f2
        let result = try answer("Digest realm=\"asterisk\", nonce=\"1a2b3c4d5e6f\"",
                                username: "2001", password: "hunter2", method: "REGISTER",
                                uri: "sip:pbx.example.net", qop: nil, cnonce: "unused")
        XCTAssertEqual(result.response, "af6cb103fde06d5742680fdbae4398f2")
        XCTAssertEqual(result.headerValue,
            "Digest username=\"2001\", realm=\"asterisk\", nonce=\"1a2b3c4d5e6f\", "
            + "uri=\"sip:pbx.example.net\", response=\"af6cb103fde06d5742680fdbae4398f2\", algorithm=MD5")
    }

    func testQuotedValuesAreEscaped() throws {
        let result = try answer(#"Digest realm="a\"b\\c", nonce="n", qop="auth""#,
                                username: "x\"y", password: "p", uri: "sip:a@b", qop: .auth, cnonce: "c")
        XCTAssertEqual(result.realm, "a\"b\\c")
        XCTAssertTrue(result.headerValue.hasPrefix(#"Digest username="x\"y", realm="a\"b\\c", "#),
                      result.headerValue)
    }
}
