"""Calls placed from the simulated handset: dial tone, digits, the dial
plan, INVITE through Kamailio (with its digest challenge) to a SIPp far end,
ringback, answer, hang-up from either side. Real binary, real peers."""

import os
import re
import time

import pytest

from conftest import wait_until, write_site
from sip_peers import USERS, kamailio, sipp  # noqa: F401 (fixtures)

SIP_LINE = re.compile(r"^sip: 127\.0\.0\.1:(\d+)/udp$")


def status_of(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def line_state(daemon, line=1):
    prefix = f"line {line}: "
    return next((l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)), None)


def start(daemons, tmp_path, short_dir, proxy, transport="udp"):
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, extra=(
        "[account home]\nuser = 1001\ndomain = atad.test\n"
        f"registrar = 127.0.0.1:{proxy.port}\npassword = \"{USERS['1001']}\"\ntransport = {transport}\n"
        "[line 1]\naccount = home\ndial_plan = (9xxx)\n"))
    os.chmod(site, 0o600)
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: any(l.startswith("account home: registered") for l in status_of(daemon)), 10, "registration")
    return daemon


def start_direct(daemons, tmp_path, short_dir, uas, sip_settings=""):
    """A daemon whose line calls the SIPp UAS directly (no registrar);
    `sip_settings`: more `[sip]` lines."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, extra=sip_settings + (
        f"[account direct]\nuser = 1001\ndomain = {uas.address[0]}:{uas.address[1]}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (9xxx)\n"))
    return daemons.start(site, control, tmp_path)


def test_dialed_call_is_answered_and_the_far_end_hangs_up(daemons, tmp_path, short_dir, kamailio, sipp):
    uas = sipp.uas("uas_answer_bye.xml", timeout=20, extra=["-d", "1500"])
    proxy = kamailio.start(trunk=uas.address)
    daemon = start(daemons, tmp_path, short_dir, proxy)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    # The proxy challenges the INVITE (407); atad answers it and the call goes up.
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 15, "the call to be answered")
    assert "number 9123" in line_state(daemon)
    uas.assert_success()
    wait_until(lambda: (line_state(daemon) or "").startswith("busy"), 5, "the far end's hang-up")


def test_dialed_call_hung_up_by_the_handset(daemons, tmp_path, short_dir, kamailio, sipp):
    uas = sipp.uas("uas_answer.xml", timeout=20)
    proxy = kamailio.start(trunk=uas.address)
    daemon = start(daemons, tmp_path, short_dir, proxy, transport="tcp")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("pulse", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 20, "the call to be answered")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    wait_until(lambda: line_state(daemon) == "idle number 9123", 5, "the line to be idle")


def test_busy_far_end_gives_busy_tone(daemons, tmp_path, short_dir, kamailio, sipp):
    uas = sipp.uas("uas_busy.xml", timeout=20)
    proxy = kamailio.start(trunk=uas.address)
    daemon = start(daemons, tmp_path, short_dir, proxy)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("busy"), 15, "the busy state")
    uas.assert_success()

    # The analyzer needs two repetitions of a new cadence; right after the
    # tone changes it can report a partial pattern, so wait for the steady one.
    busy = re.compile(r"480\+620 Hz -2[345] dBm0 (49\d|50\d|510)/(49\d|50\d|510)")
    wait_until(lambda: busy.fullmatch(daemon.ctl("hear", "1").out_lines[1]), 10, "the US busy tone, 500/500")


def test_far_end_that_ignores_the_first_invites(daemons, tmp_path, short_dir, sipp):
    """SIPp stays silent for 2 s after the first INVITE: atad (direct, over
    UDP) retransmits it on RFC 3261 timer A (about 0.5 s and 1.5 s after
    the original), the answer then completes the call, and the handset's
    hang-up ends it with a BYE."""
    uas = sipp.uas("uas_retransmissions.xml", timeout=20)
    daemon = start_direct(daemons, tmp_path, short_dir, uas)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "the late answer")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    copies = uas.received("INVITE")
    assert copies in (3, 4), (copies, uas.logs())


def test_a_302_sends_the_call_to_another_place(daemons, tmp_path, short_dir, sipp):
    """The first SIPp answers 302 with two Contacts (the better q names a
    second SIPp): atad ACKs the 302, calls the second one (same Call-ID,
    a higher CSeq, the new Request-URI), it answers, and the handset's
    hang-up ends the call there with a BYE."""
    answering = sipp.uas("uas_answer.xml", timeout=20)
    target = f"sip:2001@127.0.0.1:{answering.port}"
    redirecting = sipp.uas("uas_redirect.xml", timeout=20, keys={"target": target})
    daemon = start_direct(daemons, tmp_path, short_dir, redirecting)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    redirecting.assert_success()
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "the second place to answer")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    answering.assert_success()
    invite = answering.messages().split("INVITE ", 1)[1]
    assert invite.startswith(target + " SIP/2.0"), invite[:200]
    assert f"redirected to {target}" in daemon.log()


def test_forked_answers_each_get_their_own_ack_and_the_extra_one_a_bye(daemons, tmp_path, short_dir, sipp):
    """A forking proxy (one SIPp): 180s from forks A and B, a 200 from B,
    then a 200 from C as well. B's dialog gets the ACK and, when the
    handset hangs up, the BYE; C's gets its own ACK and a BYE at once; A
    gets nothing (SIPp checks each request's To tag)."""
    uas = sipp.uas("uas_forked.xml", timeout=20)
    daemon = start_direct(daemons, tmp_path, short_dir, uas)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "fork B's answer")
    wait_until(lambda: uas.received("BYE") >= 1, 10, "fork C's BYE")
    assert (line_state(daemon) or "").startswith("talking"), "the call goes on with fork B"
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    assert uas.received("BYE") == 2 and uas.received("ACK") == 2, uas.messages()[-3000:]


def test_a_reliable_180_gets_a_prack(daemons, tmp_path, short_dir, sipp):
    """RFC 3262 as the caller: atad's INVITE says Supported: 100rel; SIPp's
    180 requires it (RSeq 1, repeated until acknowledged); atad's PRACK
    names it in RAck (checked by SIPp), then the 200 makes the call."""
    uas = sipp.uas("uas_100rel.xml", timeout=20)
    daemon = start_direct(daemons, tmp_path, short_dir, uas)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "the answer after the PRACK")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    assert uas.received("PRACK") == 1, uas.messages()[-2000:]


def test_public_address_goes_in_the_invites_contact_and_sdp(daemons, tmp_path, short_dir, sipp):
    """`public_address`: the INVITE's Contact and SDP c= give it (Via
    keeps our own address, where the answer comes back)."""
    uas = sipp.uas("uas_answer.xml", timeout=20)
    daemon = start_direct(daemons, tmp_path, short_dir, uas, sip_settings="public_address = 192.0.2.77\n")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "the answer")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    invite = uas.received_messages("INVITE")[0]
    assert re.search(r"^Contact: <sip:1001@192\.0\.2\.77:\d+;transport=udp>", invite, re.M), invite
    assert "c=IN IP4 192.0.2.77" in invite, invite
    assert re.search(r"^Via: SIP/2\.0/UDP 127\.0\.0\.1:", invite, re.M), invite


@pytest.mark.slow
def test_session_timer_422_then_our_refresh_by_update(daemons, tmp_path, short_dir, sipp):
    """RFC 4028 as the caller, `session_expires_seconds = 90`: the INVITE
    asks for a session timer (Supported: timer, Session-Expires: checked
    by SIPp); SIPp's 422 says Min-SE: 100; the INVITE goes again asking
    100 s with Min-SE: 100 (checked); the 200 makes us the refresher, and
    at half the interval atad's UPDATE refreshes the session (terms
    checked). The call goes on until the handset hangs up."""
    uas = sipp.uas("uas_session_timer.xml", timeout=90)
    daemon = start_direct(daemons, tmp_path, short_dir, uas,
                          sip_settings="session_expires_seconds = 90\nrtp_timeout_seconds = 0\n")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 10, "the answer after the 422")
    answered = time.monotonic()
    wait_until(lambda: uas.received("UPDATE") >= 1, 70, "atad's session refresh")
    waited = time.monotonic() - answered
    assert 48 <= waited <= 53, f"the refresh came {waited:.1f} s after the answer, not at half of 100 s"
    assert (line_state(daemon) or "").startswith("talking"), "the refreshed call goes on"
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    assert uas.received("INVITE") == 2 and uas.received("UPDATE") == 1, uas.messages()[-3000:]


def test_reinvite_while_our_invite_rings_gets_491(daemons, tmp_path, short_dir, sipp):
    """Glare (RFC 3261 §14.2): the far end re-INVITEs on the early dialog
    while atad's INVITE is still ringing; atad answers 491 (checked by
    SIPp), the first INVITE is then answered and the call goes on until the
    far end's BYE."""
    uas = sipp.uas("uas_glare.xml", timeout=20)
    daemon = start_direct(daemons, tmp_path, short_dir, uas)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    uas.assert_success()
    wait_until(lambda: (line_state(daemon) or "").startswith("busy"), 5, "the far end's hang-up")
    assert "SIP/2.0 491 Request Pending" in uas.messages()
