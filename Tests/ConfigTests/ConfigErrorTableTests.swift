@testable import Config
import XCTest

/// Each bad input and the exact lines `check-config` must print for it.
final class ConfigErrorTableTests: XCTestCase {
    private struct Case {
        var name: String
        var site: String
        var board: String = simBoard
        var expected: [String]
    }

    private let cases: [Case] = [
        Case(name: "misspelled key", site: """
            [general]
            board = board.conf
            contry = de
            """, expected: ["/c/site.conf:3: error: unknown key 'contry' in [general]; did you mean 'country'?"]),
        Case(name: "misspelled section", site: """
            [general]
            board = board.conf
            [sipp]
            listen_port = 5060
            """, expected: ["/c/site.conf:3: error: unknown section [sipp]; did you mean [sip]?"]),
        Case(name: "unknown country", site: """
            [general]
            board = board.conf
            country = xx
            """, expected: ["/c/site.conf:3: error: invalid value 'xx' for 'country': expected one of \(CountryPresetsList.joined)"]),
        Case(name: "voicemail URI that is not sip:", site: """
            [general]
            board = board.conf
            [account home]
            user = 1001
            domain = pbx.test
            mwi = subscribe
            voicemail_uri = tel:+15551234567
            """, expected: ["/c/site.conf:7: error: invalid value for 'voicemail_uri': 'tel:+15551234567' is not a sip: URI (e.g. sip:*97@pbx.example.net)"]),
        Case(name: "mwi mode misspelled", site: """
            [general]
            board = board.conf
            [account home]
            user = 1001
            domain = pbx.test
            mwi = subscribed
            """, expected: ["/c/site.conf:6: error: invalid value 'subscribed' for 'mwi': expected one of subscribe, unsolicited, off (did you mean 'subscribe'?)"]),
        Case(name: "port out of range", site: """
            [general]
            board = board.conf
            [sip]
            listen_port = 70000
            """, expected: ["/c/site.conf:4: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535"]),
        Case(name: "bad log level with suggestion", site: """
            [general]
            board = board.conf
            log_level = debgu
            """, expected: ["/c/site.conf:3: error: invalid value 'debgu' for 'log_level': expected one of error, warn, info, debug (did you mean 'debug'?)"]),
        Case(name: "duplicate key", site: """
            [general]
            board = board.conf
            country = us
            country = de
            """, expected: ["/c/site.conf:4: error: duplicate key 'country' in [general] (first set on line 3)"]),
        Case(name: "duplicate section", site: """
            [general]
            board = board.conf
            [general]
            """, expected: ["/c/site.conf:3: error: duplicate section [general] (first on line 1)"]),
        Case(name: "missing required key", site: """
            [general]
            country = us
            """, expected: ["/c/site.conf:1: error: missing required key 'board' in [general]"]),
        Case(name: "missing required section", site: """
            [sip]
            listen_port = 5060
            """, expected: ["/c/site.conf:1: error: missing required section [general]"]),
        Case(name: "key outside a section", site: """
            board = board.conf
            [general]
            board = board.conf
            """, expected: ["/c/site.conf:1: error: key 'board' is outside any section"]),
        Case(name: "not a key-value line", site: """
            [general]
            board = board.conf
            this line has no equals sign
            """, expected: ["/c/site.conf:3: error: expected 'key = value' or '[section]'"]),
        Case(name: "unterminated quote", site: """
            [general]
            board = "board.conf
            """, expected: ["/c/site.conf:1: error: missing required key 'board' in [general]",
                            "/c/site.conf:2: error: unterminated quoted value"]),
        Case(name: "line section without number", site: """
            [general]
            board = board.conf
            [line]
            """, expected: ["/c/site.conf:3: error: section [line] needs a number from 1 to 64, e.g. [line 1]"]),
        Case(name: "line section out of range", site: """
            [general]
            board = board.conf
            [line 99]
            """, expected: ["/c/site.conf:3: error: invalid section [line 99]: expected a number from 1 to 64"]),
        Case(name: "missing board file", site: """
            [general]
            board = nowhere.conf
            """, expected: ["/c/site.conf:2: error: cannot read board file '/c/nowhere.conf': No such file or directory"]),
        Case(name: "line names an unknown account", site: """
            [general]
            board = board.conf
            [account home]
            user = 1001
            domain = example.net
            [line 1]
            account = hom
            """, expected: ["/c/site.conf:7: error: line 1 names account 'hom', but there is no [account hom]; did you mean 'home'?"]),
        Case(name: "malformed dial plans point at line and column", site: """
            [general]
            board = board.conf
            [line 1]
            dial_plan = (911|[2-9xx)
            [line 2]
            dial_plan = "(9q1)"
            """, expected: ["/c/site.conf:4:18: error: invalid dial_plan: unclosed '['",
                            "/c/site.conf:6:16: error: invalid dial_plan: unexpected character 'q'"]),
        Case(name: "site line not on the board", site: """
            [general]
            board = board.conf
            [line 3]
            """, expected: ["/c/site.conf:3: error: [line 3] is not on the board (/c/board.conf has lines 1, 2)"]),
        Case(name: "errors in the board file name the board file", site: minimalSite, board: """
            [board]
            driver = gpoi
            [line 1]
            """, expected: ["/c/board.conf:2: error: invalid value 'gpoi' for 'driver': expected one of sim, gpio (did you mean 'gpio'?)"]),
        Case(name: "gpio board without its wiring", site: minimalSite, board: """
            [board]
            driver = gpio
            [line 1]
            hook_gpio = 17
            """, expected: [
                "/c/board.conf:1: error: missing required key 'gpio_chip' in [board] (needed by driver = gpio)",
                "/c/board.conf:3: error: missing required key 'ring_mode_gpio' in [line 1] (needed by driver = gpio)",
                "/c/board.conf:3: error: missing required key 'forward_reverse_gpio' in [line 1] (needed by driver = gpio)",
                "/c/board.conf:3: error: missing required key 'playback' in [line 1] (needed by driver = gpio)",
            ]),
        Case(name: "gpio line used twice", site: minimalSite, board: """
            [board]
            driver = gpio
            gpio_chip = gpiochip0
            [line 1]
            hook_gpio = 17
            ring_mode_gpio = 17
            forward_reverse_gpio = 22
            playback = default
            """, expected: ["/c/board.conf:6: error: 'ring_mode_gpio' uses GPIO line 17, already used by 'hook_gpio'"]),
        Case(name: "disconnect pulse on a board that cannot cut the loop", site: """
            [general]
            board = board.conf
            [line 1]
            polarity_reversal = outgoing
            disconnect_pulse_ms = 600
            """, board: """
            [board]
            driver = gpio
            gpio_chip = gpiochip0
            [line 1]
            hook_gpio = 17
            ring_mode_gpio = 27
            forward_reverse_gpio = 22
            playback = default
            """, expected: ["/c/site.conf:5: error: 'disconnect_pulse_ms' needs a board that can cut the loop current: give [line 1] of /c/board.conf a loop_disconnect_gpio"]),
        Case(name: "loop disconnect output on a line already used", site: """
            [general]
            board = board.conf
            [line 1]
            disconnect_pulse_ms = 600
            """, board: """
            [board]
            driver = gpio
            gpio_chip = gpiochip0
            [line 1]
            hook_gpio = 17
            ring_mode_gpio = 27
            forward_reverse_gpio = 22
            loop_disconnect_gpio = 22
            playback = default
            """, expected: ["/c/board.conf:8: error: 'loop_disconnect_gpio' uses GPIO line 22, already used by 'forward_reverse_gpio'"]),
        Case(name: "feature code with a letter", site: """
            [general]
            board = board.conf
            [features]
            forward_all = *7A
            """, expected: ["/c/site.conf:4: error: invalid value '*7A' for 'forward_all': expected 1 to 8 of 0-9, * and #, or off"]),
        Case(name: "feature code longer than 8 keys", site: """
            [general]
            board = board.conf
            [features]
            dnd_on = 123456789
            """, expected: ["/c/site.conf:4: error: invalid value '123456789' for 'dnd_on': expected 1 to 8 of 0-9, * and #, or off"]),
        Case(name: "feature code that is the start of another", site: """
            [general]
            board = board.conf
            [features]
            dnd_off = *79
            dnd_on = *7
            """, expected: ["/c/site.conf:5: error: [features]: 'dnd_on = *7' and 'dnd_off = *79': one code is the start of the other"]),
        Case(name: "the same feature code twice", site: """
            [general]
            board = board.conf
            [features]
            forward_busy_off = *93
            forward_no_answer_off = *93
            """, expected: ["/c/site.conf:4: error: [features]: 'forward_busy_off = *93' and 'forward_no_answer_off = *93': the same code twice"]),
        Case(name: "unknown feature key", site: """
            [general]
            board = board.conf
            [features]
            dnd = *78
            """, expected: ["/c/site.conf:4: error: unknown key 'dnd' in [features]"]),
        Case(name: "no-answer forwarding delay out of range", site: """
            [general]
            board = board.conf
            [line 1]
            forward_no_answer_seconds = 0
            [line 2]
            forward_no_answer_seconds = 300
            """, expected: [
                "/c/site.conf:4: error: invalid value '0' for 'forward_no_answer_seconds': expected an integer from 1 to 120",
                "/c/site.conf:6: error: invalid value '300' for 'forward_no_answer_seconds': expected an integer from 1 to 120",
            ]),
        Case(name: "board without lines", site: minimalSite, board: """
            [board]
            driver = sim
            """, expected: ["/c/board.conf:1: error: the board has no telephone lines; add a [line 1] section"]),
        Case(name: "several problems, all reported in order", site: """
            [general]
            board = board.conf
            colour = blue
            log_level = loud
            [sip]
            listen_port = -5
            """, expected: [
                "/c/site.conf:3: error: unknown key 'colour' in [general]",
                "/c/site.conf:4: error: invalid value 'loud' for 'log_level': expected one of error, warn, info, debug",
                "/c/site.conf:6: error: invalid value '-5' for 'listen_port': expected an integer from 0 to 65535",
            ]),
    ]

    func testEveryBadInputGivesItsExactErrorLines() {
        for testCase in cases {
            var files = MemoryFiles()
            files.add("/c/site.conf", testCase.site)
            files.add("/c/board.conf", testCase.board)
            let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
            XCTAssertNil(result.site, testCase.name)
            XCTAssertEqual(result.diagnostics.map { $0.text }, testCase.expected, testCase.name)
        }
    }

    func testFilesThatAreNotTextGiveOneLine() {
        let long = "# " + String(repeating: "x", count: 100_000)
        let inputs: [(String, [UInt8], String)] = [
            ("empty", [], "/c/site.conf: error: file has no sections; is it empty?"),
            ("comments only", Array("# nothing\n\n".utf8), "/c/site.conf: error: file has no sections; is it empty?"),
            ("NUL byte", Array("[general]\nboard = a\0b\n".utf8),
             "/c/site.conf:2: error: binary data (a NUL byte): this is not a text config file"),
            ("invalid UTF-8", Array("[general]\n".utf8) + [0x62, 0xC3, 0x28, 0x0A],
             "/c/site.conf:2: error: invalid UTF-8"),
            ("100 KB line", Array("[general]\n\(long)\n".utf8),
             "/c/site.conf:2: error: line is too long (100002 bytes; at most 4096)"),
            ("too large", [UInt8](repeating: 0x23, count: ConfigLoader.maximumFileSize + 1),
             "/c/site.conf: error: file is too large (1048577 bytes; at most 1048576)"),
        ]
        for (name, bytes, expected) in inputs {
            var files = MemoryFiles()
            files.add("/c/site.conf", bytes: bytes)
            let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
            XCTAssertNil(result.site, name)
            XCTAssertEqual(result.diagnostics.map { $0.text }, [expected], name)
        }
    }

    func testRandomBytesNeverCrashAndAlwaysReportErrors() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let count = Int.random(in: 1..<2000, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var files = MemoryFiles()
            files.add("/c/site.conf", bytes: bytes)
            let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
            XCTAssertNil(result.site)
            XCTAssertTrue(result.diagnostics.hasErrors)
        }
    }
}

private enum CountryPresetsList {
    static var joined: String { SiteSchema.schema.spec(named: "general")!.key("country").map { key -> String in
        if case .choice(let options) = key.kind { return options.joined(separator: ", ") }
        return ""
    } ?? "" }
}
