"""Board in a box: the hook switch's timing through a real kernel's GPIO
character device (gpio-sim), driven from the SLIC's side by pulling SHK:
rotary dials at 8, 10 and 12 pulses/s, hook flash against hang-up at the
edges of the window (the box's country, us: flash 100-900 ms, hang-up at
1100 ms; and a gb line, window 55-130 ms, with `flash_max_ms = 700` for a
long R key), and a burst of more edges than the kernel queues while atad is
stopped.

Breaks are timed by the kernel's edge timestamps, so atad's latency under
the emulated CPU does not matter, but Python's writes to gpio-sim jitter by
a few ms: every break here stays at least 25 ms away from each threshold,
and is paced against absolute deadlines."""

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BOX_BOARD, line_status, scenarios

# The United States preset (Sources/CountryPresets/PresetTable.swift) and
# LineTimings: a break up to 110 ms while dialing is a dial pulse.
US_FLASH_MS = (100, 900)
US_HANG_UP_MS = 1100
PULSE_BREAK_MAX_MS = 110
# A long R key in a country with a short window: gb's is 55-130 ms with a
# hang-up at 400 ms; the line's `flash_max_ms = 700` raises its hang-up time
# to 100 ms past the window.
LONG_R_COUNTRY = "gb"
LONG_FLASH_MAX_MS = 700
LONG_HANG_UP_MS = LONG_FLASH_MAX_MS + 100
MARGIN_MS = 25
# A dial pauses this long between digits (interdigit gap is 180 ms).
BETWEEN_DIGITS_S = 0.6
# A long dial plan, so the digits stay in `status` while the test looks.
LONG_PLAN = "dial_plan = (xxxxxxxxxx)\n"


@pytest.fixture
def hook_daemons(request, tmp_path, slic):
    """`hook_daemons(line_keys, country)` starts atad on Board/box.conf
    with extra keys in its [line 1]; each one is stopped at the end, its log
    kept in the run's results folder. (As conftest's `box_daemons`, with a
    site file of its own.)"""
    started = []

    def start(line_keys="", country="us"):
        sockets = Path(tempfile.mkdtemp(prefix="atad-", dir="/tmp"))
        site = scenarios.write_site(tmp_path / f"atad-{len(started)}.conf", sockets / "control.sock",
                                    board=BOX_BOARD, country=country, log_level="debug",
                                    extra="\n[line 1]\n" + LONG_PLAN + line_keys)
        daemon = scenarios.Daemon(site, sockets / "control.sock", tmp_path).launch()
        started.append((daemon, sockets))
        daemon.wait_ready(timeout=30)
        scenarios.wait_until(lambda: "audio on" in daemon.log(), 30, f"atad to open the card; log:\n{daemon.log()}")
        return daemon

    yield start
    results = os.environ.get("RIG_RESULTS")
    for index, (daemon, sockets) in enumerate(started):
        if daemon.pid:
            try:
                os.kill(daemon.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        daemon.stop()
        shutil.rmtree(sockets, ignore_errors=True)
        if results and daemon.log_path.exists():
            shutil.copy(daemon.log_path, Path(results) / f"atad-{request.node.name}-{index}.log")


def sim_pull(slic):
    return slic._line(slic.box.hook_offset) / "pull"


def hook_break(slic, milliseconds):
    """The handset on hook for `milliseconds`, then off hook again, paced
    against absolute deadlines. Returns how long the writes were apart."""
    pull = sim_pull(slic)
    start = time.monotonic()
    pull.write_text("pull-down")
    time.sleep(max(0.0, start + milliseconds / 1000.0 - time.monotonic()))
    pull.write_text("pull-up")
    return (time.monotonic() - start) * 1000.0


def dial(slic, digits, pps, break_ratio=0.6):
    """Rotary digits at `pps` pulses/s, `break_ratio` of each pulse on hook."""
    period = 1.0 / pps
    for index, digit in enumerate(digits):
        if index:
            time.sleep(BETWEEN_DIGITS_S)
        slic.dial_pulses(10 if digit == "0" else int(digit), break_s=period * break_ratio,
                         make_s=period * (1 - break_ratio))


def wait_status(daemon, expected, timeout, what):
    scenarios.wait_until(lambda: line_status(daemon) == expected, timeout, what)


def went_idle(daemon):
    """How often line 1 has gone idle (state changes are logged at debug)."""
    return daemon.log_messages().count(("debug", "line 1: idle"))


def off_hook_and_dial_a_digit(daemon, slic):
    """Off hook, then a 3 on the dial: the line is `dialing digits 3`, which
    a flash turns back into dial tone."""
    slic.hook(True)
    wait_status(daemon, "dialtone", 5, "line 1 in dialtone")
    dial(slic, "3", 10)
    scenarios.wait_until(lambda: line_status(daemon).startswith("dialing digits 3"), 5, "status to show digit 3")


def hang_up_and_wait_idle(daemon, slic, hang_up_ms):
    """On hook until the line goes idle; it must not before the hang-up
    time (less the margin)."""
    edge = slic.hook(False)
    early = edge + (hang_up_ms - MARGIN_MS) / 1000.0
    seen_early = []

    def idle():
        status = line_status(daemon)
        if time.monotonic() < early:
            seen_early.append(status)
        return status == "idle"

    scenarios.wait_until(idle, hang_up_ms / 1000.0 + 5, f"line 1 idle after {hang_up_ms} ms on hook", interval=0.01)
    assert "idle" not in seen_early, f"idle before the hang-up time ({hang_up_ms} ms): {seen_early}"


def check_flash(daemon, slic, length, hang_up_ms):
    """A break of `length` ms while dialing is a flash: dial tone again,
    without the line going idle on the way. Then a hang-up."""
    off_hook_and_dial_a_digit(daemon, slic)
    idle_before = went_idle(daemon)
    took = hook_break(slic, length)
    wait_status(daemon, "dialtone", 5, f"a {length} ms break (writes {took:.0f} ms apart) to be a flash: dial tone")
    assert went_idle(daemon) == idle_before, f"a {length} ms break (writes {took:.0f} ms apart) hung up"
    hang_up_and_wait_idle(daemon, slic, hang_up_ms)


def check_nothing(daemon, slic, length, hang_up_ms):
    """A break of `length` ms while dialing changes nothing: still dialing
    the same digit, never idle. Then a hang-up."""
    off_hook_and_dial_a_digit(daemon, slic)
    idle_before = went_idle(daemon)
    took = hook_break(slic, length)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        status = line_status(daemon)
        assert status.startswith("dialing digits 3"), f"after a {length} ms break (writes {took:.0f} ms apart): {status}"
    assert went_idle(daemon) == idle_before, f"a {length} ms break (writes {took:.0f} ms apart) hung up"
    hang_up_and_wait_idle(daemon, slic, hang_up_ms)


def check_hang_up(daemon, slic, length, hang_up_ms):
    """A break of `length` ms hangs up: the line goes idle, and lifting the
    handset again is a new call (dial tone, no digits). Then a hang-up."""
    off_hook_and_dial_a_digit(daemon, slic)
    idle_before = went_idle(daemon)
    took = hook_break(slic, length)
    scenarios.wait_until(lambda: went_idle(daemon) == idle_before + 1, 5,
                         f"a {length} ms break (writes {took:.0f} ms apart) to hang up")
    wait_status(daemon, "dialtone", 5, "dial tone for the new call")
    hang_up_and_wait_idle(daemon, slic, hang_up_ms)


@pytest.mark.parametrize("pps", [8, 10, 12])
def test_rotary_dial_at_each_rate(hook_daemons, slic, pps):
    daemon = hook_daemons()
    slic.hook(True)
    wait_status(daemon, "dialtone", 5, "line 1 in dialtone")
    dial(slic, "250", pps)
    scenarios.wait_until(lambda: line_status(daemon).startswith("dialing digits 250"), 5,
                         f"status to show the digits 250 dialled at {pps} pulses/s; last {line_status(daemon)!r}")
    hang_up_and_wait_idle(daemon, slic, US_HANG_UP_MS)


def test_flash_versus_hang_up_at_the_countrys_edges(hook_daemons, slic):
    daemon = hook_daemons()
    low, high = US_FLASH_MS
    # Just inside the window (and past a dial pulse), at both ends.
    check_flash(daemon, slic, max(low, PULSE_BREAK_MAX_MS) + MARGIN_MS, US_HANG_UP_MS)
    check_flash(daemon, slic, high - MARGIN_MS, US_HANG_UP_MS)
    # Past the window, short of the hang-up time.
    check_nothing(daemon, slic, high + MARGIN_MS, US_HANG_UP_MS)
    check_nothing(daemon, slic, US_HANG_UP_MS - MARGIN_MS, US_HANG_UP_MS)
    # At the hang-up time.
    check_hang_up(daemon, slic, US_HANG_UP_MS + MARGIN_MS, US_HANG_UP_MS)


def test_long_r_keys_with_a_wider_window_on_the_line(hook_daemons, slic):
    daemon = hook_daemons(f"flash_max_ms = {LONG_FLASH_MAX_MS}\n", country=LONG_R_COUNTRY)
    for length in (270, 600, LONG_FLASH_MAX_MS - MARGIN_MS):
        check_flash(daemon, slic, length, LONG_HANG_UP_MS)
    check_nothing(daemon, slic, LONG_FLASH_MAX_MS + MARGIN_MS, LONG_HANG_UP_MS)
    # The line's hang-up time is raised past its window, not to the country's.
    check_hang_up(daemon, slic, LONG_HANG_UP_MS + MARGIN_MS, LONG_HANG_UP_MS)


@pytest.mark.parametrize("ends_off_hook", [False, True], ids=["ends-on-hook", "ends-off-hook"])
def test_more_hook_edges_than_the_kernel_queues_during_a_stall(hook_daemons, slic, ends_off_hook):
    daemon = hook_daemons()
    # Start at the other level: dial tone when the burst ends on hook, idle
    # when it ends off hook.
    start_off_hook = not ends_off_hook
    if start_off_hook:
        slic.hook(True)
        wait_status(daemon, "dialtone", 5, "line 1 in dialtone")
    else:
        assert line_status(daemon) == "idle"
    pull = sim_pull(slic)
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        # 41 changes, 5 ms apart: the kernel keeps the first 16, the last of
        # which says the handset is back where it started.
        level = start_off_hook
        moment = time.monotonic()
        for _ in range(41):
            level = not level
            pull.write_text("pull-up" if level else "pull-down")
            moment += 0.005
            time.sleep(max(0.0, moment - time.monotonic()))
        assert level == ends_off_hook
        assert slic.value(slic.box.hook_offset) == (1 if ends_off_hook else 0)
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    expected = "dialtone" if ends_off_hook else "idle"
    # Debounce, plus the hang-up time when it ends on hook, plus slack.
    wait_status(daemon, expected, US_HANG_UP_MS / 1000.0 + 3,
                f"line 1 to follow the pin ({'off' if ends_off_hook else 'on'} hook) after the stall")
    # And it stays there.
    for _ in range(5):
        assert line_status(daemon) == expected
    assert "an edge was lost" in daemon.log() or "following the level" in daemon.log()
