"""Board in a box: the ringer outputs and the audio streams under faults.
The ring cadence and frequency as the SLIC would see them on RM and F/R, a
daemon killed in a ring burst, and an audio stall that makes atad's own
streams run over and under. Runs inside the rig's VM (`make rig-test`)."""

import re
import signal
import statistics
import threading
import time

from conftest import RATE, RingerSampler, line_status, ring_mode_edges, scenarios, segments, toggles_in
from test_box import DIAL_TONE_PEAK, SILENT, check_dial_tone, hang_up, wait_recorded
from tone import peak

# The United States ring (Sources/CountryPresets/PresetTable.swift): 20 Hz,
# 2 s on, 4 s off.
RING_HZ = 20.0
BURST_S, PAUSE_S = 2.0, 4.0
# atad's timers under an emulated CPU, and a sampler that wakes about once a
# millisecond, both run late now and then.
CADENCE_TOLERANCE_S = 0.1
RING_HZ_TOLERANCE = 1.0
# How long atad may take to play again once it runs after a stall (it has
# to notice the xruns and prepare both streams again), under TCG.
RESUME_WITHIN_S = 0.25


def test_ringing_raises_ring_mode_only_in_bursts_at_the_preset_cadence(box_daemon, slic):
    assert (slic.ring_mode, slic.forward_reverse) == (0, 1), "idle: RM off, F/R forward"
    sampler = RingerSampler(slic)
    assert sampler.read() == (slic.ring_mode, slic.forward_reverse), "re-reading the value files"
    replies = []
    # The command goes from a thread, so the sampler sees the first burst start.
    command = threading.Thread(target=lambda: replies.append(box_daemon.ctl("ring", "1")))
    try:
        command.start()
        # Two whole cycles: rise, fall, rise, fall, then the third burst's rise.
        changes = sampler.run(lambda changes: len(ring_mode_edges(changes)) >= 5,
                              timeout=3 * (BURST_S + PAUSE_S) + 5)
    finally:
        command.join()
        sampler.close()
    assert replies and replies[0].returncode == 0, replies
    print(f"{sampler.samples} samples, longest gap {sampler.longest_gap * 1000:.1f} ms, {len(changes)} changes")
    result = box_daemon.ctl("ring", "1", "stop")
    assert result.returncode == 0, result
    scenarios.wait_until(lambda: (slic.ring_mode, slic.forward_reverse) == (0, 1), 5, "RM off, F/R forward")

    for at, rm, fr in changes:
        if rm == 0:
            assert fr == 1, f"F/R reversed at {at:.3f} while RM was low: a pause must rest at the idle polarity"
    for at, rm in ring_mode_edges(changes):
        if rm == 1:
            sample = next(change for change in changes if change[0] == at)
            assert sample[2] == 1, f"F/R had moved already when RM rose at {at:.3f}"

    parts = segments(changes)
    assert [rm for _, _, rm in parts] == [1, 0, 1, 0], parts
    for start, end, rm in parts:
        length = end - start
        expected = BURST_S if rm else PAUSE_S
        print(f"{'burst' if rm else 'pause'} {length * 1000:.0f} ms")
        assert abs(length - expected) <= CADENCE_TOLERANCE_S, \
            f"{'burst' if rm else 'pause'} of {length * 1000:.0f} ms, expected {expected * 1000:.0f} ms"
        if not rm:
            continue
        toggles = toggles_in(changes, start, end)
        # 20 Hz toggles every 25 ms from 25 ms into the burst: 79 in 2 s.
        expected_toggles = round(2 * RING_HZ * BURST_S) - 1
        assert len(toggles) >= expected_toggles - 6, \
            f"{len(toggles)} F/R toggles in a burst, expected {expected_toggles}"
        frequency = (len(toggles) - 1) / (2 * (toggles[-1] - toggles[0]))
        half = statistics.median(b - a for a, b in zip(toggles, toggles[1:]))
        first = toggles[0] - start
        print(f"  {len(toggles)} toggles, {frequency:.2f} Hz, median half period {half * 1000:.1f} ms, "
              f"first toggle {first * 1000:.1f} ms after RM rose")
        assert abs(frequency - RING_HZ) <= RING_HZ_TOLERANCE, f"ring at {frequency:.2f} Hz"
        assert abs(half - 0.5 / RING_HZ) <= 0.003, f"median half period {half * 1000:.1f} ms"
        # RM rises with F/R at rest; the first toggle half a period later
        # (the sampler may see RM rise a few milliseconds late).
        assert first >= 0.25 / RING_HZ, f"F/R first toggled {first * 1000:.1f} ms after RM rose"


def test_a_daemon_killed_in_a_burst_leaves_outputs_made_safe(box, box_daemons, slic):
    daemon = box_daemons()
    pulls = [slic._line(offset) / "pull" for offset in (box.ring_mode_offset, box.forward_reverse_offset)]
    try:
        result = daemon.ctl("ring", "1")
        assert result.returncode == 0, result
        scenarios.wait_until(lambda: slic.ring_mode == 1, 5, "RM on (a burst)")
        # gpio-sim returns a released line to its pull, where a Raspberry
        # Pi's pin may keep driving its last level: the pulls stand for pins
        # that hold ring mode and a reversed F/R once atad is gone. They do
        # not move a line atad drives.
        pulls[0].write_text("pull-up")
        pulls[1].write_text("pull-down")
        assert slic.ring_mode == 1, "the kill must come in a burst"
        daemon.signal(signal.SIGKILL)
        daemon.wait_exit()
        assert (slic.ring_mode, slic.forward_reverse) == (1, 0), "pins left in ring mode after the kill"

        # What the unit's ExecStopPost runs. It reads the values back from
        # the kernel while it holds the lines; once it exits gpio-sim hands
        # them back to the pulls, so the pins cannot show its work here.
        result = scenarios.run_atad("safe", "--config", daemon.site, timeout=30)
        assert result.returncode == 0, result
        assert result.out_lines == ["line 1: ring mode off, forward/reverse forward"], result

        # The next start drives them safe before anything else.
        again = box_daemons()
        assert (slic.ring_mode, slic.forward_reverse) == (0, 1), "RM off and F/R forward right after start"
        assert line_status(again) == "idle"
        # And `atad safe` does not fight a running daemon for its lines.
        result = scenarios.run_atad("safe", "--config", again.site, timeout=30)
        assert result.returncode == 1, result
        assert "busy" in result.stderr, result
        assert (slic.ring_mode, slic.forward_reverse) == (0, 1)
    finally:
        for pull in pulls:
            pull.write_text("pull-down")


def audio_counts(daemon):
    """(playback xruns, capture xruns, suspends) from `status`."""
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    for line in result.out_lines:
        if line.startswith("line 1 audio: "):
            match = re.search(r"xruns playback (\d+) capture (\d+), suspends (\d+), late frames dropped (\d+)$", line)
            assert match, line
            return tuple(int(value) for value in match.groups())
    raise AssertionError(f"no 'line 1 audio:' in status: {result}")


def test_a_stalled_daemon_counts_xruns_and_dial_tone_resumes(box_daemon, slic, earpiece):
    slic.hook(True)
    scenarios.wait_until(lambda: line_status(box_daemon) == "dialtone", 5, "line 1 in dialtone")
    wait_recorded(earpiece, time.monotonic() + 0.5, "0.5 s of dial tone")
    before = audio_counts(box_daemon)
    # Usually none: the card opens from the running loop, so a start costs
    # no xrun. Playback keeps only 20 ms in hand, and an emulated CPU
    # sometimes takes longer.
    print(f"before the stall: xruns playback {before[0]} capture {before[1]}, suspends {before[2]}")
    # 200 ms without the loop: the card's 40 ms buffers run dry (playback)
    # and over (capture) while nothing reads or writes them.
    box_daemon.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        time.sleep(0.2)
    finally:
        box_daemon.signal(signal.SIGCONT)
    resumed = time.monotonic()
    scenarios.wait_until(lambda: sum(audio_counts(box_daemon)[:2]) > sum(before[:2]), 5,
                         "status to count the xruns")
    after = audio_counts(box_daemon)
    print(f"xruns playback {before[0]} -> {after[0]}, capture {before[1]} -> {after[1]}; "
          f"stalled {(resumed - stopped) * 1000:.0f} ms")

    wait_recorded(earpiece, resumed + RESUME_WITHIN_S + 1.0, "1 s after the stall")
    samples = earpiece.samples
    block = RATE // 100
    start = earpiece.index_at(stopped - 0.3)
    # The gap: 10 ms blocks without tone, from the first to the last.
    quiet = [index for index in range(start, earpiece.index_at(resumed + RESUME_WITHIN_S + 0.5), block)
             if peak(samples[index:index + block]) < DIAL_TONE_PEAK / 4]
    assert quiet, "no gap in the earpiece around the stall"
    gap_end = quiet[-1] + block
    print(f"earpiece gap from {(quiet[0] - earpiece.index_at(stopped)) * 1000 / RATE:.0f} ms to "
          f"{(gap_end - earpiece.index_at(resumed)) * 1000 / RATE:.0f} ms after SIGSTOP/SIGCONT, "
          f"{len(quiet)} quiet blocks")
    assert gap_end <= earpiece.index_at(resumed + RESUME_WITHIN_S), \
        f"dial tone came back {(gap_end - earpiece.index_at(resumed)) * 1000 / RATE:.0f} ms after SIGCONT"
    check_dial_tone(samples, gap_end + RATE // 20)
    assert peak(samples[gap_end:gap_end + RATE]) > SILENT
    hang_up(box_daemon, slic)
