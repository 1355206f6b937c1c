/// How an account's calls carry keys pressed during a call (`dtmf_relay`):
/// RFC 4733 events in the RTP stream, SIP INFO `application/dtmf-relay`,
/// or the tones themselves in the audio.
public enum DTMFRelayMode: String, Sendable, Equatable {
    case rfc4733, info, inband
}
