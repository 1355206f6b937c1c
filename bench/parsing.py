"""Pure parsers for the benchmark: text in, numbers out, no I/O.

Everything the benchmark reads from a program it measures goes through
here, so each reading can be unit-tested on captured text
(bench/test_bench_parsing.py): /proc/PID/status, /proc/PID/stat,
/proc/PID/maps, callgrind output files, atad's `status` and `hear`
replies, baresip's log and the rig bench's result line; and the splicing
of one section into docs/BENCHMARKS.md.
"""

import json
import os
import re
import statistics

# ---------------------------------------------------------------------------
# /proc


def proc_status_kib(text, key):
    """A `Key:   N kB` field of /proc/PID/status in KiB (VmRSS, VmHWM,
    VmSize, ...); None when the field is missing (a zombie has no Vm*)."""
    match = re.search(rf"^{re.escape(key)}:\s+(\d+)\s+kB\s*$", text, flags=re.M)
    return int(match.group(1)) if match else None


def proc_status_count(text, key):
    """A plain-number field of /proc/PID/status (`Key:\tN`, no unit);
    None when missing."""
    match = re.search(rf"^{re.escape(key)}:\s+(\d+)\s*$", text, flags=re.M)
    return int(match.group(1)) if match else None


def proc_context_switches(text):
    """voluntary + nonvoluntary context switches from /proc/PID/status (of
    the main thread: the figures of the `status` file of a thread-group
    leader are its own). For a program that sleeps in poll(), the voluntary
    ones count its wake-ups."""
    voluntary = proc_status_count(text, "voluntary_ctxt_switches")
    involuntary = proc_status_count(text, "nonvoluntary_ctxt_switches")
    if voluntary is None or involuntary is None:
        return None
    return voluntary + involuntary


def proc_stat_cpu_ticks(text):
    """utime + stime (clock ticks, all threads) from /proc/PID/stat.

    The second field, the command name, is in parentheses and may itself
    hold spaces or parentheses, so the fields are counted after the LAST
    ')'. After it come state (field 3) ... utime (14) and stime (15)."""
    close = text.rindex(")")
    rest = text[close + 1:].split()
    # rest[0] is field 3 (state), so field k is rest[k - 3].
    utime, stime = int(rest[14 - 3]), int(rest[15 - 3])
    return utime + stime


def proc_maps_shared_objects(text):
    """The distinct shared-object paths mapped in /proc/PID/maps (files
    whose name ends in `.so` or holds `.so.`), in order of first
    appearance. Deleted files (` (deleted)`) are left out: their size is
    gone."""
    seen = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6:
            continue
        path = fields[5].strip()
        if not path.startswith("/") or path.endswith("(deleted)"):
            continue
        name = path.rsplit("/", 1)[-1]
        if not (name.endswith(".so") or ".so." in name):
            continue
        if path not in seen:
            seen.append(path)
    return seen


# ---------------------------------------------------------------------------
# callgrind


def callgrind_total_ir(text):
    """The total instruction count (event Ir) of a callgrind output file:
    the `totals:` line, else the `summary:` line (older writers). When
    several events are recorded, Ir is picked by its position in the
    `events:` line. All threads are in it unless --separate-threads=yes."""
    events = ["Ir"]
    match = re.search(r"^events:\s*(.+)$", text, flags=re.M)
    if match:
        events = match.group(1).split()
    index = events.index("Ir") if "Ir" in events else 0
    for key in ("totals", "summary"):
        match = re.search(rf"^{key}:\s*(.+)$", text, flags=re.M)
        if match:
            return int(match.group(1).split()[index])
    raise ValueError("no totals: or summary: line in callgrind output")


ANNOTATE_ROW = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+([^\s:]*):(.+?)\s+\[(.+)\]\s*$")


# The frames under every call (the loader's entry, libc's start, main, a
# thread's start): in a dump taken while they run, callgrind_annotate
# charges them the whole window, which says nothing.
ENTRY_FRAMES = {"(below main)", "main", "atad_main", "__libc_start_main", "__libc_start_main@@GLIBC_2.34",
                "__libc_start_call_main", "_start", "clone", "clone3", "start_thread"}


def is_entry_frame(row):
    """Whether an annotate row (Ir, function, object) is one of those
    frames; an address in the loader is its entry point."""
    _, function, library = row
    return function in ENTRY_FRAMES or (library.startswith("ld-linux") and function.startswith("0x"))


def callgrind_annotate_functions(text):
    """(Ir, function, object file name) for each function row of
    `callgrind_annotate` output, most instructions first; an address when
    the object has no symbols."""
    rows = []
    for line in text.splitlines():
        match = ANNOTATE_ROW.match(line)
        if match and "PROGRAM TOTALS" not in line:
            rows.append((int(match.group(1).replace(",", "")), match.group(3), os.path.basename(match.group(4))))
    rows.sort(key=lambda row: -row[0])
    return rows


# ---------------------------------------------------------------------------
# atad's control-socket replies

ACCOUNT_LINE = re.compile(r"^account (\S+): (.*)$")
LINE_LINE = re.compile(r"^line (\d+): (\S+)(.*)$")
CALL_MEDIA_LINE = re.compile(
    r"^call line (\d+): media: (\S+) (\d+) ms, port (\d+), sent (\d+), received (\d+), "
    r"lost (-?\d+) \(([-\d.]+) %\), jitter ([\d.]+) ms, buffer (\d+) ms(?: \(grew \d+, shrank \d+\))?, concealed (\d+)(.*)$")
SIP_LINE = re.compile(r"^sip: (\S+):(\d+)/udp$")
LINE_AUDIO_LINE = re.compile(
    r"^line (\d+) audio: (?:not open \((.*)\), )?xruns playback (\d+) capture (\d+), suspends (\d+)"
    r"(?:, late frames dropped (\d+))?$")


def atad_account_states(lines):
    """{account name: state text} from a `status` reply."""
    states = {}
    for line in lines:
        match = ACCOUNT_LINE.match(line)
        if match:
            states[match.group(1)] = match.group(2)
    return states


def atad_registered(lines, account):
    """The account's state says `registered` (not `unregistered`)."""
    return atad_account_states(lines).get(account, "").startswith("registered")


def atad_line_states(lines):
    """{line number: state word} from a `status` reply."""
    states = {}
    for line in lines:
        match = LINE_LINE.match(line)
        if match:
            states[int(match.group(1))] = match.group(2)
    return states


def atad_call_media(lines):
    """{line number: dict} of the `call line N: media: ...` figures."""
    calls = {}
    for line in lines:
        match = CALL_MEDIA_LINE.match(line)
        if not match:
            continue
        calls[int(match.group(1))] = {
            "codec": match.group(2), "ptime_ms": int(match.group(3)), "port": int(match.group(4)),
            "sent": int(match.group(5)), "received": int(match.group(6)), "lost": int(match.group(7)),
            "lost_percent": float(match.group(8)), "jitter_ms": float(match.group(9)),
            "buffer_ms": int(match.group(10)), "concealed": int(match.group(11)),
        }
    return calls


def atad_line_audio(lines):
    """{line number: dict} of the `line N audio: ...` lines a gpio board's
    `status` has: xruns recovered since start (playback underruns, capture
    overruns), suspends, earpiece frames dropped after stalls (0 when the
    daemon is older than that figure), and whether the card is open (with
    the reason when not)."""
    audio = {}
    for line in lines:
        match = LINE_AUDIO_LINE.match(line)
        if match:
            audio[int(match.group(1))] = {
                "open": match.group(2) is None, "reason": match.group(2),
                "playback_xruns": int(match.group(3)), "capture_xruns": int(match.group(4)),
                "suspends": int(match.group(5)), "late_frames_dropped": int(match.group(6) or 0),
            }
    return audio


HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")
ONSET = re.compile(r"^(earpiece|mouthpiece) onset (\d+) ns$")


def atad_heard(lines):
    """What a `hear LINE` reply says the earpiece hears: (frequencies,
    level dBm0), or None for silence."""
    for line in lines:
        match = HEARD.match(line)
        if match:
            return [int(f) for f in match.group(1).split("+")], int(match.group(2))
    return None


def atad_onsets(lines):
    """{"earpiece": ns, "mouthpiece": ns} from a `hear LINE` reply (only
    the onsets it reports)."""
    onsets = {}
    for line in lines:
        match = ONSET.match(line)
        if match:
            onsets[match.group(1)] = int(match.group(2))
    return onsets


# ---------------------------------------------------------------------------
# baresip

# The registrar's 200 to a REGISTER, as baresip 1.0 logs it:
# `sip:1002@atad.test: {0/UDP/v4} 200 OK (...) [1 binding]`
# (the same pattern as Tests/Scenarios/baresip_peer.py's registered()).
BARESIP_REGISTER_OK = re.compile(r"^\S+: \{\d+/\w+/v4\} 200 OK", flags=re.M)


def baresip_registered(log_text):
    return BARESIP_REGISTER_OK.search(log_text) is not None


# ---------------------------------------------------------------------------
# The rig (bench/rig_bench.py inside Tests/Rig's VM)

RIG_BENCH_MARKER = "RIG-BENCH "


def rig_bench_result(text):
    """The figures bench/rig_bench.py printed in the VM, from the console
    output that Tests/Rig/run.py passed on: the JSON of the last line that
    starts with the marker; None when there is none (the guest never got
    that far)."""
    found = None
    for line in text.splitlines():
        line = line.rstrip("\r")
        if line.startswith(RIG_BENCH_MARKER):
            found = line[len(RIG_BENCH_MARKER):]
    return json.loads(found) if found is not None else None


# ---------------------------------------------------------------------------
# The document


def splice_section(document, heading, section, before=None):
    """`document` with its `heading` section (from that line to the next
    `## ` heading, or the end) replaced by `section`; when it has none, the
    section goes before the `before` heading if there is one, else at the
    end. Sections end in one empty line."""
    section = section.rstrip("\n") + "\n\n"
    lines = document.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip("\n") == heading), None)
    if start is None:
        at = next((i for i, line in enumerate(lines) if before and line.rstrip("\n") == before), None)
        if at is None:
            text = document.rstrip("\n")
            return (text + "\n\n" if text else "") + section
        return "".join(lines[:at]) + section + "".join(lines[at:])
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "".join(lines[:start]) + section + "".join(lines[end:])


# ---------------------------------------------------------------------------
# Figures


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def format_bytes(count):
    """`123 456 B (120.6 KiB)`-style: exact bytes and a readable unit."""
    if count is None:
        return "n/a"
    if count >= 1024 * 1024:
        return f"{count:,} B ({count / 1048576:.2f} MiB)"
    return f"{count:,} B ({count / 1024:.1f} KiB)"


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is missing or the
    denominator is 0."""
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator
