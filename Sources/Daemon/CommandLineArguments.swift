import CompactText

/// The `atad` command line, parsed. Parsing is pure so it can be tested.
enum Invocation: Equatable {
    case run(config: String, syslog: Bool, logLevel: String?)
    case checkConfig(files: [String])
    case safe(config: String)
    case ctl(socket: String?, config: String?, words: [String])
    case version
    case help(topic: String?)

    struct UsageError: Error, Equatable {
        var message: String
        /// The command whose usage to print with the error.
        var topic: String?
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        guard let command = arguments.first else { return .help(topic: nil) }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "--version", "-V", "version":
            guard rest.isEmpty else { throw UsageError(message: "'\(command)' takes no arguments", topic: nil) }
            return .version
        case "--help", "-h":
            return .help(topic: nil)
        case "help":
            guard rest.count <= 1 else { throw UsageError(message: "'help' takes at most one command", topic: nil) }
            if let topic = rest.first, Usage.text(for: topic) == nil {
                throw UsageError(message: "no such command '\(topic)'", topic: nil)
            }
            return .help(topic: rest.first)
        case "run":
            return try parseRun(rest)
        case "check-config":
            if rest.contains("--help") || rest.contains("-h") { return .help(topic: "check-config") }
            guard !rest.isEmpty else { throw UsageError(message: "check-config needs a FILE", topic: "check-config") }
            if let flag = rest.first(where: { $0.utf8.first == UInt8(ascii: "-") }) {
                throw UsageError(message: "unknown option '\(flag)'", topic: "check-config")
            }
            return .checkConfig(files: rest)
        case "ctl":
            return try parseCtl(rest)
        case "safe":
            return try parseSafe(rest)
        default:
            throw UsageError(message: command.utf8.first == UInt8(ascii: "-")
                                ? "unknown option '\(command)'" : "unknown command '\(command)'",
                             topic: nil)
        }
    }

    private static func parseRun(_ arguments: [String]) throws(UsageError) -> Invocation {
        var config: String?
        var syslog = false
        var logLevel: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--config", "-c":
                guard index + 1 < arguments.count else { throw UsageError(message: "\(argument) needs a FILE", topic: "run") }
                config = arguments[index + 1]
                index += 1
            case "--syslog":
                syslog = true
            case "--log-level":
                guard index + 1 < arguments.count else { throw UsageError(message: "--log-level needs a LEVEL", topic: "run") }
                let level = arguments[index + 1]
                guard ["error", "warn", "info", "debug"].contains(level) else {
                    throw UsageError(message: "invalid log level '\(level)': expected error, warn, info or debug", topic: "run")
                }
                logLevel = level
                index += 1
            case "--help", "-h":
                return .help(topic: "run")
            default:
                throw UsageError(message: argument.utf8.first == UInt8(ascii: "-")
                                    ? "unknown option '\(argument)'" : "unexpected argument '\(argument)'",
                                 topic: "run")
            }
            index += 1
        }
        guard let config else { throw UsageError(message: "run needs --config FILE", topic: "run") }
        return .run(config: config, syslog: syslog, logLevel: logLevel)
    }

    private static func parseSafe(_ arguments: [String]) throws(UsageError) -> Invocation {
        var config: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--config", "-c":
                guard index + 1 < arguments.count else { throw UsageError(message: "\(argument) needs a FILE", topic: "safe") }
                config = arguments[index + 1]
                index += 1
            case "--help", "-h":
                return .help(topic: "safe")
            default:
                throw UsageError(message: argument.utf8.first == UInt8(ascii: "-")
                                    ? "unknown option '\(argument)'" : "unexpected argument '\(argument)'",
                                 topic: "safe")
            }
            index += 1
        }
        guard let config else { throw UsageError(message: "safe needs --config FILE", topic: "safe") }
        return .safe(config: config)
    }

    private static func parseCtl(_ arguments: [String]) throws(UsageError) -> Invocation {
        var socket: String?
        var config: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--socket" || argument == "-s" || argument == "--config" || argument == "-c" {
                guard index + 1 < arguments.count else { throw UsageError(message: "\(argument) needs a value", topic: "ctl") }
                if argument == "--socket" || argument == "-s" { socket = arguments[index + 1] } else { config = arguments[index + 1] }
                index += 2
            } else if argument == "--help" || argument == "-h" {
                return .help(topic: "ctl")
            } else if argument.utf8.first == UInt8(ascii: "-") {
                throw UsageError(message: "unknown option '\(argument)'", topic: "ctl")
            } else {
                break
            }
        }
        let words = Array(arguments[index...])
        guard !words.isEmpty else { throw UsageError(message: "ctl needs a COMMAND", topic: "ctl") }
        return .ctl(socket: socket, config: config, words: words)
    }
}
