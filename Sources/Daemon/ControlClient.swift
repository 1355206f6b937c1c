import CompactText
import Config
import ControlProtocol
import Platform

/// `atad ctl`: one request, one reply, exit status from the reply.
enum ControlClient {
    static let exitOK: Int32 = 0
    static let exitErrorReply: Int32 = 1
    static let exitUnreachable: Int32 = 3
    static let replyTimeoutMilliseconds: Int32 = 10_000
    static let maximumReplyBytes = 1 << 20

    static func run(socket: String?, config: String?, words: [String]) -> Int32 {
        let path: String
        if let socket {
            path = socket
        } else if let config {
            let result = ConfigFiles.loadSite(config)
            guard let site = result.site else {
                for diagnostic in result.diagnostics where diagnostic.severity == .error { Console.err(diagnostic.text) }
                return exitErrorReply
            }
            path = site.controlSocket
        } else {
            path = SiteConfig.defaultControlSocket
        }
        let request = ControlRequest(command: words[0], arguments: Array(words.dropFirst()))
        let descriptor: FileDescriptor
        do throws(Errno) {
            descriptor = try UnixSocket.connect(path: path)
        } catch {
            Console.err("atad ctl: cannot connect to \(path): \(error.message) (is atad running?)")
            return exitUnreachable
        }
        defer { descriptor.close() }
        do throws(Errno) {
            try descriptor.writeAll(request.line)
        } catch {
            Console.err("atad ctl: cannot send to \(path): \(error.message)")
            return exitUnreachable
        }
        guard let lines = readReply(descriptor) else {
            Console.err("atad ctl: no complete reply from \(path)")
            return exitUnreachable
        }
        guard let reply = ControlReply.parse(lines: lines) else {
            Console.err("atad ctl: malformed reply from \(path)")
            return exitUnreachable
        }
        if reply.isOK {
            Console.out(reply.statusLine)
            for line in reply.lines { Console.out(line) }
            return exitOK
        }
        Console.err(reply.statusLine)
        for line in reply.lines { Console.err(line) }
        return exitErrorReply
    }

    /// Reads lines until the empty line that ends a reply, with a deadline.
    private static func readReply(_ descriptor: FileDescriptor) -> [String]? {
        var buffer = LineBuffer(limit: maximumReplyBytes)
        var lines: [String] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while case .line(let line) = buffer.nextLine() {
                var bytes = line
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                if bytes.isEmpty { return lines }
                lines.append(String(decoding: bytes, as: UTF8.self))
            }
            var set = [PollDescriptor(descriptor: descriptor, events: .readable)]
            guard let ready = try? Poll.wait(&set, timeoutMilliseconds: replyTimeoutMilliseconds), ready > 0 else {
                return nil
            }
            guard let count = try? descriptor.read(into: &chunk), count > 0 else { return nil }
            buffer.append(chunk[0..<count])
        }
    }
}
