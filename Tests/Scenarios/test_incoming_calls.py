"""Incoming calls from SIPp to atad, answered and hung up on the simulated
handset: the real binary, the real SIPp, on loopback. (Signalling; the media
path comes with the media issue.)"""

import os
import re
import time

import pytest

from conftest import SIM_BOARD, write_site, wait_until
from sip_peers import USERS, free_port, kamailio, sipp  # noqa: F401 (fixtures)

SIP_LINE = re.compile(r"^sip: 127\.0\.0\.1:(\d+)/udp$")


def status_of(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def line_state(daemon, line):
    prefix = f"line {line}: "
    return next((l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)), None)


def sip_port(daemon):
    return next(int(m.group(1)) for m in map(SIP_LINE.match, status_of(daemon)) if m)


def start(daemons, tmp_path, short_dir, sip_settings=""):
    """atad on the simulated board; `sip_settings`: more `[sip]` lines."""
    control = short_dir / "control.sock"
    return daemons.start(write_site(tmp_path / "site.conf", control, extra=sip_settings), control, tmp_path)


def test_call_answered_by_the_handset_and_ended_by_the_caller(daemons, tmp_path, short_dir, sipp):
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_call.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20, extra=["-d", "1000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    ringing = daemon.ctl("ringing", "1")
    assert ringing.out_lines[1].startswith("yes"), ringing
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")
    uac.assert_success()
    # The caller hung up: the handset hears the busy tone.
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    messages = [message for _, message in daemon.log_messages()]
    assert any(m.startswith("line 1: incoming call ") for m in messages), messages
    assert any(m.endswith("ended: the far end hung up") for m in messages), messages
    assert daemon.running()


def free_rtp_ports():
    """Four free UDP ports from an even one: an `rtp_port_min`...`max`
    with room for two calls."""
    port = free_port(udp=True, tcp=False, span=5)
    return port + port % 2, port + port % 2 + 3


def test_public_address_and_rtp_ports_go_in_contact_and_sdp(daemons, tmp_path, short_dir, sipp):
    """`public_address` (a router forwards our ports) and `rtp_port_min`,
    `rtp_port_max`: the 200 gives the public address in Contact (with our
    SIP port) and in the SDP's c=, and its m= port is an even port of the
    range; atad still listens and sends on its own address, so the call
    runs on loopback as any other."""
    low, high = free_rtp_ports()
    daemon = start(daemons, tmp_path, short_dir,
                   sip_settings=f"public_address = 192.0.2.77\nrtp_port_min = {low}\nrtp_port_max = {high}\n")
    uac = sipp.uac("uac_call.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20, extra=["-d", "500"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    uac.assert_success()
    answer = uac.received_messages("SIP/2.0 200")[0]
    assert f"Contact: <sip:atad@192.0.2.77:{sip_port(daemon)}>" in answer, answer
    assert "c=IN IP4 192.0.2.77" in answer, answer
    media_port = int(re.search(r"^m=audio (\d+) ", answer, re.M).group(1))
    assert media_port in (low, low + 2), (media_port, low, high)


def test_late_offer_gets_our_offer_and_the_ack_brings_the_answer(daemons, tmp_path, short_dir, sipp):
    """An INVITE without SDP (a late offer): the 200 carries atad's offer,
    the ACK SIPp's answer (PCMA only), and the call runs on that codec."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_late_offer.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20, extra=["-d", "3000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: call_media(daemon, 1).startswith("media: PCMA 20 ms"), 5,
               "the media to start on the codec of the ACK's answer")
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    assert daemon.running()


def test_late_offer_whose_ack_has_no_answer_is_hung_up(daemons, tmp_path, short_dir, sipp):
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_late_offer_no_answer.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20)
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    uac.assert_success()
    assert "its ACK carries no SDP answer; hanging up" in daemon.log()
    wait_until(lambda: not line_state(daemon, 1).startswith("talking"), 5, "the line to learn of the end")
    assert daemon.running()


def test_empty_reinvite_gets_our_offer_and_the_ack_moves_the_call(daemons, tmp_path, short_dir, sipp):
    """A re-INVITE without SDP during a call: the 200 carries atad's offer
    and the ACK's answer (PCMA only, sendonly) moves the call: another
    codec, on hold by the far end."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_reinvite_empty.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=30, extra=["-d", "3000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: call_media(daemon, 1).startswith("media: PCMA 20 ms")
               and "on hold by the far end" in call_media(daemon, 1), 10,
               "the ACK's answer to move the call to PCMA, held")
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    messages = [message for _, message in daemon.log_messages()]
    assert "line 1: the far end put the call on hold" in messages, messages
    assert daemon.running()


def test_a_caller_that_requires_100rel_gets_a_reliable_180(daemons, tmp_path, short_dir, sipp):
    """RFC 3262 as the called side: an INVITE with Require: 100rel rings
    the line (no 420); the 180 carries Require: 100rel and RSeq (checked by
    SIPp), SIPp's PRACK gets a 200, and lifting the handset answers."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_100rel.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20, extra=["-d", "1000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    # The PRACK's 200 comes before the INVITE's: SIPp expects them in that order.
    wait_until(lambda: uac.received("SIP/2.0 200") >= 1, 5, "the 200 to SIPp's PRACK")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    assert uac.received("SIP/2.0 180") == 1, "acknowledged at once: not repeated"


@pytest.mark.slow
def test_session_timer_422_then_the_callers_refresh_then_expiry(daemons, tmp_path, short_dir, sipp):
    """RFC 4028 as the called side: SIPp's INVITE asks for 60 s, below our
    Min-SE: 422 with Min-SE: 90 (checked), and nothing rings. Asked again
    for 90 s with SIPp refreshing, the line rings; the 200 says
    Session-Expires: 90;refresher=uac and Require: timer (checked). SIPp
    refreshes once by UPDATE 10 s later (the 200 gives the terms back:
    checked), then never again: atad hangs up with BYE 60 s (90 - 90/3)
    after that refresh, not after the answer, and the line hears the far
    end hang up. No RTP timeout: SIPp sends no RTP."""
    daemon = start(daemons, tmp_path, short_dir, sip_settings="rtp_timeout_seconds = 0\n")
    uac = sipp.uac("uac_session_timer.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=100)
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring after the 422")
    assert uac.received("SIP/2.0 422") == 1
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: uac.received("SIP/2.0 200") >= 2, 20, "the 200 to SIPp's UPDATE")
    refreshed = time.monotonic()
    wait_until(lambda: line_state(daemon, 1) == "busy", 75, "atad to end the unrefreshed session")
    waited = time.monotonic() - refreshed
    assert 57 <= waited <= 63, f"the session ended {waited:.1f} s after the refresh, not 60 s"
    uac.assert_success()
    messages = [message for _, message in daemon.log_messages()]
    assert any("the session expired" in message for message in messages), messages
    assert daemon.running()


def test_a_far_end_that_holds_the_call_is_not_timed_out(daemons, tmp_path, short_dir, sipp):
    """`rtp_timeout_seconds = 2`: SIPp (which sends no RTP) holds the call
    after 1 s and stays silent on hold for 5 s: a held call expects no
    audio, so atad does not hang up; SIPp's BYE ends it."""
    daemon = start(daemons, tmp_path, short_dir, sip_settings="rtp_timeout_seconds = 2\n")
    uac = sipp.uac("uac_hold_silent.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=30, extra=["-d", "1000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: "on hold by the far end" in call_media(daemon, 1), 10, "the hold to show in status")
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    assert "nothing from the far end" not in daemon.log()


def test_handset_hangs_up_and_atad_sends_bye(daemons, tmp_path, short_dir, sipp):
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_bye_from_far_end.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20)
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the line to be idle")


def test_caller_cancels_while_it_rings(daemons, tmp_path, short_dir, sipp):
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_cancel.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20)
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the bell to stop")
    assert daemon.ctl("ringing", "1").out_lines[1] == "no"


def test_busy_lines_answer_486(daemons, tmp_path, short_dir, sipp):
    daemon = start(daemons, tmp_path, short_dir)
    for line in ("1", "2"):
        assert daemon.ctl("hook", line, "off").returncode == 0
    wait_until(lambda: line_state(daemon, 2) == "dialtone", 5, "both lines off hook")
    uac = sipp.uac("uac_call.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=10)
    assert uac.wait() != 0, "the call must fail when no line is free"
    assert "486 Busy Here" in "".join(uac.messages()), uac.messages()


def registered_site(path, control, proxy, transport):
    path.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n"
        "[account home]\nuser = 1001\ndomain = atad.test\n"
        f"registrar = 127.0.0.1:{proxy.port}\npassword = \"{USERS['1001']}\"\ntransport = {transport}\n")
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_call_through_kamailio_to_the_registered_adapter(daemons, tmp_path, short_dir, kamailio, sipp, transport):
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    daemon = daemons.start(registered_site(tmp_path / "site.conf", control, proxy, transport), control, tmp_path)
    proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{sip_port(daemon)}")
    # 3000 is not one of the proxy's users, so its INVITE is not challenged.
    uac = sipp.uac("uac_call.xml", remote=proxy.address, service="1001", keys={"caller": "3000"},
                   timeout=20, extra=["-d", "1000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring through the proxy")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the caller's hang-up to reach the line")


def call_media(daemon, line):
    prefix = f"call line {line}: "
    return next((l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)), "")


def test_far_end_holds_and_resumes_with_reinvites(daemons, tmp_path, short_dir, sipp):
    """SIPp re-INVITEs with a=sendonly (hold), then a=sendrecv (resume):
    atad answers recvonly, then sendrecv (checked by SIPp), shows the hold
    in `status`, and the call goes on until SIPp's BYE."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_reinvite_hold.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=30, extra=["-d", "1500"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")
    wait_until(lambda: "on hold by the far end" in call_media(daemon, 1), 10, "the hold to show in status")
    wait_until(lambda: call_media(daemon, 1).startswith("media:") and "on hold" not in call_media(daemon, 1), 10,
               "the resume to show in status")
    assert line_state(daemon, 1) == "talking"
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
    messages = [message for _, message in daemon.log_messages()]
    assert "line 1: the far end put the call on hold" in messages, messages
    assert "line 1: the far end resumed the call" in messages, messages


def test_key_sent_by_sip_info_is_played_to_the_line(daemons, tmp_path, short_dir, sipp):
    """SIPp sends INFO application/dtmf-relay (Signal=5, Duration=2000)
    during the call: atad answers 200 and the earpiece hears 770+1336 Hz;
    an INFO of another kind gets 415."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_info.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=30, extra=["-d", "2500"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")

    def heard_key():
        lines = daemon.ctl("hear", "1").out_lines
        return any(line.startswith("770+1336 Hz") for line in lines)
    wait_until(heard_key, 10, "the earpiece to play the 5")
    uac.assert_success()
    messages = [message for _, message in daemon.log_messages()]
    assert "line 1: key 5 from the far end (SIP INFO, 2000 ms)" in messages, messages


def registering_site(path, control, registrar_port, extra=""):
    """An account that registers (with a registrar nobody answers: the
    source policy holds whether or not the registration succeeds)."""
    path.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n" + extra +
        f"[account home]\nuser = 1001\ndomain = atad.test\nregistrar = 127.0.0.1:{registrar_port}\n")
    return path


def refused_count(daemon):
    pattern = re.compile(r"^sip: refused (\d+) calls not from a registrar or proxy$")
    return next((int(m.group(1)) for m in map(pattern.match, status_of(daemon)) if m), 0)


def test_calls_not_from_the_registrar_are_refused(daemons, tmp_path, short_dir, sipp):
    """While an account registers, an INVITE from another host (127.0.0.2)
    gets 403 and rings nothing; the same INVITE from the registrar's host
    rings the line."""
    control = short_dir / "control.sock"
    registrar_port = free_port(tcp=False)
    daemon = daemons.start(registering_site(tmp_path / "site.conf", control, registrar_port), control, tmp_path)
    stranger = sipp.uac("uac_refused.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                        keys={"caller": "2000"}, timeout=10, ip="127.0.0.2")
    stranger.assert_success()
    assert line_state(daemon, 1) == "idle"
    assert refused_count(daemon) == 1
    messages = [message for _, message in daemon.log_messages()]
    assert any(m.startswith("SIP: refused a call from 127.0.0.2:") for m in messages), messages

    registrar_host = sipp.uac("uac_cancel.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                              keys={"caller": "2000"}, timeout=10, extra=["-d", "2000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "a call from the registrar's host to ring")
    registrar_host.assert_success()
    assert refused_count(daemon) == 1
    assert daemon.running()


def test_accept_calls_from_anyone_lets_other_hosts_ring(daemons, tmp_path, short_dir, sipp):
    control = short_dir / "control.sock"
    site = registering_site(tmp_path / "site.conf", control, free_port(tcp=False),
                            extra="accept_calls_from = anyone\n")
    daemon = daemons.start(site, control, tmp_path)
    uac = sipp.uac("uac_cancel.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=10, ip="127.0.0.2", extra=["-d", "2000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "a call from 127.0.0.2 to ring")
    uac.assert_success()
    assert refused_count(daemon) == 0


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_call_over_ipv6(daemons, tmp_path, short_dir, sipp, transport):
    """SIPp calls atad over IPv6 (UDP, then TCP): the line rings, the handset
    answers and the caller's BYE ends the call."""
    control = short_dir / "control.sock"
    daemon = daemons.start(write_site(tmp_path / "site.conf", control, listen_address="::1"), control, tmp_path)
    pattern = re.compile(r"^sip: \[::1\]:(\d+)/udp$")
    port = next(int(m.group(1)) for m in map(pattern.match, status_of(daemon)) if m)
    uac = sipp.uac("uac_call.xml", remote=("::1", port), service="1001", keys={"caller": "2000"},
                   timeout=20, ip="::1", transport=transport, extra=["-d", "1000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring over IPv6")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the caller's hang-up to reach the line")


def test_reinvite_before_the_answer_gets_500_with_retry_after(daemons, tmp_path, short_dir, sipp):
    """RFC 3261 §14.2: a second INVITE on the dialog while the first is
    unanswered gets 500 with Retry-After 0-10 (checked by SIPp); the line
    keeps ringing for the first, until SIPp cancels it."""
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_reinvite_early.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=15)
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the bell to stop after the CANCEL")
    assert daemon.running()
