import CompactText
import Config
import Platform

/// Reads config files for the Config module, turning system errors into the
/// words a user needs.
enum ConfigFiles {
    static func read(_ path: String) -> FileReadResult {
        do throws(Errno) {
            let info = try FileSystem.status(path)
            if info.isDirectory { return .failure("it is a directory") }
            let bytes = try FileSystem.readFile(path, limit: ConfigLoader.maximumFileSize)
            return .contents(bytes, permissions: info.permissions)
        } catch {
            if error == .fileTooLarge {
                return .failure("file is too large (more than \(ConfigLoader.maximumFileSize) bytes)")
            }
            return .failure(error.message)
        }
    }

    static func loadSite(_ path: String) -> ConfigLoader.Result {
        ConfigLoader.loadSite(path: path, read: read)
    }
}
