import CompactText
import CAtadSystem

/// What `stat` says about a path, as far as atad cares.
public struct FileStatus: Sendable {
    public var size: Int64
    public var mode: UInt32
    public var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    public var isSocket: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFSOCK) }
    /// The permission bits, e.g. 0o640.
    public var permissions: UInt32 { mode & 0o7777 }
}

public enum FileSystem {
    public static func status(_ path: String) throws(Errno) -> FileStatus {
        var info = stat()
        if stat(path, &info) != 0 { throw Errno.current }
        return FileStatus(size: Int64(info.st_size), mode: UInt32(info.st_mode))
    }

    /// Reads a whole regular file of at most `limit` bytes. A larger file
    /// throws EFBIG without reading it; a directory throws EISDIR.
    public static func readFile(_ path: String, limit: Int) throws(Errno) -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }
        var info = stat()
        if fstat(fd.rawValue, &info) != 0 { throw Errno.current }
        if UInt32(info.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR) { throw Errno.isDirectory }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = try fd.read(into: &chunk)
            if count == 0 { break }
            if bytes.count + count > limit { throw Errno.fileTooLarge }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Writes a whole file so that a reader (or the next start after a
    /// power cut) sees the old contents or the new, never half: the bytes
    /// go to `PATH.tmp`, which is then renamed over `path`. `durable`: on
    /// the storage (fsync) before the rename, and the folder after it, for
    /// state that must survive a power cut; a test's recording need not
    /// wait for the disk.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644,
                                           durable: Bool = true) throws(Errno) {
        let temporary = path + ".tmp"
        let fd = try FileDescriptor.open(temporary, [.writeOnly, .create, .truncate], mode: mode)
        do throws(Errno) {
            try fd.writeAll(bytes)
            if durable, fsync(fd.rawValue) != 0 { throw Errno.current }
        } catch {
            fd.close()
            removeIfPresent(temporary)
            throw error
        }
        fd.close()
        if rename(temporary, path) != 0 {
            let error = Errno.current
            removeIfPresent(temporary)
            throw error
        }
        // The rename is an entry in the folder: synced too, or a power
        // cut may still bring back the old file.
        if durable, let folder = try? FileDescriptor.open(Path.directory(of: path), [.readOnly]) {
            _ = fsync(folder.rawValue)
            folder.close()
        }
    }

    /// Removes a file; a missing file is not an error.
    public static func removeIfPresent(_ path: String) {
        _ = unlink(path)
    }

    /// Creates a directory; one that exists already is fine.
    public static func makeDirectory(_ path: String, mode: UInt32 = 0o755) throws(Errno) {
        if mkdir(path, mode_t(mode)) != 0 {
            let error = Errno.current
            if error.code != EEXIST { throw error }
        }
    }
}

/// Path helpers that need no system call.
public enum Path {
    /// The folder part of a path ("." when there is none).
    public static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[0..<slash], as: UTF8.self)
    }

    /// Resolves `path` against `base` unless it is absolute.
    public static func resolve(_ path: String, relativeTo base: String) -> String {
        if path.utf8.first == UInt8(ascii: "/") { return path }
        return directory(of: base) + "/" + path
    }
}
