#!/usr/bin/env python3
"""atad against baresip 1.0 on this machine (issue 7): footprint, memory,
CPU per call, start-up, lines per core, added latency.

Both programs do the same work in the same run: registered to the same
Kamailio on loopback, one G.711 µ-law call with 20 ms packets through it to
a SIPp far end that echoes RTP (`sipp -rtp_echo`), sending the same 440 Hz
tone file. Every figure is measured here; none is typed in.

    python3 bench/run_bench.py --atad .build-firmware/atad --output docs/BENCHMARKS.md

`--quick` shortens every call and run count (for development only; the
document says so).
"""

import argparse
import datetime
import os
import pickle
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import parsing  # noqa: E402
from harness import rtp_peer  # noqa: E402

COMMANDS = []  # (what, command line) of the measured processes, for the document (first of each kind)
FILES = {}  # title -> text of the config files they ran with (first of each kind)


def note_command(what, words):
    line = " ".join(str(w) for w in words)
    if what not in [w for w, _ in COMMANDS]:
        COMMANDS.append((what, line))


def note_file(title, path):
    if title not in FILES:
        FILES[title] = Path(path).read_text()


def log(text):
    print(text, flush=True)


# ---------------------------------------------------------------------------
# The machine


def machine():
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = "unknown"
    versions = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "baresip-core", "kamailio",
                               "sip-tester", "valgrind"], capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "debian": debian,
            "packages": versions.splitlines()}


# ---------------------------------------------------------------------------
# 4. Start-up: process start to registered


def startup_atad(args, peers, workdir, runs):
    times = []
    for run in range(runs):
        atad = harness.Atad(args.atad, workdir / f"startup-atad-{run}", peers)
        note_command("atad, start-up", atad.command_line())
        started = time.monotonic_ns()
        atad.launch()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                reply = atad.poll_status()
                if reply is not None and parsing.atad_registered(reply, "home"):
                    times.append((time.monotonic_ns() - started) / 1e6)
                    break
                if atad.process.poll() is not None:
                    raise AssertionError(f"atad exited:\n{atad.log()}")
                time.sleep(0.001)
        finally:
            atad.stop()
    return times


def startup_baresip(args, peers, workdir, wav, runs):
    times = []
    for run in range(runs):
        phone = harness.Baresip(workdir / f"startup-baresip-{run}", peers, wav)
        # Everything but the process itself is written before the clock starts.
        (phone.config_dir / "config").write_text(phone.config_text())
        (phone.config_dir / "accounts").write_text(phone.account_line() + "\n")
        (phone.config_dir / "contacts").write_text("")
        note_command("baresip, start-up", phone.command_line())
        started = time.monotonic_ns()
        with open(phone.log_path, "wb") as out:
            phone.process = subprocess.Popen(phone.command_line(), stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, cwd=phone.workdir, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if phone.registered_in_log():
                    times.append((time.monotonic_ns() - started) / 1e6)
                    break
                if phone.process.poll() is not None:
                    raise AssertionError(f"baresip exited:\n{phone.log()}")
                time.sleep(0.001)
        finally:
            phone.stop()
    return times


# ---------------------------------------------------------------------------
# 1-3. One call without valgrind: memory, libraries, CPU seconds


def one_call_atad(args, peers, workdir, seconds):
    atad = harness.Atad(args.atad, workdir / "call-atad", peers)
    note_command("atad, one call", atad.command_line())
    note_file("atad site file (site.conf)", atad.site)
    note_file("atad board file (board.conf; N `[line k]` sections for the lines rows)", atad.board)
    atad.launch()
    try:
        atad.wait_registered()
        time.sleep(args.idle_seconds)
        idle = harness.rss_kib(atad.pid)
        atad.call()
        atad.say_tone()
        return _measure_call(atad.pid, seconds, idle, lambda: parsing.atad_call_media(atad.status()).get(1),
                             atad.hang_up)
    finally:
        atad.stop()


def one_call_baresip(args, peers, workdir, wav, seconds):
    phone = harness.Baresip(workdir / "call-baresip", peers, wav)
    note_command("baresip, one call", phone.command_line())
    phone.launch()
    note_file("baresip config", phone.config_dir / "config")
    note_file("baresip accounts", phone.config_dir / "accounts")
    try:
        phone.connect()
        time.sleep(args.idle_seconds)
        idle = harness.rss_kib(phone.pid)
        phone.call()
        return _measure_call(phone.pid, seconds, idle, lambda: None, phone.hang_up)
    finally:
        phone.stop()


def _measure_call(pid, seconds, idle_rss, media, hang_up):
    """CPU seconds over `seconds` of the call, the libraries mapped, RSS in
    the call and the peak (VmHWM) before hanging up."""
    time.sleep(1.0)  # the call's own start-up (first packets, jitter buffer) is not in the window
    cpu_start, wall_start = harness.cpu_seconds(pid), time.monotonic()
    time.sleep(min(5.0, seconds / 2))
    libraries = harness.shared_objects(pid)
    time.sleep(max(0.0, seconds - (time.monotonic() - wall_start)))
    cpu = harness.cpu_seconds(pid) - cpu_start
    wall = time.monotonic() - wall_start
    result = {"idle_rss_kib": idle_rss, "call_rss_kib": harness.rss_kib(pid), "hwm_kib": harness.hwm_kib(pid),
              "cpu_seconds": cpu, "wall_seconds": wall, "libraries": libraries, "media": media()}
    hang_up()
    return result


# ---------------------------------------------------------------------------
# 3. Instructions per call-second under callgrind


def callgrind_prefix(out_file):
    return ["valgrind", "--tool=callgrind", "--trace-children=no", f"--callgrind-out-file={out_file}", "-q"]


def callgrind_window(pid, out_file, seconds):
    """Zero the counters of the program under callgrind, let it run for
    `seconds`, dump: the dump (OUT.1) holds only the window, so start-up,
    the echo canceller's first search for the echo delay and the call's
    set-up are not in it. Returns its path."""
    def control(option):
        done = subprocess.run(["callgrind_control", option, str(pid)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "OK." in done.stdout, f"callgrind_control {option} {pid}: {done.stdout}"
    control("-z")
    time.sleep(seconds)
    control("-d")
    dump = Path(f"{out_file}.1")
    deadline = time.monotonic() + 30
    while not (dump.exists() and "totals:" in dump.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"callgrind wrote no dump {dump}"
        time.sleep(0.2)
    return dump


def top_functions(dump, count=10):
    """The `count` functions with the most instructions in a callgrind dump
    (self cost, `callgrind_annotate`), Swift names demangled."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", str(dump)], check=True,
                          capture_output=True, text=True, timeout=120).stdout
    rows = [row for row in parsing.callgrind_annotate_functions(text) if not parsing.is_entry_frame(row)][:count]
    demangle = shutil.which("swift-demangle") or shutil.which("swift")
    out = []
    for ir, name, library in rows:
        if demangle and name.startswith(("$e", "$s")):
            command = [demangle] + ([] if demangle.endswith("swift-demangle") else ["demangle"])
            name = subprocess.run(command + ["--simplified", "--compact", name], capture_output=True,
                                  text=True, timeout=30).stdout.strip() or name
        out.append((ir, name, library))
    return out


def callgrind_atad(args, peers, workdir, warmup, seconds, echo_canceller=True):
    tag = "" if echo_canceller else "-no-ec"
    out = workdir / f"callgrind-atad{tag}.out"
    atad = harness.Atad(args.atad_with_symbols or args.atad, workdir / f"cg-atad{tag}", peers, prefix=callgrind_prefix(out),
                        echo_canceller=echo_canceller)
    note_command("atad under callgrind", atad.command_line())
    atad.launch()
    pid = atad.pid
    try:
        atad.wait_registered(timeout=120)
        atad.call(timeout=120)
        atad.say_tone()
        time.sleep(warmup)
        before = parsing.atad_call_media(atad.status()).get(1)
        dump = callgrind_window(pid, out, seconds)
        after = parsing.atad_call_media(atad.status()).get(1)
        atad.hang_up(timeout=120)
    finally:
        code = atad.stop(timeout=120)
    media = None
    if before and after:
        media = {k: after[k] - before[k] for k in ("sent", "received")}
    return {"ir": parsing.callgrind_total_ir(dump.read_text(errors="replace")), "media": media,
            "elapsed": seconds, "exit": code, "top": top_functions(dump)}


def callgrind_baresip(args, peers, workdir, wav, warmup, seconds):
    out = workdir / "callgrind-baresip.out"
    phone = harness.Baresip(workdir / "cg-baresip", peers, wav, prefix=callgrind_prefix(out))
    note_command("baresip under callgrind", phone.command_line())
    phone.launch()
    pid = phone.process.pid
    try:
        phone.connect(timeout=120)
        phone.call(timeout=120)
        time.sleep(warmup)
        dump = callgrind_window(pid, out, seconds)
        phone.hang_up(timeout=120)
    finally:
        code = phone.stop(timeout=120)
    return {"ir": parsing.callgrind_total_ir(dump.read_text(errors="replace")), "exit": code,
            "elapsed": seconds, "top": top_functions(dump)}


# ---------------------------------------------------------------------------
# 5. Lines per core


def lines_per_core(args, peers, workdir, count, window):
    atad = harness.Atad(args.atad, workdir / f"lines-{count}", peers, lines=count)
    note_command(f"atad, {count} lines", atad.command_line())
    atad.launch()
    try:
        atad.wait_registered()
        atad.call(timeout=60 + count)
        atad.say_tone()
        time.sleep(2.0)
        before = parsing.atad_call_media(atad.status())
        cpu_start, wall_start = harness.cpu_seconds(atad.pid), time.monotonic()
        time.sleep(window)
        cpu = harness.cpu_seconds(atad.pid) - cpu_start
        wall = time.monotonic() - wall_start
        after = parsing.atad_call_media(atad.status())
        rss = harness.rss_kib(atad.pid)
        sampled = sorted({1, max(1, count // 2), count})
        replies = {line: atad.request("hear", line) for line in sampled}
        heard = {line: parsing.atad_heard(reply) for line, reply in replies.items()}
        atad.hang_up(timeout=60)
    finally:
        atad.stop()
    lines = [n for n in after if n in before]
    sent = sum(after[n]["sent"] - before[n]["sent"] for n in lines)
    received = sum(after[n]["received"] - before[n]["received"] for n in lines)
    concealed = sum(after[n]["concealed"] - before[n]["concealed"] for n in lines)
    hearing = [n for n, h in heard.items() if h and any(abs(f - harness.TONE_HZ) <= 5 for f in h[0])]
    return {"lines": count, "cpu_percent": 100.0 * cpu / wall, "rss_kib": rss, "calls": len(lines),
            "sent_per_line_s": sent / max(1, len(lines)) / wall, "received_per_line_s": received / max(1, len(lines)) / wall,
            "concealed": concealed, "heard": f"{len(hearing)}/{len(heard)}",
            "hear_replies": {line: reply[1] if len(reply) > 1 else "" for line, reply in replies.items()}}


# ---------------------------------------------------------------------------
# 6. Added latency (atad only)


def latency_atad(args, workdir, reps):
    peer = rtp_peer.RtpPeer(seed=7).start()
    peers = harness.Peers(workdir / "latency-peers", uas_scenario="uas_media.xml", rtp_echo=False,
                          keys={"rtp_ip": peer.host, "rtp_port": peer.port}).start()
    atad = harness.Atad(args.atad, workdir / "latency-atad", peers)
    note_command("atad, latency", atad.command_line())
    atad.launch()
    mouth, ear, buffers = [], [], []
    try:
        atad.wait_registered()
        atad.call()
        peer.remote = rtp_peer.wait_sipp_sdp(peers.sipp)[:2]
        # Mouth -> first RTP packet: silence, then a tone; the first packet
        # carrying it against the mouthpiece onset atad reports.
        for _ in range(reps):
            assert atad.request("say", 1, "silence")[0] == "ok"
            time.sleep(0.3)
            assert atad.request("say", 1, "tone", 1000, -10)[0] == "ok"
            time.sleep(0.3)
            onset = parsing.atad_onsets(atad.request("hear", 1)).get("mouthpiece")
            if onset is None:
                continue
            onset_s = onset / 1e9
            for packet in peer.received(pt=rtp_peer.PCMU, since=onset_s - 0.1):
                if max(abs(s) for s in rtp_peer.decode(packet.payload)) > 64:
                    mouth.append((packet.arrival - onset_s) * 1000.0)
                    break
        assert atad.request("say", 1, "silence")[0] == "ok"
        # RTP arrival -> earpiece: one continuous paced stream (a real
        # talker's timestamps never jump), `reps` times 1 s of silence then
        # 0.4 s of tone; each tone's first packet is due at a known time.
        packets = []
        tone_indices = []
        for _ in range(reps):
            for frequency, duration in ((0, 1.0), (1000.0, 0.4)):
                if frequency:
                    tone_indices.append(len(packets))
                part, _ = peer.tone_packets(frequency, duration=duration, level_dbm0=-10.0)
                packets += [(index + len(packets), data, seq) for index, data, seq in part]
        report = rtp_peer.SendReport()
        job = rtp_peer.SendJob(lambda: peer._transmit(packets, 20, 0.0, 0, False, report, None, None)).begin()
        time.sleep(0.05)
        for index in tone_indices:
            due = report.started + index * 0.020
            time.sleep(max(0.0, due - 0.2 - time.monotonic()))
            media = parsing.atad_call_media(atad.status()).get(1)
            if media:
                buffers.append(media["buffer_ms"])
            time.sleep(max(0.0, due + 0.25 - time.monotonic()))
            onset = parsing.atad_onsets(atad.request("hear", 1)).get("earpiece")
            if onset is not None and onset / 1e9 >= due - 0.05:
                ear.append((onset / 1e9 - due) * 1000.0)
        job.wait(30.0)
        atad.hang_up()
    finally:
        atad.stop()
        peers.stop()
        peer.stop()
    return {"mouth_ms": mouth, "ear_ms": ear, "buffer_ms": buffers}


# ---------------------------------------------------------------------------
# 7. The gpio path on the rig: atad on gpio-sim + snd-aloop against the
# simulated board, in one run of Tests/Rig's VM (bench/rig_bench.py)

RIG_HEADING = "## The gpio path on the rig"
GOALS_HEADING = "## Goals (issue 17)"
HOST_SECTIONS = {"startup", "call", "callgrind", "lines", "latency"}
RIG_STOP_TIMEOUT = 20.0


def gpio_on_rig(args, idle_seconds, call_seconds, rounds):
    """Boots the rig once (Tests/Rig/run.py takes the build lock itself)
    and runs bench/rig_bench.py in it; its figures come back on the
    console as one `RIG-BENCH {json}` line."""
    cache = Path(os.environ.get("RIG_CACHE", harness.REPO / ".build-rig"))
    if not (cache / "rig.env").is_file():
        raise AssertionError(f"{cache}/rig.env missing: run `bash Tests/Rig/prepare.sh` (make bench does)")
    # Boot, two daemons started and stopped per case over 9p under an
    # emulated CPU, the two stretches of each case: a generous bound.
    timeout = 300 + rounds * 3 * (idle_seconds + call_seconds)
    keep = ["--keep"] if args.keep else []  # the VM's results folder: console, daemons' logs
    command = [sys.executable, str(harness.REPO / "Tests" / "Rig" / "run.py"), "--timeout", f"{timeout:.0f}",
               *keep, "--env", "ATAD_BIN", "--", sys.executable, str(harness.BENCH_DIR / "rig_bench.py"),
               "--idle-seconds", f"{idle_seconds:g}", "--call-seconds", f"{call_seconds:g}", "--rounds", str(rounds)]
    process = subprocess.Popen(command, cwd=harness.REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    output = []
    try:
        for line in process.stdout:  # ends when run.py does; run.py stops qemu at its own deadline
            output.append(line)
            if not line.startswith(parsing.RIG_BENCH_MARKER):
                log("  | " + line.rstrip())
        code = process.wait(timeout=RIG_STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            # SIGINT, not SIGTERM: run.py stops qemu in its `finally`.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=RIG_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=RIG_STOP_TIMEOUT)
        process.stdout.close()
    result = parsing.rig_bench_result("".join(output))
    if result is None or code != 0 or result.get("error"):
        raise AssertionError(f"the rig bench failed (exit {code}): "
                             f"{(result or {}).get('error', 'no result line')}")
    shown = ["python3" if w == sys.executable else w for w in command if w != "--keep"]
    result["command"] = " ".join(shown).replace(str(harness.REPO) + "/", "")
    host = machine()
    result["host"] = f"{host['cpu']}, {host['cores']} cores, kernel {host['kernel']}"
    result["measured_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return result


def gpio_rows(rig):
    """(measure, gpio, sim, gpio / sim) of the rig's two cases: medians
    over the rounds, the ratio as the median of each round's ratio with
    its range."""
    rounds = rig["rounds"]

    def rate(stretch, key):
        return stretch[key] / stretch["wall_s"]

    def both(label, value, show):
        a = [value(r["gpio"]) for r in rounds]
        b = [value(r["sim"]) for r in rounds]
        ratios = [parsing.ratio(x, y) for x, y in zip(a, b)]
        ratios = [r for r in ratios if r is not None]
        spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
        return (label, show(parsing.median(a)), show(parsing.median(b)),
                (fmt_ratio(parsing.median(ratios)) + spread) if ratios else "n/a")

    def cpu(x):
        return f"{x:.4f} s ({100 * x:.2f} % of the core)"

    def kib(x):
        return f"{x:,.0f} KiB"

    def per_second(x):
        return f"{x:,.1f}/s"

    rows = [
        both(f"CPU in the call: CPU seconds per call-second (over {rig['call_seconds']:g} s)",
             lambda c: rate(c["call"], "cpu_s"), cpu),
        both(f"CPU on hook, idle: CPU seconds per second (over {rig['idle_seconds']:g} s)",
             lambda c: rate(c["idle"], "cpu_s"), cpu),
        both("wake-ups in the call (context switches per second)", lambda c: rate(c["call"], "switches"), per_second),
        both("wake-ups on hook (context switches per second)", lambda c: rate(c["idle"], "switches"), per_second),
        both("VmRSS on hook", lambda c: c["idle"]["rss_kib"], kib),
        both("VmRSS in the call", lambda c: c["call"]["rss_kib"], kib),
        both("VmHWM (peak) at the end of the call", lambda c: c["call"]["hwm_kib"], kib),
    ]

    def xruns(stretch):
        return " ".join(f"({r['gpio'][stretch].get('xruns_playback', '?')}, "
                        f"{r['gpio'][stretch].get('xruns_capture', '?')})" for r in rounds)
    since = " ".join(f"({r['gpio']['call']['audio_since_start']['playback_xruns']}, "
                     f"{r['gpio']['call']['audio_since_start']['capture_xruns']})"
                     if "audio_since_start" in r["gpio"]["call"] else "?" for r in rounds)
    rows.append(("xruns (playback, capture) of each round",
                 f"in the call {xruns('call')}; on hook {xruns('idle')}; since start, at the call's end {since}",
                 "— (no card)", "—"))

    def packets(kind):
        calls = [r[kind]["call"] for r in rounds if "sent" in r[kind]["call"]]
        if not calls:
            return "n/a"
        return (f"sent {parsing.median([rate(c, 'sent') for c in calls]):.1f}/s, "
                f"received {parsing.median([rate(c, 'received') for c in calls]):.1f}/s, "
                f"concealed {'/'.join(str(c['concealed']) for c in calls)}")
    rows.append(("RTP in the call (medians; 50/s = real time), concealed frames of each round",
                 packets("gpio"), packets("sim"), "—"))

    def sound(kind):
        good = 0
        readings = []
        for r in rounds:
            earpiece, far_end = r[kind]["earpiece_heard"], r[kind]["far_end_heard"]
            readings.append(f"{earpiece}, {far_end}")
            if earpiece and far_end:
                frequency = earpiece[0][0] if isinstance(earpiece[0], list) else earpiece[0]
                if abs(frequency - 1000) <= 10 and abs(earpiece[1] + 10) <= 2 and \
                        any(abs(f - 700) <= 10 for f in far_end[0]) and abs(far_end[1] + 12) <= 2:
                    good += 1
        text = f"as sent in {good} of {len(rounds)} rounds"
        return text if good == len(rounds) else text + ": " + "; ".join(readings)
    rows.append(("the call's audio: earpiece 1000 Hz −10 dBm0, far end 700 Hz −12 dBm0 (±10 Hz, ±2 dB)",
                 sound("gpio") + " (earpiece from the card)", sound("sim") + " (`hear 1`)", "—"))
    return rows


def render_gpio_table(rows):
    lines = ["| measure | gpio driver (Board/box.conf) | sim driver (one-line simulated board) | gpio / sim |",
             "|---|---|---|---|"]
    for measure, a, b, r in rows:
        lines.append(f"| {measure} | {a} | {b} | {r} |")
    return "\n".join(lines)


def render_gpio_section(rig, table, spliced):
    where = ("This section alone was measured by a later `--only gpio` run and put into the document in place; "
             "the other sections come from the run named at the top."
             if spliced else "It was measured in the same run as the rest of this document.")
    rounds = len(rig["rounds"])
    together = ("Both cases run at the same time in each round, so that the host's load (the vCPU is emulated on "
                "a shared machine) weighs on both alike"
                if rig.get("together", True) else "The cases run one after the other in each round")
    parts = [
        RIG_HEADING,
        "",
        f"Measured on {rig['measured_at']} by `python3 bench/run_bench.py --only gpio` (part of `make bench`). "
        + where,
        "",
        "The product's own path, libgpiod and an ALSA hw device (GPIOLineHardware), next to the simulated board, "
        "in one boot of the board in a box (Tests/Rig: Debian's kernel under qemu-system-x86_64, TCG, one vCPU, "
        "gpio-sim and snd-aloop). bench/rig_bench.py runs there: in each case the same atad binary with one "
        "line is called by a second atad on the simulated board in the same VM (127.0.0.1, no registrar, as "
        "Tests/Rig/test_call.py calls the box), G.711 µ-law with 20 ms packets. The far end says a 1000 Hz tone "
        "at −10 dBm0 and the handset a 700 Hz tone at −12 dBm0. gpio case (Board/box.conf): the handset is "
        "lifted by pulling SHK on gpio-sim, its tone is played into the loopback card's other end and the "
        "earpiece recorded there (Tests/Rig/alsa.py), so the card runs in real time. sim case (a one-line "
        "simulated board): the handset is lifted and its tone set through the control socket. "
        f"{together}; the card's other end runs all the time. {rounds} rounds, each with freshly started "
        "daemons: a daemon's timers fall differently against its far end's packets from one start to the "
        "next, which moves its wake-ups. Each figure is the median over the rounds; the last column is the "
        "median of the rounds' gpio / sim ratios with their range: above 1 means the gpio path costs more.",
        "",
        table,
        "",
        "Notes:",
        "",
        "- Under an emulated CPU (TCG) absolute figures mean little: a guest instruction costs many host ones, "
        "system calls and timers more still, and the guest's speed follows the host's load. The ratios of the "
        "two cases, measured side by side in the same VM, are what this table is for.",
        f"- CPU: utime + stime from /proc/PID/stat of the measured atad (10 ms ticks) over {rig['call_seconds']:g} s "
        f"of the call (from {rig['settle_seconds']:g} s after both calls were talking) and "
        f"{rig['idle_seconds']:g} s on hook (after start-up, the card open, before the calls).",
        "- Wake-ups: voluntary + nonvoluntary context switches from /proc/PID/status over the same stretches. "
        "atad is one thread sleeping in poll(), so each voluntary switch is one wake-up of its loop.",
        "- Memory: VmRSS and VmHWM from /proc/PID/status at the end of each stretch.",
        "- xruns: the `line 1 audio:` line of `status` (playback underruns and capture overruns recovered), "
        "its difference over each stretch and its total since start; the xruns at start-up come from the "
        "other daemons starting at the same time on the one emulated CPU (their binary and libraries come "
        "over 9p). The simulated board has no card.",
        "- RTP: `call line 1: media:` of `status`, packets over the call's stretch.",
        f"- The VM: kernel {rig['kernel']}, {rig['cpus']} vCPU ({rig['cpu']}), on {rig.get('host', 'this machine')}.",
        f"- The command: `{rig['command']}`.",
    ]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------
# The table and the document


def cross_size(arch):
    path = harness.REPO / ".build-cross" / arch / "atad"
    if path.is_file():
        return parsing.format_bytes(path.stat().st_size)
    return f"not built (run make cross ARCH={arch})"


def fmt(value, unit="", digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:,.{digits}f}{unit}"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}×"


def build_rows(results):
    rows = []  # (section, measure, atad, baresip, baresip/atad)
    a, b = results.get("call_atad"), results.get("call_baresip")
    atad_bin = results["atad_binary_size"]
    baresip_bin = results["baresip_binary_size"]
    rows.append(("Footprint", "stripped binary, x86-64", parsing.format_bytes(atad_bin),
                 parsing.format_bytes(baresip_bin), fmt_ratio(parsing.ratio(baresip_bin, atad_bin))))
    if a and b:
        a_libs = sum(size for _, size in a["libraries"])
        b_libs = sum(size for _, size in b["libraries"])
        rows.append(("Footprint", "shared libraries mapped in a call (distinct .so, file sizes)",
                     f"{parsing.format_bytes(a_libs)}, {len(a['libraries'])} files",
                     f"{parsing.format_bytes(b_libs)}, {len(b['libraries'])} files",
                     fmt_ratio(parsing.ratio(b_libs, a_libs))))
        rows.append(("Footprint", "binary + libraries", parsing.format_bytes(atad_bin + a_libs),
                     parsing.format_bytes(baresip_bin + b_libs),
                     fmt_ratio(parsing.ratio(baresip_bin + b_libs, atad_bin + a_libs))))
    for arch in ("arm64", "armhf"):
        rows.append(("Footprint", f"stripped binary, {arch}", cross_size(arch), "—", "—"))
    if a and b:
        for key, label in (("idle_rss_kib", "VmRSS registered, idle"), ("call_rss_kib", "VmRSS in the call"),
                           ("hwm_kib", "VmHWM (peak) at the end of the call")):
            rows.append(("Memory", label, fmt(a[key], " KiB"), fmt(b[key], " KiB"),
                         fmt_ratio(parsing.ratio(b[key], a[key]))))
    cg = results.get("callgrind")
    if cg:
        rows.append(("CPU", f"instructions per call-second (callgrind Ir over a {cg['window']:g} s window of the "
                            f"call, from {cg['warmup']:g} s after the answer)",
                     fmt(cg["atad"], digits=0), fmt(cg["baresip"], digits=0),
                     fmt_ratio(parsing.ratio(cg["baresip"], cg["atad"]))))
        rows.append(("CPU", "the same, atad with `echo_canceller = no` (baresip, as configured, cancels no echo)",
                     fmt(cg["atad_no_ec"], digits=0), fmt(cg["baresip"], digits=0),
                     fmt_ratio(parsing.ratio(cg["baresip"], cg["atad_no_ec"]))))
    if a and b:
        rows.append(("CPU", f"user+sys CPU seconds for a {results['call_seconds']:.0f} s call",
                     fmt(a["cpu_seconds"], " s", 2), fmt(b["cpu_seconds"], " s", 2),
                     fmt_ratio(parsing.ratio(b["cpu_seconds"], a["cpu_seconds"]))))
        rows.append(("CPU", "share of one core during the call",
                     fmt(100 * a["cpu_seconds"] / a["wall_seconds"], " %", 2),
                     fmt(100 * b["cpu_seconds"] / b["wall_seconds"], " %", 2), "—"))
    st = results.get("startup")
    if st:
        def span(times):
            return (f"{fmt(parsing.median(times), ' ms')} (min {fmt(min(times), '')}, max {fmt(max(times), '')}, "
                    f"n={len(times)})") if times else "n/a"
        rows.append(("Start-up", "process start → registered, median", span(st["atad"]), span(st["baresip"]),
                     fmt_ratio(parsing.ratio(parsing.median(st["baresip"]), parsing.median(st["atad"])))))
    for entry in results.get("lines", []):
        realtime = (f"sent {entry['sent_per_line_s']:.1f}/s, received {entry['received_per_line_s']:.1f}/s per line "
                    f"(50 = real time), concealed {entry['concealed']}, echoed tone heard on {entry['heard']} sampled lines")
        rows.append(("Lines per core", f"N = {entry['lines']} lines in calls: CPU % of one core, RSS",
                     f"{entry['cpu_percent']:.1f} %, {entry['rss_kib']:,} KiB; {realtime}", "—", "—"))
    lat = results.get("latency")
    if lat:
        def spread(values):
            return (f"median {fmt(parsing.median(values), ' ms')} (max {fmt(max(values), ' ms')}, n={len(values)})"
                    if values else "n/a")
        no_hook = "not measured (no hook into its audio path)"
        rows.append(("Latency", "mouthpiece onset → first RTP packet with it", spread(lat["mouth_ms"]), no_hook, "—"))
        rows.append(("Latency", "RTP packet due → earpiece onset", spread(lat["ear_ms"]) +
                     f"; jitter buffer {fmt(parsing.median(lat['buffer_ms']), ' ms', 0)}", no_hook, "—"))
    return rows


BASE_LIBRARIES = ("libc.so", "libm.so", "ld-linux")


def goals(results):
    """(goal, measured, met?, what to do next) for issue 17's acceptance,
    each computed from this run; a goal whose measure was not run is left
    out."""
    out = []
    size = results["atad_binary_size"]
    out.append(("stripped binary, x86-64 ≤ 600 KB (614,400 B)", f"{size:,} B", size <= 600 * 1024,
                "`nm --size-sort` on the unstripped build; Cross/size-budget's notes list the largest items."))
    a, b = results.get("call_atad"), results.get("call_baresip")
    if a:
        others = [Path(path).name for path, _ in a["libraries"]
                  if not Path(path).name.startswith(BASE_LIBRARIES)]
        out.append(("≤ 6 shared libraries besides libc, libm and the loader", f"{len(others)}: {', '.join(others)}",
                    len(others) <= 6, "Link what is left statically, or load it only on the board that uses it."))
    if a and b:
        value = parsing.ratio(a["idle_rss_kib"], b["idle_rss_kib"])
        out.append(("idle VmRSS ≤ ½ of baresip's", f"{a['idle_rss_kib']:,} / {b['idle_rss_kib']:,} KiB = {value:.2f}",
                    value <= 0.5, "`pmap -x PID` of the idle daemon: what is resident, by mapping."))
    lines = {entry["lines"]: entry for entry in results.get("lines", [])}
    if 1 in lines and 8 in lines:
        per_line = (lines[8]["rss_kib"] - lines[1]["rss_kib"]) / 7
        out.append(("≤ 300 KB more VmRSS per extra line in a call", f"{per_line:,.0f} KiB ((8 lines − 1 line) / 7)",
                    per_line * 1024 <= 300_000, "The per-line and per-call buffers: allocate them when a call needs them."))
    cg = results.get("callgrind")
    if cg:
        out.append(("line pipeline ≤ 3 M instructions per call-second", f"{cg['atad']:,.0f} (the whole daemon, "
                    "with the simulated board's handset and analyzers: an upper bound)", cg["atad"] <= 3e6,
                    "The top-functions lists below."))
        value = parsing.ratio(cg["atad_no_ec"], cg["baresip"])
        out.append(("the same work ≤ baresip (atad with `echo_canceller = no`)",
                    f"{cg['atad_no_ec']:,.0f} / {cg['baresip']:,.0f} = {value:.2f}", value <= 1,
                    "The top-functions lists below."))
    rig = results.get("rig")
    if rig and rig.get("rounds"):
        wakeups = parsing.median([r["gpio"]["idle"]["switches"] / r["gpio"]["idle"]["wall_s"] for r in rig["rounds"]])
        out.append(("idle wake-ups ≤ 5 per second (gpio board, on hook, context switches)", f"{wakeups:.1f}/s",
                    wakeups <= 5, "The audio path runs on hook: stop the capture stream and the frame clock while "
                    "every line is on hook and nothing plays."))
    st = results.get("startup")
    if st and st["atad"]:
        value = parsing.median(st["atad"])
        out.append(("start-up to registered < 50 ms", f"median {value:.1f} ms", value < 50,
                    "Send the first REGISTER before the board and the line audio are set up."))
    return out


def render_table(rows):
    header = ["", "measure", "atad", "baresip", "baresip / atad"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for section, measure, a, b, r in rows:
        lines.append(f"| {section} | {measure} | {a} | {b} | {r} |")
    return "\n".join(lines)


def render_document(results, table, goal_list, args):
    info = results["machine"]
    quick = "\n**Quick development run (`--quick`): short calls, few runs. Not the published figures.**\n" \
        if args.quick else ""
    parts = [
        "# Benchmarks: atad and baresip on one machine",
        "",
        "Generated by `make bench` (bench/run_bench.py) on "
        f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; every figure below "
        "was measured in that one run. Do not edit by hand: run `make bench` again.",
        quick,
        "## What both programs do",
        "",
        "Each registers to the same Kamailio on 127.0.0.1 (atad as 1001, baresip as 1002, digest auth) and "
        f"places one G.711 µ-law call with 20 ms packets through it to `{harness.TRUNK_NUMBER}`, which Kamailio "
        "routes to a SIPp UAS (`uas_answer.xml`) that echoes RTP (`-rtp_echo`). Both send a 440 Hz tone at the "
        "same level (about −7 dBm0): atad from its simulated handset's generator (`say 1 tone 440 -7`), baresip "
        "from a WAV file made by sox through its `aufile` source. (atad's `say LINE file` would hold the whole "
        "file in memory, once per line, and the memory rows would count it.) baresip runs as the scenario tests run it (Tests/Scenarios/baresip_peer.py: "
        "aufile source, idle aubridge player, ctrl_tcp, no sound card) without the `sndfile` recorder; atad's "
        "simulated board runs its earpiece analyzer and mouthpiece source in software instead of a sound card. "
        "Ratios are baresip / atad: above 1 means atad is smaller or cheaper.",
        "",
        "## Results",
        "",
        table,
        "",
        "Notes:",
        "",
        "- Shared libraries: the distinct `.so` files in /proc/PID/maps mapped during the call, summed by file "
        "size (baresip's modules are among them).",
        f"- Memory: /proc/PID/status, VmRSS after {args.idle_seconds:.0f} s registered and idle, VmRSS and "
        "VmHWM in the call; baresip's threads share one address space.",
        "- Instructions: `valgrind --tool=callgrind` totals over all threads (baresip is multi-threaded) in a "
        "window of the call: `callgrind_control -z` once the call has run a few seconds, `-d` at the window's "
        "end, divided by its length. Start-up, registration, call set-up and the echo "
        "canceller's first search for the echo delay are not in it (a one-off cost that made the earlier "
        "difference of a short and a long call unreliable). atad runs unstripped for the function names "
        "when its unstripped build strips to the measured binary. Under callgrind a program runs many times slower, so a frame clock can fall "
        "behind real time: the packets atad sent in each run are listed below (50 per second is real time). "
        "Callgrind counts user-space instructions only; the CPU-seconds row includes the kernel's share "
        "(system calls, thread wake-ups).",
        "- CPU seconds: utime + stime from /proc/PID/stat over the call (no valgrind).",
        "- Start-up: from just before Popen to the first observation, polled every 1 ms: atad's `status` "
        "showing `account home: registered`, baresip's log line for the registrar's 200 OK.",
        "- Lines per core: atad alone, a simulated board with N lines, each line in a call to the echoing SIPp; "
        "CPU over a 10 s window; packets sent and received per line-second (50 is real time at 20 ms), "
        "concealed frames, and whether `hear` reports the echoed 440 Hz tone on the first, middle and last line. "
        "SIPp and Kamailio share the machine's cores.",
        "- Latency: a Python RTP peer (Tests/Scenarios/rtp_peer.py) as the far end, atad's `hear 1` onsets "
        "(CLOCK_MONOTONIC) against packet arrival and due times. baresip has no such hook.",
    ]
    cg = results.get("callgrind")
    if cg:
        parts.append("")
        parts.append("Callgrind runs:")
        parts.append("")
        names = {"atad_run": "atad", "atad_no_ec_run": "atad (echo_canceller = no)", "baresip_run": "baresip"}
        for key, name in names.items():
            run = cg[key]
            extra = ""
            if run.get("media"):
                m = run["media"]
                extra = (f"; atad sent {m['sent']} packets and received {m['received']} in the window "
                         f"(real time: {run['elapsed'] * 50:.0f})")
            parts.append(f"- {name}: {run['ir']:,} Ir in {run['elapsed']:g} s (exit {run['exit']}){extra}")
        for key, name in names.items():
            parts += ["", f"The ten functions with the most instructions in the window, {name} "
                      "(self cost, `callgrind_annotate`; OUTLINED_FUNCTION_N is code the machine outliner "
                      "shared between functions):", "",
                      "| Ir | share | function | object |", "|---|---|---|---|"]
            total = cg[key]["ir"] or 1
            for ir, function, library in cg[key]["top"]:
                parts.append(f"| {ir:,} | {100 * ir / total:.1f} % | `{function[:110]}` | {library} |")
    if results.get("lines"):
        parts += ["", "What `hear` reported on the sampled lines (the far end echoes what atad sends, so the "
                  "line's own echo canceller sees near and far audio that are the same tone, delayed):", ""]
        for entry in results["lines"]:
            parts.append(f"- {entry['lines']} lines: " + "; ".join(
                f"line {line}: `{text}`" for line, text in entry["hear_replies"].items()))
    for key, name in (("call_atad", "atad"), ("call_baresip", "baresip")):
        if results.get(key):
            parts += ["", f"Shared libraries {name} had mapped in the call:", ""]
            parts += [f"- `{path}`: {size:,} B" for path, size in results[key]["libraries"]]
    parts += ["", GOALS_HEADING, "", "| goal | measured | met | plan if not |", "|---|---|---|---|"]
    for goal, measured, met, plan in goal_list:
        parts.append(f"| {goal} | {measured} | {'yes' if met else '**no**'} | {'' if met else plan} |")
    parts += ["", "## Machine", "",
              f"- CPU: {info['cpu']}, {info['cores']} cores",
              f"- Kernel: {info['kernel']}",
              f"- Debian: {info['debian']}",
              "- Packages: " + ", ".join(info["packages"]),
              f"- atad: {args.atad}",
              "", "## How to repeat", "",
              "    make bench",
              "",
              "which installs valgrind, baresip-core, kamailio, sip-tester and sox when missing, builds the "
              "firmware, prepares the rig's kernel and initramfs (Tests/Rig/prepare.sh, for the gpio section) "
              "and runs:",
              "",
              f"    python3 bench/run_bench.py --atad .build-firmware/atad --output docs/BENCHMARKS.md"
              + (" --quick" if args.quick else ""),
              "",
              "The processes it started (temporary folders under /tmp; the first of each kind):",
              ""]
    for what, line in COMMANDS:
        parts.append(f"- {what}: `{line}`")
    parts += ["", "Kamailio's config is Tests/Scenarios/peers/kamailio.cfg.in filled in by "
              "Tests/Scenarios/sip_peers.py (users 1001, 1002, 2000; `9…` to the SIPp trunk)."]
    for title, text in FILES.items():
        parts += ["", f"{title}:", "", "```", text.rstrip("\n"), "```"]
    parts.append("")
    return "\n".join(parts)


# ---------------------------------------------------------------------------


def same_code(unstripped, stripped):
    """Whether `unstripped`, stripped, is byte for byte `stripped`."""
    if not os.access(unstripped, os.X_OK):
        return False
    with tempfile.NamedTemporaryFile() as copy:
        done = subprocess.run(["strip", "-o", copy.name, unstripped], capture_output=True)
        return done.returncode == 0 and Path(copy.name).read_bytes() == Path(stripped).read_bytes()


def interrupted(number, frame):
    """SIGTERM like Ctrl-C, so the `finally` blocks stop every child."""
    raise KeyboardInterrupt(f"signal {number}")


def main():
    signal.signal(signal.SIGTERM, interrupted)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--atad", default=str(harness.REPO / ".build-firmware" / "atad"))
    parser.add_argument("--output", default=None, help="write the Markdown document here")
    parser.add_argument("--atad-symbols", default=str(harness.REPO / ".build-firmware" / "work" / "release" / "atad"),
                        help="the unstripped build of --atad, run under callgrind for function names "
                             "(ignored when missing)")
    parser.add_argument("--quick", action="store_true", help="short calls and few runs (development)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, callgrind files)")
    parser.add_argument("--only", default="gpio,startup,call,callgrind,lines,latency",
                        help="comma-separated sections to run (gpio: the gpio path on the rig's VM)")
    args = parser.parse_args()
    args.atad = os.path.abspath(args.atad)
    # The unstripped build of the measured binary, when it is there, runs
    # under callgrind: the same code, with names for the top-functions
    # list. Valgrind 3.19 cannot read the DWARF 5 of Swift 6's builds, so
    # the copy keeps the symbol table and drops the debug sections.
    args.atad_with_symbols = None
    symbols = same_code(args.atad_symbols, args.atad)
    os.environ["ATAD_BIN"] = args.atad
    assert os.access(args.atad, os.X_OK), f"no atad binary at {args.atad}: run make firmware"
    only = set(args.only.split(","))
    call_seconds = 8.0 if args.quick else 60.0
    cg_warmup, cg_window = (2.0, 3.0) if args.quick else (5.0, 10.0)
    runs = 3 if args.quick else 10
    line_counts = [1, 8] if args.quick else [1, 8, 32, 64]
    window = 4.0 if args.quick else 10.0
    reps = 3 if args.quick else 10
    args.idle_seconds = 1.0 if args.quick else 3.0
    rig_idle, rig_call, rig_rounds = (4.0, 8.0, 1) if args.quick else (10.0, 20.0, 3)

    workdir = Path(tempfile.mkdtemp(prefix="atad-bench-", dir="/tmp"))
    if symbols:
        args.atad_with_symbols = workdir / "symbols" / "atad"  # named as the product in the tables
        args.atad_with_symbols.parent.mkdir()
        subprocess.run(["strip", "--strip-debug", "-o", str(args.atad_with_symbols), args.atad_symbols], check=True)
    results = {"machine": machine(), "call_seconds": call_seconds,
               "atad_binary_size": os.stat(args.atad).st_size,
               "baresip_binary_size": os.stat(shutil.which("baresip")).st_size}
    if "gpio" in only:
        # First, before the host's peers start: the VM keeps one core busy.
        log(f"the gpio path on the rig: {rig_idle:g} s on hook and a {rig_call:g} s call, gpio and sim at once, "
            f"{rig_rounds} rounds")
        try:
            results["rig"] = gpio_on_rig(args, rig_idle, rig_call, rig_rounds)
        except AssertionError as error:
            if only & HOST_SECTIONS:  # the rest of the bench is still worth its run
                log(f"the gpio path on the rig: NOT measured: {error}")
            else:
                raise
    wav = harness.make_audio(workdir)
    peers = harness.Peers(workdir / "peers").start() if only & HOST_SECTIONS else None
    for what, line in zip(("SIPp far end", "Kamailio"), peers.commands() if peers else ()):
        note_command(what, line.split())
    try:
        if "startup" in only:
            log(f"start-up: {runs} runs each")
            results["startup"] = {"atad": startup_atad(args, peers, workdir, runs),
                                  "baresip": startup_baresip(args, peers, workdir, wav, runs)}
        if "call" in only:
            log(f"one {call_seconds:.0f} s call each")
            results["call_atad"] = one_call_atad(args, peers, workdir, call_seconds)
            results["call_baresip"] = one_call_baresip(args, peers, workdir, wav, call_seconds)
        if "callgrind" in only:
            log(f"callgrind: a {cg_window:g} s window of a call, {cg_warmup:g} s after it was answered")
            cg = {"warmup": cg_warmup, "window": cg_window,
                  "atad_run": callgrind_atad(args, peers, workdir, cg_warmup, cg_window),
                  "atad_no_ec_run": callgrind_atad(args, peers, workdir, cg_warmup, cg_window,
                                                   echo_canceller=False),
                  "baresip_run": callgrind_baresip(args, peers, workdir, wav, cg_warmup, cg_window)}
            for name in ("atad", "baresip", "atad_no_ec"):
                cg[name] = cg[f"{name}_run"]["ir"] / cg_window
            results["callgrind"] = cg
        if "lines" in only:
            results["lines"] = []
            for count in line_counts:
                log(f"lines per core: {count}")
                results["lines"].append(lines_per_core(args, peers, workdir, count, window))
        if "latency" in only:
            log(f"latency: {reps} repetitions each way")
            results["latency"] = latency_atad(args, workdir, reps)
    finally:
        if peers:
            peers.stop()

    with open(workdir / "results.pickle", "wb") as handle:  # for --keep: the raw figures
        pickle.dump(results, handle)
    table = render_table(build_rows(results))
    goal_list = goals(results)
    if only & HOST_SECTIONS:
        print()
        print(table)
        print()
        for goal, measured, met, _ in goal_list:
            print(f"goal: {goal}: {measured}: {'met' if met else 'NOT met'}")
    rig_table = render_gpio_table(gpio_rows(results["rig"])) if results.get("rig") else None
    if rig_table:
        print()
        print(rig_table)
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        if not (only & HOST_SECTIONS) and output.is_file():
            # Only the rig ran: its section goes into the document in place,
            # the other sections stay as their own run left them.
            text = parsing.splice_section(output.read_text(), RIG_HEADING,
                                          render_gpio_section(results["rig"], rig_table, spliced=True),
                                          before=GOALS_HEADING)
        else:
            text = render_document(results, table, goal_list, args)
            if rig_table:
                text = parsing.splice_section(text, RIG_HEADING,
                                              render_gpio_section(results["rig"], rig_table, spliced=False),
                                              before=GOALS_HEADING)
        output.write_text(text)
        print(f"\nwrote {args.output}")
    if args.keep:
        print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
