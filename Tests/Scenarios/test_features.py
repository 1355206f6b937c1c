"""Do-not-disturb and call forwarding set from the handset by feature codes
(`[features]`, the North American vertical service codes by default): the
simulated handset dials *78, *72 5551, ... with DTMF, hears the
confirmation tone and then the stutter dial tone while anything is set;
`status` shows what is set; SIPp's INVITEs get 486 (do-not-disturb) or 302
with the target in Contact (forward all, busy, no answer after
`forward_no_answer_seconds`), checked by SIPp itself (uac_busy_here.xml,
uac_forwarded.xml). The settings live in `[general] state_file` and
survive a restart; a state file that does not parse is reported and the
daemon starts anyway. The real binary, on loopback.

The board here has one line: with two, a call the first line turns away
would ring the second, and what the caller gets would depend on that line.
"""

import re
import time

from conftest import wait_until
from sip_peers import sipp  # noqa: F401 (fixture)
from test_caller_id import RATE, goertzel_power, start_recording, stop_recording
from test_incoming_calls import line_state, sip_port

DOMAIN = "example.test"

# `hear 1`: the dial tone's frequencies and level (us), then its cadence.
SOUNDING = re.compile(r"^sounding for (\d+) ms$")
FEATURES = "line 1 features: "



def write_board(tmp_path):
    """The simulated board with one line."""
    board = tmp_path / "one-line.conf"
    board.write_text("[board]\nname = Simulated board\ndriver = sim\n\n[line 1]\n")
    return board


def features_site(tmp_path, short_dir, line_settings="", state_file=None):
    """A site in us with the state file in tmp_path, account `home` (no
    registration; its domain is the forwarding target's host) and line 1
    on it with a dial plan of four digits, so a forwarding code's number
    completes at once. `[general] state_file` goes in [general], which
    write_site() writes itself: the file is written here whole."""
    control = short_dir / "control.sock"
    state = state_file or tmp_path / "state"
    text = (
        "[general]\n"
        f"board = {write_board(tmp_path)}\n"
        "country = us\n"
        "log_level = info\n"
        f"control_socket = {control}\n"
        f"state_file = {state}\n"
        "\n"
        "[sip]\n"
        "listen_address = 127.0.0.1\n"
        "listen_port = 0\n"
        "\n"
        "[account home]\n"
        "user = 1001\n"
        f"domain = {DOMAIN}\n"
        "register = no\n"
        "\n"
        "[line 1]\n"
        "account = home\n"
        "dial_plan = (xxxx)\n"
    ) + line_settings
    site = tmp_path / "site.conf"
    site.write_text(text)
    return site, control, state


def start(daemons, tmp_path, short_dir, line_settings="", state_file=None):
    site, control, state = features_site(tmp_path, short_dir, line_settings, state_file)
    return daemons.start(site, control, tmp_path), state


def restart(daemons, daemon, tmp_path):
    """`quit`, then a new daemon on the same site file (and state file)."""
    assert daemon.ctl("quit").returncode == 0
    assert daemon.wait_exit() == 0, daemon.log()
    return daemons.start(daemon.site, daemon.socket, tmp_path)


def status(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def features_line(daemon):
    """What `status` says is set on line 1, or None when nothing is."""
    return next((line[len(FEATURES):] for line in status(daemon) if line.startswith(FEATURES)), None)


def rang(daemon):
    return any(message.startswith("line 1: incoming call") for _, message in daemon.log_messages())


# ---------------------------------------------------------------------------
# The handset


def lift(daemon):
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "dialtone", 5, "dial tone on line 1", interval=0.05)


def hang_up(daemon):
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "line 1 to be idle", interval=0.05)


def dial_code(daemon, digits, logged):
    """Lifts the handset, dials `digits`, waits for the feature's log line
    and for the dial tone after the confirmation, and hangs up."""
    lift(daemon)
    assert daemon.ctl("dtmf", "1", digits).returncode == 0
    daemon.wait_for_log("info", logged, timeout=10)
    wait_until(lambda: line_state(daemon, 1) == "dialtone", 5, f"dial tone after {digits}'s confirmation",
               interval=0.05)
    hang_up(daemon)


def sounding_ms(daemon):
    """`hear 1`: how long the earpiece's sound has gone on without a break
    (0 while it is quiet)."""
    lines = daemon.ctl("hear", "1").out_lines
    return next((int(m.group(1)) for m in map(SOUNDING.match, lines[1:]) if m), 0)


def tone_runs(samples):
    """The recording as runs of (dial tone?, ms) in 10 ms frames: a frame
    is dial tone when its 350 Hz power is within 10 dB of the loudest
    frame's (the handset's own DTMF, leaking back, has no 350 Hz)."""
    frame = RATE // 100
    powers = [goertzel_power(samples[i:i + frame], 350) for i in range(0, len(samples) - frame + 1, frame)]
    loudest = max(powers, default=0)
    assert loudest > 0, "the recording is silent"
    runs = []
    for power in powers:
        on = power * 10 > loudest
        if runs and runs[-1][0] == on:
            runs[-1][1] += 10
        else:
            runs.append([on, 10])
    return runs


def bursts_before_steady_tone(samples):
    """How many 100 ms on / 100 ms off bursts come right before the steady
    dial tone that ends the recording: 3 for the confirmation tone, 10 for
    the stutter's lead-in, 13 for both."""
    runs = tone_runs(samples)
    assert runs[-1][0] and runs[-1][1] >= 500, f"no steady dial tone at the end: {runs[-12:]}"
    count = 0
    index = len(runs) - 2
    while index >= 1 and not runs[index][0] and 60 <= runs[index][1] <= 140 \
            and runs[index - 1][0] and 60 <= runs[index - 1][1] <= 140:
        count += 1
        index -= 2
    return count, runs


def heard_until_steady(daemon, path, action, what):
    """Records the earpiece while `action` runs and until the dial tone has
    sounded 700 ms without a break; returns the 100/100 bursts before it."""
    start_recording(daemon, path)
    action()
    wait_until(lambda: sounding_ms(daemon) >= 700, 10, f"a steady dial tone after {what}", interval=0.05)
    recording = stop_recording(daemon, path)
    return bursts_before_steady_tone(recording.samples)


def dial_and_hear(daemon, tmp_path, digits, logged, name):
    """Off hook, `digits`, the log line `logged`; returns the bursts heard
    before the steady dial tone (confirmation, then a stutter if anything
    is set), and hangs up."""
    lift(daemon)

    def dial():
        assert daemon.ctl("dtmf", "1", digits).returncode == 0
        daemon.wait_for_log("info", logged, timeout=10)
    bursts = heard_until_steady(daemon, tmp_path / f"{name}.wav", dial, digits)
    assert line_state(daemon, 1) == "dialtone"
    hang_up(daemon)
    return bursts


def lifted_and_heard(daemon, tmp_path, name):
    """Lifts the handset: the bursts before the steady dial tone (10: a
    stutter, 0: plain dial tone); hangs up."""
    bursts = heard_until_steady(daemon, tmp_path / f"{name}.wav",
                                lambda: daemon.ctl("hook", "1", "off"), "lifting the handset")
    hang_up(daemon)
    return bursts


# ---------------------------------------------------------------------------
# The caller


def invite(sipp, daemon, scenario, **keys):
    return sipp.uac(scenario, remote=("127.0.0.1", sip_port(daemon)), service="1001",
                    keys={"caller": "2000", **keys}, timeout=15)


def refused_busy(sipp, daemon):
    """An INVITE gets 486 without a 180 (SIPp checks) and rings nothing."""
    invite(sipp, daemon, "uac_busy_here.xml").assert_success()
    assert not rang(daemon), daemon.log()
    assert daemon.ctl("ringing", "1").out_lines[1] == "no"
    assert line_state(daemon, 1) == "idle"


def rings(sipp, daemon):
    """An INVITE rings line 1; SIPp cancels it 2 s after the 180."""
    uac = sipp.uac("uac_cancel.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=15, extra=["-d", "2000"])
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring", interval=0.05)
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the bell to stop after the CANCEL", interval=0.05)


def forwarded(sipp, daemon, number):
    """SIPp's INVITE gets 302 with Contact <sip:NUMBER@DOMAIN> (SIPp checks
    the URI); returns the finished SIPp."""
    return invite(sipp, daemon, "uac_forwarded.xml", target=f"sip:{number}@{DOMAIN}").assert_success()


# ---------------------------------------------------------------------------
# The tests


def test_do_not_disturb_refuses_calls_and_survives_a_restart(daemons, tmp_path, short_dir, sipp):
    """*78: the log says so, the handset hears the confirmation tone (three
    100/100 ms bursts of the dial tone's frequencies) and then the stutter
    dial tone (ten more), recorded and counted; lifted again, the dial
    tone stutters. An INVITE gets 486 and the
    line never rings; `status` says do-not-disturb. After a restart the
    same, read from the state file. *79: the dial tone is steady again,
    `status` has no features line and a call rings."""
    daemon, state = start(daemons, tmp_path, short_dir)
    assert features_line(daemon) is None

    count, runs = dial_and_hear(daemon, tmp_path, "*78", "line 1: do-not-disturb on", "dnd-on")
    assert count == 13, f"confirmation (3) and stutter (10) bursts expected: {runs}"
    count, runs = lifted_and_heard(daemon, tmp_path, "reminder")
    assert count == 10, f"a stutter dial tone expected: {runs}"

    assert features_line(daemon) == "do-not-disturb"
    refused_busy(sipp, daemon)
    assert state.is_file(), f"no state file at {state}"
    assert "[line 1]" in state.read_text() and "dnd = yes" in state.read_text(), state.read_text()

    daemon = restart(daemons, daemon, tmp_path)
    assert features_line(daemon) == "do-not-disturb", status(daemon)
    refused_busy(sipp, daemon)
    count, runs = lifted_and_heard(daemon, tmp_path, "reminder-after-restart")
    assert count == 10, f"a stutter dial tone expected after the restart: {runs}"

    count, runs = dial_and_hear(daemon, tmp_path, "*79", "line 1: do-not-disturb off", "dnd-off")
    assert count == 3, f"the confirmation tone, then plain dial tone, expected: {runs}"
    count, runs = lifted_and_heard(daemon, tmp_path, "plain")
    assert count == 0, f"a plain dial tone expected: {runs}"
    assert features_line(daemon) is None, status(daemon)
    rings(sipp, daemon)


def test_forward_all_redirects_with_the_target_as_contact(daemons, tmp_path, short_dir, sipp):
    """*72 5551: an INVITE gets 302 whose Contact is <sip:5551@DOMAIN>,
    the domain of the line's account, and the line never rings; *73 clears
    it and a call rings again."""
    daemon, _ = start(daemons, tmp_path, short_dir)
    dial_code(daemon, "*725551", "line 1: forwarding all calls to 5551")
    assert features_line(daemon) == "forward all to 5551", status(daemon)

    uac = forwarded(sipp, daemon, "5551")
    assert uac.received("SIP/2.0 180") == 0, "forwarding all calls rings nothing"
    assert not rang(daemon), daemon.log()
    assert line_state(daemon, 1) == "idle"

    dial_code(daemon, "*73", "line 1: forwarding all calls off")
    assert features_line(daemon) is None, status(daemon)
    rings(sipp, daemon)


def test_forward_when_busy_and_when_unanswered(daemons, tmp_path, short_dir, sipp):
    """`forward_no_answer_seconds = 2`, *92 5553: an INVITE rings the line
    (180), and 2 s later gets 302 to 5553 and the bell stops. *90 5552 and
    the handset off hook: an INVITE gets 302 to 5552 at once, without a
    180. `status` lists both; *91 and *93 clear them."""
    daemon, _ = start(daemons, tmp_path, short_dir, line_settings="forward_no_answer_seconds = 2\n")
    dial_code(daemon, "*925553", "line 1: forwarding unanswered calls to 5553")
    assert features_line(daemon) == "forward no answer to 5553 after 2 s", status(daemon)

    began = time.monotonic()
    uac = invite(sipp, daemon, "uac_forwarded.xml", target=f"sip:5553@{DOMAIN}")
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring before the forwarding", interval=0.05)
    uac.assert_success()
    waited = time.monotonic() - began
    assert 1.8 <= waited <= 8, f"the 302 came {waited:.1f} s after the INVITE, not about 2 s"
    assert uac.received("SIP/2.0 180") >= 1
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the bell to stop after the forwarding", interval=0.05)
    assert daemon.ctl("ringing", "1").out_lines[1] == "no"

    dial_code(daemon, "*905552", "line 1: forwarding when busy to 5552")
    assert features_line(daemon) == "forward busy to 5552, forward no answer to 5553 after 2 s", status(daemon)

    lift(daemon)
    uac = forwarded(sipp, daemon, "5552")
    assert uac.received("SIP/2.0 180") == 0, "a busy line rings nothing"
    assert line_state(daemon, 1) == "dialtone"
    hang_up(daemon)

    dial_code(daemon, "*91", "line 1: forwarding when busy off")
    assert features_line(daemon) == "forward no answer to 5553 after 2 s", status(daemon)
    dial_code(daemon, "*93", "line 1: forwarding unanswered calls off")
    assert features_line(daemon) is None, status(daemon)


def test_a_bad_state_file_is_reported_and_the_daemon_starts(daemons, tmp_path, short_dir):
    """A state file with a key atad does not know: a warning naming the
    file and line, the daemon runs with nothing set, and a code still
    works."""
    state = tmp_path / "state"
    state.write_text("[line 1]\nnonsense = 1\n")
    daemon, _ = start(daemons, tmp_path, short_dir, state_file=state)

    def warned():
        return [message for level, message in daemon.log_messages()
                if level == "warn" and message.startswith(f"{state}:2: error: ")]
    wait_until(warned, 5, f"a warning about {state}:2; log:\n{daemon.log()}")
    assert daemon.running()
    assert status(daemon)[0] == "ok"
    assert features_line(daemon) is None, status(daemon)

    dial_code(daemon, "*78", "line 1: do-not-disturb on")
    assert features_line(daemon) == "do-not-disturb", status(daemon)
