import ControlProtocol
@testable import Daemon
import EventLoop
import Foundation
import Platform
import XCTest

/// The control socket over a real Unix socket, driven from this thread.
final class ControlServerTests: XCTestCase {
    private var path = ""
    private var loop: EventLoop!
    private var server: ControlServer!

    override func setUpWithError() throws {
        path = "/tmp/atad-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let clock = SystemClock()
        loop = EventLoop(clock: clock)
        server = try ControlServer(path: path, loop: loop, log: Logger(level: .error, useSyslog: false, clock: clock))
        server.handler = { request in
            request.command == "echo" ? .ok(request.arguments) : .error("unknown command '\(request.command)'")
        }
    }

    override func tearDown() {
        server.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "close removes the socket file")
    }

    /// Runs the loop until `reply` holds a complete reply or the deadline passes.
    private func exchange(_ client: FileDescriptor, send: String) throws -> String {
        try client.writeAll(send)
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            try loop.runOnce(maximumWait: .milliseconds(20))
            var set = [PollDescriptor(descriptor: client, events: .readable)]
            if try Poll.wait(&set, timeoutMilliseconds: 0) > 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = try client.read(into: &buffer)
                if count == 0 { break }
                received += buffer[0..<count]
                if received.count >= 2 && received.suffix(2) == [10, 10] { break }
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func testRequestAndReplyRoundTrip() throws {
        let client = try UnixSocket.connect(path: path)
        defer { client.close() }
        XCTAssertEqual(try exchange(client, send: "echo a b\n"), "ok\na\nb\n\n")
        XCTAssertEqual(try exchange(client, send: "nope\n"), "error: unknown command 'nope'\n\n")
        XCTAssertEqual(server.clientCount, 1, "the connection stays open for more requests")
    }

    func testAnOverlongLineGetsAnErrorAndTheConnectionCloses() throws {
        let client = try UnixSocket.connect(path: path)
        defer { client.close() }
        let reply = try exchange(client, send: String(repeating: "x", count: ControlServer.maximumLineLength + 10))
        XCTAssertEqual(reply, "error: request too long (at most 4096 bytes)\n\n")
        for _ in 0..<10 where server.clientCount > 0 { try loop.runOnce(maximumWait: .milliseconds(10)) }
        XCTAssertEqual(server.clientCount, 0)
    }

    func testClientsBeyondTheLimitAreTurnedAway() throws {
        var clients: [FileDescriptor] = []
        defer { clients.forEach { $0.close() } }
        // One at a time, letting the server accept in between: a blocking
        // connect would wait forever on a full backlog.
        for _ in 0..<(ControlServer.maximumClients + 3) {
            clients.append(try UnixSocket.connect(path: path))
            try loop.runOnce(maximumWait: .milliseconds(50))
        }
        for _ in 0..<5 { try loop.runOnce(maximumWait: .milliseconds(5)) }
        XCTAssertEqual(server.clientCount, ControlServer.maximumClients)
        clients.forEach { $0.close() }
        clients.removeAll()
        for _ in 0..<20 where server.clientCount > 0 { try loop.runOnce(maximumWait: .milliseconds(5)) }
        XCTAssertEqual(server.clientCount, 0, "closed clients are forgotten")
        let late = try UnixSocket.connect(path: path)
        defer { late.close() }
        XCTAssertEqual(try exchange(late, send: "echo again\n"), "ok\nagain\n\n")
    }
}
