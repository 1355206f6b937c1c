"""Line signals for the equipment people plug in (issue 16, item 8):
polarity reversal while a call is connected, and the disconnect pulse
(CPC) when the far end hangs up. The real binary on the simulated board,
which reports what it saw in `status` and on the `record` timeline, with
SIPp as the far end, on loopback."""

import re

from conftest import wait_until, write_site
from sip_peers import sipp  # noqa: F401 (fixture)
from test_caller_id import start_recording, stop_recording

SIGNALS = re.compile(r"^polarity (forward|reverse), changes (\d+); loop (open|closed), disconnect pulses (\d+)"
                     r"(?:, last (\d+) ms)?$")


def start(daemons, tmp_path, short_dir, uas, line_settings):
    """Line 1 calls the SIPp UAS directly, with `line_settings`."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, extra=(
        f"[account direct]\nuser = 1001\ndomain = {uas.address[0]}:{uas.address[1]}\nregister = no\n"
        f"[line 1]\naccount = direct\ndial_plan = (9xxx)\n{line_settings}"))
    return daemons.start(site, control, tmp_path)


def status_line(daemon, prefix):
    lines = daemon.ctl("status").out_lines
    return next((line[len(prefix):] for line in lines if line.startswith(prefix)), None)


def signals(daemon):
    """(polarity, changes, loop, pulses, last pulse ms or None) of line 1
    (the board reports them once something moved)."""
    text = status_line(daemon, "line 1 signals: ")
    if text is None:
        return ("forward", 0, "closed", 0, None)
    match = SIGNALS.match(text or "")
    assert match, text
    polarity, changes, loop, pulses, last = match.groups()
    return polarity, int(changes), loop, int(pulses), int(last) if last else None


def test_the_polarity_reverses_while_connected_and_the_far_ends_hang_up_pulses_the_loop(
        daemons, tmp_path, short_dir, sipp):
    """polarity_reversal = outgoing, disconnect_pulse_ms = 600: reversed
    once SIPp answers (and not before: the line is talking when the status
    first shows it); when SIPp hangs up (BYE), the loop opens for 600 ms and
    the polarity comes back, in that order on the board's timeline; the
    line then gives busy tone."""
    uas = sipp.uas("uas_answer_bye.xml", timeout=20, extra=["-d", "4000"])
    daemon = start(daemons, tmp_path, short_dir, uas, "polarity_reversal = outgoing\ndisconnect_pulse_ms = 600\n")
    assert signals(daemon) == ("forward", 0, "closed", 0, None)
    path = tmp_path / "signals.wav"
    start_recording(daemon, path)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (status_line(daemon, "line 1: ") or "").startswith("talking"), 15, "the answer")
    assert signals(daemon)[:2] == ("reverse", 1), signals(daemon)
    uas.assert_success()
    wait_until(lambda: (status_line(daemon, "line 1: ") or "").startswith("busy"), 5, "the far end's hang-up")
    wait_until(lambda: signals(daemon)[3] == 1, 5, "the disconnect pulse to end", interval=0.05)
    polarity, changes, loop, pulses, last = signals(daemon)
    assert (polarity, changes, loop, pulses) == ("forward", 2, "closed", 1)
    # Never shorter than asked; longer only by a stall of the loop (a busy
    # machine, qemu).
    assert 595 <= last <= 900, last
    recording = stop_recording(daemon, path)
    assert [what for _, what in recording.events] == [
        "polarity reverse", "loop open", "polarity forward", "loop closed"], recording.events
    opened, closed = recording.first("loop open"), recording.first("loop closed")
    assert 580 <= closed - opened <= 920, recording.events


def test_a_handset_hung_up_restores_the_polarity_without_a_pulse(daemons, tmp_path, short_dir, sipp):
    """The handset ends the call: the polarity comes back, no pulse (the
    phone left the line itself); and without the settings nothing moves."""
    uas = sipp.uas("uas_answer.xml", timeout=20)
    daemon = start(daemons, tmp_path, short_dir, uas, "polarity_reversal = outgoing\ndisconnect_pulse_ms = 600\n")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: (status_line(daemon, "line 1: ") or "").startswith("talking"), 15, "the answer")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    wait_until(lambda: (status_line(daemon, "line 1: ") or "").startswith("idle"), 5, "the line to be idle")
    assert signals(daemon) == ("forward", 2, "closed", 0, None)


def test_without_the_settings_the_line_signals_stay_still(daemons, tmp_path, short_dir, sipp):
    uas = sipp.uas("uas_answer_bye.xml", timeout=20, extra=["-d", "500"])
    daemon = start(daemons, tmp_path, short_dir, uas, "")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    uas.assert_success()
    wait_until(lambda: (status_line(daemon, "line 1: ") or "").startswith("busy"), 5, "the far end's hang-up")
    assert signals(daemon) == ("forward", 0, "closed", 0, None)
