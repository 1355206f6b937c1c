"""How fast and how safely the line reacts: dial tone right after off-hook,
and no false digit from speech (talk-off), on the real binary."""

import shutil
import subprocess
import time

import pytest

from conftest import write_site, wait_until

SPEECH = (
    "Hello, this is a long test call to check that ordinary speech on the telephone line "
    "never turns into a dialed digit. One two three four five six seven eight nine zero. "
    "The quick brown fox jumps over the lazy dog while the kettle whistles in the kitchen. "
    "Please call me back at five five five one two three four, or press star and pound. "
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells. "
    "We are measuring talk-off, the classic failure of tone receivers that hear voices as keys."
)


def start(daemons, tmp_path, short_dir, country="us"):
    control = short_dir / "control.sock"
    return daemons.start(write_site(tmp_path / "site.conf", control, country=country), control, tmp_path)


@pytest.mark.parametrize("country", ["us", "gb", "de", "jp"])
def test_dial_tone_starts_within_50_ms_of_off_hook(daemons, tmp_path, short_dir, country):
    daemon = start(daemons, tmp_path, short_dir, country)
    assert daemon.ctl("hook", "1", "off").returncode == 0

    def first_sound():
        lines = daemon.ctl("hear", "1").out_lines
        return next((line for line in lines if line.startswith("first sound ")), None)
    line = wait_until(first_sound, 5, "the earpiece to carry dial tone")
    milliseconds = int(line.split()[2])
    assert 0 <= milliseconds <= 50, line


@pytest.mark.slow
def test_thirty_seconds_of_speech_dial_no_digit(daemons, tmp_path, short_dir):
    assert shutil.which("espeak-ng") and shutil.which("sox"), "espeak-ng and sox are needed (make test installs them)"
    wav = tmp_path / "speech.wav"
    raw = tmp_path / "speech.raw"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SPEECH + " " + SPEECH],
                   check=True, timeout=60, capture_output=True)
    # 8 kHz mono 16-bit, 30 s, at a normal talking level.
    subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw",
                    str(raw), "trim", "0", "30", "norm", "-12"], check=True, timeout=60, capture_output=True)
    assert raw.stat().st_size >= 8000 * 2 * 29, raw.stat().st_size
    daemon = start(daemons, tmp_path, short_dir)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("say", "1", "file", str(raw)).returncode == 0
    # Watch the whole recording play (real time), bounded in time and polls.
    end = time.monotonic() + 31
    for _ in range(200):
        status = daemon.ctl("status").out_lines
        line = next(l for l in status if l.startswith("line 1: "))
        # Dial tone times out into the howler after 20 s; a digit would
        # have moved the line to dialing instead.
        assert line in ("line 1: dialtone", "line 1: howler"), f"speech was taken for a digit: {line}"
        if time.monotonic() >= end:
            break
        time.sleep(0.25)
    assert time.monotonic() >= end, "the recording did not get to play to its end"
