"""Hold and a second call (issue 16, item 3), with the real binary on the
simulated board and real SIPp far ends on loopback:

- talking on a call, a hook flash puts it on hold: atad re-INVITEs it
  with `a=sendonly` (same codecs, the o= version one up), the line gets
  recall dial tone (the stutter dial tone) and `status` says
  `line 1 held: CALLID`; a second flash takes it back (`a=sendrecv`);
- the handset may dial a second call meanwhile; a flash while talking on
  it swaps the two (each re-INVITEd), and another swaps back;
- hanging up with a call held ends the active one (BYE) and rings the
  line back (no caller ID); lifting the handset takes the held call back;
- a ring-back nobody answers ends the held call (BYE) after
  `hold_recall_seconds`, and the bell stops;
- the held party hanging up takes the `held:` line away and the line goes
  on as it was: no ring-back after an on-hook, and a ring-back that is
  ringing stops;
- an INVITE while a call is held gets 486;
- while held, the far end's audio is not heard on the line and the
  handset's does not reach the far end; both come back with the call.

SIPp checks each re-INVITE's direction itself (peers/uas_held.xml,
uas_held_hangs_up.xml, uac_held_swapped.xml: a wrong one fails the call,
so SIPp exits non-zero); the test checks the rest of each SDP atad sent
from SIPp's -trace_msg log. Every far end's SDP points at an RtpPeer of
the test's own, which receives atad's RTP (and, in the media test, sends
a tone). The board has one line, so that an INVITE the held line turns
away cannot ring another one.

Waits are conditions on `status`, `ringing`, `hear` and SIPp's trace,
polled against deadlines (longer under qemu, ATAD_UNDER_QEMU); the only
fixed durations are the stretches over which something must stay absent
(no ring-back, no far-end audio), each bounded."""

import math
import re
import socket
import time
import uuid

from conftest import UNDER_QEMU, wait_until, write_site
from rtp_peer import FULL_SCALE_DBM0, goertzel_power, wait_sipp_sdp
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import sipp  # noqa: F401 (fixture)
from test_call_media import sip_port, status_of
from test_dialogs import exchange, parse_trace
from test_features import heard_until_steady

# The emulated CPU is many times slower: every deadline grows with it.
SLOW = 3 if UNDER_QEMU else 1
SIGNAL_TIMEOUT = 10.0 * SLOW   # a SIP exchange and the line's change after it
HANG_UP_TIMEOUT = 5.0 * SLOW   # the on-hook is a hang-up after 1100 ms in us
SIPP_TIMEOUT = 90.0 * SLOW     # each SIPp's whole scenario
POLL = 0.05
# How long the line must stay quiet (no ring-back, no far-end audio).
OBSERVE = 2.0

HELD = "line 1 held: "
AT = re.compile(r"^at (\d+) Hz: (?:(-?\d+) dBm0|silence)$")
HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")

# The media test: the far end's tone, the handset's, and what counts as
# heard (both are sent at -10 dBm0) or as nothing.
FAR_TONE = 1000
HANDSET_TONE = 550      # far from the DTMF groups and the dial tone's 350+440
LOUD = -25.0
QUIET = -45.0


# ---------------------------------------------------------------------------
# atad


def write_board(tmp_path):
    """The simulated board with one line."""
    board = tmp_path / "one-line.conf"
    board.write_text("[board]\nname = Simulated board\ndriver = sim\n\n[line 1]\n")
    return board


def start(daemons, tmp_path, short_dir, uas, line_settings=""):
    """atad on a one-line board, line 1 dialing 9xxx straight at the SIPp
    `uas`, `line_settings` added to `[line 1]`. The far ends send no RTP
    but in the media test, so the RTP timeout is off."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", board=write_board(tmp_path), extra=(
        "rtp_timeout_seconds = 0\n"
        f"[account direct]\nuser = 1001\ndomain = 127.0.0.1:{uas.port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (9xxx)\n" + line_settings))
    return daemons.start(site, control, tmp_path)


def snapshot(daemon):
    """(the first word of line 1's state, the held call's Call-ID or None),
    from one `status`."""
    lines = status_of(daemon)
    state = next((l[len("line 1: "):] for l in lines if l.startswith("line 1: ")), "")
    held = next((l[len(HELD):] for l in lines if l.startswith(HELD)), None)
    return (state.split() or [""])[0], held


def ringing(daemon) -> bool:
    reply = daemon.ctl("ringing", "1")
    assert reply.returncode == 0, reply
    return reply.out_lines[1] != "no"


def ring_bursts(daemon):
    lines = daemon.ctl("ringing", "1").out_lines
    return next((int(l.split()[1]) for l in lines if l.startswith("bursts ")), 0)


def details(daemon, *sipps):
    """What to print when a wait fails: status, atad's last log lines and
    each SIPp's exchange."""
    parts = [f"status: {status_of(daemon)}", "atad's log (end):", *daemon.log().splitlines()[-40:]]
    for peer in sipps:
        state = "running" if peer.running() else f"exited {peer.process.returncode}"
        parts.append(f"SIPp {peer.name} ({state}):\n{exchange(peer)}")
    return "\n".join(parts)


def wait_for(predicate, timeout, what, daemon, *sipps, interval=POLL):
    try:
        return wait_until(predicate, timeout, what, interval=interval)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{details(daemon, *sipps)}") from None


def wait_line(daemon, state, held, what, *sipps, timeout=SIGNAL_TIMEOUT):
    """Waits until line 1 is in `state` (its first word) and `status`
    says `held` is the held call (None: no `held:` line)."""
    wait_for(lambda: snapshot(daemon) == (state, held), timeout,
             f"{what}: line 1 {state}, held {held}", daemon, *sipps)


def ctl_ok(daemon, *words):
    reply = daemon.ctl(*words)
    assert reply.returncode == 0 and reply.out_lines[:1] == ["ok"], reply
    return reply


def flash(daemon):
    ctl_ok(daemon, "flash", "1")


def place_call(daemon, uas, number="9123"):
    """Off hook, `number`; SIPp answers: talking, nothing held."""
    ctl_ok(daemon, "hook", "1", "off")
    ctl_ok(daemon, "dtmf", "1", number)
    wait_line(daemon, "talking", None, f"the call to {number} to be answered", uas)


def answer(daemon, uac):
    """Line 1 rings for SIPp's call; the handset takes it."""
    def rings():
        if not uac.running() and uac.process.returncode != 0:
            raise AssertionError(f"sipp gave up before line 1 rang:\n{uac.logs()}")
        return snapshot(daemon)[0] == "ringing"
    wait_for(rings, SIGNAL_TIMEOUT, "line 1 to ring", daemon, uac)
    ctl_ok(daemon, "hook", "1", "off")
    wait_line(daemon, "talking", None, "the incoming call to be up", uac)


def never_rings_back(daemon, seconds=OBSERVE):
    """For `seconds` (bounded in polls too), the line stays idle and its
    bell silent."""
    end = time.monotonic() + seconds
    for _ in range(int(seconds / POLL) + 2):
        state, held = snapshot(daemon)
        assert (state, held) == ("idle", None) and not ringing(daemon), (
            f"the line rang back after the held call was gone: {status_of(daemon)}, "
            f"{daemon.ctl('ringing', '1').out_lines}")
        if time.monotonic() >= end:
            return
        time.sleep(POLL)


# ---------------------------------------------------------------------------
# SIPp and the SDP atad sent it


def rtp(peer):
    return {"rtp_ip": peer.host, "rtp_port": peer.port}


def call_id(sipp):
    """The Call-ID of SIPp's call (from the first message of its trace)."""
    def found():
        messages = parse_trace(sipp)
        return messages and messages[0].header("Call-ID")
    return wait_until(found, SIGNAL_TIMEOUT, f"SIPp {sipp.name}'s first message", interval=POLL)


def reinvites(sipp):
    """The re-INVITEs SIPp received (a To tag: inside the dialog), one per
    CSeq, in order."""
    seen = {}
    for message in parse_trace(sipp):
        if message.received and message.method == "INVITE" and ";tag=" in message.header("To"):
            seen.setdefault(message.cseq, message)
    return list(seen.values())


def acked(sipp, invite) -> bool:
    number = invite.cseq.split()[0]
    return any(m.received and m.method == "ACK" and m.cseq.split()[0] == number for m in parse_trace(sipp))


def wait_reinvites(sipp, count, what, daemon):
    """Waits until SIPp has received `count` re-INVITEs and the ACK of the
    last one (the next re-INVITE may only come after it); fails at once
    when SIPp gave up (a re-INVITE in the wrong direction)."""
    def done():
        if not sipp.running() and sipp.process.returncode != 0:
            raise AssertionError(f"SIPp {sipp.name} failed (exit {sipp.process.returncode}) waiting for "
                                 f"re-INVITE {count} ({what}):\n{sipp.logs()}\n{details(daemon)}")
        found = reinvites(sipp)
        return len(found) >= count and acked(sipp, found[count - 1]) and found
    return wait_for(done, SIGNAL_TIMEOUT, f"re-INVITE {count} to SIPp {sipp.name} ({what}) and its ACK",
                    daemon, sipp)


class Sdp:
    def __init__(self, message):
        self.message = message
        body = message.text.split("\n\n", 1)[1] if "\n\n" in message.text else ""
        self.body = body
        origin = re.search(r"^o=(\S+) (\S+) (\d+) ", body, re.M)
        assert origin, f"no o= line in {message.start}:\n{message.text}"
        self.session = (origin.group(1), origin.group(2))
        self.version = int(origin.group(3))
        media = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+?)\s*$", body, re.M)
        assert media, f"no m=audio line in {message.start}:\n{message.text}"
        self.port = int(media.group(1))
        self.formats = media.group(2).split()
        connection = re.search(r"^c=IN IP[46] (\S+)", body, re.M)
        self.address = connection.group(1) if connection else None
        directions = re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", body, re.M)
        assert len(directions) <= 1, f"more than one direction in {message.start}:\n{body}"
        self.direction = directions[0] if directions else "sendrecv"
        self.rtpmaps = dict(re.findall(r"^a=rtpmap:(\d+)\s+(.*?)\s*$", body, re.M))

    def __repr__(self):
        return (f"<{self.message.start!r} CSeq {self.message.cseq!r}: o= {self.session} v{self.version}, "
                f"{self.address}:{self.port} {self.formats}, {self.direction}>")


def atad_sdps(sipp):
    """Every SDP atad sent SIPp in its call, in order, one per message
    (copies dropped): its offer (INVITE) or answer (200), then each
    re-INVITE's offer."""
    seen = {}
    for message in parse_trace(sipp):
        if not message.received or "application/sdp" not in message.header("Content-Type"):
            continue
        if message.method == "INVITE" or (message.code and 200 <= message.code < 300
                                           and message.cseq.endswith(" INVITE")):
            seen.setdefault((message.start, message.cseq), message)
    return [Sdp(message) for message in seen.values()]


def check_sdps(sipp, directions):
    """atad's SDPs to SIPp had `directions` in order, and each after the
    first is the one before with the o= version one up: same session, same
    address and port, same codecs."""
    sdps = atad_sdps(sipp)
    assert [s.direction for s in sdps] == directions, f"{sdps}\n{exchange(sipp)}"
    for before, after in zip(sdps, sdps[1:]):
        assert after.session == before.session, (before, after)
        assert after.version == before.version + 1, f"o= version not one up: {before} then {after}"
        assert (after.address, after.port) == (before.address, before.port), (before, after)
        # A re-offer keeps to what was agreed: the codec in use first, no
        # format the session did not have, the same payload type numbers.
        assert after.formats[0] == before.formats[0] and set(after.formats) <= set(before.formats), (
            f"the codecs changed:\n{before.body}\nthen\n{after.body}")
        assert all(after.rtpmaps[pt] == before.rtpmaps[pt] for pt in after.rtpmaps), (
            f"a payload type changed its meaning:\n{before.body}\nthen\n{after.body}")
    return sdps


def tell_go(sipp):
    """Releases a SIPp scenario waiting on <recv request="INFO"/>: an INFO
    with its call's Call-ID, sent to SIPp from a socket of our own (SIPp
    finds the call by Call-ID and does not answer)."""
    identifier = call_id(sipp)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        lines = [
            f"INFO sip:sipp@127.0.0.1:{sipp.port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex}",
            f"From: <sip:test@127.0.0.1:{port}>;tag={uuid.uuid4().hex[:10]}",
            f"To: <sip:sipp@127.0.0.1:{sipp.port}>",
            f"Call-ID: {identifier}",
            "CSeq: 1 INFO",
            "Max-Forwards: 70",
            "Content-Length: 0",
            "", "",
        ]
        sock.sendto("\r\n".join(lines).encode(), ("127.0.0.1", sipp.port))
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# Audio


def earpiece_at(daemon, hertz):
    """`hear 1 HZ`: the level (dBm0) of that one frequency at the earpiece
    over the last second, -inf for silence; and the sound heard."""
    reply = daemon.ctl("hear", "1", str(hertz))
    assert reply.returncode == 0, reply
    level = None
    for text in reply.out_lines:
        match = AT.match(text)
        if match:
            level = float(match.group(2)) if match.group(2) else float("-inf")
    assert level is not None, reply
    return level, reply.out_lines[1]


def tone_level(samples, hertz):
    """The level (dBm0) of `hertz` in G.711 samples, by Goertzel; -inf for
    no audio."""
    if not samples:
        return float("-inf")
    power = goertzel_power(samples, hertz)
    amplitude = 2.0 * math.sqrt(max(power, 0.0)) / len(samples)
    return 20.0 * math.log10(amplitude / 32767.0) + FULL_SCALE_DBM0 if amplitude > 0 else float("-inf")


def far_end_hears(peer, hertz, since):
    """The level of `hertz` in the last half second of the audio the far
    end received after `since` (time.monotonic())."""
    return tone_level(peer.audio(start=since)[-4000:], hertz)


# ---------------------------------------------------------------------------
# The tests


def test_a_flash_holds_the_call_and_a_second_flash_takes_it_back(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1 calls SIPp, which answers. A flash: SIPp gets a re-INVITE
    with a=sendonly (checked by SIPp; the same codecs and the o= version
    one up, checked here), the handset hears recall dial tone (the us
    stutter: ten 100/100 ms bursts, then steady, from a recording), the
    line is in dialtone and `status` says `line 1 held:` with the call's
    Call-ID. A second flash: a re-INVITE with a=sendrecv, the line is
    talking, nothing held. Hanging up ends the call with a BYE and the
    line is idle without ringing back."""
    peer = peers()
    uas = sipp.uas("uas_held.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas)
    place_call(daemon, uas)
    a = call_id(uas)

    try:
        count, runs = heard_until_steady(daemon, tmp_path / "recall.wav", lambda: flash(daemon), "the flash")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{details(daemon, uas)}") from None
    assert count == 10, f"recall dial tone (the stutter's ten bursts, then steady) expected: {runs}"
    wait_line(daemon, "dialtone", a, "the call on hold", uas)
    wait_reinvites(uas, 1, "the hold", daemon)

    flash(daemon)
    wait_line(daemon, "talking", None, "the call taken back", uas)
    wait_reinvites(uas, 2, "taken back", daemon)

    ctl_ok(daemon, "hook", "1", "on")
    uas.assert_success()
    wait_line(daemon, "idle", None, "the hang-up", uas, timeout=HANG_UP_TIMEOUT)
    assert not ringing(daemon), daemon.ctl("ringing", "1").out_lines
    check_sdps(uas, ["sendrecv", "sendonly", "sendrecv"])


def test_a_second_call_swaps_with_the_held_one_and_the_line_rings_back_after_a_hang_up(
        daemons, tmp_path, short_dir, sipp, peers):
    """SIPp A calls line 1 and the handset answers. A flash holds A
    (a=sendonly) and the handset dials 9124: SIPp B answers, the line is
    talking to B with A still held. A flash swaps: B gets a=sendonly, A
    a=sendrecv, `held:` names B. Another flash swaps back (A a=sendonly,
    B a=sendrecv, `held:` names A). Hanging up sends B a BYE and rings the
    line back for A; lifting the handset takes A back (a=sendrecv), and
    hanging up again sends A a BYE. Both SIPp check the direction of each
    re-INVITE and exit 0. (`transfer_on_hang_up = no`: with it on, the
    hang-up would transfer A to B, test_transfer.py; `three_way_calling =
    no`: with it on, the first flash in B's call would join the three,
    test_three_way.py.)"""
    peer_a, peer_b = peers(seed=1), peers(seed=2)
    b_side = sipp.uas("uas_held.xml", keys=rtp(peer_b), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, b_side,
                   line_settings="transfer_on_hang_up = no\nthree_way_calling = no\n")
    a_side = sipp.uac("uac_held_swapped.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                      keys={"caller": "2000", **rtp(peer_a)}, timeout=SIPP_TIMEOUT)
    both = (a_side, b_side)
    answer(daemon, a_side)
    a = call_id(a_side)

    flash(daemon)
    wait_line(daemon, "dialtone", a, "A on hold", *both)
    wait_reinvites(a_side, 1, "A held", daemon)

    ctl_ok(daemon, "dtmf", "1", "9124")
    wait_line(daemon, "talking", a, "B to answer with A held", *both)
    b = call_id(b_side)
    assert b != a

    flash(daemon)
    wait_line(daemon, "talking", b, "the swap to A", *both)
    wait_reinvites(b_side, 1, "B held by the swap", daemon)
    wait_reinvites(a_side, 2, "A taken back by the swap", daemon)

    flash(daemon)
    wait_line(daemon, "talking", a, "the swap back to B", *both)
    wait_reinvites(a_side, 3, "A held again by the swap back", daemon)
    wait_reinvites(b_side, 2, "B taken back by the swap back", daemon)

    ctl_ok(daemon, "hook", "1", "on")
    b_side.assert_success()
    wait_line(daemon, "ringing", a, "the ring-back for A after B's BYE", *both, timeout=HANG_UP_TIMEOUT)
    wait_for(lambda: ringing(daemon), SIGNAL_TIMEOUT, "the bell to ring", daemon, *both)

    ctl_ok(daemon, "hook", "1", "off")
    wait_line(daemon, "talking", None, "A taken back by answering the ring-back", *both)
    wait_reinvites(a_side, 4, "A taken back after the ring-back", daemon)

    ctl_ok(daemon, "hook", "1", "on")
    a_side.assert_success()
    wait_line(daemon, "idle", None, "the hang-up", *both, timeout=HANG_UP_TIMEOUT)
    check_sdps(a_side, ["sendrecv", "sendonly", "sendrecv", "sendonly", "sendrecv"])
    check_sdps(b_side, ["sendrecv", "sendonly", "sendrecv"])


def test_the_held_party_hanging_up_leaves_the_line_as_it_was_and_no_ring_back(
        daemons, tmp_path, short_dir, sipp, peers):
    """Line 1's call to SIPp is held (a=sendonly; dialtone, `held:`).
    SIPp hangs up (BYE, answered 200): the `held:` line goes and the line
    stays in dialtone. Hanging up then leaves the line idle: it does not
    ring back within 2 s."""
    peer = peers()
    uas = sipp.uas("uas_held_hangs_up.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas)
    place_call(daemon, uas)
    a = call_id(uas)
    flash(daemon)
    wait_line(daemon, "dialtone", a, "the call on hold", uas)
    wait_reinvites(uas, 1, "the hold", daemon)

    tell_go(uas)
    uas.assert_success()
    wait_line(daemon, "dialtone", None, "the held party's BYE", uas)

    ctl_ok(daemon, "hook", "1", "on")
    wait_line(daemon, "idle", None, "the hang-up", uas, timeout=HANG_UP_TIMEOUT)
    never_rings_back(daemon)


def hold_and_hang_up(daemon, uas):
    """Line 1 calls SIPp `uas`, a flash holds the call (its re-INVITE
    seen), the handset hangs up and the line rings back; returns the held
    Call-ID."""
    place_call(daemon, uas)
    a = call_id(uas)
    flash(daemon)
    wait_line(daemon, "dialtone", a, "the call on hold", uas)
    wait_reinvites(uas, 1, "the hold", daemon)
    ctl_ok(daemon, "hook", "1", "on")
    wait_line(daemon, "ringing", a, "the ring-back", uas, timeout=HANG_UP_TIMEOUT)
    return a


def test_hanging_up_with_a_call_held_rings_back_and_the_held_party_hanging_up_stops_it(
        daemons, tmp_path, short_dir, sipp, peers):
    """Line 1's call to SIPp is held, and the handset hangs up with no
    second call: the line rings (`ringing`, the call still held). It rings
    on past the first pause without sending caller ID. SIPp hangs up
    (BYE): the bell stops, the line is idle with nothing held."""
    peer = peers()
    uas = sipp.uas("uas_held_hangs_up.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas)
    a = hold_and_hang_up(daemon, uas)
    # us: 2 s on, 4 s off; caller ID would go 500 ms into the first pause.
    wait_for(lambda: ring_bursts(daemon) >= 2, 15.0 * SLOW, "the ring-back's second burst", daemon, uas,
             interval=0.1)
    sent = [m for _, m in daemon.log_messages() if m.startswith("line 1: sending caller ID")]
    assert not sent, f"the ring-back sent caller ID: {sent}"
    assert snapshot(daemon) == ("ringing", a), status_of(daemon)

    tell_go(uas)
    uas.assert_success()
    wait_line(daemon, "idle", None, "the ring-back to stop after the held party's BYE", uas)
    wait_for(lambda: not ringing(daemon), SIGNAL_TIMEOUT, "the bell to stop", daemon, uas)


def test_a_ring_back_nobody_answers_ends_the_held_call(daemons, tmp_path, short_dir, sipp, peers):
    """`hold_recall_seconds = 7`: line 1's call to SIPp is held and the
    handset hangs up. The line rings back; nobody lifts the handset, and
    7 s after the hang-up atad sends the held call its BYE (SIPp's
    uas_held_not_taken_back.xml fails on a sendrecv re-INVITE instead):
    in us cadence (2 s on, 4 s off) that is during the second burst, and
    no third one comes. The bell stops and the line is idle with nothing
    held."""
    peer = peers()
    uas = sipp.uas("uas_held_not_taken_back.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas, line_settings="hold_recall_seconds = 7\n")
    a = hold_and_hang_up(daemon, uas)
    ended = ("info", f"line 1: held call {a} not taken back; hanging it up")
    most_bursts = 0

    def recall_ended():
        nonlocal most_bursts
        most_bursts = max(most_bursts, ring_bursts(daemon))
        return ended in daemon.log_messages()
    wait_for(recall_ended, SIGNAL_TIMEOUT + 7, "the ring-back to give up", daemon, uas)
    assert most_bursts == 2, f"the ring-back ended in burst {most_bursts}, not the second"
    uas.assert_success()
    wait_line(daemon, "idle", None, "the line idle after the held call's BYE", uas)
    wait_for(lambda: not ringing(daemon), SIGNAL_TIMEOUT, "the bell to stop", daemon, uas)


def test_an_incoming_call_while_a_call_is_held_gets_486(daemons, tmp_path, short_dir, sipp, peers):
    """Line 1's call to SIPp A is held. A third party's INVITE gets 486
    without a 180 (checked by SIPp), in dialtone and again while the line
    rings back; A stays held and nothing else rings. Lifting the handset
    takes A back (a=sendrecv) and hanging up ends it with a BYE."""
    peer = peers()
    uas = sipp.uas("uas_held.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas)
    place_call(daemon, uas)
    a = call_id(uas)
    flash(daemon)
    wait_line(daemon, "dialtone", a, "the call on hold", uas)
    wait_reinvites(uas, 1, "the hold", daemon)

    def caller():
        return sipp.uac("uac_busy_here.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                        keys={"caller": "2002"}, timeout=15.0 * SLOW)

    caller().assert_success()
    assert snapshot(daemon) == ("dialtone", a), status_of(daemon)

    ctl_ok(daemon, "hook", "1", "on")
    wait_line(daemon, "ringing", a, "the ring-back", uas, timeout=HANG_UP_TIMEOUT)
    caller().assert_success()
    assert snapshot(daemon) == ("ringing", a), status_of(daemon)

    ctl_ok(daemon, "hook", "1", "off")
    wait_line(daemon, "talking", None, "the held call taken back", uas)
    wait_reinvites(uas, 2, "taken back", daemon)
    ctl_ok(daemon, "hook", "1", "on")
    uas.assert_success()
    wait_line(daemon, "idle", None, "the hang-up", uas, timeout=HANG_UP_TIMEOUT)
    incoming = [m for _, m in daemon.log_messages() if m.startswith("line 1: incoming call")]
    assert not incoming, incoming
    check_sdps(uas, ["sendrecv", "sendonly", "sendrecv"])


def test_the_held_party_is_not_heard_and_does_not_hear_until_taken_back(
        daemons, tmp_path, short_dir, sipp, peers):
    """Line 1's call to SIPp, its media at an RtpPeer that sends a 1000 Hz
    tone all along; the handset says 550 Hz. Talking, each hears the
    other. Held (flash): once `hear`'s one-second window has let the tone
    go, the earpiece has no 1000 Hz (recall dial tone instead) for 2 s
    while the far end goes on sending, and what atad sends the far end
    meanwhile has no 550 Hz (the handset still saying it). Taken back
    (flash): the earpiece hears 1000 Hz again and the far end 550 Hz.
    (The simulated mouthpiece goes quiet on hook, so the handset says its
    tone again after each flash.)"""
    peer = peers()
    uas = sipp.uas("uas_held.xml", keys=rtp(peer), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, uas)
    place_call(daemon, uas)
    ip, port, _ = wait_sipp_sdp(uas)
    peer.remote = (ip, port)
    # For as long as the test may take; stopping the peer ends it.
    sending = peer.send_tone_async(FAR_TONE, duration=SIPP_TIMEOUT, level_dbm0=-10.0)
    ctl_ok(daemon, "say", "1", "tone", str(HANDSET_TONE), "-10")
    talking_since = time.monotonic()

    wait_for(lambda: earpiece_at(daemon, FAR_TONE)[0] >= LOUD, SIGNAL_TIMEOUT,
             f"the earpiece to hear the far end's {FAR_TONE} Hz", daemon, uas)
    wait_for(lambda: far_end_hears(peer, HANDSET_TONE, talking_since) >= LOUD, SIGNAL_TIMEOUT,
             f"the far end to hear the handset's {HANDSET_TONE} Hz", daemon, uas)

    flash(daemon)
    wait_line(daemon, "dialtone", call_id(uas), "the call on hold", uas)
    wait_reinvites(uas, 1, "the hold", daemon)
    # The simulated mouthpiece goes quiet on hook (the flash's break): the
    # handset says its tone again, into the held call.
    ctl_ok(daemon, "say", "1", "tone", str(HANDSET_TONE), "-10")
    wait_for(lambda: earpiece_at(daemon, FAR_TONE)[0] <= QUIET, SIGNAL_TIMEOUT,
             f"the far end's {FAR_TONE} Hz to leave the earpiece", daemon, uas)
    held_since = time.monotonic()
    end = held_since + OBSERVE
    heard = []
    for _ in range(int(OBSERVE / POLL) + 2):
        level, sound = earpiece_at(daemon, FAR_TONE)
        heard.append((round(time.monotonic() - held_since, 2), level, sound))
        if time.monotonic() >= end:
            break
        time.sleep(POLL)
    loud = [entry for entry in heard if entry[1] > QUIET]
    assert not loud, f"the held far end's {FAR_TONE} Hz was heard: {loud}"
    assert sending.thread.is_alive(), "the far end stopped sending while held"
    match = HEARD.match(heard[-1][2])
    assert match and match.group(1) == "350+440", f"recall dial tone expected while held: {heard[-1]}"
    leaked = tone_level(peer.audio(start=held_since), HANDSET_TONE)
    assert leaked <= QUIET, f"the far end heard the handset's {HANDSET_TONE} Hz at {leaked:.1f} dBm0 while held"

    flash(daemon)
    wait_line(daemon, "talking", None, "the call taken back", uas)
    wait_reinvites(uas, 2, "taken back", daemon)
    ctl_ok(daemon, "say", "1", "tone", str(HANDSET_TONE), "-10")
    resumed = time.monotonic()
    wait_for(lambda: earpiece_at(daemon, FAR_TONE)[0] >= LOUD, SIGNAL_TIMEOUT,
             f"the earpiece to hear the far end's {FAR_TONE} Hz again", daemon, uas)
    wait_for(lambda: far_end_hears(peer, HANDSET_TONE, resumed) >= LOUD, SIGNAL_TIMEOUT,
             f"the far end to hear the handset's {HANDSET_TONE} Hz again", daemon, uas)

    ctl_ok(daemon, "say", "1", "silence")
    ctl_ok(daemon, "hook", "1", "on")
    uas.assert_success()
    wait_line(daemon, "idle", None, "the hang-up", uas, timeout=HANG_UP_TIMEOUT)
    check_sdps(uas, ["sendrecv", "sendonly", "sendrecv"])
