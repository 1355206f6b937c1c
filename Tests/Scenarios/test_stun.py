"""STUN for the media (issue 15): atad behind a router that keeps one
public port per socket (an endpoint-independent mapping, what most home
routers do; `nat_eim` in nat_network.py) asks a real STUN server (coturn,
on the internet side) where each call's RTP and RTCP sockets are seen
from, and its SDP gives that: the router's public address and the mapped
ports, not the private address nothing on the internet can reach.

The far end here does NOT do symmetric RTP: it sends its audio to the
address and port of atad's SDP, as a plain SIP phone does. With the
private address in the SDP, nothing would reach the line; with STUN's
answer, the tone gets through once atad's own RTP has opened the router's
filter (address-dependent filtering lets in only replies).

Real binaries (atad, Kamailio, SIPp, turnserver, ip, nft); needs root for
the namespaces (skipped otherwise)."""

import time

from conftest import UNDER_QEMU, wait_until
from nat_network import EIM_PORT_RANGE, HOME_IP, INTERNET_IP, ROUTER_PUBLIC_IP, nat_eim  # noqa: F401 (fixture)
from rtp_peer import dominant_frequency, peers, sipp_media_uac, wait_sipp_sdp  # noqa: F401 (fixture)
from sip_peers import kamailio, sipp  # noqa: F401 (fixtures)
from stun_server import stun_server  # noqa: F401 (fixture)
from test_call_media import HEAR_POLL, hears_tone, line_state
from test_nat import registered, start_kamailio, wait_public_contact
from test_nat import start_atad as start_nat_atad

FAR_TONE = 700
NEAR_TONE = 1000


def start_atad(daemons, tmp_path, short_dir, nat, proxy, stun):
    """test_nat's atad, asking `stun` (host:port) for its calls' media."""
    return start_nat_atad(daemons, tmp_path, short_dir, nat, proxy, sip_extra=f"stun_server = {stun}\n")


def test_the_sdp_gives_where_stun_saw_the_media_and_a_plain_far_end_is_heard(
        nat_eim, stun_server, kamailio, daemons, tmp_path, short_dir, sipp, peers):
    nat = nat_eim
    server = stun_server.start(ip=INTERNET_IP, netns=nat.internet)
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy, server.config_value)
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    wait_public_contact(proxy, nat, daemon, timeout=5)

    far = peers(host=INTERNET_IP, netns=nat.internet, seed=16)
    uac = sipp_media_uac(sipp, far, remote=proxy.address, service="1001", caller="3000", timeout=30,
                         ip=INTERNET_IP, netns=nat.internet)
    wait_until(lambda: line_state(daemon).startswith("ringing"), 10, f"line 1 to ring:\n{daemon.log()[-3000:]}")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "the call to be up")
    host, port, payloads = wait_sipp_sdp(uac)
    assert 0 in payloads, payloads
    assert host == ROUTER_PUBLIC_IP, f"the SDP gives {host}, not the router's public address:\n{daemon.log()[-3000:]}"
    assert EIM_PORT_RANGE[0] <= port <= EIM_PORT_RANGE[1], f"the SDP's port {port} is not one the router maps to"

    # The far end sends where the SDP says, from the start: nothing gets
    # in until atad's RTP has gone out through that same mapping.
    far.remote = (host, port)
    far.send_tone_async(FAR_TONE, duration=20.0, level_dbm0=-10.0)
    said = time.monotonic()
    assert daemon.ctl("say", "1", "tone", str(NEAR_TONE), "-10").returncode == 0
    first = far.wait_for(lambda: far.received(since=said), 10, "atad's RTP to arrive through the router")
    assert first[0].source == (host, port), (
        f"atad's RTP comes from {first[0].source}, not from the {host}:{port} its SDP gave")
    far.wait_for(lambda: len(far.received(source=(host, port), since=said + 0.3)) >= 50, 10, "a second of atad's audio")
    heard = dominant_frequency(far.audio(start=said + 0.3, source=(host, port)))
    assert abs(heard - NEAR_TONE) < NEAR_TONE * 0.01, f"the far end hears {heard:.1f} Hz"
    wait_until(lambda: hears_tone(daemon, FAR_TONE), 10, f"the earpiece to hear the far end's {FAR_TONE} Hz",
               interval=HEAR_POLL)

    assert daemon.ctl("hook", "1", "on").returncode == 0
    uac.assert_success()
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "line 1 to be idle")
    assert "STUN: call " in daemon.log() and "media is seen at 198.51.100.1:" in daemon.log(), daemon.log()[-3000:]


def test_a_silent_stun_server_costs_a_call_at_most_a_second_and_a_half(
        nat_eim, stun_server, kamailio, daemons, tmp_path, short_dir, sipp, peers):
    """Nothing answers at the STUN address: the call still rings, at most
    1.5 s later, with atad's own address in its SDP, and the log says so."""
    nat = nat_eim
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy, f"{INTERNET_IP}:3479")
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    wait_public_contact(proxy, nat, daemon, timeout=5)

    far = peers(host=INTERNET_IP, netns=nat.internet, seed=17)
    uac = sipp_media_uac(sipp, far, remote=proxy.address, service="1001", caller="3000", timeout=30,
                         ip=INTERNET_IP, netns=nat.internet)
    started = time.monotonic()
    wait_until(lambda: line_state(daemon).startswith("ringing"), 10, "line 1 to ring", interval=0.05)
    waited = time.monotonic() - started
    # The probe's 1.5 s, and little more (an emulated CPU, a bit more).
    assert 1.4 <= waited <= (3.0 if UNDER_QEMU else 2.5), f"rang {waited:.1f} s after the INVITE was sent"
    assert daemon.ctl("hook", "1", "off").returncode == 0
    host, _, _ = wait_sipp_sdp(uac)
    assert host == HOME_IP, host
    assert f"STUN: no answer from {INTERNET_IP}:3479" in daemon.log(), daemon.log()[-3000:]
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uac.assert_success()
