"""`level LINE` on the simulated board: the handset keys DTMF at a known
level and the daemon reads each tone of the pair back from the mouthpiece,
as a user calibrating a real phone would (README, "Calibrating levels")."""

import re

import pytest

from conftest import wait_until

KEY = re.compile(r"^key (\S): (\d+) Hz (-?\d+\.\d) dBm0, (\d+) Hz (-?\d+\.\d) dBm0$")
LAST_SECOND = re.compile(r"^last second: (-?\d+\.\d) dBm0$")


def level(daemon):
    result = daemon.ctl("level", "1")
    assert result.returncode == 0 and result.out_lines[0] == "ok", result
    return result.out_lines[1:]


def key_reading(daemon, digit):
    """The `key D: ...` line once the daemon has heard `digit`, as numbers."""
    found = {}

    def heard():
        for line in level(daemon):
            match = KEY.match(line)
            if match and match.group(1) == digit:
                found["match"] = match
                return True
        return False
    wait_until(heard, 10, f"level to report key {digit}")
    match = found["match"]
    return int(match.group(2)), float(match.group(3)), int(match.group(4)), float(match.group(5))


def test_nothing_heard_yet(daemon):
    lines = level(daemon)
    assert lines[1] == "last sound: none", lines
    assert LAST_SECOND.match(lines[0]) or lines[0] == "last second: nothing yet", lines


@pytest.mark.parametrize("digit,dbm0,twist,low,high", [("5", -9, 2, 770, 1336), ("#", -6, 0, 941, 1477),
                                                       ("1", -20, -2, 697, 1209)])
def test_a_held_key_reads_each_tone_within_1_db(daemon, digit, dbm0, twist, low, high):
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", digit, "--level", str(dbm0), "--twist", str(twist),
                      "--on", "1500", "--off", "0").returncode == 0
    low_hz, low_dbm0, high_hz, high_dbm0 = key_reading(daemon, digit)
    assert abs(low_hz - low) <= 2 and abs(high_hz - high) <= 2
    assert abs(low_dbm0 - dbm0) <= 1.0, (low_dbm0, dbm0)
    assert abs(high_dbm0 - (dbm0 + twist)) <= 1.0, (high_dbm0, dbm0 + twist)


def test_a_short_press_is_read_after_the_key_is_let_go(daemon):
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9", "--level", "-8", "--twist", "2", "--on", "100").returncode == 0
    _, low_dbm0, _, high_dbm0 = key_reading(daemon, "9")
    assert abs(low_dbm0 + 8) <= 1.0 and abs(high_dbm0 + 6) <= 1.0, (low_dbm0, high_dbm0)


def test_a_single_tone_is_no_key_and_its_level_shows(daemon):
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("say", "1", "tone", "1000", "-12").returncode == 0

    def steady():
        lines = level(daemon)
        match = LAST_SECOND.match(lines[0])
        return match and abs(float(match.group(1)) + 12) <= 1.0 and lines[1] == "last sound: not a DTMF pair"
    wait_until(steady, 10, "level to read the 1000 Hz tone at -12 dBm0")


def test_bad_requests(daemon):
    result = daemon.ctl("level", "1", "2")
    assert result.returncode != 0 and "level takes only a LINE" in result.stdout + result.stderr, result
    result = daemon.ctl("level", "9")
    assert result.returncode != 0 and "no line '9'" in result.stdout + result.stderr, result
