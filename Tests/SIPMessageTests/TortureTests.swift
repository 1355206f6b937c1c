import Foundation
import SIPMessage
import XCTest

/// Every RFC 4475 message, through the parser and the UAS validation step, over UDP.
///
/// The UAS profile here accepts INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER and
/// MESSAGE, SDP/multipart/text bodies, and no extensions, so that each message
/// reaches the check the RFC is about. Left to layers above this one:
/// - badbranch: transaction matching (RFC 2543 fallback) is the transaction layer's.
/// - unksm2: only a registrar answers 400 for a non-SIP To; as a UA it parses fine.
/// - regaut01: 401/405 depends on the registrar role (the ATA profile gives 405, tested below).
/// - sdp01: 406 from Accept negotiation belongs to the session layer.
/// - zeromf: Max-Forwards 0 matters to proxies only (483); a UA processes it.
/// - cparam01/02, regescrt: what a registrar stores; the parse details are checked here.
/// - baddate: Date is not used by a UA, so it is ignored.
/// - lwsstart, trws: accepted liberally (extra/trailing SP in the request line).
final class TortureTests: XCTestCase {
    static let profile = SIPUASProfile(
        allowedMethods: [.invite, .ack, .bye, .cancel, .options, .register, .message],
        supportedExtensions: [],
        acceptedContentTypes: ["application/sdp", "multipart/mixed", "text/plain"])

    /// File → expected outcome: "request", "response", "drop" or a status code.
    static let expected: [String: String] = [
        // §3.1.1 valid
        "wsinv": "request", "intmeth": "501", "esc01": "request", "escnull": "request",
        "esc02": "501", "lwsdisp": "request", "longreq": "request", "dblreq": "request",
        "semiuri": "request", "transports": "request", "mpart01": "request",
        "unreason": "response", "noreason": "response",
        // §3.1.2 invalid
        "badinv01": "400", "clerr": "400", "ncl": "400", "scalar02": "400", "scalarlg": "drop",
        "quotbal": "400", "ltgtruri": "400", "lwsruri": "400", "lwsstart": "request",
        "trws": "request", "escruri": "400", "baddate": "request", "regbadct": "400",
        "badaspec": "400", "baddn": "400", "badvers": "505", "mismatch01": "400",
        "mismatch02": "501", "bigcode": "drop",
        // §3.2-3.4 semantic
        "badbranch": "request", "insuf": "400", "unkscm": "416", "novelsc": "416",
        "unksm2": "request", "bext01": "420", "invut": "415", "regaut01": "request",
        "multi01": "400", "mcl01": "400", "bcast": "drop", "zeromf": "request",
        "cparam01": "request", "cparam02": "request", "regescrt": "request",
        "sdp01": "request", "inv2543": "request",
    ]

    /// The fixtures are the RFC's exact bytes: a checkout that rewrote line ends or
    /// whitespace would make the other tests here test something else.
    func testFixturesMatchTheirChecksums() throws {
        XCTAssertEqual(try tortureFiles().count, 49)
        let dir = tortureDirectory()
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["sha256sum", "--check", "--quiet", "--strict", "SHA256SUMS"]
        check.currentDirectoryURL = dir
        try check.run()
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "sha256sum --check failed in \(dir.path)")
        let listed = try String(contentsOf: dir.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
            .split(separator: "\n").count
        XCTAssertEqual(listed, 49, "SHA256SUMS should list every message")
    }

    func testEveryTortureMessage() throws {
        let files = try tortureFiles()
        XCTAssertEqual(files.count, 49, "expected the 49 RFC 4475 messages")
        var table: [String] = []
        for (name, data) in files {
            let outcome = SIPParseOutcome.evaluate(data, framing: .datagram, uas: Self.profile)
            var line = "\(name) -> \(outcome.summary)"
            if let r = outcome.rejection { line += " \(r.reason)" }
            if case .drop(let why) = outcome { line += " (\(why))" }
            table.append(line)
            guard let want = Self.expected[name] else {
                XCTFail("\(name): no expectation for this file")
                continue
            }
            XCTAssertEqual(outcome.summary, want, name)
            if let r = outcome.rejection {
                // Every rejection can be answered: it serializes and re-parses as a response.
                let wire = r.response(toTag: "x1").serialize()
                let back = parse(wire)
                XCTAssertEqual(back?.statusCode, r.status, name)
                XCTAssertEqual(back?.count(of: .via), r.request.count(of: .via), name)
            }
            details(name, outcome)
        }
        print("torture results:\n  " + table.joined(separator: "\n  "))
    }

    func details(_ name: String, _ outcome: SIPParseOutcome) {
        let m = outcome.message
        switch name {
        case "wsinv":
            XCTAssertEqual(m?.maxForwards, 68)
            XCTAssertEqual(m?.cseq, CSeq(number: 9, method: .invite))
            XCTAssertEqual(m?.vias?.count, 3)
            XCTAssertEqual(m?.vias?[1].branch?.sipText, "z9hG4bK9ikj8")
            XCTAssertEqual(m?.vias?[2].branch?.sipText, "z9hG4bK30239")
            XCTAssertEqual(m?.to?.tag?.sipText, "1918181833n")
            XCTAssertEqual(m?.from?.tag?.sipText, "98asjd8")
            XCTAssertEqual(m?.from?.displayNameText, "J Rosenberg \\\"")
            XCTAssertEqual(m?.contacts?.first?.parameters.value("q")?.sipText, "0.33")
            XCTAssertEqual(m?.contacts?.first?.parameters.value("newparam")?.sipText, "newvalue")
            XCTAssertEqual(m?.contacts?.first?.displayNameText, "Quoted string \"\"")
            XCTAssertEqual(m?.text(of: .subject), "")
            XCTAssertEqual(m?.headers(named: "NewFangledHeader").count, 1)
            XCTAssertEqual(m?.body.count, 150)
        case "intmeth":
            XCTAssertEqual(outcome.rejection?.request.method, .other("!interesting-Method0123456789_*+`.%indeed'~"))
            XCTAssertTrue(outcome.rejection?.extraHeaders.contains { $0.name == "Allow" } ?? false)
            let uri = outcome.rejection?.request.requestURI
            XCTAssertEqual(uri?.userText, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
            XCTAssertEqual(uri?.password?.sipText, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        case "esc01":
            XCTAssertEqual(m?.requestURI?.userText, "sips:user@example.com")
            XCTAssertEqual(m?.to?.sipURI?.userText, "user")
            XCTAssertEqual(m?.from?.sipURI?.userText, "I have spaces")
            XCTAssertEqual(m?.contacts?.first?.sipURI?.userText, "caller")
        case "escnull":
            XCTAssertEqual(m?.to?.sipURI?.unescapedUser, Array("null-".utf8) + [0] + Array("-null".utf8))
            XCTAssertEqual(m?.contacts?.map { $0.sipURI?.unescapedUser ?? [] }, [[0], [0, 0]])
        case "esc02":
            let req = outcome.rejection?.request
            XCTAssertEqual(req?.values(of: .contact).count, 2)
            XCTAssertEqual(req?.method, .other("RE%47IST%45R"))
            XCTAssertTrue(outcome.rejection?.extraHeaders.contains { $0.name == "Allow" } ?? false)
        case "lwsdisp":
            XCTAssertEqual(m?.from?.displayNameText, "caller")
        case "longreq":
            XCTAssertEqual(m?.vias?.count, 34)
            XCTAssertEqual(m?.to?.sipURI?.port, 6000)
        case "dblreq":
            XCTAssertEqual(m?.method, .register)
            XCTAssertEqual(m?.body.count, 0)
        case "semiuri":
            XCTAssertEqual(m?.requestURI?.userText, "user;par=u@example.net")
            XCTAssertEqual(m?.requestURI?.hostText, "example.com")
            XCTAssertEqual(m?.values(of: .accept).count, 6)
        case "transports":
            XCTAssertEqual(m?.vias?.map { $0.transport.sipText }, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        case "mpart01":
            XCTAssertEqual(m?.body.count, 553)
            XCTAssertTrue(m?.body.contains(0) ?? false)
            XCTAssertEqual(m?.topVia?.hasRport, true)
            XCTAssertEqual(m?.topVia?.port, 5070)
        case "unreason":
            XCTAssertEqual(m?.statusCode, 200)
            XCTAssertEqual(m?.reasonPhrase?.sipText, "= 2**3 * 5**2 но сто девяносто девять - простое")
        case "noreason":
            XCTAssertEqual(m?.statusCode, 100)
            XCTAssertEqual(m?.reasonPhrase?.count, 0)
        case "insuf":
            XCTAssertEqual(outcome.rejection?.reason, "Bad Request - Missing From, To, Call-ID")
        case "bext01":
            let unsupported = outcome.rejection?.extraHeaders.first { $0.name == "Unsupported" }
            XCTAssertEqual(unsupported.map { String(decoding: $0.value, as: UTF8.self) },
                           "nothingSupportsThis, nothingSupportsThisEither")
        case "invut":
            XCTAssertTrue(outcome.rejection?.extraHeaders.contains { $0.name == "Accept" } ?? false)
        case "unksm2":
            XCTAssertEqual(m?.to?.scheme?.sipText, "isbn")
            XCTAssertNil(m?.to?.sipURI)
        case "regaut01":
            let auth = m?.authParams(.authorization)?.first
            XCTAssertEqual(auth?.scheme.sipText, "NoOneKnowsThisScheme")
            XCTAssertEqual(auth?.text("opaque-data"), "here")
        case "cparam01":
            let c = m?.contacts?.first
            XCTAssertTrue(c?.parameters.contains("unknownparam") ?? false)
            XCTAssertEqual(c?.sipURI?.parameters.isEmpty, true)
        case "cparam02":
            let c = m?.contacts?.first
            XCTAssertFalse(c?.parameters.contains("unknownparam") ?? true)
            XCTAssertTrue(c?.sipURI?.parameters.contains("unknownparam") ?? false)
        case "regescrt":
            let fields = m?.contacts?.first?.sipURI?.headerFields
            XCTAssertEqual(fields?.first.map { String(decoding: $0.name, as: UTF8.self) }, "Route")
            XCTAssertEqual(fields?.first.map { String(decoding: $0.value, as: UTF8.self) }, "<sip:sip.example.com>")
        case "inv2543":
            XCTAssertNil(m?.maxForwards)
            XCTAssertEqual(m?.body.count, 105)
            XCTAssertNil(m?.topVia?.branch)
        case "zeromf":
            XCTAssertEqual(m?.maxForwards, 0)
        case "badbranch":
            XCTAssertEqual(m?.topVia?.hasRFC3261Branch, true)
            XCTAssertEqual(m?.topVia?.branch?.count, 7)
        default:
            break
        }
    }

    func testStreamFraming() throws {
        let files = Dictionary(uniqueKeysWithValues: try tortureFiles().map { ($0.name, $0.bytes) })
        let p = Self.profile
        // clerr: over TCP wait for more bytes.
        XCTAssertEqual(SIPParseOutcome.evaluate(files["clerr"]!, framing: .stream, uas: p).summary, "more")
        // ncl and mcl01: error, then close the connection.
        for name in ["ncl", "mcl01"] {
            let r = SIPParseOutcome.evaluate(files[name]!, framing: .stream, uas: p).rejection
            XCTAssertEqual(r?.status, 400, name)
            XCTAssertEqual(r?.closeConnection, true, name)
        }
        // inv2543 has no Content-Length: mandatory on streams.
        XCTAssertEqual(SIPParseOutcome.evaluate(files["inv2543"]!, framing: .stream, uas: p).rejection?.reason,
                       "Bad Request - Content-Length Required On Stream Transports")
        // dblreq: on a stream the trailing octets are the next message.
        let data = files["dblreq"]!
        let first = try SIPParser().parse(data, framing: .stream)
        XCTAssertEqual(first.method, .register)
        let rest = Array(data[first.frameLength...])
        let second = SIPParseOutcome.evaluate(rest, framing: .stream, uas: p)
        XCTAssertTrue(["request", "more"].contains(second.summary), second.summary)
        // baddn has no empty line: a stream waits.
        XCTAssertEqual(SIPParseOutcome.evaluate(files["baddn"]!, framing: .stream, uas: p).summary, "more")
    }

    func testATAProfileAnswersRegister405() throws {
        let files = Dictionary(uniqueKeysWithValues: try tortureFiles().map { ($0.name, $0.bytes) })
        let r = SIPParseOutcome.evaluate(files["regaut01"]!, framing: .datagram).rejection
        XCTAssertEqual(r?.status, 405)
        XCTAssertEqual(r?.extraHeaders.first?.name, "Allow")
        // mpart01's multipart body is not something the ATA accepts: 415.
        XCTAssertEqual(SIPParseOutcome.evaluate(files["mpart01"]!, framing: .datagram).summary, "415")
    }
}
