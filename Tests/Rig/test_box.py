"""Board in a box: atad's `gpio` driver on a real kernel's gpio-sim lines and
snd-aloop card (Board/box.conf), driven from the SLIC's side: the hook
switch pulled through sysfs, the earpiece recorded and the mouthpiece fed on
the loopback's other end. Runs inside the rig's VM (`make rig-test`)."""

import time

from alsa import ZERO_DBM0_PEAK, sine_pair, silence
from conftest import RATE, board_variant, cpu_seconds, line_status, scenarios, start_recording
from tone import component, first_loud, peak

# The United States dial tone (Sources/CountryPresets/PresetTable.swift):
# 350 + 440 Hz, continuous, -13 dBm0 each.
DIAL_TONE_HZ = (350.0, 440.0)
DIAL_TONE_DBM0 = -13.0
DIAL_TONE_PEAK = ZERO_DBM0_PEAK * 10 ** (DIAL_TONE_DBM0 / 20)
# What the handset must hear within this long of the hook switch's edge:
# the debounce, the loop and the card's buffers all count.
DIAL_TONE_WITHIN_S = 0.100
SILENT = 64
# An idle atad wakes every 10 ms for the card; a spinning one takes the CPU.
IDLE_CPU_SHARE = 0.5


def profile(samples):
    return " ".join(str(peak(samples[i:i + RATE // 10])) for i in range(0, len(samples), RATE // 10))


def wait_recorded(recorder, until, what):
    """Waits for the recording to reach the monotonic time `until`."""
    scenarios.wait_until(lambda: recorder.frames() > recorder.index_at(until), 10 + until - time.monotonic(),
                         f"the earpiece recording to reach {what}")


def check_dial_tone(samples, start):
    """The dial tone's frequencies (within 1 %) and levels (within 2 dB),
    over 0.8 s from sample `start`."""
    window = samples[start:start + RATE * 8 // 10]
    assert len(window) == RATE * 8 // 10, f"only {len(window)} samples of dial tone recorded"
    for nominal in DIAL_TONE_HZ:
        frequency, level = component(window, nominal)
        print(f"dial tone component {nominal:.0f} Hz: {frequency:.2f} Hz at {level:.2f} dBm0")
        assert abs(frequency - nominal) <= nominal * 0.01, f"{nominal} Hz component at {frequency:.2f} Hz"
        assert abs(level - DIAL_TONE_DBM0) <= 2.0, f"{nominal} Hz component at {level:.2f} dBm0"


def off_hook_hears_dial_tone(daemon, slic, earpiece):
    """Lifts the handset; the dial tone must start within 100 ms of the
    edge, at the preset's frequencies and level."""
    edge = slic.hook(True)
    scenarios.wait_until(lambda: line_status(daemon) == "dialtone", 5, "line 1 in dialtone")
    wait_recorded(earpiece, edge + 1.2, "1.2 s after off hook")
    samples = earpiece.samples
    at_edge = earpiece.index_at(edge)
    before = peak(samples[max(0, at_edge - RATE // 4):at_edge])
    assert before < SILENT, f"the earpiece was not silent before off hook (peak {before})"
    onset = first_loud(samples, at_edge, DIAL_TONE_PEAK / 4)
    assert onset is not None, (f"no dial tone within 1.2 s of off hook; {len(samples)} samples, edge at "
                               f"{at_edge}; peaks every 100 ms: {profile(samples)}")
    latency = (onset - at_edge) / RATE
    print(f"dial tone {latency * 1000:.1f} ms after the hook edge")
    assert latency <= DIAL_TONE_WITHIN_S, f"dial tone came {latency * 1000:.0f} ms after the hook edge"
    check_dial_tone(samples, onset + RATE // 20)


def hang_up(daemon, slic):
    """On hook: a break longer than a flash (up to 1.1 s in the US) is a
    hang-up, and the line goes idle. Returns when it did."""
    slic.hook(False)
    scenarios.wait_until(lambda: line_status(daemon) == "idle", 5, "line 1 idle after on hook")
    return time.monotonic()


def test_off_hook_gives_dial_tone_then_on_hook_silence(box_daemon, slic, earpiece):
    assert line_status(box_daemon) == "idle"
    off_hook_hears_dial_tone(box_daemon, slic, earpiece)
    # The tone goes on through a possible flash, then stops.
    idle = hang_up(box_daemon, slic)
    wait_recorded(earpiece, idle + 0.4, "0.4 s after the line went idle")
    after = earpiece.samples[earpiece.index_at(idle + 0.1):earpiece.index_at(idle + 0.4)]
    assert peak(after) < SILENT, f"the earpiece still had sound 100 ms after the line went idle (peak {peak(after)})"


def test_a_handset_off_hook_when_atad_starts_gets_dial_tone(box, box_daemons, slic):
    slic.hook(True)
    daemon = box_daemons()
    scenarios.wait_until(lambda: line_status(daemon) == "dialtone", 5, "line 1 in dialtone at start")
    recorder = start_recording(box)
    try:
        wait_recorded(recorder, time.monotonic() + 0.9, "0.9 s of dial tone")
    finally:
        samples = recorder.stop()
    check_dial_tone(samples, len(samples) - RATE * 8 // 10)
    hang_up(daemon, slic)


def test_an_active_low_hook_switch_with_a_pull_up_bias(tmp_path, box_daemons, slic):
    # The bias reaches the kernel with the request: the pull-up makes the
    # idle line read high, which active-low turns into on hook; the SLIC
    # pulling it low is off hook.
    board = board_variant(tmp_path / "active-low.conf", hook_active_low="yes", hook_bias="pull-up")
    daemon = box_daemons(board)
    assert slic.value(slic.box.hook_offset) == 1, "the pull-up bias did not reach the line"
    assert line_status(daemon) == "idle"
    slic.hook(False)  # driven low
    scenarios.wait_until(lambda: line_status(daemon) == "dialtone", 5, "line 1 in dialtone")
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(daemon) == "idle", 5, "line 1 idle after on hook")


def test_dtmf_into_the_mouthpiece_dials(box_daemon, slic, mouthpiece):
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    digits = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477)}
    for digit in "159":
        mouthpiece.say(sine_pair(digits[digit], -10, 100))
        mouthpiece.say(silence(100))
    scenarios.wait_until(lambda: line_status(box_daemon).startswith("dialing digits 159"), 10,
                         "status to show the digits 159")
    hang_up(box_daemon, slic)


def test_rotary_pulses_on_the_hook_switch_dial(box_daemon, slic):
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    # Timed by the kernel's edge timestamps, so the loop's latency under an
    # emulated CPU does not matter; a dial pauses ~0.6 s between digits.
    slic.dial_pulses(3)
    time.sleep(0.6)
    slic.dial_pulses(2)
    scenarios.wait_until(lambda: line_status(box_daemon).startswith("dialing digits 32"), 5,
                         "status to show the digits 32")
    hang_up(box_daemon, slic)


def test_ringing_drives_ring_mode_and_forward_reverse(box_daemon, slic):
    assert (slic.ring_mode, slic.forward_reverse) == (0, 1), "idle: RM off, F/R forward"
    result = box_daemon.ctl("ring", "1")
    assert result.returncode == 0, result
    scenarios.wait_until(lambda: slic.ring_mode == 1, 5, "RM on")
    # F/R toggles at the ring frequency (20 Hz in the US: every 25 ms) in a burst.
    seen = set()
    scenarios.wait_until(lambda: seen.add(slic.forward_reverse) or seen == {0, 1}, 2, "F/R to toggle")
    result = box_daemon.ctl("ring", "1", "stop")
    assert result.returncode == 0, result
    scenarios.wait_until(lambda: (slic.ring_mode, slic.forward_reverse) == (0, 1), 5, "RM off, F/R forward")


def test_an_unplugged_card_is_let_go_and_taken_back(box, box_daemon, slic, card):
    # Unbinding waits for every program to close the card: atad must notice
    # and let go (not spin on the dead descriptors), while the hook works on.
    if not card.unplug(timeout=10):
        log = box_daemon.log()
        box_daemon.stop()  # so the kernel can finish, and the card come back for the next tests
        card.unplugged(timeout=10)
        raise AssertionError(f"atad kept the unplugged card open; log:\n{log[:3000]}")
    before = cpu_seconds(box_daemon.pid)
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone without audio")
    time.sleep(1.0)  # measures the CPU time of an idle stretch; nothing to wait for
    share = cpu_seconds(box_daemon.pid) - before
    assert share < IDLE_CPU_SHARE, f"atad used {share:.2f} s of CPU in about 1 s without its card"
    hang_up(box_daemon, slic)

    card.plug()
    # atad retries every 5 s.
    scenarios.wait_until(lambda: box_daemon.log().count("audio on") == 2, 15,
                         f"atad to take the card back; log:\n{box_daemon.log()}")
    failures = [line for line in box_daemon.log().splitlines() if "error: line 1: audio" in line]
    assert 1 <= len(failures) <= 2, "a lost card is logged once, not at every retry:\n" + "\n".join(failures)
    recorder = start_recording(box)
    try:
        off_hook_hears_dial_tone(box_daemon, slic, recorder)
    finally:
        recorder.stop()
    hang_up(box_daemon, slic)


def test_a_vanished_gpio_chip_is_reported_once_without_spinning(box_daemon, slic):
    before = cpu_seconds(box_daemon.pid)
    slic.set_live(False)
    try:
        scenarios.wait_until(lambda: "the hook switch is gone" in box_daemon.log(), 5,
                             f"atad to report the lost hook switch; log:\n{box_daemon.log()[:2000]}")
        time.sleep(1.0)  # measures the CPU time of an idle stretch; nothing to wait for
        share = cpu_seconds(box_daemon.pid) - before
        assert share < IDLE_CPU_SHARE, f"atad used {share:.2f} s of CPU in about 1 s without its GPIO chip"
        errors = [line for line in box_daemon.log().splitlines() if "error:" in line]
        assert len(errors) == 1, "\n".join(errors[:10])
        assert line_status(box_daemon) == "idle"
    finally:
        # Its lines die with atad; then the chip comes back for later tests.
        box_daemon.stop()
        slic.set_live(True)
