import CompactText
import Platform

/// Unbuffered writes to stdout and stderr, one whole line at a time.
enum Console {
    @inline(never)
    static func out(_ line: String) {
        try? FileDescriptor.standardOutput.writeAll(line + "\n")
    }
    @inline(never)
    static func err(_ line: String) {
        try? FileDescriptor.standardError.writeAll(line + "\n")
    }
}
