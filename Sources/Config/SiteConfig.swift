import CompactText
import CountryPresets
import DialPlan
import Line
import SDP
import SIPMessage

/// How this installation behaves, from a site file, with its board.
public struct SiteConfig: Sendable {
    public struct Account: Sendable, Equatable {
        public var name: String
        public var user: String
        public var domain: String
        public var password: String?
        public var authUser: String?
        public var displayName: String?
        public var registrar: String?
        public var outboundProxy: String?
        public var transport: SIPTransport
        public var register: Bool
        public var expires: Int
        /// Offered first (the other G.711 law is offered too).
        public var codec: AudioCodec = .pcmu
        public var ptime: Int = 20
        public var dtmfRelay: DTMFRelayMode = .rfc4733
        /// `mwi`: subscribe to the voicemail server's message summary, or
        /// take the NOTIFYs it sends unasked, or neither.
        public var messageWaiting: MessageWaitingMode = .unsolicited
        /// `voicemail_uri`: where the subscription goes; nil: the address
        /// of record.
        public var voicemailURI: String?

        /// The URI a message-summary SUBSCRIBE names.
        public var subscriptionURI: String { voicemailURI ?? "sip:\(user)@\(domain)" }
    }

    /// Which connected calls reverse the line's polarity.
    public enum PolarityReversal: String, Sendable, Equatable {
        case no
        /// Calls the phone placed, when the far end answers (answer
        /// supervision).
        case outgoing
        /// Those and the calls the phone answers.
        case both
    }

    /// How an account learns that messages wait.
    public enum MessageWaitingMode: String, Sendable, Equatable {
        /// SUBSCRIBE to message-summary (RFC 3842); unasked NOTIFYs count too.
        case subscribe
        /// NOTIFYs the server sends without a subscription.
        case unsolicited
        case off
    }

    /// Per-line settings of the site file (the wiring is the board's).
    public struct LineSettings: Sendable {
        public var number: Int
        public var account: String?
        public var dialPlan: String?
        public var hotline: String?
        public var warmlineSeconds: Int?
        /// nil: the country's usual mapping.
        public var pulseMapping: PulseMapping?
        /// Cancel the hybrid's echo of the far end's voice (default on).
        public var echoCanceller = true
        /// The line's own hook timing (`flash_min_ms`, `flash_max_ms`,
        /// `hangup_ms`); nil takes the country's. See `HookWindows`.
        public var flashMinimumMs: Int?
        public var flashMaximumMs: Int?
        public var hangUpMs: Int?
        /// `caller_id`: the country's own, another modulation, or none.
        public var callerID: CallerIDSetting = .auto
        /// `polarity_reversal`: reversed polarity while a call is connected.
        public var polarityReversal: PolarityReversal = .no
        /// `disconnect_pulse_ms`: the loop current cut this long when the
        /// far end hangs up; 0: never.
        public var disconnectPulseMs = 0
        /// `forward_no_answer_seconds`: how long a call rings before a
        /// no-answer forwarding takes it.
        public var forwardNoAnswerSeconds = 20
        /// `hold_recall_seconds`: how long the line rings back for a call
        /// left on hold by a hang-up before that call is ended; 0: until
        /// answered.
        public var holdRecallSeconds = 60
        /// `call_waiting`: a second call waits, announced by the tone,
        /// instead of getting busy.
        public var callWaiting = true
        /// `call_waiting_caller_id`: a waiting call's caller ID is sent
        /// during the call (type II), where the line's caller ID is FSK.
        public var callWaitingCallerID = true
        /// `three_way_calling`: a flash in the call the phone dialed while
        /// another was held joins the three (else it swaps the two).
        public var threeWayCalling = true
        /// `transfer_on_hang_up`: hanging up with a call on hold and a
        /// second call the phone placed transfers the held party to it
        /// (REFER), instead of ringing back for the held call.
        public var transferOnHangUp = true

        public init(number: Int, account: String? = nil, dialPlan: String? = nil, hotline: String? = nil,
                    warmlineSeconds: Int? = nil, pulseMapping: PulseMapping? = nil) {
            self.number = number
            self.account = account
            self.dialPlan = dialPlan
            self.hotline = hotline
            self.warmlineSeconds = warmlineSeconds
            self.pulseMapping = pulseMapping
        }
    }

    public static let defaultControlSocket = "/run/atad/control.sock"
    public static let defaultStateFile = "/var/lib/atad/state"
    public static let maximumSocketPathLength = 107

    public var path: String
    public var boardPath: String
    public var country: String
    public var logLevel: String
    public var controlSocket: String
    /// `state_file`: where the settings dialed from the phones (feature
    /// codes) are kept across restarts.
    public var stateFile = SiteConfig.defaultStateFile
    /// `[features]`: the codes the phones dial to change those settings.
    public var featureCodes = FeatureCodes()
    public var sipListenAddress: String
    public var sipListenPort: Int
    public var userAgent: String?
    /// False when `accept_calls_from = anyone`: INVITEs are then taken from
    /// any address, not only from the registrars and proxies of the accounts.
    public var acceptCallsOnlyFromProxies: Bool = true
    /// `dns_servers`: "IP[:PORT],..." asked instead of /etc/resolv.conf; nil: resolv.conf.
    public var dnsServers: String?
    /// Keep-alives toward each registrar when the path is idle; 0 = off.
    public var keepAliveSeconds: Int = 30
    /// A call whose far end sent nothing (RTP or RTCP) for this long is
    /// taken for dead and hung up; 0 = never.
    public var rtpTimeoutSeconds: Int = 60
    /// The session interval (RFC 4028) the calls we place ask for; 0 asks
    /// for none. Calls that come in get the timer their caller asks for.
    public var sessionExpiresSeconds: Int = 1800
    /// `public_address`: what Contact and SDP give instead of our own
    /// address, for a router that forwards our ports; nil: our own.
    public var publicAddress: String?
    /// `stun_server`: host[:port] of a STUN server each call's media
    /// sockets ask for their public address; nil: none.
    public var stunServer: String?
    /// `rtp_port_min`...`rtp_port_max`: where a call's RTP (even) and
    /// RTCP (the next, odd) ports are bound; nil: any free port.
    public var rtpPorts: ClosedRange<Int>?
    /// True for `keep_alive = options` (UDP); CRLF otherwise.
    public var keepAliveWithOptions: Bool = false
    /// The country preset with the `[tones]` overrides applied.
    public var tonePlan: CountryPreset?
    public var accounts: [Account]
    public var lines: [LineSettings]
    public var board: BoardConfig

    /// True when some account has a password (the file then must not be
    /// readable by others).
    public var holdsPassword: Bool { accounts.contains { $0.password != nil } }

    public func lineSettings(_ number: Int) -> LineSettings {
        lines.first { $0.number == number } ?? LineSettings(number: number, account: nil, dialPlan: nil)
    }

    /// The preset of `country`, with each `[tones]` key replacing its part.
    static func tonePlan(country: String, sections: [CheckedSection], path: String,
                         diagnostics: inout [Diagnostic]) -> CountryPreset? {
        guard var preset = CountryPresets.preset(code: country) else { return nil }
        guard let tones = sections.first(where: { $0.name == "tones" }) else { return preset }
        func report(_ key: String, _ message: String) {
            diagnostics.append(Diagnostic(file: path, line: tones.keyLines[key] ?? tones.line, message: message))
        }
        for key in ["dial", "stutter_dial", "ringback", "busy", "congestion", "call_waiting", "off_hook_warning"] {
            guard let text = tones.text(key) else { continue }
            guard var spec = ToneOverride.parse(text) else {
                report(key, "invalid value '\(text)' for '\(key)': expected \(ToneOverride.syntax)")
                continue
            }
            if key == "stutter_dial" {
                // The cadence given is the stutter; then the tone holds steady.
                spec.leadIn = spec.cadence
                spec.cadence = []
            }
            switch key {
            case "dial": preset.dial = spec
            case "stutter_dial": preset.stutterDial = spec
            case "ringback": preset.ringback = spec
            case "busy": preset.busy = spec
            case "congestion": preset.congestion = spec
            case "call_waiting": preset.callWaiting = spec
            default: preset.offHookWarning = spec
            }
        }
        if let text = tones.text("ring_frequency"), let hertz = UInt8(text) { preset.ring.frequencyHz = hertz }
        if let text = tones.text("ring_cadence") {
            if let cadence = ToneOverride.parseCadence(text) {
                preset.ring.cadence = cadence
            } else {
                report("ring_cadence", "invalid value '\(text)' for 'ring_cadence': expected ON,OFF[,ON,OFF...] in ms (10-20000 each)")
            }
        }
        if let minimum = tones.integer("flash_min_ms") { preset.flashMinimumMs = UInt16(minimum) }
        if let maximum = tones.integer("flash_max_ms") { preset.flashMaximumMs = UInt16(maximum) }
        if preset.flashMinimumMs >= preset.flashMaximumMs {
            report(tones.keyLines["flash_max_ms"] != nil ? "flash_max_ms" : "flash_min_ms",
                   "the flash window is empty: flash_min_ms (\(preset.flashMinimumMs)) must be below flash_max_ms (\(preset.flashMaximumMs))")
        }
        return preset
    }

    /// A line's own flash window must hold something and end before its
    /// hang-up time. Only a `hangup_ms` the user gave can be too short (one
    /// taken from the country rises past the window by itself), and an
    /// empty window from `[tones]` is reported there.
    static func checkHookWindows(_ windows: HookWindows, section: CheckedSection, path: String,
                                 diagnostics: inout [Diagnostic]) {
        func report(_ key: String, _ message: String) {
            diagnostics.append(Diagnostic(file: path, line: section.keyLines[key] ?? section.line, message: message))
        }
        let ownWindow = section.keyLines["flash_min_ms"] != nil || section.keyLines["flash_max_ms"] != nil
        if ownWindow && windows.flashMinimumMs >= windows.flashMaximumMs {
            report(section.keyLines["flash_max_ms"] != nil ? "flash_max_ms" : "flash_min_ms",
                   "the flash window of \(section.title) is empty: flash_min_ms (\(windows.flashMinimumMs)) must be below flash_max_ms (\(windows.flashMaximumMs))")
        }
        if section.keyLines["hangup_ms"] != nil && windows.hangUpMs <= windows.flashMaximumMs {
            report("hangup_ms",
                   "hangup_ms (\(windows.hangUpMs)) of \(section.title) must be longer than its longest flash, flash_max_ms (\(windows.flashMaximumMs)); leave hangup_ms out to have it follow flash_max_ms")
        }
    }

    static func build(path: String, boardPath: String, sections: [CheckedSection], board: BoardConfig,
                      diagnostics: inout [Diagnostic]) -> SiteConfig {
        let general = sections.first { $0.name == "general" }
        let sip = sections.first { $0.name == "sip" }
        var config = SiteConfig(
            path: path, boardPath: boardPath,
            country: general?.text("country") ?? "us",
            logLevel: general?.text("log_level") ?? "info",
            controlSocket: general?.text("control_socket") ?? defaultControlSocket,
            sipListenAddress: sip?.text("listen_address") ?? "0.0.0.0",
            sipListenPort: sip?.integer("listen_port") ?? 5060,
            userAgent: sip?.text("user_agent"),
            tonePlan: nil, accounts: [], lines: [], board: board)
        config.acceptCallsOnlyFromProxies = sip?.text("accept_calls_from") != "anyone"
        config.dnsServers = sip?.text("dns_servers")
        config.keepAliveSeconds = sip?.integer("keep_alive_seconds") ?? 30
        config.keepAliveWithOptions = sip?.text("keep_alive") == "options"
        config.rtpTimeoutSeconds = sip?.integer("rtp_timeout_seconds") ?? 60
        config.sessionExpiresSeconds = sip?.integer("session_expires_seconds") ?? 1800
        if let sip, let line = sip.keyLines["session_expires_seconds"],
           config.sessionExpiresSeconds > 0 && config.sessionExpiresSeconds < 90 {
            diagnostics.append(Diagnostic(file: path, line: line,
                                          message: "invalid value for 'session_expires_seconds': \(config.sessionExpiresSeconds) s; use 0 (ask for none) or at least 90, RFC 4028's smallest interval"))
        }
        config.publicAddress = sip?.text("public_address")
        config.stunServer = sip?.text("stun_server")
        if let sip {
            let low = sip.integer("rtp_port_min"), high = sip.integer("rtp_port_max")
            // RTP takes an even port and RTCP the odd one after it.
            if let low, let high, (low + 1) & ~1 < high {
                config.rtpPorts = low...high
            } else if low != nil || high != nil, let line = sip.keyLines["rtp_port_min"] ?? sip.keyLines["rtp_port_max"] {
                diagnostics.append(Diagnostic(file: path, line: line, message:
                    "rtp_port_min and rtp_port_max go together, the lower first, with an even port and the one after it between them"))
            }
        }
        config.tonePlan = tonePlan(country: config.country, sections: sections, path: path, diagnostics: &diagnostics)
        config.stateFile = general?.text("state_file") ?? defaultStateFile
        config.featureCodes = featureCodes(sections: sections, path: path, diagnostics: &diagnostics)
        // sockaddr_un holds 108 bytes including the terminating NUL.
        if let general, let line = general.keyLines["control_socket"], config.controlSocket.utf8.count > maximumSocketPathLength {
            diagnostics.append(Diagnostic(
                file: path, line: line,
                message: "invalid value for 'control_socket': the path is \(config.controlSocket.utf8.count) bytes; a Unix socket path holds at most \(maximumSocketPathLength)"))
        }
        for section in sections where section.name == "account" {
            config.accounts.append(Account(
                name: section.argument ?? "",
                user: section.text("user") ?? "",
                domain: section.text("domain") ?? "",
                password: section.text("password"),
                authUser: section.text("auth_user"),
                displayName: section.text("display_name"),
                registrar: section.text("registrar"),
                outboundProxy: section.text("outbound_proxy"),
                transport: section.text("transport").flatMap(SIPTransport.init(rawValue:)) ?? .udp,
                register: section.boolean("register") ?? true,
                expires: section.integer("expires") ?? 3600,
                codec: section.text("codec") == "pcma" ? .pcma : .pcmu,
                ptime: section.text("ptime").flatMap { Int($0) } ?? 20,
                dtmfRelay: section.text("dtmf_relay").flatMap(DTMFRelayMode.init(rawValue:)) ?? .rfc4733,
                messageWaiting: section.text("mwi").flatMap(MessageWaitingMode.init(rawValue:)) ?? .unsolicited,
                voicemailURI: section.text("voicemail_uri")))
            if let uri = section.text("voicemail_uri"), let line = section.keyLines["voicemail_uri"],
               !uri.utf8.prefix(4).map({ $0 | 0x20 }).elementsEqual("sip:".utf8) || (try? SIPURI.parse(ArraySlice(uri.utf8))) == nil {
                diagnostics.append(Diagnostic(
                    file: path, line: line,
                    message: "invalid value for 'voicemail_uri': '\(uri)' is not a sip: URI (e.g. sip:*97@pbx.example.net)"))
            }
        }
        let accountNames = config.accounts.map { $0.name }
        for section in sections where section.name == "line" {
            let number = ConfigSchema.parseInteger(section.argument ?? "") ?? 0
            let account = section.text("account")
            if let account, !accountNames.contains(account) {
                var message = "line \(number) names account '\(account)', but there is no [account \(account)]"
                if let guess = Suggestion.nearest(to: account, among: accountNames) {
                    message += "; did you mean '\(guess)'?"
                }
                diagnostics.append(Diagnostic(file: path, line: section.keyLines["account"] ?? section.line, message: message))
            }
            if !board.lines.contains(where: { $0.number == number }) {
                diagnostics.append(Diagnostic(
                    file: path, line: section.line,
                    message: "[line \(number)] is not on the board (\(board.path) has lines \(board.lines.map { "\($0.number)" }.joined(separator: ", ")))"))
            }
            let dialPlan = section.text("dial_plan")
            if let dialPlan, let line = section.keyLines["dial_plan"] {
                do throws(DigitMapError) {
                    _ = try DigitMap.parse(dialPlan)
                } catch {
                    let column = (section.valueColumns["dial_plan"] ?? 1) + error.column - 1
                    diagnostics.append(Diagnostic(file: path, line: line, column: column,
                                                  message: "invalid dial_plan: \(error.message)"))
                }
            }
            let hotline = section.text("hotline")
            if let hotline, let line = section.keyLines["hotline"],
               !hotline.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "#") }) {
                diagnostics.append(Diagnostic(file: path, line: line,
                                              message: "invalid value '\(hotline)' for 'hotline': expected digits, * and #"))
            }
            if section.keyLines["warmline_seconds"] != nil && hotline == nil {
                diagnostics.append(Diagnostic(file: path, line: section.keyLines["warmline_seconds"] ?? section.line,
                                              message: "'warmline_seconds' needs a 'hotline' number in \(section.title)"))
            }
            var settings = LineSettings(number: number, account: account, dialPlan: dialPlan, hotline: hotline,
                                        warmlineSeconds: section.integer("warmline_seconds"),
                                        pulseMapping: section.text("pulse_mapping").flatMap(PulseMapping.init(settingName:)))
            settings.echoCanceller = section.boolean("echo_canceller") ?? true
            settings.flashMinimumMs = section.integer("flash_min_ms")
            settings.flashMaximumMs = section.integer("flash_max_ms")
            settings.hangUpMs = section.integer("hangup_ms")
            if let choice = section.text("caller_id") { settings.callerID = CallerIDSetting(settingName: choice) ?? .auto }
            settings.polarityReversal = section.text("polarity_reversal").flatMap(PolarityReversal.init(rawValue:)) ?? .no
            settings.disconnectPulseMs = section.integer("disconnect_pulse_ms") ?? 0
            settings.forwardNoAnswerSeconds = section.integer("forward_no_answer_seconds") ?? 20
            settings.callWaiting = section.boolean("call_waiting") ?? true
            settings.callWaitingCallerID = section.boolean("call_waiting_caller_id") ?? true
            settings.holdRecallSeconds = section.integer("hold_recall_seconds") ?? 60
            settings.transferOnHangUp = section.boolean("transfer_on_hang_up") ?? true
            settings.threeWayCalling = section.boolean("three_way_calling") ?? true
            if settings.disconnectPulseMs > 0, board.driver == .gpio, let line = section.keyLines["disconnect_pulse_ms"],
               board.lines.first(where: { $0.number == number })?.loopDisconnectGPIO == nil {
                diagnostics.append(Diagnostic(file: path, line: line,
                                              message: "'disconnect_pulse_ms' needs a board that can cut the loop current: give [line \(number)] of \(board.path) a loop_disconnect_gpio"))
            }
            if let preset = config.tonePlan {
                checkHookWindows(HookWindows(preset: preset, line: settings), section: section, path: path,
                                 diagnostics: &diagnostics)
            }
            config.lines.append(settings)
        }
        return config
    }
}
