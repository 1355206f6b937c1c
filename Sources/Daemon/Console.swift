import Platform

/// Unbuffered writes to stdout and stderr, one whole line at a time.
enum Console {
    static func out(_ line: String) {
        try? FileDescriptor.standardOutput.writeAll(line + "\n")
    }
    static func err(_ line: String) {
        try? FileDescriptor.standardError.writeAll(line + "\n")
    }
}
