"""`[tones]` in the site file overrides the country's tones and ringing:
heard on the simulated line, measured from the adapter's own output."""

import re

from conftest import SIM_BOARD, wait_until

HEARD = re.compile(r"^(?P<freqs>[\d+]+) Hz (?P<level>-?\d+) dBm0 (?P<cadence>\S+)$")


def write_site(path, control, tones):
    path.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        "country = us\n"
        "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n"
        "[tones]\n" + tones)
    return path


def heard(daemon):
    result = daemon.ctl("hear", "1")
    assert result.returncode == 0, result
    return result.out_lines[1]


def test_dial_tone_and_ring_follow_the_overrides(daemons, tmp_path, short_dir):
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control,
                      "dial = 400/-10\nring_frequency = 25\nring_cadence = 500,700\n")
    daemon = daemons.start(site, control, tmp_path)
    assert daemon.ctl("hook", "1", "off").returncode == 0

    def dial_tone():
        match = HEARD.match(heard(daemon))
        return match if match and match.group("cadence") == "continuous" else None
    match = wait_until(dial_tone, 10, "the overridden dial tone")
    assert abs(int(match.group("freqs")) - 400) <= 4, match.group(0)
    assert abs(int(match.group("level")) + 10) <= 1, match.group(0)
    assert daemon.ctl("hook", "1", "on").returncode == 0

    assert daemon.ctl("ring", "2").returncode == 0

    def ringing():
        line = daemon.ctl("ringing", "2").out_lines[1]
        match = re.match(r"^yes (\d+) Hz (\d+)/(\d+)$", line)
        return match
    match = wait_until(ringing, 10, "the bell to ring with a measured cadence")
    assert int(match.group(1)) == 25, match.group(0)
    assert abs(int(match.group(2)) - 500) <= 10 and abs(int(match.group(3)) - 700) <= 10, match.group(0)
