#!/usr/bin/env python3
"""The gpio path against the simulated board, side by side in one run of
the rig's VM (Tests/Rig: a real kernel under qemu with gpio-sim and
snd-aloop). Started by `bench/run_bench.py --only gpio` through
Tests/Rig/run.py; outside the rig it refuses to run.

Each case is the same atad binary with one line, called by a second atad
on the simulated board in the same VM (on 127.0.0.1, no registrar, as
Tests/Rig/test_call.py calls the box):

- gpio: Board/box.conf (libgpiod on gpio-sim, ALSA hw on snd-aloop); the
  handset is lifted by pulling SHK, the mouthpiece is a tone played into
  the card's other end and the earpiece is recorded there;
- sim: a one-line simulated board; the handset is lifted and the
  mouthpiece fed through the control socket.

In both cases the loopback card's other end is played and recorded for the
whole case, so the VM carries the same load; only in the gpio case does
atad hold the card's first end.

For each case: CPU, context switches and memory of the measured atad over
a stretch on hook and a stretch of the call, its `status` before and after
each stretch (xruns, RTP packets). The figures go to stdout as one line,
`RIG-BENCH {json}`, which run_bench.py picks out of the console.
"""

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import parsing  # noqa: E402

# The rig tests' helpers (Box, SimulatedSLIC, the scenario suite's Daemon
# and wait_until), loaded under a name of their own: bench/harness.py
# imports the scenario suite's conftest as `conftest`.
_spec = importlib.util.spec_from_file_location("rig_conftest", REPO / "Tests" / "Rig" / "conftest.py")
rig = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rig)
scenarios = rig.scenarios

from alsa import Recorder, Talker, silence, sine_pair  # noqa: E402  (Tests/Rig, put on the path by its conftest)
from tone import component  # noqa: E402

MARKER = "RIG-BENCH "
# The measured line's account: no registrar, the far end dials its port.
MEASURED_ACCOUNT = "[account direct]\nuser = 2000\ndomain = 127.0.0.1\nregister = no\n[line 1]\naccount = direct\n"
EARPIECE_TONE = (1000, -10)  # what the far end says: Hz, dBm0
MOUTHPIECE_TONE = (700, -12)  # what the handset says
# Under the emulated CPU a process start is slow (the binary and its
# libraries come over 9p): generous bounds, not expected durations.
START_S = 30
STEP_S = 15
HEAR_S = 5.0
SETTLE_S = 2.0  # after start-up or answering, before a stretch is measured


def log(text):
    print(f"rig-bench: {text}", flush=True)


class ToneTalker(Talker):
    """The mouthpiece's other end: silence until `tone()` is set, then that
    one period again and again (a frequency with a whole number of cycles
    in a period), so nothing grows or shifts while the call runs."""

    def __init__(self, device, period):
        super().__init__(device, period=period)
        self.chunk = None

    def tone(self, chunk):
        assert len(chunk) == self.period
        self.chunk = chunk

    def _run(self):
        quiet = silence(1000 * self.period // self.rate, self.rate)
        while not self._stop.is_set():
            self.pcm.write(self.chunk if self.chunk is not None else quiet)


class Control:
    """Requests to a daemon over its control socket from Python (an
    `atad ctl` process per request is costly under the emulated CPU)."""

    def __init__(self, daemon):
        self.daemon = daemon

    def request(self, *words):
        connection = scenarios.ControlConnection(self.daemon.socket, timeout=10.0)
        try:
            assert connection.send((" ".join(str(w) for w in words) + "\n").encode()), "control socket closed"
            reply = connection.reply()
        finally:
            connection.close()
        assert reply and reply[0].startswith("ok"), f"{' '.join(map(str, words))}: {reply}"
        return reply[1:]

    def status(self):
        return self.request("status")

    def line_state(self):
        return parsing.atad_line_states(self.status()).get(1)


def reading(pid):
    """What one moment of a process looks like in /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {"at": time.monotonic(),
            "cpu_s": parsing.proc_stat_cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / os.sysconf("SC_CLK_TCK"),
            "switches": parsing.proc_context_switches(status),
            "rss_kib": parsing.proc_status_kib(status, "VmRSS"),
            "hwm_kib": parsing.proc_status_kib(status, "VmHWM")}


def stretch(control, seconds):
    """CPU seconds, context switches and `status` over `seconds` of what
    the daemon is doing now (a fixed measuring interval, not a wait)."""
    pid = control.daemon.pid
    status_before = control.status()
    before = reading(pid)
    time.sleep(seconds)
    after = reading(pid)
    status_after = control.status()
    wall = after["at"] - before["at"]
    media_before = parsing.atad_call_media(status_before).get(1)
    media_after = parsing.atad_call_media(status_after).get(1)
    audio_before = parsing.atad_line_audio(status_before).get(1)
    audio_after = parsing.atad_line_audio(status_after).get(1)
    result = {"wall_s": wall, "cpu_s": after["cpu_s"] - before["cpu_s"],
              "switches": after["switches"] - before["switches"],
              "rss_kib": after["rss_kib"], "hwm_kib": after["hwm_kib"]}
    if media_before and media_after:
        result["sent"] = media_after["sent"] - media_before["sent"]
        result["received"] = media_after["received"] - media_before["received"]
        result["concealed"] = media_after["concealed"] - media_before["concealed"]
    if audio_before and audio_after:
        result["xruns_playback"] = audio_after["playback_xruns"] - audio_before["playback_xruns"]
        result["xruns_capture"] = audio_after["capture_xruns"] - audio_before["capture_xruns"]
        result["audio_since_start"] = audio_after
    return result


def heard(control, frequency):
    """What a daemon's (simulated) earpiece hears, from `hear 1`: polled
    for a few seconds until it is the `frequency` expected (the emulated
    CPU can stall a loop for a moment), then the last reading."""
    readings = []

    def expected():
        readings.append(parsing.atad_heard(control.request("hear", 1)))
        return readings[-1] is not None and any(abs(f - frequency) <= 10 for f in readings[-1][0])
    try:
        scenarios.wait_until(expected, HEAR_S, f"{frequency} Hz", interval=0.25)
    except AssertionError:
        log(f"expected {frequency} Hz, heard {readings}")
    return readings[-1]


def start_daemon(workdir, name, board, extra, started):
    sockets = Path(tempfile.mkdtemp(prefix=f"atad-{name}-", dir="/tmp"))
    site = scenarios.write_site(workdir / f"{name}.conf", sockets / "control.sock", board=board, extra=extra)
    daemon = scenarios.Daemon(site, sockets / "control.sock", workdir).launch()
    started.append((daemon, sockets))
    daemon.wait_ready(timeout=START_S)
    return daemon


def run_case(kind, box, slic, workdir, idle_s, call_s):
    """One case, every process it started stopped by pid at the end."""
    started = []
    talker = recorder = None
    try:
        if kind == "gpio":
            board = rig.BOX_BOARD
        else:
            board = workdir / "sim-one-line.conf"
            board.write_text("[board]\nname = Simulated board, one line\ndriver = sim\n\n[line 1]\n")
        measured = start_daemon(workdir, kind, board, MEASURED_ACCOUNT, started)
        control = Control(measured)
        if kind == "gpio":
            scenarios.wait_until(lambda: "audio on" in measured.log(), START_S, "atad to open the card")
        # The card's other end, in both cases (same load on the VM).
        talker = ToneTalker(box.mouthpiece, box.period_frames).start()
        recorder = Recorder(box.earpiece, period=box.period_frames).start()
        scenarios.wait_until(lambda: recorder.frames() >= rig.RATE // 2, STEP_S, "the card's other end to run")
        time.sleep(SETTLE_S)  # start-up's own work is not in the idle stretch
        log(f"{kind}: idle on hook, {idle_s:.0f} s")
        idle = stretch(control, idle_s)

        far = start_daemon(workdir, f"{kind}-far", scenarios.SIM_BOARD, (
            f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{sip_port(control)}\nregister = no\n"
            "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"), started)
        far_control = Control(far)
        far_control.request("hook", 1, "off")
        far_control.request("dtmf", 1, "2000")
        scenarios.wait_until(lambda: control.line_state() == "ringing", STEP_S, "the measured line to ring")
        if kind == "gpio":
            slic.hook(True)
        else:
            control.request("hook", 1, "off")
        scenarios.wait_until(lambda: control.line_state() == "talking", STEP_S, "the measured line talking")
        scenarios.wait_until(lambda: far_control.line_state() == "talking", STEP_S, "the far end talking")
        far_control.request("say", 1, "tone", *EARPIECE_TONE)
        if kind == "gpio":
            frequency, level = MOUTHPIECE_TONE
            talker.tone(sine_pair((frequency,), level, box.period_ms))
        else:
            control.request("say", 1, "tone", *MOUTHPIECE_TONE)
        time.sleep(SETTLE_S)  # the call's set-up is not in the call stretch
        log(f"{kind}: in the call, {call_s:.0f} s")
        call = stretch(control, call_s)

        # Both ways, as a check that the call carried audio.
        if kind == "gpio":
            with recorder._lock:
                samples = recorder.samples[-rig.RATE // 2:]
            earpiece = [round(x, 1) for x in component(samples, EARPIECE_TONE[0])]
        else:
            earpiece = heard(control, EARPIECE_TONE[0])
        far_heard = heard(far_control, MOUTHPIECE_TONE[0])
        if kind == "gpio":
            slic.hook(False)
        else:
            control.request("hook", 1, "on")
        scenarios.wait_until(lambda: control.line_state() == "idle", STEP_S, "the measured line idle again")
        return {"idle": idle, "call": call, "earpiece_heard": earpiece, "far_end_heard": far_heard,
                "status_lines": [line for line in control.status() if line.startswith("line 1")]}
    finally:
        for part in (talker, recorder):
            if part is not None:
                part.stop()
        results = os.environ.get("RIG_RESULTS")
        for index, (daemon, sockets) in enumerate(started):
            daemon.stop()
            shutil.rmtree(sockets, ignore_errors=True)
            if results and daemon.log_path.exists():
                shutil.copy(daemon.log_path, Path(results) / f"bench-{kind}-{index}.log")


def sip_port(control):
    for line in control.status():
        if line.startswith("sip: 127.0.0.1:") and line.endswith("/udp"):
            return int(line[len("sip: 127.0.0.1:"):-len("/udp")])
    raise AssertionError("no SIP port in status")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--call-seconds", type=float, default=20.0)
    parser.add_argument("--cases", default="gpio,sim", help="comma-separated, in this order")
    args = parser.parse_args()
    if not rig.IN_RIG:
        print("rig-bench: runs inside the rig's VM (bench/run_bench.py --only gpio starts it)", file=sys.stderr)
        return 2
    box = rig.Box()
    slic = rig.SimulatedSLIC(os.environ["RIG_GPIO_CONFIGFS"], box)
    slic.hook(False)
    workdir = Path(tempfile.mkdtemp(prefix="rig-bench-", dir="/tmp"))
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    results = {"kernel": os.uname().release, "cpu": cpu, "cpus": os.cpu_count(),
               "idle_seconds": args.idle_seconds, "call_seconds": args.call_seconds, "settle_seconds": SETTLE_S,
               "cases": {}}
    status = 0
    try:
        for kind in args.cases.split(","):
            results["cases"][kind] = run_case(kind, box, slic, workdir, args.idle_seconds, args.call_seconds)
    except BaseException as error:  # reported in the results, and by the exit status
        traceback.print_exc()
        results["error"] = f"{type(error).__name__}: {error}"[:2000]
        status = 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(MARKER + json.dumps(results, separators=(",", ":")), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
