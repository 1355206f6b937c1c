"""The echo path moves in the middle of a call, as it does on a board when
the sound card's streams stall and start again: the canceller must find
the new delay from the next sentence. Two atads call each other; B's line
has the simulated hybrid (`hybrid 1 30 10`: a 30 ms bulk delay, 10 dB of
echo return loss). A speaks a sentence (a recorded voice): B's canceller
aligns on the echo and takes at least 30 dB out of it. Then B's hybrid
moves to 120 ms, and A speaks the sentence again: by its end, B's
canceller has lost the old path (`hear` counts it: `path lost N`),
aligned on the new one (a bulk delay of 100 to 120 ms: the estimate less
its 8 ms margin, within its 4 ms steps) and takes at least 25 dB out of
the echo. Before the canceller watched for a lost path it stayed near
0 dB for six seconds, most of a sentence. Real binaries on loopback; the
audio must run in real time, so under qemu this is skipped."""

import re
import time

from conftest import real_time_audio, wait_until
from test_call_media import connect, start_pair
from test_double_talk import POLL, hang_up, hear, speech_file

PATH_LOST = re.compile(r"^echo canceller: .*, path lost (\d+)$")


def path_lost(daemon):
    """How many times in this call line 1's canceller searched again."""
    for text in daemon.ctl("hear", "1").out_lines:
        match = PATH_LOST.match(text)
        if match:
            return int(match.group(1))
    return 0


def sentence(talker, listener, speech, seconds, done, what):
    """`talker` says the recording; once it has been said, `done(bulk
    delay, ERLE)` must hold for `listener`'s canceller within 0.5 s."""
    assert talker.ctl("say", "1", "file", str(speech)).returncode == 0
    said = time.monotonic()
    readings = []

    def settled():
        heard = hear(listener)
        readings.append((heard["bulk_delay"], heard["erle"]))
        return time.monotonic() - said > seconds + 0.3 and done(heard["bulk_delay"], heard["erle"])
    try:
        wait_until(settled, seconds + 0.8, what, interval=POLL)
    except AssertionError as error:
        raise AssertionError(f"{error}: (bulk delay ms, ERLE dB) read {readings}")
    print(f"{what}: (bulk delay ms, ERLE dB) read {readings}")
    assert talker.ctl("say", "1", "silence").returncode == 0


@real_time_audio
def test_the_canceller_follows_an_echo_path_that_moved(daemons, tmp_path, short_dir):
    a, b = start_pair(daemons, tmp_path, short_dir)
    assert b.ctl("hybrid", "1", "30", "10").returncode == 0
    connect(a, b)
    speech = speech_file(tmp_path)
    seconds = speech.stat().st_size / 16000
    sentence(a, b, speech, seconds,
             lambda delay, erle: erle is not None and erle >= 30 and delay is not None and delay <= 28,
             "B's canceller on the 30 ms path")
    assert path_lost(b) == 0, b.ctl("hear", "1").out_lines
    assert b.ctl("hybrid", "1", "120", "10").returncode == 0
    sentence(a, b, speech, seconds,
             lambda delay, erle: erle is not None and erle >= 25 and delay is not None and 100 <= delay <= 120,
             "B's canceller on the path moved to 120 ms")
    assert path_lost(b) >= 1, b.ctl("hear", "1").out_lines
    hang_up(a, b)
