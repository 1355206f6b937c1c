import CallControl
import EventLoop
import Platform
import STUN
import Timebase

/// Asks a STUN server where a new call's RTP and RTCP sockets are seen
/// from (one Binding from each, RFC 5389), and hands the answer on once:
/// both public addresses, or nil when either went unanswered or was
/// refused. The call's SDP waits on it, at most `STUNBinding`'s 1.5 s.
final class STUNProbe {
    private let connection: RTPConnection
    private let server: SocketAddress
    private let loop: EventLoop
    private var rtp: STUNBinding
    private var rtcp: STUNBinding
    private var timer: TimerID?
    private var done: ((PublicMedia?) -> Void)?
    /// The longest a probe takes: what a call's SDP may wait for it.
    static var longest: Interval { STUNBinding.giveUpAfter }

    init(connection: RTPConnection, server: SocketAddress, loop: EventLoop, done: @escaping (PublicMedia?) -> Void) {
        self.connection = connection
        self.server = server
        self.loop = loop
        self.done = done
        rtp = STUNBinding(transactionID: STUNProbe.transactionID())
        rtcp = STUNBinding(transactionID: STUNProbe.transactionID())
    }

    /// 96 random bits (RFC 5389 §6): what keeps an off-path host from
    /// answering for the server.
    private static func transactionID() -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<3 {
            let word = RandomToken.number()
            bytes += [UInt8(word >> 24), UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)]
        }
        return bytes
    }

    func start() {
        let now = loop.now
        connection.onSTUN = { datagram, source, onRTCP in self.receive(datagram, from: source, onRTCP: onRTCP) }
        send(rtp.start(at: now), onRTCP: false)
        send(rtcp.start(at: now), onRTCP: true)
        rearm()
    }

    private func send(_ bytes: [UInt8], onRTCP: Bool) {
        guard !connection.isClosed else { return }
        _ = try? (onRTCP ? connection.rtcp : connection.rtp).send(bytes, to: server)
    }

    private func receive(_ datagram: UnsafeRawBufferPointer, from source: SocketAddress, onRTCP: Bool) {
        guard source == server else { return }
        let answered = onRTCP ? rtcp.receive(datagram) : rtp.receive(datagram)
        if answered { finishIfOver() }
    }

    private func rearm() {
        if let timer { loop.cancel(timer) }
        timer = nil
        let deadlines = [rtp.nextDeadline, rtcp.nextDeadline].compactMap { $0 }
        guard let next = deadlines.min() else { return }
        timer = loop.schedule(at: next) {
            self.timer = nil
            let now = self.loop.now
            for onRTCP in [false, true] {
                let output = onRTCP ? self.rtcp.advance(to: now) : self.rtp.advance(to: now)
                if case .send(let bytes)? = output { self.send(bytes, onRTCP: onRTCP) }
            }
            self.finishIfOver()
        }
    }

    /// Both bindings over (answered, refused or given up): the answer goes
    /// on, and the connection's datagrams are its own again.
    private func finishIfOver() {
        guard rtp.isOver && rtcp.isOver else { return rearm() }
        if let timer { loop.cancel(timer) }
        timer = nil
        connection.onSTUN = nil
        guard let done else { return }
        self.done = nil
        guard !connection.isClosed, let mappedRTP = rtp.result, let mappedRTCP = rtcp.result,
              mappedRTP.addressBytes == mappedRTCP.addressBytes,
              let address = SocketAddress(addressBytes: mappedRTP.addressBytes, port: mappedRTP.port) else {
            return done(nil)
        }
        done(PublicMedia(host: address.host, rtpPort: mappedRTP.port, rtcpPort: mappedRTCP.port))
    }
}
