import CompactText
import Config
import DSP
import Media
import EventLoop
import Platform
import SDP
import SIPDigest
import SIPMessage
import SIPTransaction
import SIPUserAgent
import Timebase

/// SIP over TCP (RFC 3261 §18, RFC 5626 keep-alives): accepting, connecting,
/// framing and flushing stream connections, and the keep-alive timer.
extension SIPService {
    // MARK: Streams (TCP)

    func acceptStreams() {
        guard let tcpListener else { return }
        while true {
            let accepted: (FileDescriptor, SocketAddress)?
            do throws(Errno) { accepted = try TCPSocket.accept(tcpListener) } catch {
                log.debug("SIP: accept: \(error.message)")
                return
            }
            guard let (descriptor, remote) = accepted else { return }
            if streams.values.filter({ !$0.outbound }).count >= SIPService.maximumInboundStreams
                || streams.count >= SIPService.maximumStreams {
                // Full: the longest-quiet inbound connection that carries no
                // call makes room; with none, the new one is refused.
                guard let idlest = streams.values.filter({ !$0.outbound && !connectionCarriesCall($0.descriptor.rawValue) })
                    .min(by: { $0.lastActivity < $1.lastActivity }) else {
                    log.warn("SIP: refusing a TCP connection from \(remote.description): every inbound place carries a call")
                    descriptor.close()
                    continue
                }
                log.debug("SIP: closing the quietest TCP connection (\(idlest.remote.description)) for a new one")
                closeStream(idlest.descriptor.rawValue, reason: nil)
            }
            addStream(SIPStreamConnection(descriptor: descriptor, remote: remote, outbound: false, connected: true, now: loop.now))
            scheduleStreamSweep()
        }
    }

    /// Closes inbound connections quiet for `inboundIdleLimit` that carry
    /// no call: a peer that opened one and went silent holds no place.
    func scheduleStreamSweep() {
        guard streamSweepTimer == nil else { return }
        streamSweepTimer = loop.schedule(after: .seconds(30)) {
            self.streamSweepTimer = nil
            let now = self.loop.now
            for connection in Array(self.streams.values)
            where !connection.outbound && now - connection.lastActivity >= SIPService.inboundIdleLimit
                && !self.connectionCarriesCall(connection.descriptor.rawValue) {
                self.log.debug("SIP: closing the TCP connection from \(connection.remote.description): quiet for \(SIPService.inboundIdleLimit.milliseconds / 1000) s")
                self.closeStream(connection.descriptor.rawValue, reason: nil)
            }
            if self.streams.values.contains(where: { !$0.outbound }) { self.scheduleStreamSweep() }
        }
    }

    func addStream(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        streams[fd] = connection
        loop.register(connection.descriptor, for: connection.connected ? .readable : [.readable, .writable]) { events in
            self.serviceStream(fd, events)
        }
    }

    /// Sends over the connection to `destination`, opening one if needed;
    /// bytes wait in the connection's queue until it is up.
    func sendOverStream(_ bytes: [UInt8], to destination: SocketAddress) {
        var connection = streams.values.first { $0.remote == destination && $0.outbound }
        if connection == nil {
            guard streams.count < SIPService.maximumStreams else {
                log.warn("SIP: no TCP connection to \(destination.description): \(SIPService.maximumStreams) open")
                return
            }
            do throws(Errno) {
                let descriptor = try TCPSocket.connect(to: destination)
                let opened = SIPStreamConnection(descriptor: descriptor, remote: destination, outbound: true,
                                                 connected: false, now: loop.now)
                addStream(opened)
                connection = opened
            } catch {
                log.debug("SIP: connecting to \(destination.description): \(error.message)")
                streamFailed(destination)
                return
            }
        }
        guard let connection else { return }
        queue(bytes, on: connection)
    }

    func queue(_ bytes: [UInt8], on connection: SIPStreamConnection) {
        guard connection.output.count + bytes.count <= SIPStreamConnection.maximumOutput else {
            closeStream(connection.descriptor.rawValue, reason: "output queue full")
            return
        }
        trace(sent: true, bytes, connection.remote, "tcp")
        connection.output += bytes
        connection.lastActivity = loop.now
        if connection.connected { flush(connection) }
    }

    func flush(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        while !connection.output.isEmpty {
            let written: Int
            do throws(Errno) { written = try connection.descriptor.write(connection.output) } catch {
                if error == .wouldBlock {
                    loop.update(connection.descriptor, events: [.readable, .writable])
                    return
                }
                closeStream(fd, reason: error.message)
                return
            }
            connection.output.removeFirst(written)
        }
        loop.update(connection.descriptor, events: .readable)
    }

    func serviceStream(_ fd: Int32, _ events: PollEvents) {
        guard let connection = streams[fd] else { return }
        if !connection.connected {
            guard events.contains(.writable) || events.contains(.error) || events.contains(.hangUp) else { return }
            if let error = TCPSocket.pendingError(connection.descriptor) {
                closeStream(fd, reason: error.message)
                return
            }
            connection.connected = true
        }
        if events.contains(.writable) { flush(connection) }
        guard streams[fd] != nil else { return }
        if events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) { readStream(connection) }
    }

    func readStream(_ connection: SIPStreamConnection) {
        let fd = connection.descriptor.rawValue
        let count: Int
        do throws(Errno) { count = try connection.descriptor.read(into: &readScratch) } catch {
            if error == .wouldBlock { return }
            closeStream(fd, reason: error.message)
            return
        }
        if count == 0 {
            closeStream(fd, reason: "closed by the far end")
            return
        }
        guard connection.input.count + count <= SIPStreamConnection.maximumInput else {
            closeStream(fd, reason: "a message larger than \(SIPStreamConnection.maximumInput) bytes")
            return
        }
        connection.input += readScratch[0..<count]
        connection.lastActivity = loop.now
        // Frame as many whole messages as the buffer holds.
        for _ in 0..<64 {
            if connection.stripKeepAlives() && !connection.outbound { queue([13, 10], on: connection) }
            guard streams[fd] != nil, !connection.input.isEmpty else { return }
            switch SIPParseOutcome.evaluate(connection.input, framing: .stream, uas: profile) {
            case .needMoreData:
                return
            case .request(var request):
                trace(sent: false, connection.input, connection.remote, "tcp")
                request.source = SIPSource(host: connection.remote.host, port: connection.remote.port)
                connection.input.removeFirst(min(request.frameLength, connection.input.count))
                receivedMessages += 1
                handleRequest(request, from: connection.remote, stream: fd)
            case .response(let response):
                trace(sent: false, connection.input, connection.remote, "tcp")
                connection.input.removeFirst(min(response.frameLength, connection.input.count))
                receivedMessages += 1
                dispatch(response)
            case .reject(let rejection):
                var reply = rejection.response(toTag: RandomToken.hex(bytes: 4))
                reply.add(.server, userAgent)
                queue(reply.serialize(), on: connection)
                if rejection.closeConnection || rejection.request.frameLength <= 0 {
                    closeStream(fd, reason: "\(rejection.status) \(rejection.reason)")
                    return
                }
                connection.input.removeFirst(min(rejection.request.frameLength, connection.input.count))
            case .drop(let reason):
                droppedMessages += 1
                closeStream(fd, reason: "unframeable data: \(reason)")
                return
            }
        }
    }

    func closeStream(_ fd: Int32, reason: String?) {
        guard let connection = streams.removeValue(forKey: fd) else { return }
        loop.unregister(connection.descriptor)
        connection.descriptor.close()
        if let reason { log.debug("SIP: TCP connection with \(connection.remote.description) ended: \(reason)") }
        // Calls signalled over this connection cannot be reached any more.
        onConnectionClosed(fd)
        if connection.outbound { streamFailed(connection.remote) }
    }

    /// A connection to `destination` is gone: registrations, subscriptions
    /// and calls waiting on it learn of the transport error at once instead of
    /// timing out.
    func streamFailed(_ destination: SocketAddress) {
        let now = loop.now
        onStreamFailed(destination)
        for entry in registrations
        where entry.destination == destination && entry.registration.settings.transport == .tcp {
            perform(entry.registration.transportFailed(at: now), on: entry)
            rearm(entry)
        }
        for entry in subscriptions
        where entry.destination == destination && entry.subscription.settings.transport == .tcp {
            perform(entry.subscription.transportFailed(at: now), on: entry)
            rearm(entry)
        }
    }

    /// Every `keep_alive_seconds`: CRLFCRLF on each idle outbound TCP
    /// connection (RFC 5626 §3.5.1), and toward each UDP registrar a CRLF
    /// datagram or an OPTIONS (`keep_alive`), so NAT bindings on the way
    /// stay open and the registrar's INVITEs keep reaching us.
    func scheduleKeepAlive() {
        guard site.keepAliveSeconds > 0 else { return }
        let interval = Interval.seconds(Int64(site.keepAliveSeconds))
        keepAliveTimer = loop.schedule(after: interval) {
            let now = self.loop.now
            for connection in self.streams.values
            where connection.outbound && connection.connected && now - connection.lastActivity >= interval - .milliseconds(500) {
                self.queue(KeepAliveMethod.crlfBytes, on: connection)
            }
            // A new address of ours (DHCP, another interface): the
            // registrar must learn it before it sends a call to the old one.
            for entry in self.registrations {
                guard let destination = entry.destination, let own = self.ownAddress(toward: destination),
                      own != entry.registration.settings.localHost else { continue }
                self.perform(entry.registration.ownAddressChanged(to: own, at: now), on: entry)
                self.rearm(entry)
            }
            for entry in self.registrations where entry.registration.settings.transport != .tcp {
                guard let destination = entry.destination else { continue }
                guard self.site.keepAliveWithOptions else {
                    self.send(KeepAliveMethod.crlfBytes, to: destination)
                    self.keepAlivesSent += 1
                    continue
                }
                // An OPTIONS still unanswered a whole interval later is a
                // miss; two in a row, and the registrar (or the NAT binding
                // toward it) is presumed gone: register again at once.
                if entry.keepAliveToken != nil { entry.keepAliveMisses += 1 }
                if entry.keepAliveMisses >= 2 {
                    entry.keepAliveMisses = 0
                    entry.keepAliveToken = nil
                    self.perform(entry.registration.registrarSilent(at: now), on: entry)
                    self.rearm(entry)
                    continue
                }
                let token = RandomToken.hex(bytes: 6)
                entry.keepAliveToken = token
                self.send(KeepAliveMethod.optionsRequest(entry.registration.settings, token: token), to: destination)
                self.keepAlivesSent += 1
            }
            self.scheduleKeepAlive()
        }
    }
}
