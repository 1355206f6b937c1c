import CallControl
import CompactText
import Config
import ControlProtocol
import CountryPresets
import EventLoop
import Line
import Platform
import SIPUserAgent
import Timebase

/// The running daemon: owns the loop and wires config, signals and the
/// control socket together. The only place that turns decisions into I/O.
/// Why the daemon could not start, in words for the log.
struct StartupError: Error {
    var message: String
}

final class Daemon {
    private let loop: EventLoop
    private let log: Logger
    private var site: SiteConfig
    private let logLevelOverride: LogLevel?
    private let startedAt: Instant
    private var signals: SignalDescriptor?
    private var control: ControlServer?
    private var telephony: Telephony?
    private var sip: SIPService?
    private var calls: CallDriver?
    private var reloadCount = 0
    private let notifier = ServiceNotifier()

    init(site: SiteConfig, log: Logger, logLevelOverride: LogLevel?, loop: EventLoop) {
        self.site = site
        self.log = log
        self.logLevelOverride = logLevelOverride
        self.loop = loop
        startedAt = loop.now
    }

    /// Opens the signal descriptor and the control socket. Failing here is
    /// fatal: the daemon cannot be stopped or driven without them.
    func start() throws(StartupError) {
        let signals: SignalDescriptor
        do throws(Errno) {
            signals = try SignalDescriptor(signals: [.terminate, .interrupt, .hangUp])
        } catch {
            throw StartupError(message: "cannot set up signal handling: \(error.message)")
        }
        self.signals = signals
        loop.register(signals.descriptor, for: .readable) { _ in self.handleSignals() }
        let socketPath = site.controlSocket
        let control: ControlServer
        do throws(Errno) {
            do throws(Errno) {
                control = try ControlServer(path: socketPath, loop: loop, log: log)
            } catch {
                // A missing folder of its own (e.g. /tmp/atad-sim) is made;
                // deeper trees are the installer's job.
                guard error == .notFound else { throw error }
                try FileSystem.makeDirectory(Path.directory(of: socketPath))
                control = try ControlServer(path: socketPath, loop: loop, log: log)
            }
        } catch {
            var reason = error.message
            if error == .addressInUse {
                reason += " (is another atad running? or is something else at that path?)"
            } else if error == .notFound {
                reason += " (create the folder \(Path.directory(of: socketPath)) first)"
            }
            throw StartupError(message: "cannot listen on control socket \(socketPath): \(reason)")
        }
        let telephony = try Telephony(site: site, loop: loop, log: log)
        telephony.start()
        self.telephony = telephony
        let sip = SIPService(site: site, loop: loop, log: log)
        sip.onMessageWaiting = { account, summary in self.messageWaiting(account: account, summary.waiting) }
        try sip.start()
        self.sip = sip
        // Call control between the SIP side and the lines.
        let calls = CallDriver(site: site, sip: sip, telephony: telephony, loop: loop, log: log)
        calls.start()
        self.calls = calls
        control.handler = { request in self.handle(request) }
        self.control = control
        notifier.ready(status: "serving \(site.board.lines.count) lines")
        scheduleWatchdog()
        log.info("\(Version.banner) started: config \(site.path), board '\(site.board.name)' (\(site.board.driver.rawValue), \(site.board.lines.count) lines), country \(site.country), control socket \(socketPath)")
    }

    /// A voicemail summary for `account` (nil: no accounts, every line):
    /// each line calling through it stutters its dial tone and sets the
    /// phone's indicator.
    private func messageWaiting(account: String?, _ waiting: Bool) {
        guard let telephony else { return }
        for port in telephony.ports {
            let lineAccount = site.lineSettings(port.number).account ?? site.accounts.first?.name
            guard account == nil || lineAccount == account else { continue }
            telephony.feed(port, .messageWaiting(waiting), at: loop.now)
        }
    }

    func run() throws(Errno) {
        try loop.run()
        shutDown()
    }

    /// Tells systemd the loop is alive, at half the period it asked for.
    private func scheduleWatchdog() {
        guard let interval = notifier.watchdogInterval else { return }
        loop.schedule(after: interval) {
            self.notifier.watchdog()
            self.scheduleWatchdog()
        }
    }

    private func shutDown() {
        notifier.stopping()
        log.info("shutting down")
        calls?.stop()
        calls = nil
        if let sip {
            // Remove our registrations, waiting a moment for the answers.
            sip.unregisterAll()
            sip.unsubscribeAll()
            let deadline = loop.now + .seconds(2)
            while (sip.unregistrationPending || sip.unsubscriptionPending) && loop.now < deadline {
                try? loop.runOnce(maximumWait: .milliseconds(50))
            }
            sip.stop()
        }
        sip = nil
        control?.close()
        control = nil
        telephony?.stop()
        telephony = nil
        if let signals {
            loop.unregister(signals.descriptor)
            signals.descriptor.close()
        }
        log.info("stopped")
    }

    // MARK: Signals

    private func handleSignals() {
        guard let signals else { return }
        while true {
            let number: Int32?
            do throws(Errno) { number = try signals.next() } catch { log.error("signal descriptor: \(error.message)"); return }
            guard let number else { return }
            switch Signal(rawValue: number) {
            case .hangUp?:
                log.info("SIGHUP: reloading the config")
                _ = reload()
            case .terminate?, .interrupt?:
                log.info("\(Signal(rawValue: number)!.name): stopping")
                loop.stop()
            case nil:
                break
            }
        }
    }

    // MARK: Reload

    /// Reads the config again. Errors keep the running config; settings that
    /// cannot change while running are reported, not applied.
    func reload() -> ControlReply {
        notifier.reloading()
        defer { notifier.ready(status: "serving \(site.board.lines.count) lines") }
        let result = ConfigFiles.loadSite(site.path)
        guard let fresh = result.site else {
            let errors = result.diagnostics.filter { $0.severity == .error }.map { $0.text }
            for line in errors { log.error(line) }
            return .error("config has errors; still running the previous config", errors)
        }
        for warning in result.diagnostics where warning.severity == .warning { log.warn(warning.text) }
        var notes: [String] = []
        if fresh.controlSocket != site.controlSocket { notes.append("control_socket changed: needs a restart") }
        if fresh.stateFile != site.stateFile { notes.append("state_file changed: needs a restart") }
        if fresh.boardPath != site.boardPath { notes.append("board changed: needs a restart") }
        if fresh.sipListenAddress != site.sipListenAddress || fresh.sipListenPort != site.sipListenPort
            || fresh.publicAddress != site.publicAddress {
            notes.append("sip listen address, port or public address changed: needs a restart")
        }
        var applied = fresh
        // What needs a restart stays as it runs now.
        applied.controlSocket = site.controlSocket
        applied.stateFile = site.stateFile
        applied.boardPath = site.boardPath
        applied.board = site.board
        applied.sipListenAddress = site.sipListenAddress
        applied.sipListenPort = site.sipListenPort
        applied.publicAddress = site.publicAddress
        if applied.stunServer != site.stunServer { notes.append("sip stun_server: applied to new calls") }
        if applied.country != site.country { notes.append("country: \(site.country) -> \(applied.country)") }
        if applied.logLevel != site.logLevel { notes.append("log_level: \(site.logLevel) -> \(applied.logLevel)") }
        site = applied
        if let sip { notes += sip.reconfigure(site) }
        calls?.control.site = site
        if let telephony { notes += telephony.reconfigure(site) }
        if let sip, let telephony {
            // A line whose account changed, went or turned `mwi` off
            // follows its account's summary now (its phone is told).
            sip.forgetMessageSummaries(keeping: site.accounts)
            for port in telephony.ports {
                let account = site.lineSettings(port.number).account ?? site.accounts.first?.name
                telephony.feed(port, .messageWaiting(sip.messagesWaiting(for: site.accounts.isEmpty ? nil : account)),
                               at: loop.now)
            }
        }
        reloadCount += 1
        if notes.isEmpty { notes.append("no changes") }
        // Logged before the new level applies, so a quieter level still
        // leaves a record of the reload that set it.
        log.info("reload: reloaded \(site.path)")
        for note in notes { log.info("reload: \(note)") }
        if logLevelOverride == nil, let level = LogLevel(name: site.logLevel) { log.level = level }
        return .ok(["reloaded \(site.path)"] + notes)
    }

    // MARK: Control commands

    private func handle(_ request: ControlRequest) -> ControlReply {
        switch request.command {
        case "status":
            guard request.arguments.isEmpty else { return .error("status takes no arguments") }
            return .ok(statusLines())
        case "reload":
            guard request.arguments.isEmpty else { return .error("reload takes no arguments") }
            return reload()
        case "quit":
            guard request.arguments.isEmpty else { return .error("quit takes no arguments") }
            log.info("quit requested on the control socket")
            // Stop after this reply has gone out.
            loop.schedule(after: .zero) { self.loop.stop() }
            return .ok(["stopping"])
        case "help":
            return .ok(["status", "reload", "quit", "help"] + LineCommands.help)
        default:
            if LineCommands.names.contains(request.command), let telephony {
                return LineCommands(telephony: telephony).handle(request, now: loop.now)
            }
            return .error("unknown command '\(request.command)'; try 'help'")
        }
    }

    private func statusLines() -> [String] {
        let uptime = (loop.now - startedAt).milliseconds / 1000
        var lines = [
            "daemon: running, \(Version.banner), pid \(currentProcessID), up \(uptime) s, reloads \(reloadCount)",
            "config: \(site.path)",
            "board: \(site.board.name) (\(site.board.driver.rawValue))",
            "country: \(site.country)",
        ]
        lines += sip?.statusLines ?? []
        lines += calls?.statusLines ?? []
        for port in telephony?.ports ?? [] {
            lines.append(port.statusLine)
            if let features = calls?.control.featureStatus(ofLine: port.number) { lines.append(features) }
            if let held = calls?.control.heldStatus(ofLine: port.number) { lines.append(held) }
            if let audio = port.audioStatusLine { lines.append(audio) }
            if let signals = port.signalStatusLine { lines.append(signals) }
        }
        return lines
    }
}
