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

/// Calls the lines place: routing to an account, media setup, and the
/// outgoing call state machine's actions.
extension SIPService {
    // MARK: Calls we place

    /// Call control: `line` dialed `number`. False when no account can
    /// carry the call (the line then plays congestion).
    func placeCall(line: Int, number: String) -> Bool {
        let accountName = site.lineSettings(line).account ?? site.accounts.first?.name
        guard let account = accountName.flatMap(account(named:)), let (settings, destination) = route(for: account) else {
            log.warn("line \(line): no SIP account to call \(number) through")
            return false
        }
        guard let media = CallMedia.open(host: settings.localHost, loop: loop) else {
            log.warn("line \(line): no port for the call's media")
            return false
        }
        media.capabilities = capabilities(for: account, host: settings.localHost, port: media.localPort)
        let offer = media.sdp.makeOffer(media.capabilities)
        let call = OutgoingCall(settings: settings, number: number, offer: offer.serializedBytes(),
                                makeToken: { RandomToken.hex() })
        let entry = OutgoingEntry(call: call, destination: destination, transport: settings.transport, line: line,
                                  media: media, mediaSettings: mediaSettings(for: account, host: settings.localHost),
                                  contact: settings.contactURI)
        outgoing[call.callID] = entry
        let callID = call.callID
        media.onKeyReleased = { digit, milliseconds in self.keyReleased(digit, milliseconds: milliseconds, callID: callID) }
        log.info("line \(line): calling \(number) through account \(settings.accountName)")
        perform(entry.call.start(at: loop.now), on: entry)
        return true
    }

    /// How calls through `account` travel: its registration's settings and
    /// destination, or for an account that does not register (direct mode)
    /// the same built from its proxy, registrar or domain.
    func route(for account: SiteConfig.Account) -> (SIPAccount, SocketAddress)? {
        if let entry = registration(of: account.name) {
            return (entry.registration.settings, entry.destination)
        }
        let localPort = (try? socket?.localAddress())?.port ?? UInt16(site.sipListenPort)
        switch resolveRoute(for: account, localPort: localPort) {
        case .success(let route): return route
        case .failure(let error):
            log.warn("account \(account.name): \(error.message)")
            return nil
        }
    }

    func account(named name: String) -> SiteConfig.Account? {
        site.accounts.first { $0.name == name }
    }

    /// The account whose media preferences answer an incoming offer (the
    /// line is chosen after the answer is known): the first one.
    var incomingAccount: SiteConfig.Account? { site.accounts.first }

    /// What we offer or accept, from an account's codec and ptime settings.
    func capabilities(for account: SiteConfig.Account?, host: String, port: UInt16) -> MediaCapabilities {
        let codecs: [AudioCodec] = account?.codec == .pcma ? [.pcma, .pcmu] : [.pcmu, .pcma]
        // Comfort noise (RFC 3389) is accepted: the far end's silence
        // descriptors are played as noise at their level (we send none).
        return MediaCapabilities(address: ConnectionAddress(inferring: host), rtpPort: port, codecs: codecs,
                                 comfortNoise: true, ptime: UInt32(account?.ptime ?? 20))
    }

    /// A new call's RTP identity (random, RFC 3550 §5.1) and DTMF relay.
    func mediaSettings(for account: SiteConfig.Account?, host: String) -> MediaSession.Settings {
        var settings = MediaSession.Settings()
        settings.ssrc = RandomToken.number()
        settings.initialSequence = UInt16(truncatingIfNeeded: RandomToken.number())
        settings.initialTimestamp = RandomToken.number()
        settings.canonicalName = "atad@" + host
        switch account?.dtmfRelay ?? .rfc4733 {
        case .rfc4733: settings.dtmfRelay = .rfc4733
        case .info: settings.dtmfRelay = .info
        case .inband: settings.dtmfRelay = .inband
        }
        return settings
    }

    /// The far end's SDP answer arrived (183 or 2xx): start the media.
    func startMedia(_ entry: OutgoingEntry) {
        guard entry.media.session == nil, let body = entry.call.remoteSDP else { return }
        let answer: SessionDescription
        do throws(SDPError) { answer = try SessionDescription(parsing: body) } catch {
            log.warn("line \(entry.line): the far end's SDP answer is invalid: \(error.message)")
            return
        }
        switch entry.media.sdp.negotiated(fromAnswer: answer) {
        case .success(let media):
            entry.media.start(media, settings: entry.mediaSettings)
            onMedia(entry.line, entry.media)
        case .failure(let error):
            log.warn("line \(entry.line): the far end's SDP answer: \(error.message)")
        }
    }

    func perform(_ actions: [OutgoingCallAction], on entry: OutgoingEntry) {
        for action in actions {
            switch action {
            case .send(let bytes):
                if entry.transport == .tcp { sendOverStream(bytes, to: entry.destination) } else { send(bytes, to: entry.destination) }
            case .event(let event):
                deliver(event, for: entry)
            case .keys(let output):
                keysNotice(output, line: entry.line, media: entry.media)
            }
        }
        if entry.call.state == .ended {
            endCall(entry)
        } else {
            rearm(entry)
        }
    }

    func deliver(_ event: OutgoingCallEvent, for entry: OutgoingEntry) {
        switch event {
        case .earlyMedia, .answered: startMedia(entry)
        default: break
        }
        switch event {
        case .ringing: log.info("line \(entry.line): the far end is ringing")
        case .earlyMedia: log.info("line \(entry.line): early media from the far end")
        case .answered: log.info("line \(entry.line): call \(entry.call.callID) answered")
        case .failed(_, let reason): log.info("line \(entry.line): call failed: \(reason)")
        case .ended(let remote): log.info("line \(entry.line): call \(entry.call.callID) ended by \(remote ? "the far end" : "us")")
        }
        onOutgoingEvent(entry.line, event)
        if entry.call.state == .ended { endCall(entry) }
    }

    func rearm(_ entry: OutgoingEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        guard outgoing[entry.call.callID] === entry, let deadline = entry.call.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.call.advance(to: self.loop.now), on: entry)
        }
    }

    func endCall(_ entry: OutgoingEntry) {
        guard outgoing[entry.call.callID] === entry else { return }
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        finishMedia(entry.media, line: entry.line, callID: entry.call.callID)
        outgoing.removeValue(forKey: entry.call.callID)
    }

    func rearm(_ entry: CallEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        guard calls[entry.call.callID] === entry, let deadline = entry.call.nextDeadline else { return }
        entry.timer = loop.schedule(at: deadline) {
            entry.timer = nil
            self.perform(entry.call.advance(to: self.loop.now), on: entry)
        }
    }

    func endCall(_ entry: CallEntry) {
        if let timer = entry.timer { loop.cancel(timer) }
        entry.timer = nil
        if calls[entry.call.callID] === entry { finishMedia(entry.media, line: entry.line, callID: entry.call.callID) }
        calls.removeValue(forKey: entry.call.callID)
    }

    /// A call's media ends: one log line with its figures, then the sockets go.
    func finishMedia(_ media: CallMedia, line: Int, callID: String) {
        if media.session != nil { log.info("line \(line): call \(callID) \(media.summary)") }
        media.close()
        onMedia(line, nil)
    }

    /// `call LINE: media ...` lines for `status`, one per call with media.
    var callStatusLines: [String] {
        var lines: [String] = []
        for entry in calls.values { lines.append("call line \(entry.line): \(entry.media.summary)") }
        for entry in outgoing.values { lines.append("call line \(entry.line): \(entry.media.summary)") }
        return lines.sorted()
    }
}
