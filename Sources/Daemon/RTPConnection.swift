import CompactText
import DSP
import EventLoop
import Media
import Platform
import RTP
import SDP
import STUN
import Timebase

/// One call's RTP and RTCP sockets in the poll loop and, once offer/answer
/// has settled, its media session. The sockets are bound before the SDP is
/// written (call control's `openMedia`), so the SDP names ports that are
/// really ours; the call's offer/answer state is call control's.
final class RTPConnection {
    let rtp: UDPSocket
    let rtcp: UDPSocket
    let localPort: UInt16
    private(set) var session: MediaSession?
    /// With `dtmf_relay = info`: a key released on the line (digit, how long
    /// it sounded in ms), for the SIP side to send.
    var onKeyReleased: (DTMFDigit, Int) -> Void = { _, _ in }
    /// While a STUN probe runs: a STUN datagram on the RTP (false) or
    /// RTCP (true) socket, and where it came from.
    var onSTUN: ((UnsafeRawBufferPointer, SocketAddress, Bool) -> Void)?
    private var filter: RTPSourceFilter<MediaHost>?
    private var rtcpDestination: SocketAddress?
    private var sendBuffer = [UInt8](repeating: 0, count: 1500)
    private var receiveBuffer = [UInt8](repeating: 0, count: 2048)
    private var reportTimer: TimerID?
    /// When the far end was last heard from: RTP or RTCP from it, or the
    /// media (re)starting. A far end that sends nothing for the RTP
    /// timeout is taken for gone.
    private(set) var lastHeard: Instant
    private let loop: EventLoop
    private var closed = false
    /// RTCP goes out every 5 s (RFC 3550 §6.2's minimum), varied by ±50 %.
    static let reportInterval = Interval.seconds(5)

    private init(rtp: UDPSocket, rtcp: UDPSocket, localPort: UInt16, loop: EventLoop) {
        self.rtp = rtp
        self.rtcp = rtcp
        self.localPort = localPort
        self.loop = loop
        lastHeard = loop.now
    }

    /// Binds an RTP port and the RTCP port above it (RFC 3550 §11: RTP on
    /// an even port, RTCP on the next odd one), on `host`.
    /// With `ports` (`rtp_port_min`...`max`), the even ports of the range
    /// are tried from `nextPair` on (where the last call left off, so a
    /// port just closed is not taken again at once); else any free pair.
    static func open(host: String, ports: ClosedRange<Int>?, nextPair: inout Int, loop: EventLoop) -> RTPConnection? {
        guard let ports else { return open(host: host, loop: loop) }
        let first = (ports.lowerBound + 1) & ~1
        let pairs = (ports.upperBound - first + 1) / 2
        guard pairs > 0 else { return nil }
        for step in 0..<pairs {
            let port = first + 2 * ((nextPair + step) % pairs)
            guard let rtpAddress = SocketAddress(ip: host, port: UInt16(port)),
                  let rtcpAddress = SocketAddress(ip: host, port: UInt16(port + 1)),
                  let rtp = try? UDPSocket(binding: rtpAddress) else { continue }
            guard let rtcp = try? UDPSocket(binding: rtcpAddress) else {
                rtp.close()
                continue
            }
            nextPair = (nextPair + step + 1) % pairs
            return connection(rtp: rtp, rtcp: rtcp, port: UInt16(port), loop: loop)
        }
        return nil
    }

    /// Any free even port and the one after it.
    private static func open(host: String, loop: EventLoop) -> RTPConnection? {
        for _ in 0..<32 {
            guard let any = SocketAddress(ip: host, port: 0), let rtp = try? UDPSocket(binding: any),
                  let port = (try? rtp.localAddress())?.port else { return nil }
            guard port % 2 == 0, port < 65_535, let next = SocketAddress(ip: host, port: port + 1),
                  let rtcp = try? UDPSocket(binding: next) else {
                rtp.close()
                continue
            }
            return connection(rtp: rtp, rtcp: rtcp, port: port, loop: loop)
        }
        return nil
    }

    private static func connection(rtp: UDPSocket, rtcp: UDPSocket, port: UInt16, loop: EventLoop) -> RTPConnection {
        let media = RTPConnection(rtp: rtp, rtcp: rtcp, localPort: port, loop: loop)
        loop.register(rtp.descriptor, for: .readable) { _ in media.receiveMedia() }
        loop.register(rtcp.descriptor, for: .readable) { _ in media.receiveControl() }
        return media
    }

    /// Offer/answer settled: start (or re-point) the audio path.
    func start(_ media: NegotiatedMedia, settings: MediaSession.Settings) {
        guard let remote = SocketAddress(ip: media.remoteAddress.address, port: media.remoteRTPPort) else { return }
        rtcpDestination = SocketAddress(ip: media.remoteRTCPAddress.address, port: media.remoteRTCPPort)
        if let session {
            session.update(media)
        } else {
            session = MediaSession(media: media, settings: settings)
            scheduleReport()
        }
        let endpoint = RTPEndpoint(host: MediaHost(address: remote), port: remote.port)
        if filter?.negotiated != endpoint { filter = RTPSourceFilter(negotiated: endpoint) }
        lastHeard = loop.now
    }

    /// Whether the far end is expected to send: not on hold by it, and not
    /// asked by us to be silent. Only then does its silence mean anything.
    var expectsMedia: Bool {
        guard let media = session?.media else { return false }
        return !media.heldByRemote && media.direction.receives
    }

    /// The earpiece's frame: the far end's audio.
    func frame(earpiece: UnsafeMutableBufferPointer<Int16>, now: Instant) {
        guard let session else {
            earpiece.update(repeating: 0)
            return
        }
        session.playout(into: earpiece, at: now)
    }

    /// The mouthpiece's frame: sent to the far end when `send` (the call is
    /// up), a packet whenever a packet time is complete.
    func frame(mouth: UnsafeBufferPointer<Int16>, dtmf: DTMFDetector.Status, now: Instant, send: Bool) {
        guard send, let session, let destination = filter?.sendAddress.host.address else { return }
        let length = sendBuffer.withUnsafeMutableBytes { session.capture(mouth, dtmf: dtmf, into: $0) }
        if let key = session.takeReleasedKey() { onKeyReleased(key.digit, key.milliseconds) }
        guard length > 0 else { return }
        _ = sendBuffer.withUnsafeBytes { raw in
            try? rtp.send(UnsafeRawBufferPointer(rebasing: raw[0..<length]), to: destination)
        }
    }

    private func receiveMedia() {
        for _ in 0..<64 {
            guard let received = try? rtp.receive(into: &receiveBuffer) else { return }
            if divertSTUN(received.count, from: received.from, onRTCP: false) {
                // STUN's answer may have ended the call (its sockets closed).
                if closed { return }
                continue
            }
            guard let session, !received.truncated else { continue }
            let header = receiveBuffer.withUnsafeBytes { raw in
                try? RTPPacket(parsing: UnsafeRawBufferPointer(rebasing: raw[0..<received.count])).header
            }
            guard let header else {
                session.noteMalformed()
                continue
            }
            let source = RTPEndpoint(host: MediaHost(address: received.from), port: received.from.port)
            guard filter?.admit(from: source, ssrc: header.ssrc, sequence: header.sequenceNumber) != .ignored else { continue }
            let now = loop.now
            lastHeard = now
            receiveBuffer.withUnsafeBytes { raw in
                session.receive(UnsafeRawBufferPointer(rebasing: raw[0..<received.count]), at: now)
            }
        }
    }

    private func receiveControl() {
        for _ in 0..<16 {
            guard let received = try? rtcp.receive(into: &receiveBuffer) else { return }
            if divertSTUN(received.count, from: received.from, onRTCP: true) {
                if closed { return }
                continue
            }
            guard let session, let negotiated = filter?.negotiated.host.address,
                  received.from.sameHost(as: negotiated) else { continue }
            lastHeard = loop.now
            receiveBuffer.withUnsafeBytes { raw in
                session.receiveControl(UnsafeRawBufferPointer(rebasing: raw[0..<received.count]), at: loop.now)
            }
        }
    }

    /// Hands the datagram just received to the STUN probe when one runs
    /// and it is STUN (RFC 7983's first-byte rule); true when it did.
    private func divertSTUN(_ count: Int, from source: SocketAddress, onRTCP: Bool) -> Bool {
        guard let onSTUN else { return false }
        return receiveBuffer.withUnsafeBytes { raw in
            let datagram = UnsafeRawBufferPointer(rebasing: raw[0..<count])
            guard STUNHeader.isSTUN(datagram) else { return false }
            onSTUN(datagram, source, onRTCP)
            return true
        }
    }

    var isClosed: Bool { closed }

    private func scheduleReport() {
        let jitter = Int64(RandomToken.number() % 5000) - 2500
        reportTimer = loop.schedule(after: RTPConnection.reportInterval + .milliseconds(jitter)) {
            self.reportTimer = nil
            self.sendReport(goodbye: false)
            self.scheduleReport()
        }
    }

    private func sendReport(goodbye: Bool) {
        guard let session, let rtcpDestination else { return }
        let now = loop.now
        let length = sendBuffer.withUnsafeMutableBytes { session.makeReport(into: $0, at: now, goodbye: goodbye) }
        guard length > 0 else { return }
        _ = sendBuffer.withUnsafeBytes { raw in
            try? rtcp.send(UnsafeRawBufferPointer(rebasing: raw[0..<length]), to: rtcpDestination)
        }
    }

    /// RTP from sources other than the call's peer, dropped.
    var ignoredPackets: UInt64 { filter?.ignoredPackets ?? 0 }

    /// `media: ...` for `status` and the end-of-call log line.
    var summary: String {
        guard let session else { return "media: port \(localPort), not started" }
        var text = "media: " + (session.media.codec == .pcma ? "PCMA" : "PCMU") + " \(session.media.ptime) ms, port \(localPort), "
        text += session.summary
        if session.media.heldByRemote { text += ", on hold by the far end" }
        if ignoredPackets > 0 { text += ", ignored \(ignoredPackets) from other sources" }
        return text
    }

    /// Ends the media: an RTCP BYE if it ever started, then the sockets go.
    func close() {
        guard !closed else { return }
        closed = true
        onSTUN = nil
        if reportTimer != nil { sendReport(goodbye: true) }
        if let reportTimer { loop.cancel(reportTimer) }
        reportTimer = nil
        loop.unregister(rtp.descriptor)
        loop.unregister(rtcp.descriptor)
        rtp.close()
        rtcp.close()
        session = nil
    }
}

/// A media source's host for `RTPSourceFilter`: equal when the IP is the
/// same, whatever the port (the filter compares ports itself). Keeps the
/// whole address, so a latched source can be sent to as it is.
struct MediaHost: Equatable {
    let address: SocketAddress

    static func == (lhs: MediaHost, rhs: MediaHost) -> Bool { lhs.address.sameHost(as: rhs.address) }
}
