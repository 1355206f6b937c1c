"""Levels on the rig (issue 13, item 4): `level 1` reads a DTMF pair played
into the real capture device at its level, and the board's mixer keys set
the card's controls through alsa-lib when the audio opens."""

from pathlib import Path

import pytest

from alsa import sine_pair, silence
from conftest import BOX_BOARD, UserMixerControls, line_status, mixer_controls, scenarios

KEYS = {"5": (770, 1336), "1": (697, 1209), "#": (941, 1477)}


def key_reading(daemon, digit):
    """(low dBm0, high dBm0) from `level 1` once it reports `key DIGIT`."""
    found = {}

    def heard():
        result = daemon.ctl("level", "1")
        assert result.returncode == 0, result
        for line in result.out_lines:
            if line.startswith(f"key {digit}: "):
                # key 5: 770 Hz -8.0 dBm0, 1336 Hz -6.0 dBm0
                low, high = line.split(": ", 1)[1].split(", ")
                found["levels"] = (float(low.split()[2]), float(high.split()[2]))
                return True
        return False
    scenarios.wait_until(heard, 15, f"level to report key {digit}")
    return found["levels"]


@pytest.mark.parametrize("digit,low_dbm0,high_dbm0", [("5", -9, -7), ("1", -20, -20), ("#", -6, -6)])
def test_a_key_played_into_the_mouthpiece_reads_its_level(box_daemon, slic, mouthpiece, digit, low_dbm0,
                                                          high_dbm0):
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    low, high = KEYS[digit]
    tone = sine_pair((low,), low_dbm0, 600)
    for index, sample in enumerate(sine_pair((high,), high_dbm0, 600)):
        tone[index] += sample
    mouthpiece.say(tone)
    mouthpiece.say(silence(100))
    # Read once the key is let go, as a user would: the whole press is measured.
    scenarios.wait_until(lambda: mouthpiece.pending() == 0, 10, "the key to be played")
    read_low, read_high = key_reading(box_daemon, digit)
    print(f"key {digit}: sent {low_dbm0}/{high_dbm0} dBm0, read {read_low}/{read_high} dBm0")
    assert abs(read_low - low_dbm0) <= 1.0 and abs(read_high - high_dbm0) <= 1.0, (read_low, read_high)


def board_with(path, keys):
    """Board/box.conf with more keys in its [line 1] (its last section)."""
    Path(path).write_text(BOX_BOARD.read_text().rstrip("\n") + "\n" + keys + "\n")
    return Path(path)


@pytest.fixture
def codec_controls():
    """A CM108's controls on the Loopback card, each set the wrong way:
    AGC and the mic monitor on, the volumes at 0."""
    controls = UserMixerControls()
    controls.add("Mic Capture Volume", 0, maximum=35)
    controls.add("Mic Playback Switch", 1)
    controls.add("Speaker Playback Volume", 0, maximum=151)
    controls.add("Auto Gain Control", 1)
    controls.add("Rig Extra Switch", 0)
    yield controls
    controls.remove()


def control(name):
    values = [value for (control_name, *_), value in mixer_controls().items() if control_name == name]
    assert len(values) == 1, (name, values)
    return values[0]


def test_the_board_keys_set_the_codec_at_start(tmp_path, box_daemons, slic, codec_controls):
    board = board_with(tmp_path / "box-levels.conf", "\n".join([
        "agc = off", "mic_monitor = off", "capture_volume = 60%", "playback_volume = 100%",
        "mixer = Rig Extra=on, No Such Control=on"]))
    daemon = box_daemons(board)
    scenarios.wait_until(lambda: "mixer set" in daemon.log(), 10, "atad to log what it set")
    assert control("Auto Gain Control") == 0
    assert control("Mic Playback Switch") == 0
    assert control("Mic Capture Volume") == 35 * 60 // 100
    assert control("Speaker Playback Volume") == 151
    assert control("Rig Extra Switch") == 1, "the generic mixer key sets a named control"
    messages = daemon.log_messages()
    sets = [message for level, message in messages if "mixer set" in message]
    assert sets == ["line 1: mixer set Auto Gain Control=off, Mic=off, Mic=60%, Speaker=100%, Rig Extra=on"], sets
    missing = [(level, message) for level, message in messages if "No Such Control" in message]
    assert len(missing) == 1 and missing[0][0] == "error", missing
    assert 'no control "No Such Control"' in missing[0][1], missing
    # The line works on: off hook gives dial tone.
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(daemon) == "dialtone", 5, "line 1 in dialtone")
    slic.hook(False)
    scenarios.wait_until(lambda: line_status(daemon) == "idle", 5, "line 1 idle")
    assert daemon.running()
    assert len([m for _, m in daemon.log_messages() if "No Such Control" in m]) == 1
