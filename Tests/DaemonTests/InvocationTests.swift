@testable import Daemon
import XCTest

final class InvocationTests: XCTestCase {
    func testCommands() throws {
        XCTAssertEqual(try Invocation.parse(["--version"]), .version)
        XCTAssertEqual(try Invocation.parse([]), .help(topic: nil))
        XCTAssertEqual(try Invocation.parse(["help", "ctl"]), .help(topic: "ctl"))
        XCTAssertEqual(try Invocation.parse(["run", "--config", "a.conf", "--syslog"]),
                       .run(config: "a.conf", syslog: true, logLevel: nil))
        XCTAssertEqual(try Invocation.parse(["check-config", "a", "b"]), .checkConfig(files: ["a", "b"]))
        XCTAssertEqual(try Invocation.parse(["ctl", "--socket", "/s", "hook", "1", "off"]),
                       .ctl(socket: "/s", config: nil, words: ["hook", "1", "off"]))
        XCTAssertEqual(try Invocation.parse(["safe", "--config", "/etc/atad/atad.conf"]),
                       .safe(config: "/etc/atad/atad.conf"))
        XCTAssertEqual(try Invocation.parse(["safe", "-c", "a.conf"]), .safe(config: "a.conf"))
        XCTAssertEqual(try Invocation.parse(["safe", "--help"]), .help(topic: "safe"))
    }

    func testUsageErrors() {
        let bad: [([String], String)] = [
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["--frob"], "unknown option '--frob'"),
            (["run"], "run needs --config FILE"),
            (["run", "--config"], "--config needs a FILE"),
            (["run", "--config", "x", "--log-level", "loud"], "invalid log level 'loud': expected error, warn, info or debug"),
            (["check-config"], "check-config needs a FILE"),
            (["ctl"], "ctl needs a COMMAND"),
            (["ctl", "--bogus", "status"], "unknown option '--bogus'"),
            (["help", "nothing"], "no such command 'nothing'"),
            (["safe"], "safe needs --config FILE"),
            (["safe", "--config"], "--config needs a FILE"),
            (["safe", "--config", "a.conf", "--now"], "unknown option '--now'"),
        ]
        for (arguments, message) in bad {
            XCTAssertThrowsError(try Invocation.parse(arguments), "\(arguments)") { error in
                XCTAssertEqual((error as? Invocation.UsageError)?.message, message)
            }
        }
    }
}
