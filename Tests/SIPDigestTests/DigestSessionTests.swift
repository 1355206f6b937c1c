import SIPDigest
import XCTest

/// The client across requests: SIP REGISTER, nonce counts, stale nonces,
/// refused passwords, proxies, several realms.
final class DigestSessionTests: XCTestCase {
    static let account = DigestCredentials(username: "2001", password: "hunter2")

    /// A session whose cnonces are "c1", "c2", ...
    func session(_ credentials: [DigestCredentials] = [account], preferAuthInt: Bool = false) -> DigestSession {
        var counter = 0
        return DigestSession(credentials: credentials, preferAuthInt: preferAuthInt, cnonce: {
            counter += 1
            return "c\(counter)"
        })
    }

    func value(_ header: String, _ name: String) -> String? {
        // Enough for our own output: `name=value` or `name="value"`, ", " between.
        for part in header.dropFirst("Digest ".count).components(separatedBy: ", ") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pieces.count == 2 && pieces[0] == name {
                return pieces[1].hasPrefix("\"") ? String(pieces[1].dropFirst().dropLast()) : pieces[1]
            }
        }
        return nil
    }

    /// A REGISTER answered the way Asterisk challenges it (MD5, qop=auth).
    /// Expected responses computed with Python hashlib:
    ///   HA1 = md5("2001:asterisk:hunter2"), HA2 = md5("REGISTER:sip:pbx.example.net")
    ///   md5(HA1:1a2b3c4d5e6f:00000001:0123456789abcdef:auth:HA2) = a51166072b5ee38af0e091b24f65446e
    ///   ... nc=00000002                                            = 1a196aa5aaf76b76956a7f667d79395b
    ///   SHA-256 with the same inputs, nc=00000001 = 69f36836df32144f7e0d4517259dc17efef13650e321eebcff7da56f98704027
    ///                                  nc=00000002 = 483bbd657b15f64a980c41cdabecb5af7fbe504f0c69a9577d99bed45dfc0e8d
    func testRegisterExample() {
        for (algorithm, first, second) in [
            ("MD5", "a51166072b5ee38af0e091b24f65446e", "1a196aa5aaf76b76956a7f667d79395b"),
            ("SHA-256", "69f36836df32144f7e0d4517259dc17efef13650e321eebcff7da56f98704027",
             "483bbd657b15f64a980c41cdabecb5af7fbe504f0c69a9577d99bed45dfc0e8d"),
        ] {
            var session = DigestSession(credentials: [Self.account], cnonce: { "0123456789abcdef" })
            XCTAssertEqual(session.authorize(method: "REGISTER", uri: "sip:pbx.example.net"), [])
            let outcome = session.receive(
                challenges: ["Digest algorithm=\(algorithm), realm=\"asterisk\", nonce=\"1a2b3c4d5e6f\", qop=\"auth\""],
                from: .server, sent: [])
            XCTAssertEqual(outcome, .retry)
            let headers = session.authorize(method: "REGISTER", uri: "sip:pbx.example.net")
            XCTAssertEqual(headers.count, 1)
            XCTAssertEqual(headers[0].name, "Authorization")
            XCTAssertEqual(headers[0].value,
                "Digest username=\"2001\", realm=\"asterisk\", nonce=\"1a2b3c4d5e6f\", "
                + "uri=\"sip:pbx.example.net\", response=\"\(first)\", algorithm=\(algorithm), "
                + "cnonce=\"0123456789abcdef\", qop=auth, nc=00000001")
            // The refresh reuses the nonce: nc goes up, same cnonce.
            let refresh = session.authorize(method: "REGISTER", uri: "sip:pbx.example.net")
            XCTAssertEqual(value(refresh[0].value, "nc"), "00000002")
            XCTAssertEqual(value(refresh[0].value, "response"), second)
        }
    }

    func testNonceCountIncrementsPerRequestAndRestartsWithNewNonce() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n1, qop=auth"], from: .server, sent: []), .retry)
        var counts: [String] = []
        var cnonces: Set<String> = []
        for _ in 0..<17 {
            let header = session.authorize(method: "INVITE", uri: "sip:bob@r")[0]
            counts.append(value(header.value, "nc")!)
            cnonces.insert(value(header.value, "cnonce")!)
        }
        XCTAssertEqual(counts.first, "00000001")
        XCTAssertEqual(counts[9], "0000000a")
        XCTAssertEqual(counts.last, "00000011")
        XCTAssertEqual(cnonces, ["c1"])
        // A challenge to a request sent without credentials, new nonce: start over.
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n2, qop=auth"], from: .server, sent: []), .retry)
        let header = session.authorize(method: "INVITE", uri: "sip:bob@r")[0]
        XCTAssertEqual(value(header.value, "nc"), "00000001")
        XCTAssertEqual(value(header.value, "nonce"), "n2")
        XCTAssertEqual(value(header.value, "cnonce"), "c2")
    }

    func testStaleNonceRetriesWithoutBlamingThePassword() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: [#"Digest realm="r", nonce="n1", qop="auth""#],
                                       from: .server, sent: []), .retry)
        let first = session.authorize(method: "REGISTER", uri: "sip:r")
        let second = session.authorize(method: "REGISTER", uri: "sip:r")
        // The nonce served twice, then aged out.
        XCTAssertEqual(session.receive(challenges: [#"Digest realm="r", nonce="n2", qop="auth", stale=TRUE"#],
                                       from: .server, sent: second), .retry)
        let third = session.authorize(method: "REGISTER", uri: "sip:r")
        XCTAssertEqual(value(third[0].value, "nonce"), "n2")
        XCTAssertEqual(value(third[0].value, "nc"), "00000001")
        XCTAssertNotEqual(value(third[0].value, "response"), value(first[0].value, "response"))
        // Without stale, the same answer means the password is wrong.
        XCTAssertEqual(session.receive(challenges: [#"Digest realm="r", nonce="n3", qop="auth""#],
                                       from: .server, sent: third), .rejected(realm: "r"))
        XCTAssertEqual(session.realms, [])
        XCTAssertEqual(session.authorize(method: "REGISTER", uri: "sip:r"), [])
    }

    func testRejectedWithTheSameNonce() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n, qop=auth"], from: .server, sent: []), .retry)
        let sent = session.authorize(method: "REGISTER", uri: "sip:r")
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n, qop=auth"], from: .server, sent: sent),
                       .rejected(realm: "r"))
        // After backing off, the user agent starts over from scratch.
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n, qop=auth"], from: .server, sent: []), .retry)
    }

    func testStaleLoops() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n0"], from: .server, sent: []), .retry)
        // stale=true naming the very nonce we used: the server is confused.
        var sent = session.authorize(method: "REGISTER", uri: "sip:r")
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n0, stale=true"], from: .server, sent: sent),
                       .staleLoop(realm: "r"))
        // Fresh nonces that are stale on first use: give up after the limit.
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=m0"], from: .server, sent: []), .retry)
        for round in 1...Int(DigestSession.maximumStaleRetries) {
            sent = session.authorize(method: "REGISTER", uri: "sip:r")
            XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=m\(round), stale=true"],
                                           from: .server, sent: sent), .retry, "round \(round)")
        }
        sent = session.authorize(method: "REGISTER", uri: "sip:r")
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=last, stale=true"], from: .server, sent: sent),
                       .staleLoop(realm: "r"))
    }

    func testStrongestChallengeIsAnswered() {
        var session = session()
        let outcome = session.receive(challenges: [
            #"Digest realm="r", nonce="md5", algorithm=MD5, qop="auth""#,
            #"Digest realm="r", nonce="sha512", algorithm=SHA-512-256, qop="auth""#,
            #"Digest realm="r", nonce="sha256", algorithm=SHA-256, qop="auth""#,
            #"Basic realm="r""#,
        ], from: .server, sent: [])
        XCTAssertEqual(outcome, .retry)
        let headers = session.authorize(method: "REGISTER", uri: "sip:r")
        XCTAssertEqual(headers.count, 1)
        XCTAssertEqual(value(headers[0].value, "algorithm"), "SHA-512-256")
        XCTAssertEqual(value(headers[0].value, "nonce"), "sha512")
        XCTAssertEqual(value(headers[0].value, "response")?.count, 64)
    }

    func testProxyAndServerRealmsAreKeptApart() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: [#"Digest realm="proxy", nonce="p", qop=auth, opaque="op""#],
                                       from: .proxy, sent: []), .retry)
        let afterProxy = session.authorize(method: "INVITE", uri: "sip:bob@example.net")
        XCTAssertEqual(afterProxy.map(\.name), ["Proxy-Authorization"])
        XCTAssertEqual(value(afterProxy[0].value, "opaque"), "op")
        XCTAssertEqual(session.receive(challenges: [#"Digest realm="server", nonce="s", qop=auth"#],
                                       from: .server, sent: afterProxy), .retry)
        let both = session.authorize(method: "INVITE", uri: "sip:bob@example.net")
        XCTAssertEqual(both.map(\.name), ["Proxy-Authorization", "Authorization"])
        XCTAssertEqual(both.map(\.nonceUse), [2, 1])
        XCTAssertEqual(session.realms, ["proxy", "server"])
    }

    func testCredentialsPerRealm() {
        var session = session([
            DigestCredentials(username: "alice", password: "a", realm: "one"),
            DigestCredentials(username: "any", password: "x"),
        ])
        XCTAssertEqual(session.receive(challenges: ["Digest realm=one, nonce=n, qop=auth",
                                                    "Digest realm=two, nonce=m, qop=auth"],
                                       from: .proxy, sent: []), .retry)
        let headers = session.authorize(method: "INVITE", uri: "sip:x")
        XCTAssertEqual(headers.map { value($0.value, "username") }, ["alice", "any"])

        var strict = self.session([DigestCredentials(username: "alice", password: "a", realm: "one")])
        XCTAssertEqual(strict.receive(challenges: ["Digest realm=other, nonce=n"], from: .server, sent: []),
                       .noCredentials(realm: "other"))
        // One realm answerable is enough to retry.
        XCTAssertEqual(strict.receive(challenges: ["Digest realm=other, nonce=n", "Digest realm=one, nonce=n"],
                                      from: .server, sent: []), .retry)
    }

    func testUnusableChallenges() {
        var session = session()
        XCTAssertEqual(session.receive(challenges: [#"Basic realm="r""#], from: .server, sent: []),
                       .unusable(.unsupportedScheme("Basic")))
        XCTAssertEqual(session.receive(challenges: ["Digest realm=r, nonce=n, algorithm=AKAv1-MD5"],
                                       from: .server, sent: []),
                       .unusable(.unsupportedAlgorithm("AKAv1-MD5")))
        XCTAssertEqual(session.receive(challenges: [], from: .server, sent: []), .unusable(.empty))
        XCTAssertEqual(session.realms, [])
    }

    /// auth-int hashes the body into HA2 (expected via the public pieces).
    func testAuthIntCoversTheBody() {
        let sdp = Array("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n".utf8)
        let challenge = #"Digest realm="r", nonce="n", qop="auth,auth-int", algorithm=SHA-256-sess"#
        var session = session(preferAuthInt: true)
        XCTAssertEqual(session.receive(challenges: [challenge], from: .server, sent: []), .retry)
        let header = session.authorize(method: "INVITE", uri: "sip:bob@r", body: sdp)[0].value
        XCTAssertEqual(value(header, "qop"), "auth-int")
        XCTAssertEqual(value(header, "algorithm"), "SHA-256-sess")
        let ha1 = Hash.hex(.sha256, joining: Hash.hex(.sha256, "2001:r:hunter2"), "n", "c1")
        let ha2 = Hash.hex(.sha256, joining: "INVITE", "sip:bob@r", Hash.hex(.sha256, bytes: sdp))
        XCTAssertEqual(value(header, "response"),
                       Hash.hex(.sha256, joining: ha1, "n", "00000001", "c1", "auth-int", ha2))

        // Without the preference, auth wins when both are offered...
        var plain = self.session()
        _ = plain.receive(challenges: [challenge], from: .server, sent: [])
        XCTAssertEqual(value(plain.authorize(method: "INVITE", uri: "sip:bob@r")[0].value, "qop"), "auth")
        // ...and auth-int is used when it is the only offer.
        var only = self.session()
        _ = only.receive(challenges: [#"Digest realm=r, nonce=n, qop="auth-int""#], from: .server, sent: [])
        XCTAssertEqual(value(only.authorize(method: "INVITE", uri: "sip:bob@r")[0].value, "qop"), "auth-int")
    }
}
