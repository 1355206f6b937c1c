import CompactText
import Config
import EventLoop
import Platform

/// `atad`'s entry point: parses the command line and runs the command.
/// Returns the process exit status.
public func atadMain(arguments: [String]) -> Int32 {
    let invocation: Invocation
    do throws(Invocation.UsageError) {
        invocation = try Invocation.parse(Array(arguments.dropFirst()))
    } catch {
        Console.err("atad: \(error.message)")
        Console.err(error.topic.flatMap { Usage.text(for: $0) } ?? Usage.summary)
        return 2
    }
    switch invocation {
    case .version:
        Console.out(Version.banner)
        return 0
    case .help(let topic):
        Console.out(topic.flatMap { Usage.text(for: $0) } ?? Usage.summary)
        return 0
    case .checkConfig(let files):
        return CheckConfigCommand.run(files: files)
    case .safe(let config):
        return SafeOutputsCommand.run(config: config)
    case .ctl(let socket, let config, let words):
        return ControlClient.run(socket: socket, config: config, words: words)
    case .run(let config, let syslog, let logLevel):
        return runDaemon(configPath: config, syslog: syslog, logLevel: logLevel)
    }
}

private func runDaemon(configPath: String, syslog: Bool, logLevel: String?) -> Int32 {
    let result = ConfigFiles.loadSite(configPath)
    for diagnostic in result.diagnostics { Console.err(diagnostic.text) }
    guard let site = result.site else {
        Console.err("atad: not starting: \(configPath) has errors")
        return 1
    }
    let clock = SystemClock()
    let override = logLevel.flatMap { LogLevel(name: $0) }
    let log = Logger(level: override ?? LogLevel(name: site.logLevel) ?? .info, useSyslog: syslog, clock: clock)
    let loop = EventLoop(clock: clock)
    let daemon = Daemon(site: site, log: log, logLevelOverride: override, loop: loop)
    do throws(StartupError) {
        try daemon.start()
    } catch {
        log.error("fatal: \(error.message)")
        return 1
    }
    do throws(Errno) {
        try daemon.run()
    } catch {
        log.error("fatal: the event loop failed: \(error.message)")
        return 1
    }
    return 0
}
