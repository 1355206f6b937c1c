"""Call waiting (issue 16, item 2; its type II caller ID is in
test_call_waiting_caller_id.py), with
the real binary on the simulated board and real SIPp far ends on
loopback:

- the phone talking to SIPp A (line 1 called it), SIPp B's INVITE is not
  refused: B gets 180 and no final answer, `status` says
  `line 1 waiting: CALLID`, and the earpiece hears the call-waiting tone
  (us: 440 Hz, -13 dBm0, 300 ms every 10 s, the first burst at once)
  over A's audio;
- a flash holds A (re-INVITE, a=sendonly) and answers B (200); from there
  it is the hold feature: a flash swaps, hanging up rings back for the
  held call;
- hanging up while B waits ends A (BYE) and rings the line for B, with
  B's caller ID; lifting the handset answers B (200);
- A hanging up while B waits gives busy tone, and a flash on it answers
  B (200);
- B giving up (CANCEL: 200 and 487) stops the tone and takes the
  `waiting:` line away; A's call goes on;
- with `call_waiting = no`, B gets 486; with a call already waiting, a
  third one gets 486;
- *70 dialed before the number: B gets 486 during that call only; the
  next call (after a hang-up) lets a second caller wait again.

SIPp checks what it can itself (the new peers/uac_waiting_*.xml: no 180,
a final answer too early, a re-INVITE in the wrong direction all fail the
call, so SIPp exits non-zero); the test checks the rest from SIPp's
-trace_msg log and from recordings of the earpiece (Goertzel per 10 ms
frame). The board has one line, as in test_hold.py, whose helpers this
file uses.

Waits are conditions on `status`, `hear`, `ringing`, the log and SIPp's
trace, polled against deadlines (longer under qemu, ATAD_UNDER_QEMU); the
only fixed duration is the 10.5 s over which no second burst may come
after the waiting caller gave up."""

import shutil
import time

from conftest import write_site
from rtp_peer import wait_sipp_sdp
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import sipp  # noqa: F401 (fixture)
from test_call_media import sip_port, status_of
from test_caller_id import BELL202, RATE, mdmf_message, minimodem_bytes, stop_recording
from test_dialogs import exchange, parse_trace
from test_hold import (HANG_UP_TIMEOUT, HELD, POLL, SIGNAL_TIMEOUT, SIPP_TIMEOUT, SLOW, call_id, check_sdps,
                       ctl_ok, details, earpiece_at, flash, place_call, ring_bursts, ringing, rtp, tell_go,
                       tone_level, wait_for, wait_reinvites, write_board)

WAITING = "line 1 waiting: "

# us call-waiting tone: 440 Hz at -13 dBm0, 300 ms on, 9700 ms off.
CW_TONE = 440
CW_BURST_MS = 300
CW_PERIOD_MS = 10000
# A's voice: a tone well away from 440 Hz.
FAR_TONE = 1000
FAR_LEVEL = -10.0
# A 10 ms frame has the tone when it is louder than this (the burst is at
# -13 dBm0 and measures -12 to -14; A's 1000 Hz leaks into a 10 ms 440 Hz
# Goertzel at about -33).
CW_ON = -25.0
FAR_ON = -20.0          # A's tone heard in a 10 ms frame (sent at -10)
# `hear 1 440` over its one-second window: a 300 ms burst at -13 dBm0
# reads about -23; gone, well below this.
HEARD = -32.0
GONE = -45.0
FRAME_MS = 10
# How far a measured duration may be off: edge frames, and under qemu the
# emulated CPU's late frames (as test_caller_id's LAG).
SLACK_MS = 40 + (300 if SLOW > 1 else 0)
# After the waiting caller gave up: the next burst would come 10 s after
# the first began; this long, none may come.
NO_BURST_SECONDS = 10.5
RECORD_SECONDS = 60

CALLER_B = "2002"
CALLER_C = "2003"


# ---------------------------------------------------------------------------
# atad and the line


def start(daemons, tmp_path, short_dir, uas, line_settings=""):
    """atad on a one-line board, line 1 dialing 9xxx straight at the SIPp
    `uas` (as test_hold.start), `line_settings` added to `[line 1]`."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", board=write_board(tmp_path), extra=(
        "rtp_timeout_seconds = 0\n"
        f"[account direct]\nuser = 1001\ndomain = 127.0.0.1:{uas.port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (9xxx)\n" + line_settings))
    return daemons.start(site, control, tmp_path)


def snapshot(daemon):
    """(the first word of line 1's state, the held call's Call-ID or None,
    the waiting call's Call-ID or None), from one `status`."""
    lines = status_of(daemon)
    state = next((l[len("line 1: "):] for l in lines if l.startswith("line 1: ")), "")
    held = next((l[len(HELD):] for l in lines if l.startswith(HELD)), None)
    waiting = next((l[len(WAITING):] for l in lines if l.startswith(WAITING)), None)
    return (state.split() or [""])[0], held, waiting


def wait_line(daemon, state, held, waiting, what, *sipps, timeout=SIGNAL_TIMEOUT):
    wait_for(lambda: snapshot(daemon) == (state, held, waiting), timeout,
             f"{what}: line 1 {state}, held {held}, waiting {waiting}", daemon, *sipps)


def second_caller(sipp, daemon, scenario, caller=CALLER_B, peer=None):
    """SIPp calling line 1's account from another number; `peer` (an
    RtpPeer) for the scenarios whose SDP points at the test's own."""
    keys = {"caller": caller, **(rtp(peer) if peer else {})}
    return sipp.uac(scenario, remote=("127.0.0.1", sip_port(daemon)), service="1001", keys=keys,
                    timeout=SIPP_TIMEOUT)


def wait_waiting(daemon, caller, *others):
    """Waits until `caller` (SIPp) has had its 180 and `status` says its
    call waits on line 1, the line talking with nothing held; returns the
    waiting Call-ID. Fails at once when SIPp gave up."""
    def rung():
        if not caller.running() and caller.process.returncode != 0:
            raise AssertionError(f"SIPp {caller.name} failed (exit {caller.process.returncode}) before "
                                 f"its call waited:\n{caller.logs()}\n{details(daemon)}")
        return any(m.received and m.code == 180 for m in parse_trace(caller))
    wait_for(rung, SIGNAL_TIMEOUT, f"SIPp {caller.name}'s 180", daemon, caller, *others)
    b = call_id(caller)
    wait_line(daemon, "talking", None, b, "the second call to wait", caller, *others)
    return b


def finals(sipp):
    """The final responses SIPp received to its INVITE."""
    return [m for m in parse_trace(sipp) if m.received and m.code and m.code >= 200
            and m.cseq.endswith(" INVITE")]


def far_end_talks(daemon, uas, peer):
    """A's RtpPeer sends 1000 Hz at atad's RTP address for as long as the
    test may take (stopping the peer ends it); waits until the earpiece
    hears it."""
    ip, port, _ = wait_sipp_sdp(uas)
    peer.remote = (ip, port)
    peer.send_tone_async(FAR_TONE, duration=SIPP_TIMEOUT, level_dbm0=FAR_LEVEL)
    wait_for(lambda: earpiece_at(daemon, FAR_TONE)[0] >= FAR_ON, SIGNAL_TIMEOUT,
             f"the earpiece to hear A's {FAR_TONE} Hz", daemon, uas)


def hang_up_a(daemon, uas, *others):
    """The handset hangs up the call with A (nothing waiting or held):
    A gets its BYE, the line is idle and does not ring."""
    ctl_ok(daemon, "hook", "1", "on")
    uas.assert_success()
    wait_line(daemon, "idle", None, None, "the hang-up", uas, *others, timeout=HANG_UP_TIMEOUT)
    assert not ringing(daemon), daemon.ctl("ringing", "1").out_lines


# ---------------------------------------------------------------------------
# The earpiece


def start_recording(daemon, path):
    ctl_ok(daemon, "record", "1", str(path), str(RECORD_SECONDS))


def frame_levels(samples, hertz):
    """The level (dBm0) of `hertz` in each 10 ms frame."""
    frame = RATE * FRAME_MS // 1000
    return [tone_level(samples[i:i + frame], hertz) for i in range(0, len(samples) - frame + 1, frame)]


def runs_above(levels, threshold):
    """The stretches of frames at or above `threshold`: [(start ms, length
    ms)], in order."""
    runs = []
    for index, level in enumerate(levels):
        if level < threshold:
            continue
        if runs and runs[-1][0] + runs[-1][1] == index * FRAME_MS:
            runs[-1][1] += FRAME_MS
        else:
            runs.append([index * FRAME_MS, FRAME_MS])
    return [tuple(run) for run in runs]


def wait_burst_heard(daemon, *sipps):
    """Waits until `hear` has the call-waiting tone in its window, then
    until the window has let it go: a burst has come and gone."""
    wait_for(lambda: earpiece_at(daemon, CW_TONE)[0] >= HEARD, SIGNAL_TIMEOUT,
             f"the earpiece to hear the call-waiting tone's {CW_TONE} Hz", daemon, *sipps)
    wait_for(lambda: earpiece_at(daemon, CW_TONE)[0] <= GONE, SIGNAL_TIMEOUT,
             "the call-waiting tone's burst to end", daemon, *sipps)


def one_burst(recording):
    """The one call-waiting burst in the recording: (start ms, length ms);
    fails when there are none or several, or it is not 300 ms."""
    bursts = runs_above(frame_levels(recording.samples, CW_TONE), CW_ON)
    assert len(bursts) == 1, f"{CW_TONE} Hz bursts (start ms, ms) in {recording.recorded_ms} ms: {bursts}"
    start, length = bursts[0]
    assert abs(length - CW_BURST_MS) <= SLACK_MS, f"the burst lasted {length} ms, not {CW_BURST_MS}: {bursts}"
    return start, length


# ---------------------------------------------------------------------------
# The tests


def test_a_second_call_waits_with_the_call_waiting_tone_over_the_call(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 calls SIPp A, whose RtpPeer sends 1000 Hz. SIPp B calls:
    it gets 180 and no final answer, the line goes on talking to A and
    `status` says `line 1 waiting:` with B's Call-ID. The earpiece,
    recorded from before B's INVITE until `hear` has had the tone and let
    it go, has one 440 Hz burst of 300 ms, begun at once (within 500 ms of
    `status` showing the wait), with A's 1000 Hz heard through it and
    around it (but for the caller ID alert just after the burst, which
    cuts A off for 340 ms as this phone does not answer it). B gives up (CANCEL: 200, 487; B's scenario) and the handset
    hangs up: A gets its BYE."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    far_end_talks(daemon, a_side, peer_a)

    path = tmp_path / "waiting.wav"
    before_recording = time.monotonic()
    start_recording(daemon, path)
    b_side = second_caller(sipp, daemon, "uac_waiting_cancelled.xml")
    both = (a_side, b_side)
    b = wait_waiting(daemon, b_side, a_side)
    waiting_seen = time.monotonic()
    assert b != call_id(a_side)
    wait_burst_heard(daemon, *both)
    recording = stop_recording(daemon, path)
    assert not finals(b_side), f"the waiting call had a final answer:\n{exchange(b_side)}"
    assert snapshot(daemon) == ("talking", None, b), status_of(daemon)

    begun, length = one_burst(recording)
    latest = (waiting_seen - before_recording) * 1000 + 500 * SLOW
    assert begun <= latest, f"the first burst began at {begun} ms, after {latest:.0f} ms (the wait + 500 ms)"
    # A's voice goes on under the tone: its 1000 Hz in the frames of the
    # burst and of the 300 ms before it, and of the 300 ms after the
    # caller ID alert that follows the burst (cut off for the alert and
    # the 260 ms the phone has to answer it, which this one does not:
    # test_call_waiting_caller_id.py).
    far = frame_levels(recording.samples, FAR_TONE)
    after_alert = begun + length + 80 + 260
    around = (far[max(0, (begun - 300) // FRAME_MS):(begun + length) // FRAME_MS]
              + far[(after_alert + SLACK_MS) // FRAME_MS:(after_alert + SLACK_MS + 300) // FRAME_MS])
    quiet = [index for index, level in enumerate(around) if level < FAR_ON]
    # Under emulation the far end's packets come late now and then (gaps
    # of 100 ms): a third may be missing there, still short of the burst's
    # own 30 frames that a tone replacing the voice would take.
    assert len(quiet) <= len(around) // (10 if SLOW == 1 else 3), (
        f"A's {FAR_TONE} Hz was missing from {len(quiet)} of the {len(around)} frames around the burst "
        f"({begun} ms, {length} ms): frames {quiet}")
    assert earpiece_at(daemon, FAR_TONE)[0] >= FAR_ON, "A's audio stopped after the burst"

    tell_go(b_side)
    b_side.assert_success()
    wait_line(daemon, "talking", None, None, "the waiting caller's CANCEL", *both)
    hang_up_a(daemon, a_side, b_side)


def test_a_flash_answers_the_waiting_call_and_holds_the_first(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 talks to SIPp A; SIPp B waits (180, no final answer). A
    flash: A gets a re-INVITE with a=sendonly, B gets 200 (with a=sendrecv;
    B ACKs), the line talks to B and `status` says `held:` A, no
    `waiting:`. A flash swaps: B gets a=sendonly, A a=sendrecv, `held:` B.
    Hanging up sends A a BYE and rings the line back for B; lifting the
    handset takes B back (a=sendrecv) and hanging up again sends B a BYE.
    Both SIPp check each direction and exit 0; every SDP atad sent keeps
    its session, address and codecs, the o= version one up each time."""
    peer_a, peer_b = peers(seed=1), peers(seed=2)
    a_side = sipp.uas("uas_held.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    a = call_id(a_side)
    b_side = second_caller(sipp, daemon, "uac_waiting_answered.xml", peer=peer_b)
    both = (a_side, b_side)
    b = wait_waiting(daemon, b_side, a_side)
    assert not finals(b_side), f"the waiting call had a final answer before the flash:\n{exchange(b_side)}"

    flash(daemon)
    wait_line(daemon, "talking", a, None, "the flash to answer B and hold A", *both)
    wait_reinvites(a_side, 1, "A held by the flash that answers B", daemon)

    def b_answered():
        if not b_side.running() and b_side.process.returncode != 0:
            raise AssertionError(f"SIPp B failed (exit {b_side.process.returncode}):\n{b_side.logs()}")
        answers = finals(b_side)
        acks = [m for m in parse_trace(b_side) if not m.received and m.start.startswith("ACK ")]
        return answers and acks and answers
    answers = wait_for(b_answered, SIGNAL_TIMEOUT, "B's 200 and its ACK", daemon, *both)
    assert [m.code for m in answers][:1] == [200], exchange(b_side)

    flash(daemon)
    wait_line(daemon, "talking", b, None, "the swap back to A", *both)
    wait_reinvites(b_side, 1, "B held by the swap", daemon)
    wait_reinvites(a_side, 2, "A taken back by the swap", daemon)

    ctl_ok(daemon, "hook", "1", "on")
    a_side.assert_success()
    wait_line(daemon, "ringing", b, None, "the ring-back for B after A's BYE", *both, timeout=HANG_UP_TIMEOUT)
    wait_for(lambda: ringing(daemon), SIGNAL_TIMEOUT, "the bell to ring", daemon, *both)

    ctl_ok(daemon, "hook", "1", "off")
    wait_line(daemon, "talking", None, None, "B taken back by answering the ring-back", *both)
    wait_reinvites(b_side, 2, "B taken back after the ring-back", daemon)

    ctl_ok(daemon, "hook", "1", "on")
    b_side.assert_success()
    wait_line(daemon, "idle", None, None, "the hang-up", *both, timeout=HANG_UP_TIMEOUT)
    check_sdps(a_side, ["sendrecv", "sendonly", "sendrecv"])
    check_sdps(b_side, ["sendrecv", "sendonly", "sendrecv"])


def test_hanging_up_while_a_call_waits_rings_the_line_for_it_with_its_caller_id(
        daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 talks to SIPp A; SIPp B (number 2002) waits. The handset
    hangs up: A gets its BYE, the line rings (`ringing`, nothing waiting
    or held) and B still has no final answer. In the first ring pause the
    line sends caller ID (Bell 202 in us) with B's number (decoded by
    minimodem from a recording, where installed). Lifting the handset
    answers B (200 with a=sendrecv; B ACKs): talking. Hanging up sends B a
    BYE."""
    peer_a, peer_b = peers(seed=1), peers(seed=2)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    b_side = second_caller(sipp, daemon, "uac_waiting_rings.xml", peer=peer_b)
    both = (a_side, b_side)
    b = wait_waiting(daemon, b_side, a_side)

    path = tmp_path / "ring.wav"
    start_recording(daemon, path)
    ctl_ok(daemon, "hook", "1", "on")
    a_side.assert_success()
    wait_line(daemon, "ringing", None, None, "the line to ring for the waiting call", *both,
              timeout=HANG_UP_TIMEOUT)
    wait_for(lambda: ringing(daemon), SIGNAL_TIMEOUT, "the bell to ring", daemon, *both)
    # us: 2 s on, 4 s off; caller ID 500 ms into the first pause.
    for message in ("line 1: sending caller ID (bell202)", "line 1: caller ID sent"):
        wait_for(lambda: ("info", message) in daemon.log_messages(), 15.0 * SLOW, f"'{message}'",
                 daemon, *both, interval=0.1)
    wait_for(lambda: ring_bursts(daemon) >= 2, 15.0 * SLOW, "the second ring burst", daemon, *both, interval=0.1)
    recording = stop_recording(daemon, path)
    assert not finals(b_side), f"the waiting call was answered before the handset lifted:\n{exchange(b_side)}"
    if shutil.which("minimodem"):
        message, parameters = mdmf_message(minimodem_bytes(path, BELL202))
        assert dict(parameters).get(0x02) == CALLER_B.encode(), (
            f"caller ID number {dict(parameters).get(0x02)!r}, not {CALLER_B}: {message.hex(' ')}")
    assert recording.times("ring on"), recording.events

    ctl_ok(daemon, "hook", "1", "off")
    wait_line(daemon, "talking", None, None, "the waiting call answered", *both)
    wait_for(lambda: [m.code for m in finals(b_side)][:1] == [200], SIGNAL_TIMEOUT, "B's 200", daemon, *both)
    assert call_id(b_side) == b
    ctl_ok(daemon, "hook", "1", "on")
    b_side.assert_success()
    wait_line(daemon, "idle", None, None, "the hang-up", *both, timeout=HANG_UP_TIMEOUT)
    assert not ringing(daemon), daemon.ctl("ringing", "1").out_lines
    check_sdps(b_side, ["sendrecv"])


def test_a_flash_on_busy_tone_answers_a_call_still_waiting(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 talks to SIPp A; SIPp B waits. A hangs up (its BYE, on the
    test's cue: uas_media_bye_on_cue.xml): the line gives busy tone, B
    still waits with no final answer. A flash answers B (200 with
    a=sendrecv; B ACKs): talking, nothing waiting. Hanging up sends B its
    BYE."""
    peer_a, peer_b = peers(seed=1), peers(seed=2)
    a_side = sipp.uas("uas_media_bye_on_cue.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    b_side = second_caller(sipp, daemon, "uac_waiting_rings.xml", peer=peer_b)
    both = (a_side, b_side)
    b = wait_waiting(daemon, b_side, a_side)

    tell_go(a_side)
    a_side.assert_success()
    wait_line(daemon, "busy", None, b, "busy tone after A's BYE, B still waiting", *both)
    assert not finals(b_side), f"B was answered before the flash:\n{exchange(b_side)}"
    flash(daemon)
    wait_line(daemon, "talking", None, None, "the flash to answer B", *both)
    wait_for(lambda: [m.code for m in finals(b_side)][:1] == [200], SIGNAL_TIMEOUT, "B's 200", daemon, *both)
    assert call_id(b_side) == b
    ctl_ok(daemon, "hook", "1", "on")
    b_side.assert_success()
    wait_line(daemon, "idle", None, None, "the hang-up", *both, timeout=HANG_UP_TIMEOUT)
    check_sdps(b_side, ["sendrecv"])


def test_the_waiting_caller_giving_up_stops_the_call_waiting_tone(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 talks to SIPp A (1000 Hz from its RtpPeer); SIPp B waits and
    the first 440 Hz burst comes and goes. B cancels: 200 and 487 (B's
    scenario), the `waiting:` line goes, the line talks on with A (its
    1000 Hz still heard). Recorded from before B's INVITE until 10.5 s
    after the cancel: the first burst only, no second one where it would
    have come (10 s after the first began)."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    far_end_talks(daemon, a_side, peer_a)

    path = tmp_path / "cancelled.wav"
    start_recording(daemon, path)
    b_side = second_caller(sipp, daemon, "uac_waiting_cancelled.xml")
    both = (a_side, b_side)
    wait_waiting(daemon, b_side, a_side)
    wait_burst_heard(daemon, *both)

    tell_go(b_side)
    b_side.assert_success()
    wait_line(daemon, "talking", None, None, "the waiting line to go after B's CANCEL", *both)
    answers = {(m.cseq.split()[1], m.code) for m in parse_trace(b_side) if m.received and m.code and m.code >= 200}
    assert answers == {("CANCEL", 200), ("INVITE", 487)}, f"final answers {answers}:\n{exchange(b_side)}"

    # Nothing is to happen now but the call with A: watch it for 10.5 s.
    end = time.monotonic() + NO_BURST_SECONDS
    for _ in range(int(NO_BURST_SECONDS / POLL) + 2):
        assert snapshot(daemon) == ("talking", None, None), status_of(daemon)
        if time.monotonic() >= end:
            break
        time.sleep(POLL)
    recording = stop_recording(daemon, path)
    begun, _ = one_burst(recording)
    assert recording.recorded_ms >= begun + CW_PERIOD_MS + 500, (
        f"recorded {recording.recorded_ms} ms: not past where a second burst would begin ({begun} + 10000 ms)")
    assert earpiece_at(daemon, FAR_TONE)[0] >= FAR_ON, "A's audio stopped"
    hang_up_a(daemon, a_side)


def test_call_waiting_off_gives_a_second_caller_busy(daemons, tmp_path, short_dir, sipp, peers):
    """`[line 1] call_waiting = no`: line 1 talking to SIPp A, SIPp B's
    INVITE gets 486 without a 180 (uac_busy_here.xml); the line talks on,
    nothing waits, the log has no waiting call. Hanging up ends A."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side, line_settings="call_waiting = no\n")
    place_call(daemon, a_side)

    sipp.uac("uac_busy_here.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
             keys={"caller": CALLER_B}, timeout=15.0 * SLOW).assert_success()
    assert snapshot(daemon) == ("talking", None, None), status_of(daemon)
    waits = [m for _, m in daemon.log_messages() if m.endswith(" waits")]
    assert not waits, waits
    hang_up_a(daemon, a_side)


def test_a_third_call_while_one_waits_gets_486(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 talks to SIPp A; SIPp B waits. SIPp C's INVITE gets 486
    without a 180 (uac_busy_here.xml); B still waits (`waiting:` B), the
    line talks on. B gives up (CANCEL) and the handset hangs up: A gets
    its BYE."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    place_call(daemon, a_side)
    b_side = second_caller(sipp, daemon, "uac_waiting_cancelled.xml")
    both = (a_side, b_side)
    b = wait_waiting(daemon, b_side, a_side)

    sipp.uac("uac_busy_here.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
             keys={"caller": CALLER_C}, timeout=15.0 * SLOW).assert_success()
    assert snapshot(daemon) == ("talking", None, b), status_of(daemon)
    assert b_side.running() and not finals(b_side), exchange(b_side)

    tell_go(b_side)
    b_side.assert_success()
    wait_line(daemon, "talking", None, None, "the waiting caller's CANCEL", *both)
    hang_up_a(daemon, a_side, b_side)


def test_star_seventy_turns_call_waiting_off_for_the_call_it_dials(daemons, tmp_path, short_dir, sipp, peers):
    """Off hook, *70 (the log says so, dial tone comes back), then 9123 to
    SIPp A: SIPp B's INVITE gets 486 without a 180 (uac_busy_here.xml),
    the line talks on. Hanging up ends it: the next call, to SIPp A2
    (on A's port) without *70, has call waiting again (SIPp C waits, then gives up)."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side)
    ctl_ok(daemon, "hook", "1", "off")
    ctl_ok(daemon, "dtmf", "1", "*70")
    daemon.wait_for_log("info", "line 1: call waiting off for the next call", timeout=SIGNAL_TIMEOUT)
    wait_line(daemon, "dialtone", None, None, "dial tone after *70's confirmation", a_side)
    ctl_ok(daemon, "dtmf", "1", "9123")
    wait_line(daemon, "talking", None, None, "the call to 9123 to be answered", a_side)

    sipp.uac("uac_busy_here.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
             keys={"caller": CALLER_B}, timeout=15.0 * SLOW).assert_success()
    assert snapshot(daemon) == ("talking", None, None), status_of(daemon)
    hang_up_a(daemon, a_side)

    peer_a2 = peers(seed=2)
    # A's SIPp has exited: A2 takes its port, where the account points.
    a2_side = sipp.uas("uas_media.xml", keys=rtp(peer_a2), timeout=SIPP_TIMEOUT, port=a_side.port,
                       name="uas_media_next")
    place_call(daemon, a2_side)
    c_side = second_caller(sipp, daemon, "uac_waiting_cancelled.xml", caller=CALLER_C)
    wait_waiting(daemon, c_side, a2_side)
    tell_go(c_side)
    c_side.assert_success()
    wait_line(daemon, "talking", None, None, "the waiting caller's CANCEL", a2_side, c_side)
    hang_up_a(daemon, a2_side, c_side)
