"""Calls between atad and a real SIP phone: baresip 1.0 (Debian) on
loopback, playing a tone file into the call and recording what it receives.

Both directions: atad's line dials baresip (an account with `register =
no` straight to baresip's address) and baresip dials atad. In each call the
tone baresip plays is heard on atad's simulated handset, and a tone said
into the handset is found in baresip's recording, both within 1 %. Real
binaries, real RTP, every process stopped by its pid."""

from baresip_peer import baresip  # noqa: F401 (fixture)
from conftest import wait_until, write_site
from rtp_peer import SAMPLE_RATE, dbm0_of, dominant_frequency
from test_call_media import HEAR_POLL, heard_frequencies, hears_tone, line_state, media_line, sip_port

BARESIP_TONE = 440.0
ATAD_TONE = 1000.0
TOLERANCE = 0.01


def start_atad(daemons, tmp_path, short_dir, extra=""):
    """One atad on the simulated board; `extra` holds its accounts and lines."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=extra)
    return daemons.start(site, control, tmp_path)


def check_baresip_tone_is_heard(daemon):
    """baresip's aufile tone reaches the handset's earpiece, and (once the
    jitter buffer has adapted to baresip's send timing) as a steady tone."""
    wait_until(lambda: hears_tone(daemon, BARESIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear baresip's {BARESIP_TONE} Hz", interval=HEAR_POLL)
    first = daemon.ctl("hear", "1").out_lines[1]
    steady = wait_until(lambda: (lambda line: line if line.endswith(" continuous") else None)(
        daemon.ctl("hear", "1").out_lines[1]), 5, "a continuous tone", interval=0.1)
    print(f"atad's earpiece: first '{first}', then '{steady}'")
    wait_until(lambda: hears_tone(daemon, BARESIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear baresip's {BARESIP_TONE} Hz", interval=HEAR_POLL)


def check_atad_tone_is_recorded(daemon, phone):
    """A tone said into the handset shows up in baresip's recording of
    what it received (its newest second, after the tone had time to
    cross)."""
    before = len(phone.received_audio())
    assert daemon.ctl("say", "1", "tone", str(int(ATAD_TONE)), "-10").returncode == 0
    recorded = phone.wait_received_audio((before + SAMPLE_RATE * 1.5) / SAMPLE_RATE, timeout=10)
    tail = recorded[before + SAMPLE_RATE // 2:]
    frequency = dominant_frequency(tail)
    level = dbm0_of(tail)
    print(f"baresip recorded ({phone.received_audio_path.name}): {frequency:.2f} Hz, {level:.1f} dBm0 "
          f"over {len(tail) / SAMPLE_RATE:.2f} s")
    assert abs(frequency - ATAD_TONE) <= ATAD_TONE * TOLERANCE, frequency
    assert level > -20.0, level


def test_atad_dials_baresip_and_both_directions_carry_their_tones(daemons, tmp_path, short_dir, baresip):
    phone = baresip.start(user="2000", tone=BARESIP_TONE)
    daemon = start_atad(daemons, tmp_path, short_dir, extra=(
        f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{phone.sip_port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "2000").returncode == 0
    phone.wait_for_event("CALL_ESTABLISHED")
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "atad's line to be talking")
    media = media_line(daemon)
    assert media and media.startswith("media: PCMU 20 ms"), media

    check_baresip_tone_is_heard(daemon)
    check_atad_tone_is_recorded(daemon, phone)
    # Both ways at once: baresip's tone is still there.
    wait_until(lambda: hears_tone(daemon, BARESIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear baresip's {BARESIP_TONE} Hz", interval=HEAR_POLL)
    print(f"atad status: {media_line(daemon)}")

    assert daemon.ctl("hook", "1", "on").returncode == 0
    phone.wait_for_event("CALL_CLOSED")
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "atad's line to be idle")
    assert media_line(daemon) is None
    assert daemon.running()


def test_baresip_dials_atad_and_hangs_up(daemons, tmp_path, short_dir, baresip):
    daemon = start_atad(daemons, tmp_path, short_dir, extra="[line 1]\n")
    phone = baresip.start(user="3000", tone=BARESIP_TONE, auto_answer=False)
    reply = phone.dial(f"sip:anything@127.0.0.1:{sip_port(daemon)}")
    assert reply.get("ok"), reply
    wait_until(lambda: line_state(daemon) == "ringing", 10, "atad's line 1 to ring")
    assert daemon.ctl("ringing", "1").out_lines[1].startswith("yes")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    phone.wait_for_event("CALL_ESTABLISHED")
    wait_until(lambda: line_state(daemon) == "talking", 5, "atad's line to be talking")

    check_baresip_tone_is_heard(daemon)
    check_atad_tone_is_recorded(daemon, phone)
    wait_until(lambda: hears_tone(daemon, BARESIP_TONE, tolerance=TOLERANCE), 10,
               f"the handset to hear baresip's {BARESIP_TONE} Hz", interval=HEAR_POLL)
    print(f"atad status: {media_line(daemon)}")

    assert phone.hangup().get("ok")
    phone.wait_for_event("CALL_CLOSED")
    wait_until(lambda: not line_state(daemon).startswith("talking"), 5, "atad's line to leave talking")
    assert media_line(daemon) is None
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "atad's line to be idle")
    assert daemon.running()
