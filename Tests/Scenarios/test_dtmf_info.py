"""Keys pressed during a call sent as SIP INFO (`dtmf_relay = info`): each
key goes out when it is released, as an in-dialog INFO with
`application/dtmf-relay` (Signal, Duration), one at a time, its tone muted
from the RTP audio. Against a second atad (which plays received INFO to its
line) and against SIPp checking the requests. Real binaries, loopback."""

import re
import time

from conftest import UNDER_QEMU, wait_until, write_site
from sip_peers import sipp  # noqa: F401 (fixture)
from test_call_media import HEAR_POLL, connect, heard_frequencies, line_state, media_line, start_pair

# How long the key is held, and how long after pressing it the detector's
# onset may still be heard: the tone is muted once the detector has a
# candidate, so its first two 10 ms frames reach the far end (as with RFC
# 4733; no DTMF receiver takes 20 ms for a key). Under qemu everything is
# slower, so the key is held longer.
HOLD_MS = 3000 if UNDER_QEMU else 1500
ONSET = 1.0 if UNDER_QEMU else 0.25

SENT = re.compile(r"^line 1: key (\S) \((\d+) ms\) to the far end by SIP INFO$")
RECEIVED = re.compile(r"^line 1: key (\S) from the far end \(SIP INFO, (\d+) ms\)$")
HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")


def heard_key_sound(daemon):
    """The `hear` line when the earpiece has the 5's pair (770+1336 Hz) in
    its last second, else None."""
    for text in daemon.ctl("hear", "1").out_lines:
        match = HEARD.match(text)
        if match and match.group(1) == "770+1336":
            return text
    return None


def matches(daemon, pattern):
    """(key, milliseconds) of every log line matching `pattern`, in order."""
    found = []
    for _, message in daemon.log_messages():
        match = pattern.match(message)
        if match:
            found.append((match.group(1), int(match.group(2))))
    return found


def test_keys_reach_the_other_atad_by_info_and_not_in_band(daemons, tmp_path, short_dir):
    """A (dtmf_relay = info) calls B. A key held 1.5 s on A: while it is
    held B hears nothing of it past its onset (muted from the audio, and
    the INFO waits for the release); after the release B's earpiece plays
    it for the duration A measured. Then two quick keys: two INFO, in
    order."""
    a, b = start_pair(daemons, tmp_path, short_dir, a_extra="dtmf_relay = info\n")
    connect(a, b)
    assert a.ctl("dtmf", "1", "5", "--on", str(HOLD_MS)).returncode == 0
    pressed = time.monotonic()
    quiet_polls = 0
    while time.monotonic() - pressed < HOLD_MS / 1000 - 0.5:
        heard = heard_key_sound(b)
        after = time.monotonic() - pressed
        if after > ONSET:
            assert heard is None, f"B heard the key {after:.2f} s after it was pressed, still held: in band ({heard})"
            quiet_polls += 1
        time.sleep(HEAR_POLL)
    assert quiet_polls >= 2
    assert matches(b, RECEIVED) == [], "no INFO before the key is released"
    try:
        wait_until(lambda: sorted(heard_frequencies(b)) == [770, 1336], 10,
                   "B to play the 5 received by INFO", interval=HEAR_POLL)
    except AssertionError as error:
        raise AssertionError(f"{error}\nA:\n{a.log()}\nB:\n{b.log()}\nB hears: {b.ctl('hear', '1').out_lines}")
    wait_until(lambda: matches(b, RECEIVED), 5, "B to log the INFO")
    (key, duration), = matches(b, RECEIVED)
    assert key == "5" and HOLD_MS - 100 <= duration <= HOLD_MS + 100, (key, duration)
    assert matches(a, SENT) == [("5", duration)], a.log()

    assert a.ctl("dtmf", "1", "12", "--on", "100", "--off", "60").returncode == 0
    wait_until(lambda: len(matches(b, RECEIVED)) == 3, 10, "B to receive two more keys")
    assert [k for k, _ in matches(b, RECEIVED)] == ["5", "1", "2"]
    assert all(60 <= ms <= 140 for _, ms in matches(b, RECEIVED)[1:]), matches(b, RECEIVED)
    wait_until(lambda: "digits sent 3 " in (media_line(a) or ""), 5, "A's status to count three keys sent")
    wait_until(lambda: "received 3" in (media_line(b) or ""), 5, "B's status to count three keys received")
    assert "refused keys" not in a.log()

    assert a.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(a).startswith("idle"), 5, "A idle after hanging up")
    wait_until(lambda: not line_state(b).startswith("talking"), 5, "B to learn of the hang-up")


def call_sipp(daemons, tmp_path, short_dir, sipp, scenario):
    """SIPp runs `scenario` as the far end; atad (an account with
    `dtmf_relay = info` that calls it directly) dials 9123 and the call is
    up. Returns (SIPp, daemon). The number is dialed with pulses: SIPp
    answers at once, while the last DTMF digit of the number would still
    sound, and a key pressed straight after it would run into that digit
    (which belongs to the dialing and is not sent: the same digit again
    would be taken for it)."""
    uas = sipp.uas(scenario, timeout=20)
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        f"[account direct]\nuser = 1001\ndomain = {uas.address[0]}:{uas.address[1]}\nregister = no\n"
        "dtmf_relay = info\n[line 1]\naccount = direct\ndial_plan = (9xxx)\n"))
    daemon = daemons.start(site, control, tmp_path)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("pulse", "1", "9123").returncode == 0
    wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 20, "the call to be answered")
    return uas, daemon


def test_sipp_receives_each_key_as_an_info_one_at_a_time(daemons, tmp_path, short_dir, sipp):
    """SIPp answers, then checks two INFO (body by regex, Content-Type,
    CSeq method); it answers the first only after 300 ms, so a second INFO
    sent before that answer would fail its scenario. Then the handset hangs
    up: BYE."""
    uas, daemon = call_sipp(daemons, tmp_path, short_dir, sipp, "uas_info.xml")
    assert daemon.ctl("dtmf", "1", "5#", "--on", "200", "--off", "50").returncode == 0
    wait_until(lambda: len(matches(daemon, SENT)) == 2, 10, "both keys to go out")
    assert [k for k, _ in matches(daemon, SENT)] == ["5", "#"]
    # The second INFO waited for the first's 200 (300 ms after it).
    wait_until(lambda: uas.received("INFO") >= 2, 10, "SIPp to get both INFO")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    infos = [block for block in re.split(r"^-{10,} .*$", uas.messages(), flags=re.M)
             if " message received " in block and "\nINFO sip:" in block]
    # (A retransmission would repeat a CSeq; two keys take two numbers in a row.)
    cseqs = sorted({int(re.search(r"^CSeq: (\d+) INFO", block, re.M).group(1)) for block in infos})
    assert len(cseqs) == 2 and cseqs[1] == cseqs[0] + 1, (cseqs, uas.logs())
    wait_until(lambda: line_state(daemon) == "idle number 9123", 5, "the line to be idle")


def test_a_far_end_that_refuses_info_gets_the_next_keys_in_band(daemons, tmp_path, short_dir, sipp):
    """SIPp answers the first INFO with 415: atad logs it once, sends no
    more INFO in this call (SIPp would fail on one) and the next keys go in
    the audio. The handset's hang-up still ends the call with BYE."""
    uas, daemon = call_sipp(daemons, tmp_path, short_dir, sipp, "uas_info_refused.xml")
    assert daemon.ctl("dtmf", "1", "5", "--on", "200").returncode == 0
    refusal = "line 1: the far end refused keys by SIP INFO (415 Unsupported Media Type); keys go in band for the rest of the call"
    wait_until(lambda: refusal in [m for _, m in daemon.log_messages()], 10, "the refusal to be logged")
    assert daemon.ctl("dtmf", "1", "67", "--on", "100", "--off", "60").returncode == 0
    wait_until(lambda: "digit 7 in call" in daemon.log(), 5, "the line to detect the next keys")
    # Only the refused key went out of band; the others are in the audio.
    media = next(l for l in daemon.ctl("status").out_lines if l.startswith("call line 1: "))
    assert "digits sent 1 " in media, media
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    assert uas.received("INFO") == 1, uas.logs()
    assert [k for k, _ in matches(daemon, SENT)] == ["5"]
    assert sum(1 for _, m in daemon.log_messages() if "refused keys" in m) == 1
