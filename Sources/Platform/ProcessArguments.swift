import CAtadSystem

/// The command-line arguments. Embedded Swift has no `CommandLine`, so the C
/// target captures argc/argv before main runs.
public enum ProcessArguments {
    public static func all() -> [String] {
        var result: [String] = []
        guard let argv = atad_argv() else { return result }
        for index in 0..<Int(atad_argc()) {
            if let argument = argv[index] { result.append(String(cString: argument)) }
        }
        return result
    }
}

/// Leaves the process with a status code, flushing nothing (we write
/// unbuffered).
public func exitProcess(_ status: Int32) -> Never {
    exit(status)
}

/// An environment variable, if set.
public func environmentValue(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

/// This process's id.
public var currentProcessID: Int32 { getpid() }
