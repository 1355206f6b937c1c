"""Board in a box: atad's `gpio` driver on a real kernel's gpio-sim lines and
snd-aloop card (Board/box.conf), driven from the SLIC's side: the hook
switch pulled through sysfs, the earpiece recorded and the mouthpiece fed on
the loopback's other end. Runs inside the rig's VM (`make rig-test`)."""

import time

from alsa import ZERO_DBM0_PEAK, sine_pair, silence
from conftest import RATE, line_status, scenarios
from tone import component, first_loud, peak

# The United States dial tone (Sources/CountryPresets/PresetTable.swift):
# 350 + 440 Hz, continuous, -13 dBm0 each.
DIAL_TONE_HZ = (350.0, 440.0)
DIAL_TONE_DBM0 = -13.0
# What the handset must hear within this long of the hook switch's edge:
# the debounce, the loop and the card's buffers all count.
DIAL_TONE_WITHIN_S = 0.100
SILENT = 64


def profile(samples):
    return " ".join(str(peak(samples[i:i + RATE // 10])) for i in range(0, len(samples), RATE // 10))


def wait_recorded(recorder, until, what):
    """Waits for the recording to reach the monotonic time `until`."""
    scenarios.wait_until(lambda: recorder.frames() > recorder.index_at(until), 10 + until - time.monotonic(),
                         f"the earpiece recording to reach {what}")


def test_off_hook_gives_dial_tone_then_on_hook_silence(box_daemon, slic, earpiece):
    assert line_status(box_daemon) == "idle"
    edge = slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    wait_recorded(earpiece, edge + 1.2, "1.2 s after off hook")

    samples = earpiece.samples
    at_edge = earpiece.index_at(edge)
    before = peak(samples[max(0, at_edge - RATE // 4):at_edge])
    assert before < SILENT, f"the earpiece was not silent before off hook (peak {before})"
    tone_peak = ZERO_DBM0_PEAK * 10 ** (DIAL_TONE_DBM0 / 20)
    onset = first_loud(samples, at_edge, tone_peak / 4)
    assert onset is not None, (f"no dial tone within 1.2 s of off hook; {len(samples)} samples, edge at "
                               f"{at_edge}; peaks every 100 ms: {profile(samples)}")
    latency = (onset - at_edge) / RATE
    print(f"dial tone {latency * 1000:.1f} ms after the hook edge")
    assert latency <= DIAL_TONE_WITHIN_S, f"dial tone came {latency * 1000:.0f} ms after the hook edge"

    # One second of it, from 50 ms after its start.
    start = onset + RATE // 20
    window = samples[start:start + RATE * 8 // 10]
    for nominal in DIAL_TONE_HZ:
        frequency, level = component(window, nominal)
        print(f"dial tone component {nominal:.0f} Hz: {frequency:.2f} Hz at {level:.2f} dBm0")
        assert abs(frequency - nominal) <= nominal * 0.01, f"{nominal} Hz component at {frequency:.2f} Hz"
        assert abs(level - DIAL_TONE_DBM0) <= 2.0, f"{nominal} Hz component at {level:.2f} dBm0"

    # On hook: a break longer than a flash (up to 1.1 s in the US) is a
    # hang-up; the tone goes on until then, then the line is idle and silent.
    slic.hook(False)
    scenarios.wait_until(lambda: line_status(box_daemon) == "idle", 5, "line 1 idle after on hook")
    idle = time.monotonic()
    wait_recorded(earpiece, idle + 0.4, "0.4 s after the line went idle")
    after = earpiece.samples[earpiece.index_at(idle + 0.1):earpiece.index_at(idle + 0.4)]
    assert peak(after) < SILENT, f"the earpiece still had sound 100 ms after the line went idle (peak {peak(after)})"


def test_dtmf_into_the_mouthpiece_dials(box_daemon, slic, mouthpiece):
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    digits = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477)}
    for digit in "159":
        mouthpiece.say(sine_pair(digits[digit], -10, 100))
        mouthpiece.say(silence(100))
    scenarios.wait_until(lambda: line_status(box_daemon).startswith("dialing digits 159"), 10,
                         "status to show the digits 159")
    slic.hook(False)
    scenarios.wait_until(lambda: line_status(box_daemon) == "idle", 5, "line 1 idle after on hook")


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
