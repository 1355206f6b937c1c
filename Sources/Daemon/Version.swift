import CompactText

/// The release this build is; `make deb` and `--version` read it.
public enum Version {
    public static let number = "0.1.0"
    public static let banner = "atad \(number)"
}
