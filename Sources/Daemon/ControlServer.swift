import CompactText
import ControlProtocol
import EventLoop
import Platform
import Timebase

/// The daemon's end of the control socket. Each client sends request lines
/// and gets one reply per line. Bounded in every way a client could abuse:
/// line length, pending output, number of clients, and time to finish a line.
final class ControlServer {
    static let maximumLineLength = 4096
    static let maximumClients = 16
    static let maximumPendingOutput = 256 * 1024
    static let idleTimeout = Interval.seconds(10)

    typealias RequestHandler = (ControlRequest) -> ControlReply

    private final class Client {
        let descriptor: FileDescriptor
        var input = LineBuffer(limit: ControlServer.maximumLineLength)
        var output: [UInt8] = []
        var closeWhenFlushed = false
        var idleTimer: TimerID?
        init(descriptor: FileDescriptor) { self.descriptor = descriptor }
    }

    let path: String
    private let loop: EventLoop
    private let log: Logger
    private let listener: FileDescriptor
    private var clients: [Int32: Client] = [:]
    private var readBuffer = [UInt8](repeating: 0, count: 4096)
    var handler: RequestHandler = { _ in .error("not ready") }

    init(path: String, loop: EventLoop, log: Logger) throws(Errno) {
        self.path = path
        self.loop = loop
        self.log = log
        listener = try UnixSocket.listen(path: path)
        loop.register(listener, for: .readable) { _ in self.acceptClients() }
    }

    var clientCount: Int { clients.count }

    /// Stops listening, drops every client and removes the socket file.
    /// (Also breaks the loop's references to this server.)
    func close() {
        for fd in Array(clients.keys) { drop(fd) }
        handler = { _ in .error("shutting down") }
        loop.unregister(listener)
        listener.close()
        FileSystem.removeIfPresent(path)
    }

    private func acceptClients() {
        while true {
            let accepted: FileDescriptor?
            do throws(Errno) {
                accepted = try UnixSocket.accept(listener)
            } catch {
                log.warn("control socket: accept failed: \(error.message)")
                return
            }
            guard let descriptor = accepted else { return }
            if clients.count >= ControlServer.maximumClients {
                let reply = ControlReply.error("too many control clients; try again").wireText
                _ = try? descriptor.write(Array(reply.utf8))
                descriptor.close()
                log.warn("control socket: refused a client: \(ControlServer.maximumClients) already connected")
                continue
            }
            let client = Client(descriptor: descriptor)
            clients[descriptor.rawValue] = client
            loop.register(descriptor, for: .readable) { events in
                self.service(descriptor.rawValue, events)
            }
            armIdleTimer(client)
        }
    }

    private func armIdleTimer(_ client: Client) {
        if let timer = client.idleTimer { loop.cancel(timer) }
        let fd = client.descriptor.rawValue
        client.idleTimer = loop.schedule(after: ControlServer.idleTimeout) {
            guard let current = self.clients[fd], current === client else { return }
            current.idleTimer = nil
            self.log.debug("control socket: closing an idle client")
            self.drop(fd)
        }
    }

    private func service(_ fd: Int32, _ events: PollEvents) {
        guard let client = clients[fd] else { return }
        if events.contains(.writable) {
            flush(client)
            guard clients[fd] != nil else { return }
        }
        if events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) {
            readRequests(client)
        }
    }

    private func readRequests(_ client: Client) {
        let fd = client.descriptor.rawValue
        let count: Int
        do throws(Errno) {
            count = try client.descriptor.read(into: &readBuffer)
        } catch {
            if error == .wouldBlock { return }
            drop(fd)
            return
        }
        if count == 0 {
            // The client closed its end; finish what it asked for, then go.
            if client.output.isEmpty { drop(fd) } else { client.closeWhenFlushed = true; loop.update(client.descriptor, events: .writable) }
            return
        }
        if client.closeWhenFlushed { return }
        client.input.append(readBuffer[0..<count])
        armIdleTimer(client)
        while clients[fd] != nil && !client.closeWhenFlushed {
            switch client.input.nextLine() {
            case .needMore:
                return
            case .overflow:
                send(.error("request too long (at most \(ControlServer.maximumLineLength) bytes)"), to: client, thenClose: true)
                return
            case .line(let line):
                let reply: ControlReply
                do throws(ControlRequest.ParseError) {
                    reply = handler(try ControlRequest.parse(line))
                } catch {
                    reply = error == .empty ? .error("empty request; try 'help'")
                                            : .error("request is not text; try 'help'")
                }
                send(reply, to: client, thenClose: false)
            }
        }
    }

    private func send(_ reply: ControlReply, to client: Client, thenClose: Bool) {
        client.output.append(contentsOf: reply.wireText.utf8)
        if thenClose { client.closeWhenFlushed = true }
        if client.output.count > ControlServer.maximumPendingOutput {
            log.warn("control socket: dropping a client that does not read its replies")
            drop(client.descriptor.rawValue)
            return
        }
        flush(client)
    }

    private func flush(_ client: Client) {
        let fd = client.descriptor.rawValue
        while !client.output.isEmpty {
            let written: Int
            do throws(Errno) {
                written = try client.descriptor.write(client.output)
            } catch {
                if error == .wouldBlock {
                    loop.update(client.descriptor, events: [.readable, .writable])
                    return
                }
                drop(fd)
                return
            }
            client.output.removeFirst(written)
        }
        if client.closeWhenFlushed {
            drop(fd)
        } else {
            loop.update(client.descriptor, events: .readable)
        }
    }

    private func drop(_ fd: Int32) {
        guard let client = clients.removeValue(forKey: fd) else { return }
        if let timer = client.idleTimer { loop.cancel(timer) }
        loop.unregister(client.descriptor)
        client.descriptor.close()
    }
}
