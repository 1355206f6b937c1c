"""Pure parsers for the benchmark: text in, numbers out, no I/O.

Everything the benchmark reads from a program it measures goes through
here, so each reading can be unit-tested on captured text
(bench/test_bench_parsing.py): /proc/PID/status, /proc/PID/stat,
/proc/PID/maps, callgrind output files, atad's `status` and `hear`
replies, and baresip's log.
"""

import re
import statistics

# ---------------------------------------------------------------------------
# /proc


def proc_status_kib(text, key):
    """A `Key:   N kB` field of /proc/PID/status in KiB (VmRSS, VmHWM,
    VmSize, ...); None when the field is missing (a zombie has no Vm*)."""
    match = re.search(rf"^{re.escape(key)}:\s+(\d+)\s+kB\s*$", text, flags=re.M)
    return int(match.group(1)) if match else None


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


def per_second_difference(short_total, short_seconds, long_total, long_seconds):
    """(long - short) / (long_seconds - short_seconds): what one more second
    costs, with everything both runs share (start-up, registration, call
    set-up and tear-down) cancelled out."""
    if long_seconds <= short_seconds:
        raise ValueError("the long run must be longer than the short one")
    return (long_total - short_total) / (long_seconds - short_seconds)


# ---------------------------------------------------------------------------
# atad's control-socket replies

ACCOUNT_LINE = re.compile(r"^account (\S+): (.*)$")
LINE_LINE = re.compile(r"^line (\d+): (\S+)(.*)$")
CALL_MEDIA_LINE = re.compile(
    r"^call line (\d+): media: (\S+) (\d+) ms, port (\d+), sent (\d+), received (\d+), "
    r"lost (-?\d+) \(([-\d.]+) %\), jitter ([\d.]+) ms, buffer (\d+) ms(?: \(grew \d+, shrank \d+\))?, concealed (\d+)(.*)$")
SIP_LINE = re.compile(r"^sip: (\S+):(\d+)/udp$")


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
