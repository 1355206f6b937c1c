"""Calls end to end between two atad daemons on loopback, both on the
simulated board: line A dials line B directly (no registrar), B rings and
answers, a tone said into either handset is heard at the other, a key
pressed on A travels as an RFC 4733 event and is heard at B, and a hang-up
from either side returns both lines to idle. Real binaries, real RTP."""

import re
import time

import pytest

from conftest import UNDER_QEMU, real_time_audio, wait_until, write_site

# `hear` analyses the last second of audio, which takes the daemon's loop a
# while (much longer under qemu): poll it gently so the audio keeps time.
HEAR_POLL = 0.25 if UNDER_QEMU else 0.02

SIP_LINE = re.compile(r"^sip: (?:127\.0\.0\.1|\[::1\]):(\d+)/udp$")
HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")


def status_of(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def line_state(daemon, line=1):
    prefix = f"line {line}: "
    return next((l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)), "")


def media_line(daemon, line=1):
    prefix = f"call line {line}: "
    return next((l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)), None)


def sip_port(daemon):
    for line in status_of(daemon):
        match = SIP_LINE.match(line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no sip line in {status_of(daemon)}")


def heard_frequencies(daemon, line=1):
    """The frequencies the simulated earpiece hears, or [] for silence."""
    reply = daemon.ctl("hear", str(line))
    assert reply.returncode == 0, reply
    for text in reply.out_lines:
        match = HEARD.match(text)
        if match:
            return [int(f) for f in match.group(1).split("+")]
    return []


def keys_heard(daemon, line=1):
    """The keys the simulated earpiece's DTMF receiver has heard so far
    (`hear`'s `keys heard:` line), or "" for none."""
    reply = daemon.ctl("hear", str(line))
    assert reply.returncode == 0, reply
    return next((text[len("keys heard: "):] for text in reply.out_lines if text.startswith("keys heard: ")), "")


def hears_tone(daemon, frequency, line=1, tolerance=0.01):
    heard = heard_frequencies(daemon, line)
    return len(heard) == 1 and abs(heard[0] - frequency) <= frequency * tolerance


def start_pair(daemons, tmp_path, short_dir, a_extra="", b_extra="", host="127.0.0.1"):
    """B first (its SIP port is picked by the kernel), then A, whose account
    sends every call straight to B. `host` "::1" runs both over IPv6."""
    uri_host = f"[{host}]" if ":" in host else host
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    b_socket = short_dir / "b.sock"
    b_site = write_site(b_dir / "site.conf", b_socket, log_level="debug", listen_address=host, extra=(
        f"[account direct]\nuser = 2000\ndomain = {uri_host}\nregister = no\n" + b_extra +
        "[line 1]\naccount = direct\n"))
    b = daemons.start(b_site, b_socket, b_dir)
    a_dir = tmp_path / "a"
    a_dir.mkdir()
    a_socket = short_dir / "a.sock"
    a_site = write_site(a_dir / "site.conf", a_socket, log_level="debug", listen_address=host, extra=(
        f"[account direct]\nuser = 1000\ndomain = {uri_host}:{sip_port(b)}\nregister = no\n" + a_extra +
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    a = daemons.start(a_site, a_socket, a_dir)
    return a, b


def connect(a, b):
    """A dials 2000, B rings and answers; both talking."""
    assert a.ctl("hook", "1", "off").returncode == 0
    assert a.ctl("dtmf", "1", "2000").returncode == 0
    wait_until(lambda: line_state(b).startswith("ringing"), 10, "line B to ring")
    wait_until(lambda: line_state(a).startswith("ringback"), 5, "ringback on line A")
    assert b.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(a).startswith("talking") and line_state(b).startswith("talking"), 10,
               "both lines talking")


def test_two_lines_talk_both_ways_and_a_hangs_up(daemons, tmp_path, short_dir):
    a, b = start_pair(daemons, tmp_path, short_dir)
    connect(a, b)
    assert a.ctl("say", "1", "tone", "1000", "-10").returncode == 0
    wait_until(lambda: hears_tone(b, 1000), 10, "B to hear A's 1000 Hz", interval=HEAR_POLL)
    assert b.ctl("say", "1", "tone", "700", "-12").returncode == 0
    wait_until(lambda: hears_tone(a, 700), 10, "A to hear B's 700 Hz", interval=HEAR_POLL)
    # Still A's tone at B: both directions at once.
    wait_until(lambda: hears_tone(b, 1000), 10, "B to still hear A's 1000 Hz", interval=HEAR_POLL)

    # A key held on A: an RFC 4733 event, its tones played into B's earpiece.
    assert a.ctl("say", "1", "silence").returncode == 0
    assert b.ctl("say", "1", "silence").returncode == 0
    # B's earpiece has a DTMF receiver of its own: the key is heard once,
    # as one key, however the updates were spaced (a sender that stalls
    # past the receiver's 150 ms cuts the tone short but must not make
    # it two keys).
    assert a.ctl("dtmf", "1", "5", "--on", "1500").returncode == 0
    wait_until(lambda: keys_heard(b) == "5", 10, "B's earpiece to hear the key 5", interval=HEAR_POLL)
    wait_until(lambda: "digits sent 1 " in (media_line(a) or ""), 10, "A's status to count one key sent")
    received = re.compile(r"digits sent \d+ received ([1-9]\d*)")
    wait_until(lambda: received.search(media_line(b) or ""), 10, "B's status to count the key received")
    for daemon in (a, b):
        media = media_line(daemon)
        assert media and media.startswith("media: PCMU 20 ms"), media

    assert a.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(a).startswith("idle"), 5, "A idle after hanging up")
    # B hears the far end's hang-up (the country's busy tone) until it hangs up too.
    wait_until(lambda: not line_state(b).startswith("talking"), 5, "B to learn of the hang-up")
    assert b.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(b).startswith("idle"), 5, "B idle")
    assert media_line(a) is None and media_line(b) is None
    assert "ended" in a.log() and "sent " in a.log()


def test_b_hangs_up_first(daemons, tmp_path, short_dir):
    a, b = start_pair(daemons, tmp_path, short_dir, a_extra="codec = pcma\nptime = 10\n")
    connect(a, b)
    assert b.ctl("say", "1", "tone", "1200", "-10").returncode == 0
    wait_until(lambda: hears_tone(a, 1200), 10, "A to hear 1200 Hz", interval=HEAR_POLL)
    assert media_line(a).startswith("media: PCMA 10 ms"), media_line(a)
    assert b.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(b).startswith("idle"), 5, "B idle")
    wait_until(lambda: not line_state(a).startswith("talking"), 5, "A to learn of the hang-up")
    assert a.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(a).startswith("idle"), 5, "A idle")


def test_call_over_ipv6(daemons, tmp_path, short_dir):
    """Both daemons listen on ::1 only: SIP, SDP (c=IN IP6) and RTP all go
    over IPv6, or no tone could cross."""
    a, b = start_pair(daemons, tmp_path, short_dir, host="::1")
    assert any(line.startswith("sip: [::1]:") for line in status_of(a)), status_of(a)
    connect(a, b)
    assert a.ctl("say", "1", "tone", "1000", "-10").returncode == 0
    assert b.ctl("say", "1", "tone", "700", "-12").returncode == 0
    wait_until(lambda: hears_tone(b, 1000), 10, "B to hear A's 1000 Hz over IPv6", interval=HEAR_POLL)
    wait_until(lambda: hears_tone(a, 700), 10, "A to hear B's 700 Hz over IPv6", interval=HEAR_POLL)
    assert a.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(a).startswith("idle"), 5, "A idle after hanging up")
    wait_until(lambda: not line_state(b).startswith("talking"), 5, "B to learn of the hang-up over IPv6")


def heard_level(daemon, line=1):
    """(frequencies, level dBm0) the earpiece hears, or None for silence."""
    for text in daemon.ctl("hear", str(line)).out_lines:
        match = HEARD.match(text)
        if match:
            return [int(f) for f in match.group(1).split("+")], int(match.group(2))
    return None


@real_time_audio
def test_line_echo_is_cancelled(daemons, tmp_path, short_dir):
    """A's lines have a hybrid that returns B's voice 40 ms later, 6 dB
    down. Line 2 has `echo_canceller = no`: B hears its own tone come back.
    Line 1 cancels it (the default): what B hears of itself drops by at
    least 20 dB (echo return loss enhancement) once the canceller has
    converged, and stays down."""
    a, b = start_pair(daemons, tmp_path, short_dir,
                      a_extra="[line 2]\naccount = direct\ndial_plan = (2xxx)\necho_canceller = no\n")
    echo = {}
    for line in (2, 1):
        assert a.ctl("hybrid", str(line), "40", "6").returncode == 0
        assert a.ctl("hook", str(line), "off").returncode == 0
        assert a.ctl("dtmf", str(line), "2000").returncode == 0
        wait_until(lambda: line_state(b).startswith("ringing"), 10, "line B to ring")
        assert b.ctl("hook", "1", "off").returncode == 0
        wait_until(lambda: line_state(a, line).startswith("talking"), 10, "the call to be up")
        assert b.ctl("say", "1", "tone", "1000", "-10").returncode == 0
        wait_until(lambda: hears_tone(a, 1000, line=line), 5, "A to hear B")
        if line == 2:
            # (The first thing back may be the last 40 ms of ringback's echo.)
            def echo_heard():
                heard = heard_level(b)
                return heard if heard and heard[0] == [1000] else None
            echo[line] = wait_until(echo_heard, 5, "B to hear its echo")
        else:
            limit = echo[2][1] - 20
            # Listen at B for 6 s: the canceller converges within the first
            # four (a steady tone can mislead its bulk-delay estimate, which
            # is then dropped after a 1.5 s trial); in the last two nothing of
            # the echo may come back above the limit.
            start = time.monotonic()
            levels = []
            while time.monotonic() - start < 6.0 and len(levels) < 3000:
                heard = heard_level(b)
                levels.append((time.monotonic() - start, heard[1] if heard else None))
            late = [level for at, level in levels if at >= 4.0]
            assert late and all(level is None or level <= limit for level in late), (
                levels[-5:], echo, a.ctl("hear", "1").out_lines)
            levels = late
            echo[line] = levels
        assert b.ctl("say", "1", "silence").returncode == 0
        assert b.ctl("hook", "1", "on").returncode == 0
        assert a.ctl("hook", str(line), "on").returncode == 0
        wait_until(lambda: line_state(b).startswith("idle") and line_state(a, line).startswith("idle"), 5,
                   "both idle")
    frequencies, level = echo[2]
    assert frequencies == [1000] and -22 <= level <= -14, echo[2]
    residual = [value for value in echo[1] if value is not None]
    worst = max(residual) if residual else None
    print(f"echo at B without the canceller: {level} dBm0; with it: "
          + (f"at most {worst} dBm0 (ERLE >= {level - worst} dB)" if worst is not None
             else "below the earpiece analyzer's floor"))
