"""Calls between atad and PJSIP (pjsua2-python from PyPI, run by
pjsip_peer.py in a child process) on loopback: a second SIP and RTP stack,
independent of baresip's, playing a tone into the call and recording what
it receives.

One call in each direction. atad's line dials PJSIP directly (an account
with `register = no` whose domain is PJSIP's address) and PJSIP answers at
once; PJSIP dials atad, atad's line rings and the handset answers. In each
call PJSIP's tone is heard on atad's simulated handset and a tone said into
the handset is found in PJSIP's recording, both within 1 %; the side that
hangs up ends the call at the other. Real binaries, real RTP, every process
stopped by its pid."""

import pytest

from conftest import wait_until, write_site
from pjsip_peer import SAMPLE_RATE, pjsip_factory
from rtp_peer import dbm0_of, dominant_frequency
from test_call_media import HEAR_POLL, heard_frequencies, hears_tone, line_state, media_line, sip_port

PJSIP_TONE = 440.0
ATAD_TONE = 1000.0
TOLERANCE = 0.01


@pytest.fixture
def pjsip():
    """Factory: `pjsip.start(user=..., tone=440, auto_answer=True)` returns a
    started PjsipPeer; each is stopped (by pid) at the end of the test."""
    try:
        import pjsua2  # noqa: F401
    except ImportError as error:
        pytest.fail(f"pjsua2 does not import ({error}): `make test-deps` installs pjsua2-python from PyPI")
    factory = pjsip_factory()
    yield factory
    factory.stop_all()


def start_atad(daemons, tmp_path, short_dir, extra=""):
    """One atad on the simulated board; `extra` holds its accounts and lines."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=extra)
    return daemons.start(site, control, tmp_path)


def check_pjsip_tone_is_heard(daemon):
    """PJSIP's tone reaches the handset's earpiece, as a steady tone."""
    wait_until(lambda: hears_tone(daemon, PJSIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear PJSIP's {PJSIP_TONE} Hz", interval=HEAR_POLL)
    first = daemon.ctl("hear", "1").out_lines[1]
    steady = wait_until(lambda: (lambda line: line if line.endswith(" continuous") else None)(
        daemon.ctl("hear", "1").out_lines[1]), 5, "a continuous tone", interval=0.1)
    print(f"atad's earpiece: first '{first}', then '{steady}'")
    wait_until(lambda: hears_tone(daemon, PJSIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear PJSIP's {PJSIP_TONE} Hz", interval=HEAR_POLL)


def check_atad_tone_is_recorded(daemon, phone, deadline_seconds=15.0):
    """A tone said into the handset shows up in PJSIP's recording of what
    it received: the newest second of the recording, looked at as it grows
    (a slow emulated daemon may take a while before its audio flows
    evenly), must hold the tone within 1 % at a fair level."""
    before = len(phone.received_audio())
    assert daemon.ctl("say", "1", "tone", str(int(ATAD_TONE)), "-10").returncode == 0
    seconds = (before + SAMPLE_RATE * 1.5) / SAMPLE_RATE
    frequency, level = None, None
    for _ in range(int(deadline_seconds / 0.5)):
        recorded = phone.wait_received_audio(seconds, timeout=10)
        tail = recorded[-SAMPLE_RATE:]
        frequency, level = dominant_frequency(tail), dbm0_of(tail)
        if abs(frequency - ATAD_TONE) <= ATAD_TONE * TOLERANCE and level > -20.0:
            break
        seconds += 0.5
    print(f"PJSIP recorded ({phone.received_audio_path.name}): {frequency:.2f} Hz, {level:.1f} dBm0 "
          f"over its newest second, {seconds - before / SAMPLE_RATE:.1f} s after the tone started")
    assert abs(frequency - ATAD_TONE) <= ATAD_TONE * TOLERANCE, frequency
    assert level > -20.0, level


def test_atad_dials_pjsip_and_both_directions_carry_their_tones(daemons, tmp_path, short_dir, pjsip):
    phone = pjsip.start(user="2000", tone=PJSIP_TONE)
    daemon = start_atad(daemons, tmp_path, short_dir, extra=(
        f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{phone.sip_port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "2000").returncode == 0
    incoming = phone.wait_for_event("incoming")
    assert "1000@" in incoming["remote"], incoming
    phone.wait_for_event("confirmed")
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "atad's line to be talking")
    media = media_line(daemon)
    assert media and media.startswith("media: PCMU 20 ms"), media
    assert phone.wait_for_event("media")["codec"] == "PCMU"

    check_pjsip_tone_is_heard(daemon)
    check_atad_tone_is_recorded(daemon, phone)
    # Both ways at once: PJSIP's tone is still there.
    wait_until(lambda: hears_tone(daemon, PJSIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear PJSIP's {PJSIP_TONE} Hz", interval=HEAR_POLL)
    print(f"atad status: {media_line(daemon)}")

    assert daemon.ctl("hook", "1", "on").returncode == 0
    gone = phone.wait_for_event("disconnected")
    print(f"PJSIP: disconnected, {gone['code']} {gone['reason']}")
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "atad's line to be idle")
    assert media_line(daemon) is None
    assert daemon.running()


def test_pjsip_dials_atad_and_hangs_up(daemons, tmp_path, short_dir, pjsip):
    daemon = start_atad(daemons, tmp_path, short_dir, extra="[line 1]\n")
    phone = pjsip.start(user="3000", tone=PJSIP_TONE, auto_answer=False)
    reply = phone.dial(f"sip:1000@127.0.0.1:{sip_port(daemon)}")
    assert reply.get("ok"), reply
    wait_until(lambda: line_state(daemon) == "ringing", 10, "atad's line 1 to ring")
    assert daemon.ctl("ringing", "1").out_lines[1].startswith("yes")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    phone.wait_for_event("confirmed")
    wait_until(lambda: line_state(daemon) == "talking", 5, "atad's line to be talking")
    media = media_line(daemon)
    assert media and media.startswith("media: PCMU 20 ms"), media
    assert phone.wait_for_event("media")["codec"] == "PCMU"

    check_pjsip_tone_is_heard(daemon)
    check_atad_tone_is_recorded(daemon, phone)
    wait_until(lambda: hears_tone(daemon, PJSIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear PJSIP's {PJSIP_TONE} Hz", interval=HEAR_POLL)
    print(f"atad status: {media_line(daemon)}")

    assert phone.hangup().get("ok")
    gone = phone.wait_for_event("disconnected")
    print(f"PJSIP: disconnected, {gone['code']} {gone['reason']}")
    wait_until(lambda: not line_state(daemon).startswith("talking"), 5, "atad's line to leave talking")
    assert media_line(daemon) is None
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "atad's line to be idle")
    assert daemon.running()
