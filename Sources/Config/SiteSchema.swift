import CountryPresets

/// The keys of a site file: what this installation does (accounts, country,
/// dial plan, ports, logging). Which hardware it runs on is the board file's.
public enum SiteSchema {
    public static let logLevels = ["error", "warn", "info", "debug"]

    public static var schema: ConfigSchema {
        ConfigSchema(sections: [
            SectionSpec("general", required: true, keys: [
                KeySpec("board", .path, required: true,
                        "board file describing the hardware; relative to this file"),
                KeySpec("country", .choice(CountryPresets.codes),
                        "country preset for tones, ringing and flash timing (default us)"),
                KeySpec("log_level", .choice(logLevels), "error, warn, info or debug (default info)"),
                KeySpec("control_socket", .path,
                        "Unix socket for `atad ctl` (default /run/atad/control.sock)"),
            ]),
            SectionSpec("tones", keys: [
                KeySpec("dial", .text, "dial tone, " + ToneOverride.syntax),
                KeySpec("stutter_dial", .text, "stutter dial tone (message waiting); cadence plays once, then steady"),
                KeySpec("ringback", .text, "ringback tone"),
                KeySpec("busy", .text, "busy tone"),
                KeySpec("congestion", .text, "congestion (reorder) tone"),
                KeySpec("call_waiting", .text, "call-waiting tone"),
                KeySpec("off_hook_warning", .text, "off-hook warning tone (howler)"),
                KeySpec("ring_frequency", .choice(["16", "20", "25", "50"]), "ring voltage frequency, Hz"),
                KeySpec("ring_cadence", .text, "ring cadence, ON,OFF[,ON,OFF...] in ms"),
                KeySpec("flash_min_ms", .integer(20...2000), "shortest hook flash, ms"),
                KeySpec("flash_max_ms", .integer(50...3000), "longest hook flash, ms; a hang-up needs a longer break"),
            ]),
            SectionSpec("sip", keys: [
                KeySpec("listen_address", .ipAddress, "address SIP listens on (default 0.0.0.0)"),
                KeySpec("listen_port", .integer(0...65535), "SIP port (default 5060; 0 picks a free port)"),
                KeySpec("user_agent", .text, "User-Agent header (default atad/VERSION)"),
                KeySpec("keep_alive_seconds", .integer(0...3600),
                        "how often the path to each registrar is kept open when idle, s; 0 turns keep-alives off (default 30)"),
                KeySpec("keep_alive", .choice(["crlf", "options"]),
                        "UDP keep-alive: a CRLF datagram or an OPTIONS request (TCP always sends CRLFCRLF) (default crlf)"),
                KeySpec("rtp_timeout_seconds", .integer(0...3600),
                        "a call whose far end sends no RTP or RTCP for this long (not while on hold) is hung up, s; 0 = never (default 60)"),
                KeySpec("dns_servers", .addressList,
                        "DNS servers to ask instead of those in /etc/resolv.conf: IP[:PORT], comma-separated"),
                KeySpec("accept_calls_from", .choice(["proxy", "anyone"]),
                        "proxy: while an account registers, take new calls only from its registrar or outbound proxy (default); anyone: from any address"),
            ]),
            SectionSpec("account", argument: .name, keys: [
                KeySpec("user", .text, required: true, "SIP user name (the user part of the address of record)"),
                KeySpec("domain", .text, required: true, "SIP domain (the host part of the address of record)"),
                KeySpec("password", .text, "digest password"),
                KeySpec("auth_user", .text, "digest user name when it differs from user"),
                KeySpec("display_name", .text, "name shown to the called party"),
                KeySpec("registrar", .hostPort, "registrar host[:port] (default: the domain)"),
                KeySpec("outbound_proxy", .hostPort, "proxy every request goes through"),
                KeySpec("transport", .choice(["udp", "tcp"]), "udp or tcp (default udp)"),
                KeySpec("register", .boolean, "register with the registrar (default yes)"),
                KeySpec("expires", .integer(60...86400), "registration lifetime asked for, seconds (default 3600)"),
                KeySpec("codec", .choice(["pcmu", "pcma"]), "preferred codec; the other is offered too (default pcmu)"),
                KeySpec("ptime", .choice(["10", "20", "30"]), "RTP packet time, ms (default 20)"),
                KeySpec("dtmf_relay", .choice(["rfc4733", "info", "inband"]),
                        "how digits pressed in a call travel: rfc4733 events, SIP INFO or in-band tone (default rfc4733)"),
            ]),
            SectionSpec("line", argument: .number(1...64), keys: [
                KeySpec("account", .text, "the [account NAME] this line calls through"),
                KeySpec("dial_plan", .text, "digit map, e.g. (911|[2-9]xxxxxx|x.T)"),
                KeySpec("hotline", .text, "number dialed as soon as the handset is lifted (digits, * and #)"),
                KeySpec("warmline_seconds", .integer(1...60),
                        "with hotline: dial it only after this many seconds without a digit (warmline)"),
                KeySpec("echo_canceller", .boolean, "cancel the line's echo of the far end's voice during calls (default yes)"),
                KeySpec("pulse_mapping", .choice(["standard", "sweden", "new-zealand"]),
                        "how rotary pulses map to digits (default: standard; sweden for se, new-zealand for nz)"),
                KeySpec("flash_min_ms", .integer(20...2000), "shortest hook flash on this line, ms (default: the country's)"),
                KeySpec("flash_max_ms", .integer(50...3000),
                        "longest hook flash on this line, ms, for phones with a long R key (default: the country's)"),
                KeySpec("hangup_ms", .integer(400...5000),
                        "on hook this long is a hang-up, ms (default: the country's, raised to 100 ms past flash_max_ms)"),
            ]),
        ])
    }
}
