@testable import Config
import XCTest

final class ConfigLoaderTests: XCTestCase {
    func testAFullSiteFileLoadsWithItsBoard() throws {
        var files = MemoryFiles()
        files.add("/etc/atad/atad.conf", """
            # comment
            [general]
            board = boards/sim.conf   ; relative to this file
            country = de
            log_level = debug
            control_socket = /tmp/x.sock

            [sip]
            listen_address = ::1
            listen_port = 5070

            [account home]
            user = 1001
            domain = pbx.example.net
            password = "se#cret \\"quoted\\""
            registrar = [2001:db8::1]:5060
            transport = tcp
            register = no
            expires = 600

            [line 2]
            account = home
            dial_plan = (911|x.T)
            """)
        files.add("/etc/atad/boards/sim.conf", simBoard)
        let result = ConfigLoader.loadSite(path: "/etc/atad/atad.conf", read: files.read)
        XCTAssertEqual(result.diagnostics, [])
        let site = try XCTUnwrap(result.site)
        XCTAssertEqual(site.boardPath, "/etc/atad/boards/sim.conf")
        XCTAssertEqual(site.country, "de")
        XCTAssertEqual(site.logLevel, "debug")
        XCTAssertEqual(site.controlSocket, "/tmp/x.sock")
        XCTAssertEqual(site.sipListenAddress, "::1")
        XCTAssertEqual(site.sipListenPort, 5070)
        XCTAssertEqual(site.board.lines.map { $0.number }, [1, 2])
        let account = try XCTUnwrap(site.accounts.first)
        XCTAssertEqual(account.password, "se#cret \"quoted\"")
        XCTAssertEqual(account.registrar, "[2001:db8::1]:5060")
        XCTAssertEqual(account.transport, .tcp)
        XCTAssertFalse(account.register)
        XCTAssertEqual(account.expires, 600)
        XCTAssertEqual(site.lineSettings(2).dialPlan, "(911|x.T)")
        XCTAssertNil(site.lineSettings(1).account)
    }

    func testDefaultsApplyWhenKeysAreLeftOut() throws {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite)
        files.add("/c/board.conf", simBoard)
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).site)
        XCTAssertEqual(site.country, "us")
        XCTAssertEqual(site.logLevel, "info")
        XCTAssertEqual(site.controlSocket, "/run/atad/control.sock")
        XCTAssertEqual(site.sipListenPort, 5060)
    }

    func testDTMFRelayTakesInfo() throws {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\n[account a]\nuser = 1\ndomain = x.test\ndtmf_relay = info\n"
                  + "[account b]\nuser = 2\ndomain = x.test\n")
        files.add("/c/board.conf", simBoard)
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).site)
        XCTAssertEqual(site.accounts.map(\.dtmfRelay), [.info, .rfc4733])
        files.add("/c/site.conf", minimalSite + "\n[account a]\nuser = 1\ndomain = x.test\ndtmf_relay = sipinfo\n")
        let errors = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).diagnostics.map(\.message)
        XCTAssertTrue(errors.contains { $0.contains("expected one of rfc4733, info, inband") }, "\(errors)")
    }

    func testAReadablePasswordIsAWarningNotAnError() throws {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\n[account a]\nuser = u\ndomain = d\npassword = p\n", mode: 0o644)
        files.add("/c/board.conf", simBoard)
        let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
        XCTAssertNotNil(result.site)
        XCTAssertEqual(result.diagnostics.map { $0.text }, [
            "/c/site.conf: warning: holds a password but is readable by group or others (mode 0644); run chmod 600 on it",
        ])
    }

    func testAGpioBoardLoads() throws {
        var files = MemoryFiles()
        files.add("/b.conf", """
            [board]
            name = Pi
            driver = gpio
            gpio_chip = pinctrl-bcm2711
            [line 1]
            hook_gpio = 17
            hook_active_low = yes
            hook_bias = pull-up
            ring_mode_gpio = 27
            forward_reverse_gpio = 22
            playback = plughw:CARD=Device,DEV=0
            period_ms = 20
            """)
        let (board, diagnostics) = ConfigLoader.loadBoard(path: "/b.conf", read: files.read)
        XCTAssertEqual(diagnostics, [])
        let line = try XCTUnwrap(board?.lines.first)
        XCTAssertEqual(board?.gpioChip, "pinctrl-bcm2711")
        XCTAssertEqual(line.hookGPIO, 17)
        XCTAssertTrue(line.hookActiveLow)
        XCTAssertEqual(line.hookBias, .pullUp)
        XCTAssertEqual(line.captureDevice, "plughw:CARD=Device,DEV=0", "capture defaults to playback")
        XCTAssertEqual(line.periodMs, 20)
    }

    /// A loop-disconnect output (a relay) makes `disconnect_pulse_ms`
    /// possible on a gpio board; without one it is refused (see
    /// ConfigErrorTableTests).
    func testAGpioLineWithALoopDisconnectOutputTakesADisconnectPulse() throws {
        var files = MemoryFiles()
        files.add("/b.conf", """
            [board]
            driver = gpio
            gpio_chip = gpiochip0
            [line 1]
            hook_gpio = 17
            ring_mode_gpio = 27
            forward_reverse_gpio = 22
            loop_disconnect_gpio = 23
            loop_disconnect_active_low = yes
            playback = default
            """)
        files.add("/s.conf", "[general]\nboard = b.conf\n[line 1]\ndisconnect_pulse_ms = 600\n")
        let result = ConfigLoader.loadSite(path: "/s.conf", read: files.read)
        XCTAssertEqual(result.diagnostics.filter { $0.severity == .error }, [])
        let line = try XCTUnwrap(result.site?.board.lines.first)
        XCTAssertEqual(line.loopDisconnectGPIO, 23)
        XCTAssertTrue(line.loopDisconnectActiveLow)
        XCTAssertEqual(result.site?.lineSettings(1).disconnectPulseMs, 600)
    }

    func testSuggestionsFindPlausibleTyposOnly() {
        XCTAssertEqual(Suggestion.nearest(to: "contry", among: ["country", "board"]), "country")
        XCTAssertEqual(Suggestion.nearest(to: "baord", among: ["country", "board"]), "board")
        XCTAssertNil(Suggestion.nearest(to: "xyz", among: ["country", "board"]))
    }

    func testAddressSyntax() {
        XCTAssertTrue(AddressSyntax.isIPv4("192.0.2.1"))
        XCTAssertFalse(AddressSyntax.isIPv4("192.0.2.256"))
        XCTAssertTrue(AddressSyntax.isIPv6("::1"))
        XCTAssertTrue(AddressSyntax.isIPv6("2001:db8::ffff:192.0.2.1"))
        XCTAssertFalse(AddressSyntax.isIPv6("1::2::3"))
        XCTAssertTrue(AddressSyntax.isHostPort("sip.example.net:5061"))
        XCTAssertTrue(AddressSyntax.isHostPort("[::1]:5060"))
        XCTAssertFalse(AddressSyntax.isHostPort("host:99999"))
        XCTAssertFalse(AddressSyntax.isHostPort("bad host"))
    }
}

final class LineSettingsTests: XCTestCase {
    func testHotlineWarmlineAndPulseMapping() throws {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\n[line 1]\nhotline = *100#\nwarmline_seconds = 5\npulse_mapping = sweden\n")
        files.add("/c/board.conf", simBoard)
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).site)
        XCTAssertEqual(site.lineSettings(1).hotline, "*100#")
        XCTAssertEqual(site.lineSettings(1).warmlineSeconds, 5)
        XCTAssertEqual(site.lineSettings(1).pulseMapping, .sweden)
    }

    func testBadHotlineAndLoneWarmline() {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\n[line 1]\nhotline = 12a\n[line 2]\nwarmline_seconds = 5\n")
        files.add("/c/board.conf", simBoard)
        let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
        XCTAssertEqual(result.diagnostics.map { $0.text }, [
            "/c/site.conf:4: error: invalid value '12a' for 'hotline': expected digits, * and #",
            "/c/site.conf:6: error: 'warmline_seconds' needs a 'hotline' number in [line 2]",
        ])
    }

    func testDNSServersTakeAddressesWithPortsAndRejectNames() throws {
        var files = MemoryFiles()
        files.add("/c/site.conf", minimalSite + "\n[sip]\ndns_servers = 192.0.2.53, 127.0.0.1:5353,[2001:db8::53]:53\n")
        files.add("/c/board.conf", simBoard)
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).site)
        XCTAssertEqual(site.dnsServers, "192.0.2.53,127.0.0.1:5353,[2001:db8::53]:53")
        files.add("/c/plain.conf", minimalSite)
        XCTAssertNil(try XCTUnwrap(ConfigLoader.loadSite(path: "/c/plain.conf", read: files.read).site).dnsServers)

        files.add("/c/site.conf", minimalSite + "\n[sip]\ndns_servers = dns.example.net\n")
        let result = ConfigLoader.loadSite(path: "/c/site.conf", read: files.read)
        XCTAssertEqual(result.diagnostics.map { $0.text }, [
            "/c/site.conf:4: error: invalid value 'dns.example.net' for 'dns_servers': expected IP addresses with optional ports, separated by commas (192.0.2.1, 192.0.2.2:5353, [2001:db8::1]:53)",
        ])
    }

    func testSessionIntervalPublicAddressAndRTPPorts() throws {
        var files = MemoryFiles()
        files.add("/c/board.conf", simBoard)
        files.add("/c/plain.conf", minimalSite)
        let plain = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/plain.conf", read: files.read).site)
        XCTAssertEqual(plain.sessionExpiresSeconds, 1800)
        XCTAssertNil(plain.publicAddress)
        XCTAssertNil(plain.rtpPorts)

        files.add("/c/site.conf", minimalSite + """

            [sip]
            session_expires_seconds = 90
            public_address = 203.0.113.9
            rtp_port_min = 10000
            rtp_port_max = 10099

            """)
        let site = try XCTUnwrap(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).site)
        XCTAssertEqual(site.sessionExpiresSeconds, 90)
        XCTAssertEqual(site.publicAddress, "203.0.113.9")
        XCTAssertEqual(site.rtpPorts, 10000...10099)
        files.add("/c/odd.conf", minimalSite + "\n[sip]\nrtp_port_min = 10001\nrtp_port_max = 10002\n")
        XCTAssertEqual(ConfigLoader.loadSite(path: "/c/odd.conf", read: files.read).diagnostics.map { $0.text }, [
            "/c/odd.conf:4: error: rtp_port_min and rtp_port_max go together, the lower first, with an even port and the one after it between them",
        ], "10002 is the only even port, and 10003 is outside")

        files.add("/c/site.conf", minimalSite + "\n[sip]\nsession_expires_seconds = 60\nrtp_port_max = 10099\npublic_address = router\n")
        XCTAssertEqual(ConfigLoader.loadSite(path: "/c/site.conf", read: files.read).diagnostics.map { $0.text }, [
            "/c/site.conf:4: error: invalid value for 'session_expires_seconds': 60 s; use 0 (ask for none) or at least 90, RFC 4028's smallest interval",
            "/c/site.conf:5: error: rtp_port_min and rtp_port_max go together, the lower first, with an even port and the one after it between them",
            "/c/site.conf:6: error: invalid value 'router' for 'public_address': expected an IPv4 or IPv6 address",
        ])
    }
}
