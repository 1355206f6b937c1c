/// Syntax checks for addresses in config values (no name resolution here).
enum AddressSyntax {
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 3 else { return false }
            var value = 0
            for byte in part {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            if value > 255 { return false }
        }
        return true
    }

    static func isIPv6(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.count <= 45 else { return false }
        var colons = 0
        var doubleColon = 0
        var previousColon = false
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: ":") {
                colons += 1
                if previousColon { doubleColon += 1 }
                previousColon = true
                continue
            }
            previousColon = false
            let hex = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
            if hex { continue }
            // An embedded IPv4 tail, e.g. ::ffff:192.0.2.1.
            if byte == UInt8(ascii: ".") {
                guard let lastColon = bytes[..<index].lastIndex(of: UInt8(ascii: ":")) else { return false }
                return isIPv4(String(decoding: bytes[(lastColon + 1)...], as: UTF8.self)) && colons >= 2
            }
            return false
        }
        return colons >= 2 && colons <= 7 && doubleColon <= 1
    }

    static func isHostname(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else { return false }
            for byte in label {
                let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-")
                if !ok { return false }
            }
        }
        return true
    }

    static func isHostPort(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            guard isIPv6(String(decoding: bytes[1..<close], as: UTF8.self)) else { return false }
            let rest = bytes[(close + 1)...]
            if rest.isEmpty { return true }
            guard rest.first == UInt8(ascii: ":") else { return false }
            return isPort(rest.dropFirst())
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            let host = String(decoding: bytes[..<colon], as: UTF8.self)
            return (isIPv4(host) || isHostname(host)) && isPort(bytes[(colon + 1)...])
        }
        return isIPv4(text) || isHostname(text)
    }

    /// An IP literal with an optional port: 192.0.2.1, 192.0.2.1:53, [::1]:53 or ::1.
    static func isAddressPort(_ text: String) -> Bool {
        if isIPv6(text) { return true }
        guard isHostPort(text) else { return false }
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "[") { return true }
        let host = bytes.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: bytes[..<$0], as: UTF8.self) } ?? text
        return isIPv4(host)
    }

    private static func isPort(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 5 else { return false }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value >= 1 && value <= 65535
    }
}
