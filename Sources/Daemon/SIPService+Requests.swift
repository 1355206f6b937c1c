import CompactText
import EventLoop
import Platform
import SIPMessage
import SIPTransaction
import CallControl
import SIPUserAgent

/// How a response goes back: over UDP to the request's source, or over
/// the TCP connection it came on (its fd).
struct ReplyRoute {
    let source: SocketAddress
    let stream: Int32?
}

/// How a call's message travels: back the way a request came (a call
/// that came in), or over an account's route to its proxy (a call placed).
enum SIPRoute {
    case back(ReplyRoute)
    case account(SocketAddress, SIPTransport)
}

/// Requests in, responses out, through the server transaction layer: a
/// request's copies and the ACKs for our 300-699 answers stop there, and
/// every response we send is recorded there, to be repeated on its timers
/// or when the request comes again.
extension SIPService {
    /// Every request received, over UDP or TCP.
    func handleRequest(_ request: SIPMessage, from source: SocketAddress, stream: Int32?) {
        let route = ReplyRoute(source: source, stream: stream)
        let (arrival, sends) = serverTransactions.receive(request, route: route,
                                                          timers: stream == nil ? .unreliable : .reliable, at: loop.now)
        for send in sends { transmit(send.bytes, on: send.route) }
        defer { rearmServerTransactions() }
        switch arrival {
        case .absorbed:
            return
        case .full:
            // Every place holds a live transaction: a flood. Refused
            // statelessly, so it costs no memory (RFC 3261 §21.5.4).
            guard request.method != .ack else { return }
            droppedMessages += 1
            var busy = SIPMessageBuilder.response(to: request, status: 503, reason: "Service Unavailable",
                                                  toTag: RandomToken.hex(bytes: 4))
            busy.add(.retryAfter, "5")
            busy.add(.server, userAgent)
            transmit(busy.serialize(), on: route)
            return
        case .new:
            break
        }
        // A NOTIFY in one of our subscriptions' dialogs is no call's.
        if request.method == .notify, subscriptions.contains(where: { $0.subscription.owns(request) }) {
            reply(answerNotify(request, from: source), to: source, stream: stream)
            return
        }
        // RFC 3261 §9.2: a CANCEL names its INVITE's transaction; without
        // it, the CANCEL is no call's.
        let forCall = request.method != .cancel || serverTransactions.holdsInvite(cancelledBy: request)
        let origin = RequestOrigin(route: SIPRoute.back(route), reliable: stream != nil, trusted: callSources.admits(source))
        if forCall && onCallRequest(request, origin) { return }
        if request.method == .cancel && forCall {
            // Its INVITE is still a transaction but already has its final
            // answer (a 302 or 486 that crossed the CANCEL): 200, and the
            // CANCEL changes nothing (RFC 3261 §9.2).
            var ok = SIPMessageBuilder.response(to: request, status: 200, reason: "OK", toTag: RandomToken.hex(bytes: 4))
            ok.add(.server, userAgent)
            return reply(ok.serialize(), to: source, stream: stream)
        }
        if request.method == .notify {
            reply(answerNotify(request, from: source), to: source, stream: stream)
            return
        }
        if let response = answer(request) { reply(response, to: source, stream: stream) }
    }

    /// Sends back the way a request came. A response goes through its
    /// server transaction when it has one (which records it and may hold
    /// it back, e.g. a 1xx after the final answer); a request (our BYE in
    /// a call that came in) goes as it is.
    func reply(_ bytes: [UInt8], to source: SocketAddress, stream: Int32?) {
        let route = ReplyRoute(source: source, stream: stream)
        guard bytes.starts(with: SIPService.responsePrefix),
              let sends = serverTransactions.respond(bytes, at: loop.now) else {
            transmit(bytes, on: route)
            return
        }
        for send in sends { transmit(send.bytes, on: send.route) }
        rearmServerTransactions()
    }

    static let responsePrefix = Array("SIP/2.0 ".utf8)

    /// Sends a call's message along its route.
    func transmit(_ bytes: [UInt8], along route: SIPRoute) {
        switch route {
        case .back(let back): reply(bytes, to: back.source, stream: back.stream)
        case .account(let destination, .tcp): sendOverStream(bytes, to: destination)
        case .account(let destination, _): send(bytes, to: destination)
        }
    }

    func transmit(_ bytes: [UInt8], on route: ReplyRoute) {
        if let stream = route.stream {
            if let connection = streams[stream] { queue(bytes, on: connection) }
        } else {
            send(bytes, to: route.source)
        }
    }

    /// One loop timer for the earliest deadline of every server transaction.
    func rearmServerTransactions() {
        if let serverTransactionTimer { loop.cancel(serverTransactionTimer) }
        serverTransactionTimer = nil
        guard let deadline = serverTransactions.nextDeadline else { return }
        serverTransactionTimer = loop.schedule(at: deadline) {
            self.serverTransactionTimer = nil
            for send in self.serverTransactions.advance(to: self.loop.now) { self.transmit(send.bytes, on: send.route) }
            self.rearmServerTransactions()
        }
    }
}

extension SIPService {
    /// Call control refused a new call from a host that may not start
    /// calls: counted for `status`, logged once per host.
    func noteRefusedCall(from route: SIPRoute, callID: String) {
        guard case .back(let back) = route else { return }
        if callSources.noteRefusal(from: back.source, callID: callID) {
            log.info("SIP: refused a call from \(back.source.description): not a registrar or proxy of ours (accept_calls_from = proxy)")
        } else {
            log.debug("SIP: refused INVITE \(callID) from \(back.source.description)")
        }
    }
}

