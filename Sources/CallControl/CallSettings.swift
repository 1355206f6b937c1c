import Config
import Media
import SDP
import SIPDigest

/// What a call takes from its account's settings: the codecs and packet
/// time it offers or accepts, its RTP identity and DTMF relay, and the
/// credentials for a far end that challenges our requests in the call.
enum CallSettings {
    static func capabilities(for account: SiteConfig.Account?, host: String, port: UInt16) -> MediaCapabilities {
        let codecs: [AudioCodec] = account?.codec == .pcma ? [.pcma, .pcmu] : [.pcmu, .pcma]
        // Comfort noise (RFC 3389) is accepted: the far end's silence
        // descriptors are played as noise at their level (we send none).
        return MediaCapabilities(address: ConnectionAddress(inferring: host), rtpPort: port, codecs: codecs,
                                 comfortNoise: true, ptime: UInt32(account?.ptime ?? 20))
    }

    /// A new call's RTP identity (random, RFC 3550 §5.1) and DTMF relay.
    static func media(for account: SiteConfig.Account?, host: String,
                      random: () -> UInt32) -> MediaSession.Settings {
        var settings = MediaSession.Settings()
        settings.ssrc = random()
        settings.initialSequence = UInt16(truncatingIfNeeded: random())
        settings.initialTimestamp = random()
        settings.canonicalName = "atad@" + host
        switch account?.dtmfRelay ?? .rfc4733 {
        case .rfc4733: settings.dtmfRelay = .rfc4733
        case .info: settings.dtmfRelay = .info
        case .inband: settings.dtmfRelay = .inband
        }
        return settings
    }

    static func digest(for account: SiteConfig.Account) -> DigestSession? {
        guard let password = account.password else { return nil }
        return DigestSession(credentials: DigestCredentials(username: account.authUser ?? account.user, password: password))
    }
}
