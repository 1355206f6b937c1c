import Config

/// An in-memory file system for the loader: path -> (text, mode).
struct MemoryFiles {
    var files: [String: (bytes: [UInt8], mode: UInt32)] = [:]

    mutating func add(_ path: String, _ text: String, mode: UInt32 = 0o600) {
        files[path] = (Array(text.utf8), mode)
    }

    mutating func add(_ path: String, bytes: [UInt8], mode: UInt32 = 0o600) {
        files[path] = (bytes, mode)
    }

    func read(_ path: String) -> FileReadResult {
        guard let file = files[path] else { return .failure("No such file or directory") }
        return .contents(file.bytes, permissions: file.mode)
    }
}

let simBoard = """
[board]
name = Test board
driver = sim

[line 1]

[line 2]
"""

let minimalSite = """
[general]
board = board.conf
"""
