// swift-tools-version:6.0
// atad: an analog telephone adapter daemon. Every target under Sources/ builds
// both as ordinary Swift (for `swift test`) and as Embedded Swift (the firmware).
import PackageDescription

let package = Package(
    name: "atad",
    products: [
        .executable(name: "atad", targets: ["atad"]),
    ],
    targets: [
        // C: what Swift cannot import directly (errno, variadic calls, argv capture).
        .target(name: "CAtadSystem"),
        // C libraries, one system-library target each.
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp",
                       providers: [.apt(["libspandsp-dev"])]),
        .systemLibrary(name: "CGpiod", pkgConfig: "libgpiod",
                       providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa",
                       providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CAres", pkgConfig: "libcares",
                       providers: [.apt(["libc-ares-dev"])]),

        // Pure Swift, no I/O.
        // Out-of-line string interpolation for the common types (size).
        .target(name: "CompactText"),
        .target(name: "Timebase"),
        .target(name: "CountryPresets", exclude: ["SOURCES.md"]),
        // Caller ID as the phone receives it: who calls, and the message
        // each modulation carries (no I/O).
        .target(name: "CallerID", dependencies: ["CountryPresets"]),
        .target(name: "Config", dependencies: ["CompactText", "CountryPresets", "DialPlan", "Line", "SDP", "SIPMessage"]),
        .target(name: "ControlProtocol"),

        .target(name: "DialPlan", dependencies: ["CompactText"], exclude: ["README.md"]),
        // One file per DSP function, over spandsp.
        .target(name: "DSP", dependencies: ["CSpanDSP", "CountryPresets"],
                linkerSettings: [.linkedLibrary("m")]),
        // The FXS line: hook, pulse and DTMF digits, tones, ringing (no I/O).
        .target(name: "Line", dependencies: ["CompactText", "Timebase", "CountryPresets", "DialPlan"]),
        // SIP, one module per layer: messages, SDP, transactions, digest auth.
        .target(name: "SIPMessage", dependencies: ["CompactText"], exclude: ["README.md"]),
        .target(name: "SDP", dependencies: ["CompactText"]),
        .target(name: "SIPTransaction", dependencies: ["Timebase"]),
        .target(name: "SIPDigest", dependencies: ["COpenSSL", "CompactText"]),
        // The user agent's state machines: server transactions, calls and their
        // dialog, registration.
        .target(name: "SIPUserAgent", dependencies: ["CompactText", "SIPMessage", "SIPTransaction", "SIPDigest", "SDP", "Timebase"]),
        // Where a SIP server is (RFC 3263: NAPTR, SRV, A/AAAA), decided from
        // DNS answers (no I/O).
        .target(name: "SIPLocation", dependencies: ["SIPMessage"]),
        // What every call does, decided with no I/O: lines and calls, SIP
        // requests and responses for calls, their timers and media.
        .target(name: "CallControl", dependencies: ["CallerID", "CompactText", "Config", "DSP", "Line", "Media", "SDP", "SIPDigest", "SIPMessage",
                                                    "SIPTransaction", "SIPUserAgent", "Timebase"]),
        // RTP and RTCP (RFC 3550, RFC 4733): packets, statistics, reports (no I/O).
        .target(name: "RTP", dependencies: ["Timebase"]),
        // STUN Binding (RFC 5389): a call's public RTP address (no I/O).
        .target(name: "STUN", dependencies: ["Timebase"]),
        // One call's audio path: codec, packetization, jitter buffer, loss
        // concealment, DTMF relay, echo cancellation (no I/O).
        .target(name: "Media", dependencies: ["CompactText", "RTP", "DSP", "SDP", "Timebase", "CountryPresets"]),
        // What the line path needs of a line's hardware (hook, audio frames,
        // ringer outputs), and the ring signal both boards are driven with.
        .target(name: "LineHardware", dependencies: ["Timebase"]),
        // The real line: GPIO (libgpiod v1) and ALSA.
        .target(name: "HardwareLinux", dependencies: ["CompactText", "CGpiod", "CALSA", "Config", "EventLoop", "LineHardware",
                                                      "Platform", "Timebase"]),
        // The simulated line: handsets driven and heard over the control socket.
        .target(name: "HardwareSim", dependencies: ["CompactText", "ControlProtocol", "CountryPresets", "DSP", "EventLoop", "Line",
                                                    "LineHardware", "Platform", "Timebase"]),

        // Thin typed wrappers over POSIX, and the poll loop.
        .target(name: "Platform", dependencies: ["CompactText", "CAtadSystem", "Timebase"]),
        .target(name: "EventLoop", dependencies: ["Platform", "Timebase"]),
        // DNS queries that never block (c-ares), for the poll loop.
        .target(name: "DNSClient", dependencies: ["CompactText", "CAres", "Platform", "SIPLocation", "Timebase"]),

        // The daemon's wiring and command line.
        .target(name: "Daemon", dependencies: [
            "CompactText", "Platform", "EventLoop", "Config", "ControlProtocol", "Timebase",
            "CountryPresets", "DialPlan", "DSP", "Line", "LineHardware", "HardwareLinux", "HardwareSim",
            "SIPMessage", "SIPUserAgent", "SDP", "SIPTransaction", "RTP", "Media", "CallControl",
            "DNSClient", "SIPLocation", "STUN", "CallerID",
        ]),
        .executableTarget(name: "atad", dependencies: ["Daemon"]),

        .testTarget(name: "TimebaseTests", dependencies: ["Timebase"]),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop", "Platform"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "CountryPresetsTests", dependencies: ["CountryPresets"]),
        .testTarget(name: "DialPlanTests", dependencies: ["DialPlan"]),
        .testTarget(name: "DSPTests", dependencies: ["DSP", "CountryPresets", "CAllocationCounter"]),
        .testTarget(name: "LineTests", dependencies: ["Line", "Timebase", "CountryPresets"]),
        .testTarget(name: "LineHardwareTests", dependencies: ["LineHardware", "Timebase"]),
        .testTarget(name: "HardwareSimTests", dependencies: ["HardwareSim", "ControlProtocol", "EventLoop", "Line",
                                                            "LineHardware", "Platform", "Timebase"]),
        .testTarget(name: "HardwareLinuxTests", dependencies: ["HardwareLinux", "Platform"]),
        // The RFC 4475 messages are read from Fixtures/ by path (#filePath), not bundled.
        .testTarget(name: "SIPMessageTests", dependencies: ["SIPMessage"], exclude: ["Fixtures"]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "Timebase"]),
        .testTarget(name: "SIPDigestTests", dependencies: ["SIPDigest"]),
        .testTarget(name: "SIPLocationTests", dependencies: ["SIPLocation", "SIPMessage"]),
        .testTarget(name: "SIPUserAgentTests", dependencies: ["SIPUserAgent", "SIPMessage", "Timebase"]),
        .testTarget(name: "CallControlTests", dependencies: ["CallControl", "CallerID", "Config", "Line", "SIPMessage",
                                                            "SIPUserAgent", "Timebase"]),
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol"]),
        // Test support: counts malloc calls, to prove the audio path allocates nothing per frame.
        .target(name: "CAllocationCounter", path: "Tests/Support/CAllocationCounter"),
        .testTarget(name: "STUNTests", dependencies: ["STUN", "Timebase"]),
        .testTarget(name: "CallerIDTests", dependencies: ["CallerID", "CountryPresets"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "Timebase", "CAllocationCounter"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "RTP", "DSP", "SDP", "Timebase", "CAllocationCounter", "CountryPresets"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Platform", "EventLoop"]),
    ],
    swiftLanguageModes: [.v5]
)
