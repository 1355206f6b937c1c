"""Both ends talk at once. Two atads call each other, both with the echo
canceller on (the default), and each handset says a tone into its line at
the same moment, for 10 s: each must hear the other's tone the whole time,
unbroken (`hear` says for how long it has sounded without a 10 ms break:
by the end, the whole 10 s), at its pitch and level, and
nothing of its own tone may come back; no DTMF digit may be taken from the
sum of the two voices (700+1300 and 941+1477 sit next to the pairs of
DTMF 2 and #). Then the same with the simulated hybrid on both lines
(`hybrid 1 30 10`: a 30 ms bulk delay, 10 dB of echo return loss): first
each side speaks alone (a recorded voice), and the listener's canceller
must align on the echo's delay and take at least 30 dB out of it; then,
with both tones at once, everything above holds as well.

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
import shutil
import subprocess
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
ERLE = re.compile(r"^echo canceller: bulk delay (\d+) ms(?:, ERLE (-?\d+) dB)?(?:, path lost \d+)?$")
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


def cancellers(a, b):
    """Each side's echo canceller, as `hear` reports it, for a failure's
    message: whose echo came back, and with what alignment."""
    lines = []
    for daemon, name in ((a, "A"), (b, "B")):
        canceller = [text for text in daemon.ctl("hear", "1").out_lines if text.startswith("echo canceller")]
        lines.append(f"{name}'s {canceller[0] if canceller else 'echo canceller: idle'}")
    return "; ".join(lines)


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
            raise AssertionError(f"{error}: {problems[-3:]}; A {media_line(a)}; B {media_line(b)}; "
                                 f"{cancellers(a, b)}")
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
                                     f"hear: {heard}; A {media_line(a)}; B {media_line(b)}; {cancellers(a, b)}")
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
    # The whole time without a 10 ms break (the cadence would also judge
    # what came before the tones, up to 16 s back).
    for listener, name in ((a, "A"), (b, "B")):
        heard = hear(listener)
        assert heard["sounding"] >= seconds * 1000, f"{name} after {seconds:.0f} s: {heard}"
    return polls


SENTENCE = ("Both ends of a call talk at once all the time, and each must still hear the other "
            "clearly, with nothing of its own voice coming back.")


def speech_file(tmp_path):
    """A recorded voice (espeak-ng, at a normal talking level) as 8 kHz
    16-bit raw audio for `say LINE file`, about 6.5 s long."""
    assert shutil.which("espeak-ng") and shutil.which("sox"), "espeak-ng and sox are needed (make test installs them)"
    wav = tmp_path / "speech.wav"
    raw = tmp_path / "speech.raw"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SENTENCE],
                   check=True, timeout=60, capture_output=True)
    subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw",
                    str(raw), "norm", "-12"], check=True, timeout=60, capture_output=True)
    assert raw.stat().st_size >= 8000 * 2 * 5, raw.stat().st_size
    return raw


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


@real_time_audio
@pytest.mark.parametrize("tone_a,tone_b", PAIRS, ids=[f"{x}-{y}" for x, y in PAIRS])
def test_both_talk_at_once_over_the_simulated_hybrid(daemons, tmp_path, short_dir, tone_a, tone_b):
    a, b = start_pair(daemons, tmp_path, short_dir)
    for daemon in (a, b):
        assert daemon.ctl("hybrid", "1", "30", "10").returncode == 0
    connect(a, b)
    # Single talk, each way in turn, as a call begins: one side speaks (a
    # recorded voice) while the other listens. The listener's canceller
    # learns the echo path from it and takes at least 30 dB out of the
    # echo (ERLE, as ITU-T G.168 measures it with its speech-like test
    # signal), its 32 ms filter aligned so that it holds the 30 ms echo
    # (a bulk delay of at most 28 ms: none at all when the filter cancels
    # before the delay is estimated, or the estimate less its 8 ms
    # margin). (A steady tone cannot teach the path: any
    # filter that fits the tone's one frequency cancels it, and lets
    # through whatever else the echo carries, such as a concealed frame's
    # detuned copy of it, once both talk.)
    speech = speech_file(tmp_path)
    speech_seconds = speech.stat().st_size / 16000
    for talker, listener in ((a, b), (b, a)):
        assert talker.ctl("say", "1", "file", str(speech)).returncode == 0
        said = time.monotonic()
        readings = []

        # Once the whole recording has been said (the canceller learns from
        # all of it, as it would from a call's first sentence).
        def converged():
            heard = hear(listener)
            readings.append((heard["bulk_delay"], heard["erle"]))
            return (time.monotonic() - said > speech_seconds + 0.3 and heard["erle"] is not None
                    and heard["erle"] >= 30 and heard["bulk_delay"] is not None and 0 <= heard["bulk_delay"] <= 28)
        try:
            wait_until(converged, speech_seconds + 3, "the canceller to align on the echo and take 30 dB out of it",
                       interval=POLL)
        except AssertionError as error:
            raise AssertionError(f"{error}: (bulk delay ms, ERLE dB) read {readings}")
        print(f"single talk: (bulk delay ms, ERLE dB) read {readings}")
        assert talker.ctl("say", "1", "silence").returncode == 0
    polls = talk_at_once(a, b, tone_a, tone_b)
    print(f"{tone_a}/{tone_b} Hz over the hybrid: {polls} clean polls in {TALK_SECONDS:.0f} s")
    for daemon in (a, b):
        no_digits(daemon)
    hang_up(a, b)
