"""The benchmark's parsers on captured text: fast, no processes.

    python3 -m pytest -q bench/test_bench_parsing.py
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parsing  # noqa: E402

STATUS = """\
Name:\tatad
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
VmPeak:\t   23180 kB
VmSize:\t   23108 kB
VmHWM:\t   13088 kB
VmRSS:\t   11576 kB
RssAnon:\t     812 kB
Threads:\t1
voluntary_ctxt_switches:\t1520
nonvoluntary_ctxt_switches:\t37
"""


def test_status_fields_in_kib():
    assert parsing.proc_status_kib(STATUS, "VmRSS") == 11576
    assert parsing.proc_status_kib(STATUS, "VmHWM") == 13088
    assert parsing.proc_status_kib(STATUS, "VmPeak") == 23180


def test_status_field_missing_is_none():
    zombie = "Name:\tatad\nState:\tZ (zombie)\nThreads:\t1\n"
    assert parsing.proc_status_kib(zombie, "VmRSS") is None
    # A prefix of another key is not that key.
    assert parsing.proc_status_kib(STATUS, "Vm") is None


def test_status_counts_and_context_switches():
    assert parsing.proc_status_count(STATUS, "Threads") == 1
    assert parsing.proc_status_count(STATUS, "voluntary_ctxt_switches") == 1520
    # A field in kB is not a plain count, and a prefix is not the field.
    assert parsing.proc_status_count(STATUS, "VmRSS") is None
    assert parsing.proc_status_count(STATUS, "ctxt_switches") is None
    assert parsing.proc_context_switches(STATUS) == 1520 + 37
    assert parsing.proc_context_switches("Name:\tatad\n") is None


def test_stat_sums_user_and_system_ticks():
    text = ("4242 (atad) S 1 4242 4242 0 -1 4194560 512 0 0 0 "
            "137 21 0 0 20 0 1 0 123456 23662592 2894 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0")
    assert parsing.proc_stat_cpu_ticks(text) == 137 + 21


def test_stat_command_with_spaces_and_parentheses():
    text = ("77 (a (weird) name) R 1 77 77 0 -1 4194560 0 0 0 0 "
            "5 7 0 0 20 0 3 0 1 1 1 1 1 1 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0")
    assert parsing.proc_stat_cpu_ticks(text) == 12


MAPS = """\
55d0c0a00000-55d0c0a10000 r--p 00000000 08:01 131 /usr/bin/baresip
7f1c00000000-7f1c00021000 rw-p 00000000 00:00 0
7f1c10000000-7f1c10028000 r--p 00000000 08:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c10028000-7f1c1019d000 r-xp 00028000 08:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c20000000-7f1c20004000 r-xp 00000000 08:01 300 /usr/lib/baresip/modules/g711.so
7f1c30000000-7f1c30010000 r--p 00000000 08:01 400 /usr/lib/x86_64-linux-gnu/libre.so.0.6.1
7f1c40000000-7f1c40010000 r--p 00000000 08:01 500 /usr/lib/locale/C.utf8/LC_CTYPE
7f1c50000000-7f1c50010000 r--p 00000000 08:01 600 /tmp/gone.so (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0 [vdso]
"""


def test_maps_lists_distinct_shared_objects_in_order():
    assert parsing.proc_maps_shared_objects(MAPS) == [
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/baresip/modules/g711.so",
        "/usr/lib/x86_64-linux-gnu/libre.so.0.6.1",
    ]


def test_maps_path_with_spaces():
    line = "7f1c20000000-7f1c20004000 r-xp 00000000 08:01 300 /opt/my libs/libx.so.1\n"
    assert parsing.proc_maps_shared_objects(line) == ["/opt/my libs/libx.so.1"]


CALLGRIND = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 11454
cmd:  baresip -f /tmp/x/config
part: 1

desc: I1 cache:
desc: Timerange: Basic block 0 - 11677066
desc: Trigger: Program termination

positions: line
events: Ir
summary: 44006432

ob=(1) /usr/bin/baresip
fl=(1) ???
fn=(1) main
0 12
totals: 44006572
"""


def test_callgrind_totals_preferred_over_summary():
    assert parsing.callgrind_total_ir(CALLGRIND) == 44006572


def test_callgrind_summary_when_no_totals():
    assert parsing.callgrind_total_ir("events: Ir\nsummary: 145710342\n") == 145710342


def test_callgrind_picks_ir_among_several_events():
    text = "events: Dr Ir Dw\nsummary: 10 20 30\ntotals: 11 22 33\n"
    assert parsing.callgrind_total_ir(text) == 22


def test_callgrind_without_totals_fails():
    with pytest.raises(ValueError):
        parsing.callgrind_total_ir("events: Ir\n")


ANNOTATE = """\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
142,757,977 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
 2,987,142 ( 2.09%)  ???:0x00000000000b3b98 [/work/main/.build-firmware/atad]
17,601,102 (12.33%)  ???:$e6Daemon12LineCommandsV6handle_3now [/work/main/.build-firmware/work/release/atad]
 1,386,641 ( 1.01%)  ./elf/./elf/dl-lookup.c:do_lookup_x [/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2]
"""


def test_entry_frames_are_recognised():
    assert parsing.is_entry_frame((9, "(below main)", "libc.so.6"))
    assert parsing.is_entry_frame((9, "0x000000000001ab70", "ld-linux-x86-64.so.2"))
    assert not parsing.is_entry_frame((9, "do_lookup_x", "ld-linux-x86-64.so.2"))
    assert not parsing.is_entry_frame((9, "DTMFDetector.analyzeBlock()", "atad"))


def test_annotate_rows_most_instructions_first():
    rows = parsing.callgrind_annotate_functions(ANNOTATE)
    assert rows == [(17601102, "$e6Daemon12LineCommandsV6handle_3now", "atad"),
                    (2987142, "0x00000000000b3b98", "atad"),
                    (1386641, "do_lookup_x", "ld-linux-x86-64.so.2")]


ATAD_STATUS = [
    "ok",
    "daemon: running, atad 0.1.0, pid 4242, up 12 s, reloads 0",
    "config: /tmp/x/site.conf",
    "board: Benchmark board (sim)",
    "country: us",
    "sip: 127.0.0.1:40312/udp",
    "account home: registered, expires in 3598 s",
    "account spare: unregistered",
    "line 1: talking number 9123",
    "line 2: idle",
    "line 10: dialing digits 91",
    "call line 1: media: PCMU 20 ms, port 46878, sent 156, received 150, lost 2 (1.3 %), jitter 1.5 ms, "
    "buffer 20 ms (grew 2, shrank 1), concealed 3, rtt 0.4 ms",
]


GPIO_STATUS = [
    "ok",
    "board: Board in a box (gpio-sim + snd-aloop) (gpio)",
    "line 1: talking",
    "line 1 audio: xruns playback 3 capture 1, suspends 0, late frames dropped 4",
    "line 2: idle",
    "line 2 audio: not open (hw:CARD=X: No such device), xruns playback 0 capture 12, suspends 2",
]


def test_atad_line_audio():
    audio = parsing.atad_line_audio(GPIO_STATUS)
    assert audio == {
        1: {"open": True, "reason": None, "playback_xruns": 3, "capture_xruns": 1, "suspends": 0,
            "late_frames_dropped": 4},
        2: {"open": False, "reason": "hw:CARD=X: No such device", "playback_xruns": 0, "capture_xruns": 12,
            "suspends": 2, "late_frames_dropped": 0},
    }
    # The `line N: STATE` lines are not audio lines, and the audio lines
    # are not line states.
    assert parsing.atad_line_audio(ATAD_STATUS) == {}
    assert parsing.atad_line_states(GPIO_STATUS) == {1: "talking", 2: "idle"}


def test_atad_account_states():
    assert parsing.atad_account_states(ATAD_STATUS) == {
        "home": "registered, expires in 3598 s", "spare": "unregistered"}
    assert parsing.atad_registered(ATAD_STATUS, "home")
    assert not parsing.atad_registered(ATAD_STATUS, "spare")
    assert not parsing.atad_registered(ATAD_STATUS, "missing")
    assert not parsing.atad_registered(["account home: registering"], "home")
    assert not parsing.atad_registered(["account home: failed: 403 Forbidden, retry in 30 s"], "home")


def test_atad_line_states():
    assert parsing.atad_line_states(ATAD_STATUS) == {1: "talking", 2: "idle", 10: "dialing"}


def test_atad_call_media():
    media = parsing.atad_call_media(ATAD_STATUS)
    assert list(media) == [1]
    assert media[1] == {"codec": "PCMU", "ptime_ms": 20, "port": 46878, "sent": 156, "received": 150, "lost": 2,
                        "lost_percent": 1.3, "jitter_ms": 1.5, "buffer_ms": 20, "concealed": 3}


HEAR = [
    "ok",
    "426+440 Hz -19 dBm0 continuous",
    "first sound 3 ms after off-hook",
    "earpiece onset 15175559324065 ns",
    "mouthpiece onset 15175489384921 ns",
    "echo canceller: bulk delay 0 ms",
]


def test_atad_hear_and_onsets():
    assert parsing.atad_heard(HEAR) == ([426, 440], -19)
    assert parsing.atad_heard(["ok", "silence"]) is None
    assert parsing.atad_onsets(HEAR) == {"earpiece": 15175559324065, "mouthpiece": 15175489384921}
    assert parsing.atad_onsets(["ok", "silence"]) == {}


def test_baresip_register_ok_line():
    log = ("baresip is ready.\n"
           "1002@atad.test: {0/UDP/v4} 200 OK (atad-test-kamailio) [1 binding]\n")
    assert parsing.baresip_registered(log)
    assert not parsing.baresip_registered("baresip is ready.\n1002@atad.test: {0/UDP/v4} 401 Unauthorized\n")


def test_figures():
    assert parsing.median([3, None, 1, 2]) == 2
    assert parsing.median([]) is None
    assert parsing.ratio(6, 3) == 2
    assert parsing.ratio(1, 0) is None
    assert parsing.ratio(None, 3) is None
    assert parsing.format_bytes(978752) == "978,752 B (955.8 KiB)"
    assert parsing.format_bytes(15665992) == "15,665,992 B (14.94 MiB)"


def test_rig_bench_result_from_the_console():
    console = ("rig: ready at 3.1 s: running /x/command.sh\n"
               "rig-bench: gpio: idle on hook, 10 s\n"
               'RIG-BENCH {"cases": {"gpio": {"idle": {"cpu_s": 0.5}}}}\r\n'
               "rig: command exited with 0 at 90.2 s\n")
    assert parsing.rig_bench_result(console) == {"cases": {"gpio": {"idle": {"cpu_s": 0.5}}}}
    assert parsing.rig_bench_result("rig: FAILED: modprobe gpio-sim\n") is None


DOCUMENT = """# Benchmarks

## Results

table

## The gpio path on the rig

old table

## Goals (issue 7)

goals
"""


def test_splice_replaces_a_section_in_place():
    text = parsing.splice_section(DOCUMENT, "## The gpio path on the rig", "## The gpio path on the rig\n\nnew\n")
    assert text == DOCUMENT.replace("old table", "new")


def test_splice_inserts_a_missing_section_before_another_or_at_the_end():
    without = DOCUMENT.replace("## The gpio path on the rig\n\nold table\n\n", "")
    section = "## The gpio path on the rig\n\nnew\n"
    assert parsing.splice_section(without, "## The gpio path on the rig", section, before="## Goals (issue 7)") \
        == DOCUMENT.replace("old table", "new")
    assert parsing.splice_section(without, "## The gpio path on the rig", section, before="## Nowhere") \
        == without + "\n" + section + "\n"
    assert parsing.splice_section("", "## A", "## A\n\nx") == "## A\n\nx\n\n"


def test_splice_replaces_the_last_section():
    text = "# T\n\n## A\n\na\n\n## B\n\nold\n"
    assert parsing.splice_section(text, "## B", "## B\n\nnew\n") == "# T\n\n## A\n\na\n\n## B\n\nnew\n\n"
