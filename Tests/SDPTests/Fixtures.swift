import Foundation
import SDP
import XCTest

/// Turns a multi-line literal (LF) into CRLF-terminated SDP text.
func crlf(_ text: String) -> String {
    var out = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        out += line
        out += "\r\n"
    }
    // A literal without a trailing newline yields one final line: drop the extra CRLF pair if empty.
    if out.hasSuffix("\r\n\r\n") { out.removeLast(2) }
    return out
}

func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SessionDescription? {
    do {
        return try SessionDescription(parsing: text)
    } catch {
        XCTFail("unexpected parse error: \(error.message)", file: file, line: line)
        return nil
    }
}

func parseError(_ text: String, limits: SDPLimits = SDPLimits()) -> SDPError? {
    do {
        _ = try SessionDescription(parsing: text, limits: limits)
        return nil
    } catch {
        return error
    }
}

let ours4 = MediaCapabilities(address: .ip4("192.0.2.10"), rtpPort: 4000)
let ours6 = MediaCapabilities(address: .ip6("2001:db8::2"), rtpPort: 4000)
let ourOrigin4 = Origin(username: "atad", sessionID: 1000, sessionVersion: 1000, address: .ip4("192.0.2.10"))
let ourOrigin6 = Origin(username: "atad", sessionID: 1000, sessionVersion: 1000, address: .ip6("2001:db8::2"))

/// Realistic offers in the style of common SIP stacks (written for these tests).
enum Offers {
    static let asterisk = crlf("""
    v=0
    o=- 1860436398 1860436398 IN IP4 192.168.1.10
    s=Asterisk
    c=IN IP4 192.168.1.10
    t=0 0
    m=audio 14052 RTP/AVP 0 8 9 101
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:9 G722/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-16
    a=ptime:20
    a=maxptime:150
    a=sendrecv
    """)

    static let freeswitch = crlf("""
    v=0
    o=FreeSWITCH 1699985421 1699985422 IN IP4 203.0.113.5
    s=FreeSWITCH
    c=IN IP4 203.0.113.5
    t=0 0
    m=audio 24682 RTP/AVP 102 9 0 8 103 101 13
    a=rtpmap:102 opus/48000/2
    a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:103 telephone-event/48000
    a=fmtp:103 0-16
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-16
    a=rtpmap:13 CN/8000
    a=ptime:20
    """)

    /// LF line endings, session attribute, b= line, rtcp-mux, ssrc.
    static let baresip = """
    v=0
    o=- 1183398133 2034284446 IN IP4 10.0.0.23
    s=-
    c=IN IP4 10.0.0.23
    t=0 0
    a=tool:baresip 3.10.1
    m=audio 33150 RTP/AVP 96 9 0 8 101
    b=AS:128
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 stereo=1;sprop-stereo=1
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=rtcp-mux
    a=sendrecv
    a=label:1
    a=ssrc:1846104383 cname:3be4d3c8-6f8e-4a6c-9bcb-0ad3c4a5e7d1
    a=mid:1

    """

    /// IPv6, many codecs, telephone-event at three rates, a video stream.
    static let linphone = crlf("""
    v=0
    o=alice 2514 1390 IN IP6 2001:db8::10
    s=Talk
    c=IN IP6 2001:db8::10
    t=0 0
    a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
    a=record:off
    m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 useinbandfec=1
    a=rtpmap:97 speex/16000
    a=fmtp:97 vbr=on
    a=rtpmap:98 speex/8000
    a=fmtp:98 vbr=on
    a=fmtp:18 annexb=yes
    a=rtpmap:101 telephone-event/48000
    a=rtpmap:99 telephone-event/16000
    a=rtpmap:100 telephone-event/8000
    a=rtcp-fb:* trr-int 1000
    a=rtcp-fb:* ccm tmmbr
    m=video 9078 RTP/AVP 96 97
    a=rtpmap:96 VP8/90000
    a=rtpmap:97 H264/90000
    a=fmtp:97 profile-level-id=42801F
    a=rtcp-fb:* trr-int 1000
    """)

    /// Media-level c=, a=rtcp with address, G.729 first, dynamic telephone-event 96.
    static let pjsip = crlf("""
    v=0
    o=- 3894560123 3894560123 IN IP4 192.0.2.44
    s=pjmedia
    b=AS:84
    t=0 0
    a=X-nat:0
    m=audio 4002 RTP/AVP 18 8 0 96
    c=IN IP4 192.0.2.44
    b=TIAS:64000
    a=rtcp:4003 IN IP4 192.0.2.44
    a=sendrecv
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no
    a=rtpmap:8 PCMA/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:96 telephone-event/8000
    a=fmtp:96 0-16
    a=ssrc:1292030452 cname:2c5d5f3e6a2b0a4b
    """)

    /// A minimal PBX-style offer: static payload types, no rtpmap at all.
    static let staticOnly = crlf("""
    v=0
    o=pbx 1 1 IN IP4 198.51.100.7
    s=call
    c=IN IP4 198.51.100.7
    t=0 0
    m=audio 20000 RTP/AVP 8 0 13
    """)

    /// Grandstream-like IPv6 offer with a T.38 image stream after audio.
    static let ipv6WithImage = crlf("""
    v=0
    o=gs 8000 8001 IN IP6 2001:db8:0:1::20
    s=SIP Call
    c=IN IP6 2001:db8:0:1::20
    t=0 0
    m=audio 5004 RTP/AVP 0 8 18 101
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:18 G729/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=ptime:30
    a=sendrecv
    m=image 0 udptl t38
    """)

    /// Only opus: nothing we can do (488).
    static let opusOnly = crlf("""
    v=0
    o=- 77 77 IN IP4 203.0.113.9
    s=-
    c=IN IP4 203.0.113.9
    t=0 0
    m=audio 40000 RTP/AVP 111 126
    a=rtpmap:111 opus/48000/2
    a=rtpmap:126 telephone-event/8000
    """)

    /// Video only (488).
    static let videoOnly = crlf("""
    v=0
    o=- 78 78 IN IP4 203.0.113.9
    s=-
    c=IN IP4 203.0.113.9
    t=0 0
    m=video 40002 RTP/AVP 96
    a=rtpmap:96 H264/90000
    """)

    /// SRTP only (488: we do not speak SAVP).
    static let srtpOnly = crlf("""
    v=0
    o=- 79 79 IN IP4 203.0.113.9
    s=-
    c=IN IP4 203.0.113.9
    t=0 0
    m=audio 40004 RTP/SAVP 0 8
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
    """)

    static let all = [asterisk, freeswitch, baresip, linphone, pjsip, staticOnly, ipv6WithImage,
                      opusOnly, videoOnly, srtpOnly]

    /// The offer with a line replaced (first line starting with `prefix`).
    static func replacing(_ offer: String, _ prefix: String, with line: String) -> String {
        var lines = offer.components(separatedBy: "\r\n")
        if let index = lines.firstIndex(where: { $0.hasPrefix(prefix) }) { lines[index] = line }
        return lines.joined(separator: "\r\n")
    }
}
