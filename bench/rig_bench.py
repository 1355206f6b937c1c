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

The loopback card's other end is played and recorded for the whole
round whichever cases run; only in the gpio case does atad hold the card's
first end.

Both cases run at the same time, so that the host's load (qemu's one
vCPU is emulated on a shared machine) weighs on both alike; `--apart`
runs them one after the other. For each case: CPU, context switches and
memory of the measured atad over a stretch on hook and a stretch of the
call, its `status` before and after each stretch (xruns, RTP packets).
All of it is done `--rounds` times with fresh daemons, since the phase of
a daemon's timers against the far end's packets changes its wake-ups
from one start to the next. The figures go to stdout as one line,
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


def stretches(controls, seconds):
    """{kind: figures} over the same `seconds` of what each daemon is doing
    now (a fixed measuring interval, not a wait): CPU seconds, context
    switches, memory, and the differences of their `status`."""
    status_before = {kind: control.status() for kind, control in controls.items()}
    before = {kind: reading(control.daemon.pid) for kind, control in controls.items()}
    time.sleep(seconds)
    after = {kind: reading(control.daemon.pid) for kind, control in controls.items()}
    status_after = {kind: control.status() for kind, control in controls.items()}
    results = {}
    for kind in controls:
        b, a = before[kind], after[kind]
        result = {"wall_s": a["at"] - b["at"], "cpu_s": a["cpu_s"] - b["cpu_s"],
                  "switches": a["switches"] - b["switches"], "rss_kib": a["rss_kib"], "hwm_kib": a["hwm_kib"]}
        media_before = parsing.atad_call_media(status_before[kind]).get(1)
        media_after = parsing.atad_call_media(status_after[kind]).get(1)
        if media_before and media_after:
            for key in ("sent", "received", "concealed"):
                result[key] = media_after[key] - media_before[key]
        audio_before = parsing.atad_line_audio(status_before[kind]).get(1)
        audio_after = parsing.atad_line_audio(status_after[kind]).get(1)
        if audio_before and audio_after:
            result["xruns_playback"] = audio_after["playback_xruns"] - audio_before["playback_xruns"]
            result["xruns_capture"] = audio_after["capture_xruns"] - audio_before["capture_xruns"]
            result["audio_since_start"] = audio_after
        results[kind] = result
    return results


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
    started.append((name, daemon, sockets))
    daemon.wait_ready(timeout=START_S)
    return daemon


def sip_port(control):
    for line in control.status():
        if line.startswith("sip: 127.0.0.1:") and line.endswith("/udp"):
            return int(line[len("sip: 127.0.0.1:"):-len("/udp")])
    raise AssertionError("no SIP port in status")


class Case:
    """One measured atad (`gpio` on Board/box.conf, or `sim` on a one-line
    simulated board) and the far end that calls it."""

    def __init__(self, kind, slic, workdir, started):
        self.kind = kind
        self.slic = slic
        self.workdir = workdir
        self.started = started
        self.control = self.far = None

    def start(self):
        if self.kind == "gpio":
            board = rig.BOX_BOARD
        else:
            board = self.workdir / "sim-one-line.conf"
            board.write_text("[board]\nname = Simulated board, one line\ndriver = sim\n\n[line 1]\n")
        daemon = start_daemon(self.workdir, self.kind, board, MEASURED_ACCOUNT, self.started)
        self.control = Control(daemon)
        if self.kind == "gpio":
            scenarios.wait_until(lambda: "audio on" in daemon.log(), START_S, "atad to open the card")

    def lift(self, off_hook):
        if self.kind == "gpio":
            self.slic.hook(off_hook)
        else:
            self.control.request("hook", 1, "off" if off_hook else "on")

    def call(self, talker):
        """The far end calls; the handset answers; both tones start (the
        handset's through `talker`, the card's other end, on the gpio
        board)."""
        far = start_daemon(self.workdir, f"{self.kind}-far", scenarios.SIM_BOARD, (
            f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{sip_port(self.control)}\nregister = no\n"
            "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"), self.started)
        self.far = Control(far)
        self.far.request("hook", 1, "off")
        self.far.request("dtmf", 1, "2000")
        scenarios.wait_until(lambda: self.control.line_state() == "ringing", STEP_S, f"{self.kind}: the line to ring")
        self.lift(True)
        scenarios.wait_until(lambda: self.control.line_state() == "talking", STEP_S, f"{self.kind}: the line talking")
        scenarios.wait_until(lambda: self.far.line_state() == "talking", STEP_S, f"{self.kind}: the far end talking")
        self.far.request("say", 1, "tone", *EARPIECE_TONE)
        if self.kind == "gpio":
            frequency, level = MOUTHPIECE_TONE
            talker.tone(sine_pair((frequency,), level, 1000 * talker.period // talker.rate))
        else:
            self.control.request("say", 1, "tone", *MOUTHPIECE_TONE)

    def check(self, recorder):
        """What each end heard at the end of the call: (earpiece, far end)."""
        if self.kind == "gpio":
            with recorder._lock:
                samples = recorder.samples[-rig.RATE // 2:]
            earpiece = [round(x, 1) for x in component(samples, EARPIECE_TONE[0])]
        else:
            earpiece = heard(self.control, EARPIECE_TONE[0])
        return earpiece, heard(self.far, MOUTHPIECE_TONE[0])

    def hang_up(self):
        self.lift(False)
        scenarios.wait_until(lambda: self.control.line_state() == "idle", STEP_S, f"{self.kind}: the line idle again")


def run_cases(kinds, box, slic, workdir, idle_s, call_s):
    """The cases in `kinds` at the same time: started, measured on hook
    over one stretch, called, measured in the call over one stretch, hung
    up. Every process started is stopped by pid at the end."""
    started = []
    talker = recorder = None
    try:
        cases = {kind: Case(kind, slic, workdir, started) for kind in kinds}
        if "gpio" in cases:
            cases["gpio"].start()  # the card's other end opens after atad's end, as in the rig tests
        # The card's other end runs in every case: the same load on the VM.
        talker = ToneTalker(box.mouthpiece, box.period_frames).start()
        recorder = Recorder(box.earpiece, period=box.period_frames).start()
        scenarios.wait_until(lambda: recorder.frames() >= rig.RATE // 2, STEP_S, "the card's other end to run")
        for case in cases.values():
            if case.control is None:
                case.start()
        time.sleep(SETTLE_S)  # start-up's own work is not in the stretch on hook
        log(f"{'+'.join(kinds)}: on hook, {idle_s:g} s")
        idle = stretches({kind: case.control for kind, case in cases.items()}, idle_s)
        for case in cases.values():
            case.call(talker)
        time.sleep(SETTLE_S)  # the calls' set-up is not in the stretch in the call
        log(f"{'+'.join(kinds)}: in the call, {call_s:g} s")
        call = stretches({kind: case.control for kind, case in cases.items()}, call_s)
        results = {}
        for kind, case in cases.items():
            earpiece, far_end = case.check(recorder)
            results[kind] = {"idle": idle[kind], "call": call[kind], "earpiece_heard": earpiece,
                             "far_end_heard": far_end}
        for case in cases.values():
            case.hang_up()
        return results
    finally:
        for part in (talker, recorder):
            if part is not None:
                part.stop()
        saved = os.environ.get("RIG_RESULTS")
        for name, daemon, sockets in started:
            daemon.stop()
            shutil.rmtree(sockets, ignore_errors=True)
            if saved and daemon.log_path.exists():
                shutil.copy(daemon.log_path, Path(saved) / f"bench-{name}.log")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--call-seconds", type=float, default=20.0)
    parser.add_argument("--cases", default="gpio,sim", help="comma-separated")
    parser.add_argument("--apart", action="store_true",
                        help="one case after the other instead of both at once")
    parser.add_argument("--rounds", type=int, default=3, help="fresh daemons and calls this many times")
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
               "together": not args.apart, "rounds": []}
    status = 0
    try:
        kinds = args.cases.split(",")
        for number in range(args.rounds):
            log(f"round {number + 1} of {args.rounds}")
            cases = {}
            for group in ([[kind] for kind in kinds] if args.apart else [kinds]):
                cases.update(run_cases(group, box, slic, workdir, args.idle_seconds, args.call_seconds))
            results["rounds"].append(cases)
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
