import CallControl
import CompactText
import Config
import DSP
import EventLoop
import Line
import Media
import Platform
import SIPUserAgent
import SIPLocation
import SIPMessage
import Timebase

/// Carries out call control's decisions: SIP messages through the SIP
/// service, commands to the lines, each call's RTP connection (kept here
/// by Call-ID), log lines; and feeds call control what happens: requests
/// and responses, the lines' actions, keys released, its timer.
final class CallDriver {
    let control: CallControl<SIPRoute>
    private let sip: SIPService
    /// `stun_server` as last looked up, until its records' TTL runs out.
    private var stunServer: (name: String, family: SocketAddress.Family, address: SocketAddress?, freshUntil: Instant)?
    private let telephony: Telephony
    private let loop: EventLoop
    private let log: Logger
    private var connections: [String: RTPConnection] = [:]
    private var timer: TimerID?
    private var silenceTimer: TimerID?
    /// Where the next call looks for its RTP ports in `rtp_port_min`...`max`.
    private var nextRTPPair = 0
    /// Per line, the number of the dial whose route is being looked up.
    private var dialsOutstanding: [Int: Int] = [:]
    private var nextDialTicket = 0

    init(site: SiteConfig, sip: SIPService, telephony: Telephony, loop: EventLoop, log: Logger) {
        control = CallControl(site: site, lines: telephony.ports.map { $0.number },
                              defaultUserAgent: "atad/\(Version.number)",
                              makeToken: { RandomToken.hex() }, random: { RandomToken.number() })
        self.sip = sip
        self.telephony = telephony
        self.loop = loop
        self.log = log
    }

    /// Connects the SIP service and the lines to call control; call after
    /// the SIP service started (its port goes in our Contact).
    func start() {
        control.sipPort = sip.boundPort ?? 0
        sip.onCallRequest = { request, origin in
            guard let actions = self.control.receive(request: request, from: origin, at: self.loop.now) else { return false }
            self.perform(actions)
            return true
        }
        sip.onCallResponse = { response in
            guard let actions = self.control.receive(response: response, at: self.loop.now) else { return false }
            self.perform(actions)
            return true
        }
        sip.onConnectionClosed = { fd in
            self.perform(self.control.connectionLost { route in
                if case .back(let back) = route { return back.stream == fd }
                return false
            })
        }
        sip.onStreamFailed = { destination in
            // After the send that found it: not inside call control's turn.
            _ = self.loop.schedule(after: .zero) {
                self.perform(self.control.connectionFailed({ route in
                    if case .account(let server, .tcp) = route { return server == destination }
                    return false
                }, at: self.loop.now))
            }
        }
        sip.connectionCarriesCall = { fd in
            self.control.hasCall { route in
                if case .back(let back) = route { return back.stream == fd }
                return false
            }
        }
        telephony.onCallEvent = { line, action in self.lineActed(line, action) }
        // The lines started before this hook was set (a handset already
        // off hook at boot): call control learns where each one stands.
        for port in telephony.ports { control.lineStateChanged(port.number, to: port.machine.state) }
        restoreFeatures()
    }

    /// The daemon stops: every call's media closes (no BYEs are sent).
    func stop() {
        perform(control.endAll())
        if let timer { loop.cancel(timer) }
        timer = nil
    }

    private func lineActed(_ line: Int, _ action: LineAction) {
        let now = loop.now
        switch action {
        case .stateChanged(let state): control.lineStateChanged(line, to: state)
        case .answer: perform(control.lineAnswered(line, at: now))
        case .hangUp:
            dialsOutstanding[line] = nil
            perform(control.lineHungUp(line, at: now))
        case .flash:
            // A second call still looking for its route is dropped with
            // the flash that takes the held call back.
            dialsOutstanding[line] = nil
            perform(control.lineFlashed(line, at: now))
        case .feature(let request): perform(control.lineFeature(line, request))
        case .dial(let number):
            // The route may need a DNS lookup: the call is placed when it
            // ends, unless the handset went down (or dialed again) meanwhile.
            nextDialTicket += 1
            let ticket = nextDialTicket
            dialsOutstanding[line] = ticket
            findLineRoute(line, for: .dial(number: number, ticket: ticket))
        default: break
        }
    }

    private func perform(_ actions: [CallControlAction<SIPRoute>]) {
        for action in actions {
            switch action {
            case .sip(let bytes, let route):
                sip.transmit(bytes, along: route)
            case .line(let line, let command):
                telephony.command(line, command)
            case .openMedia(let callID, let host, let toward):
                openMedia(callID, host: host ?? localHost(toward: toward), publicContact: sip.publicContact(toward: toward))
            case .media(let callID, let command):
                if let connection = connections[callID] { carry(command, on: connection, callID: callID) }
            case .log(let level, let text):
                switch level {
                case .debug: log.debug(text)
                case .info: log.info(text)
                case .warn: log.warn(text)
                }
            case .untrustedCallRefused(let route, let callID):
                sip.noteRefusedCall(from: route, callID: callID)
            case .featuresChanged:
                saveFeatures()
            case .findRedirectRoute(let callID, let target, let route):
                findTargetRoute(target, from: route, for: .redirect(callID: callID))
            case .findTransferRoute(let callID, let line, let target):
                findLineRoute(line, for: .transfer(callID: callID, target: target))
            case .findOtherServer(let callID, let account, let tried):
                let found = sip.otherServer(of: account, excluding: tried)
                perform(control.otherServerFound(callID, route: found, at: loop.now))
            }
        }
        rearm()
    }

    // MARK: Routes
    // Each lookup has one call site, whatever the route is wanted for: a
    // closure literal per call site would have the optimizer copy the
    // whole lookup for each (about 3.5 KB a copy).

    /// What a line's route is wanted for.
    private enum LineRouteNeed {
        case dial(number: String, ticket: Int)
        /// A REFER's target, reached from the line's account.
        case transfer(callID: String, target: String)
    }

    private func findLineRoute(_ line: Int, for need: LineRouteNeed) {
        sip.findRoute(forLine: line) { found in self.lineRouteFound(line, found, for: need) }
    }

    private func lineRouteFound(_ line: Int, _ found: (SIPAccount, SIPRoute)?, for need: LineRouteNeed) {
        switch need {
        case .dial(let number, let ticket):
            // Placed unless the handset went down (or dialed again) meanwhile.
            guard dialsOutstanding[line] == ticket else { return }
            dialsOutstanding[line] = nil
            perform(control.lineDialed(line, number: number, through: found, at: loop.now))
        case .transfer(let callID, let target):
            guard let (account, route) = found else {
                return perform(control.transferRouted(callID, through: nil, at: loop.now))
            }
            findTargetRoute(target, from: route, for: .transfer(callID: callID, account: account))
        }
    }

    /// What the way to a URI (a 3xx's or a REFER's target) is wanted for.
    private enum TargetRouteNeed {
        case redirect(callID: String)
        case transfer(callID: String, account: SIPAccount)
    }

    private func findTargetRoute(_ target: String, from route: SIPRoute, for need: TargetRouteNeed) {
        sip.findRoute(redirectedTo: target, from: route) { found in self.targetRouteFound(found, for: need) }
    }

    private func targetRouteFound(_ found: SIPRoute?, for need: TargetRouteNeed) {
        switch need {
        case .redirect(let callID):
            perform(control.redirectRouted(callID, route: found, at: loop.now))
        case .transfer(let callID, let account):
            perform(control.transferRouted(callID, through: found.map { (account, $0) }, at: loop.now))
        }
    }

    /// Our address toward the far end of a request (the one the kernel
    /// would send from), else the SIP listen address.
    private func localHost(toward route: SIPRoute) -> String {
        if case .back(let back) = route, let local = sip.ownAddress(toward: back.source) { return local }
        if case .account(let address, _) = route, let local = sip.ownAddress(toward: address) { return local }
        return control.site.sipListenAddress
    }

    private func openMedia(_ callID: String, host: String, publicContact: HostAndPort?) {
        guard let opened = RTPConnection.open(host: host, ports: control.site.rtpPorts, nextPair: &nextRTPPair, loop: loop) else {
            perform(control.mediaUnavailable(callID, at: loop.now))
            return
        }
        connections[callID] = opened
        watchForSilence()
        opened.onKeyReleased = { digit, milliseconds in
            self.perform(self.control.keyReleased(digit, milliseconds: milliseconds, callID: callID, at: self.loop.now))
        }
        let proceed = { (publicMedia: PublicMedia?) in
            // The call may have gone while STUN was asked (hung up, CANCEL).
            guard self.connections[callID] === opened else { return }
            self.perform(self.control.mediaOpened(callID, host: host, port: opened.localPort, publicContact: publicContact,
                                                  publicMedia: publicMedia, at: self.loop.now))
        }
        guard let name = control.site.stunServer, control.site.publicAddress == nil,
              let family = SocketAddress(ip: host, port: 0)?.family else { return proceed(nil) }
        // The server's name is looked up once per TTL; a lookup that takes
        // longer than a probe may is not waited for (the call goes without).
        var waiting = true
        let giveUp = loop.schedule(after: STUNProbe.longest) {
            guard waiting else { return }
            waiting = false
            self.log.warn("STUN server \(name): no address yet; call \(callID)'s SDP gives our own address")
            proceed(nil)
        }
        findSTUNServer(name, family: family) { server in
            guard waiting else { return }
            waiting = false
            self.loop.cancel(giveUp)
            guard let server, self.connections[callID] === opened else { return proceed(nil) }
            let probe = STUNProbe(connection: opened, server: server, loop: self.loop) { found in
                if let found {
                    self.log.debug("STUN: call \(callID)'s media is seen at \(found.host):\(found.rtpPort) (RTCP \(found.rtcpPort))")
                } else if !opened.isClosed {
                    self.log.warn("STUN: no answer from \(server.description) for call \(callID); its SDP gives our own address")
                }
                proceed(found)
            }
            probe.start()
        }
    }

    /// The STUN server's address of `family` (the media sockets'): looked
    /// up (A/AAAA; port 3478 unless given) and kept for its records' TTL;
    /// a failed lookup is kept a minute. `done` gets nil when there is
    /// none; it never waits in the loop.
    private func findSTUNServer(_ name: String, family: SocketAddress.Family,
                                then done: @escaping (SocketAddress?) -> Void) {
        if let cached = stunServer, cached.name == name, cached.family == family, cached.freshUntil > loop.now {
            return done(cached.address)
        }
        let (host, port) = SIPService.hostAndPort(name)
        sip.dns.locate(host, port: port ?? 3478, transport: .udp) { locator in
            let address = locator.targets.lazy.compactMap { SocketAddress(ip: $0.address, port: $0.port) }
                .first { $0.family == family }
            if address == nil {
                self.log.warn("STUN server \(name): \(locator.failure ?? "no address of our media's family"); calls' SDP gives our own address")
            }
            let ttl = address == nil ? 60 : Int64(min(max(locator.ttlSeconds ?? 300, 30), 3600))
            self.stunServer = (name, family, address, self.loop.now + .seconds(ttl))
            done(address)
        }
    }

    /// Once a second while calls have media: a far end that sent nothing
    /// for `rtp_timeout_seconds` (and is not holding the call) is taken for
    /// gone: its BYE was lost, it crashed, or its network went.
    private func watchForSilence() {
        guard silenceTimer == nil, control.site.rtpTimeoutSeconds > 0, !connections.isEmpty else { return }
        silenceTimer = loop.schedule(after: .seconds(1)) {
            self.silenceTimer = nil
            let limit = Interval.seconds(Int64(self.control.site.rtpTimeoutSeconds))
            for (callID, connection) in Array(self.connections)
            where connection.expectsMedia && self.loop.now - connection.lastHeard >= limit {
                self.perform(self.control.mediaTimedOut(callID, lastHeard: connection.lastHeard,
                                                        seconds: self.control.site.rtpTimeoutSeconds, at: self.loop.now))
            }
            self.watchForSilence()
        }
    }

    private func carry(_ command: MediaCommand, on connection: RTPConnection, callID: String) {
        switch command {
        case .start(let line, let negotiated, let settings):
            connection.start(negotiated, settings: settings)
            telephony.setMedia(line: line, connection)
        case .hold(let line, let negotiated, let settings):
            if let negotiated { connection.start(negotiated, settings: settings) }
            telephony.setMedia(line: line, nil, ifNow: connection)
        case .join(let line, let negotiated, let settings):
            connection.start(negotiated, settings: settings)
            telephony.joinMedia(line: line, connection)
        case .playKey(let digit, let milliseconds):
            connection.session?.playKey(digit, milliseconds: milliseconds)
        case .sendKeysInBand:
            connection.session?.sendKeysInBand()
        case .close(let line):
            // One log line with the call's figures, then the sockets go.
            if connection.session != nil { log.info("line \(line): call \(callID) \(connection.summary)") }
            connection.close()
            connections.removeValue(forKey: callID)
            telephony.setMedia(line: line, nil, ifNow: connection)
        }
    }

    /// The phones' do-not-disturb and forwarding from the state file, as
    /// the last run left them. A file that is not there is a first start;
    /// one that cannot be read is reported and what can be read is kept.
    func restoreFeatures() {
        let path = control.site.stateFile
        let bytes: [UInt8]
        do throws(Errno) {
            bytes = try FileSystem.readFile(path, limit: 64 * 1024)
        } catch {
            if error != .notFound { log.warn("state file \(path): cannot read it: \(error.message); do-not-disturb and forwarding start off") }
            return
        }
        let (saved, problems) = FeatureStateFile.parse(file: path, bytes: bytes)
        for problem in problems { log.warn(problem.text) }
        perform(control.restoreFeatures(saved))
    }

    /// Rewrites the state file whole; the settings stay in force when it
    /// cannot be written (they are then lost at the next restart).
    private func saveFeatures() {
        let path = control.site.stateFile
        do throws(Errno) {
            try FileSystem.writeFileAtomically(path, FeatureStateFile.serialize(control.featureSettings))
        } catch {
            log.warn("state file \(path): cannot write it: \(error.message); the setting holds until atad restarts")
        }
    }

    /// One loop timer for the earliest deadline of every call.
    private func rearm() {
        if let timer { loop.cancel(timer) }
        timer = nil
        guard let deadline = control.nextDeadline else { return }
        timer = loop.schedule(at: deadline) {
            self.timer = nil
            self.perform(self.control.advance(to: self.loop.now))
        }
    }

    /// `call line N: media ...` lines for `status`, one per call with media.
    var statusLines: [String] {
        connections.compactMap { callID, connection in
            control.line(ofCall: callID).map { "call line \($0): \(connection.summary)" }
        }.sorted()
    }
}
