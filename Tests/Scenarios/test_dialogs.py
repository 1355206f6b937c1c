"""In-dialog correctness (issue 14): requests inside a call go through
transactions and reach their dialog only when the Call-ID and both tags
match. Each test is one of the issue's acceptance criteria, with the real
binary and real peers (SIPp, Kamailio, an RtpPeer) on loopback:

- a BYE retransmitted after its 200 gets 200 again (the BYE's server
  transaction outlives the call);
- a BYE or re-INVITE with a wrong From tag, or the right From tag and a
  wrong To tag, gets 481 and the call goes on, its audio flowing both ways;
- a far end that ignores CANCEL: the line is back to idle within 64*T1
  and the next call works;
- Kamailio challenges the BYE with 407: the BYE is sent again with
  credentials and the far end sees it;
- a re-INVITE whose 200 loses its ACK: the 200 is retransmitted.

SIPp's -trace_msg log is the record of what went over the wire: the tests
read responses, copies and their times from it (parse_trace)."""

import datetime
import os
import re
import socket
import time
import uuid

import pytest

from conftest import wait_until, write_site
from rtp_peer import peers, wait_sipp_sdp  # noqa: F401 (fixture)
from sip_peers import USERS, kamailio, sipp  # noqa: F401 (fixtures)
from test_call_media import line_state, status_of

SIP_LINE = re.compile(r"^sip: 127\.0\.0\.1:(\d+)/udp$")
RECEIVED = re.compile(r"\breceived (\d+)\b")
SENT = re.compile(r"\bsent (\d+)\b")

# RFC 3261's T1 and the 64*T1 after which a transaction gives up.
T1 = 0.5
TRANSACTION_TIMEOUT = 64 * T1


# ---------------------------------------------------------------------------
# atad


def call_lines(daemon, line=1):
    """The `call line N: ...` entries of `status` (one per call the line
    has, however stale)."""
    prefix = f"call line {line}: "
    return [l[len(prefix):] for l in status_of(daemon) if l.startswith(prefix)]


def media_counters(daemon, line=1):
    """(sent, received) RTP packets of the line's call with media, or None."""
    for media in call_lines(daemon, line):
        sent, received = SENT.search(media), RECEIVED.search(media)
        if sent and received:
            return int(sent.group(1)), int(received.group(1))
    return None


def sip_port(daemon):
    return next(int(m.group(1)) for m in map(SIP_LINE.match, status_of(daemon)) if m)


def log_messages(daemon):
    return [message for _, message in daemon.log_messages()]


def start(daemons, tmp_path, short_dir):
    """A daemon that takes calls (no account)."""
    control = short_dir / "control.sock"
    return daemons.start(write_site(tmp_path / "site.conf", control, log_level="debug"), control, tmp_path)


def start_direct(daemons, tmp_path, short_dir, uas):
    """A daemon whose line 1 calls 9xxx straight at the SIPp UAS."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        f"[account direct]\nuser = 1001\ndomain = {uas.address[0]}:{uas.address[1]}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (9xxx)\n"))
    return daemons.start(site, control, tmp_path)


def start_registered(daemons, tmp_path, short_dir, proxy):
    """A daemon registered as 1001 at the Kamailio, line 1 dialling 9xxx
    through it."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        "[account home]\nuser = 1001\ndomain = atad.test\n"
        f"registrar = 127.0.0.1:{proxy.port}\npassword = \"{USERS['1001']}\"\ntransport = udp\n"
        "[line 1]\naccount = home\ndial_plan = (9xxx)\n"))
    os.chmod(site, 0o600)
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: any(l.startswith("account home: registered") for l in status_of(daemon)), 10,
               "the registration")
    return daemon


def wait_for(predicate, timeout, what, details=lambda: "", interval=0.01):
    """wait_until, with `details()` (the state when it gave up) added to
    the failure."""
    try:
        return wait_until(predicate, timeout, what, interval=interval)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{details()}") from None


def answer_incoming(daemon, uac):
    """Line 1 rings for the SIPp caller; the handset takes it."""
    def ringing():
        if not uac.running() and uac.process.returncode != 0:
            raise AssertionError(f"sipp gave up before line 1 rang:\n{uac.logs()}")
        return line_state(daemon) == "ringing"
    wait_until(ringing, 10, "line 1 to ring")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon) == "talking", 5, "the call to be up")


# ---------------------------------------------------------------------------
# What SIPp sent and received, from its -trace_msg log

TRACE_STAMP = re.compile(r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.M)


class Traced:
    """One message in SIPp's trace: `at` (seconds, SIPp's wall clock),
    `received` (True) or sent, the start line and the headers."""

    def __init__(self, at, received, text):
        self.at = at
        self.received = received
        lines = text.split("\n")
        self.start = lines[0].strip()
        self.headers = {}
        for line in lines[1:]:
            if not line.strip():
                break
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), value.strip())
        self.text = text

    def header(self, name):
        return self.headers.get(name.lower(), "")

    @property
    def code(self):
        match = re.match(r"SIP/2\.0 (\d{3})", self.start)
        return int(match.group(1)) if match else None

    @property
    def method(self):
        return None if self.code else self.start.split(" ", 1)[0]

    @property
    def cseq(self):
        return self.header("CSeq")

    def __repr__(self):
        return f"<{'in' if self.received else 'out'} {self.start!r} CSeq {self.cseq!r}>"


def parse_trace(sipp) -> list:
    """Every message SIPp logged as sent or received, in order. (The
    blocks SIPp adds for an unexpected message carry no time stamp and
    repeat a message already logged: they are skipped.)"""
    text = sipp.messages().replace("\r\n", "\n")
    stamps = list(TRACE_STAMP.finditer(text))
    messages = []
    for index, stamp in enumerate(stamps):
        end = stamps[index + 1].start() if index + 1 < len(stamps) else len(text)
        block = text[stamp.end():end].lstrip("\n")
        first, _, rest = block.partition("\n")
        if " message received " in first:
            received = True
        elif " message sent " in first:
            received = False
        else:
            continue
        rest = rest.split("\n-----------------------------------------------\n", 1)[0]
        at = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        messages.append(Traced(at, received, rest.lstrip("\n")))
    return messages


def responses_to(sipp, cseq) -> list:
    """The responses SIPp received whose CSeq is `cseq` ("2 BYE")."""
    return [m for m in parse_trace(sipp) if m.received and m.code and m.cseq == cseq]


def requests_seen(sipp, method) -> list:
    """The requests of `method` SIPp received (copies included)."""
    return [m for m in parse_trace(sipp) if m.received and m.method == method]


def exchange(sipp) -> str:
    """Start lines and CSeqs of the whole trace, one per line: what to print
    when an assertion fails."""
    return "\n".join(f"{'<-' if m.received else '->'} {m.start}  (CSeq {m.cseq})" for m in parse_trace(sipp))


def say_go(sipp):
    """Releases a SIPp scenario waiting on <recv request="INFO"/>: an INFO
    with its call's Call-ID, sent to SIPp from a socket of our own (SIPp
    finds the call by Call-ID; it does not answer). Each INFO is a new
    request (branch, tag), so SIPp never takes one for a copy of another."""
    invite = next(m for m in parse_trace(sipp) if not m.received and m.method == "INVITE")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        lines = [
            f"INFO sip:sipp@127.0.0.1:{sipp.port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex}",
            f"From: <sip:test@127.0.0.1:{port}>;tag={uuid.uuid4().hex[:10]}",
            f"To: <sip:sipp@127.0.0.1:{sipp.port}>",
            f"Call-ID: {invite.header('Call-ID')}",
            "CSeq: 1 INFO",
            "Max-Forwards: 70",
            "Content-Length: 0",
            "", "",
        ]
        sock.sendto("\r\n".join(lines).encode(), ("127.0.0.1", sipp.port))
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# 1. A BYE retransmitted after its 200


def test_bye_retransmitted_after_its_200_gets_200_again(daemons, tmp_path, short_dir, sipp):
    """SIPp calls, the handset answers, SIPp hangs up with a BYE (200),
    then sends the very same BYE again (same branch, same CSeq), as if the
    200 had been lost: atad still has the BYE's server transaction (it
    lives 64*T1) and answers 200 again, not 481. The line hears the far
    end's hang-up once, and the daemon goes on."""
    daemon = start(daemons, tmp_path, short_dir)
    # -nr: SIPp would absorb the second 200 as a retransmission of the first.
    uac = sipp.uac("uac_bye_retransmitted.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=20, extra=["-d", "500", "-nr"])
    answer_incoming(daemon, uac)
    code = uac.wait()
    answers = responses_to(uac, "2 BYE")
    codes = [m.code for m in answers]
    assert len(codes) >= 1 and codes[0] == 200, f"the BYE got {codes}:\n{exchange(uac)}"
    assert codes == [200, 200], (
        f"the retransmitted BYE got {codes[1:] or 'no answer'} instead of a second 200 "
        f"(all answers to CSeq 2 BYE: {codes}):\n{exchange(uac)}")
    # The second 200 is the transaction's response again: same dialog tags.
    assert answers[1].header("To") == answers[0].header("To"), answers
    assert code == 0, f"sipp exited with {code}:\n{uac.logs()}"

    wait_until(lambda: line_state(daemon).startswith("busy"), 5, "the far end's hang-up to reach the line")
    ended = [m for m in log_messages(daemon) if m.endswith("ended: the far end hung up")]
    assert len(ended) == 1, log_messages(daemon)
    assert daemon.running(), daemon.log()
    assert status_of(daemon)[0] == "ok"


# ---------------------------------------------------------------------------
# 2. Requests with a wrong tag


def test_bye_or_reinvite_with_a_wrong_tag_gets_481_and_the_call_goes_on(
        daemons, tmp_path, short_dir, sipp, peers):
    """An answered call from SIPp, its media between atad and an RtpPeer,
    RTP flowing both ways. With the call's Call-ID, SIPp then sends a BYE
    and a re-INVITE whose From tag is wrong, and a BYE and a re-INVITE
    with the right From tag but a wrong To tag (the re-INVITEs' SDP would
    move the media away): each gets 481 (checked by SIPp, which ACKs the
    re-INVITEs' 481). The call stays `talking`, and RTP keeps flowing both
    ways afterwards (atad counts more packets received, the RtpPeer
    receives more, so atad still sends to the call's own media address).
    Then the proper BYE ends the call with 200."""
    peer = peers()
    daemon = start(daemons, tmp_path, short_dir)
    uac = sipp.uac("uac_forged_requests.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000", "rtp_ip": peer.host, "rtp_port": peer.port},
                   timeout=40)
    answer_incoming(daemon, uac)
    ip, port, _ = wait_sipp_sdp(uac)
    peer.remote = (ip, port)
    # A tone for as long as the test may take; stopping the peer ends it.
    peer.send_tone_async(1000, duration=60.0)

    def flowing(since_sent, since_received, what):
        def check():
            counters = media_counters(daemon)
            return (counters and counters[1] >= since_received + 25 and len(peer.received()) >= since_sent + 25
                    and counters)
        return wait_for(check, 5, f"RTP both ways {what}",
                        lambda: (f"atad's counters (sent, received): {media_counters(daemon)}, "
                                 f"{len(peer.received())} packets at the RtpPeer; line 1 {line_state(daemon)!r}"))

    flowing(0, 0, "before the forged requests")
    say_go(uac)

    def forged_answered():
        answered = [m for m in parse_trace(uac) if m.received and m.code and m.code >= 200
                    and m.cseq in ("2 BYE", "3 INVITE", "4 BYE", "5 INVITE")]
        if len(answered) >= 4:
            return answered
        if not uac.running():
            raise AssertionError(
                f"sipp ended (exit {uac.process.returncode}) before the four forged requests got 481: "
                f"answers {[(m.cseq, m.code) for m in answered]}; line 1 is {line_state(daemon)!r}:\n"
                f"{exchange(uac)}")
        return None
    answered = wait_until(forged_answered, 10, "answers to the four forged requests", interval=0.05)
    assert [(m.cseq, m.code) for m in answered] == [
        ("2 BYE", 481), ("3 INVITE", 481), ("4 BYE", 481), ("5 INVITE", 481)], exchange(uac)

    assert line_state(daemon) == "talking", status_of(daemon)
    sent_before, received_before = len(peer.received()), media_counters(daemon)[1]
    flowing(sent_before, received_before, "after the forged requests")
    assert line_state(daemon) == "talking", status_of(daemon)

    say_go(uac)
    uac.assert_success()
    assert [m.code for m in responses_to(uac, "6 BYE")] == [200], exchange(uac)
    wait_until(lambda: line_state(daemon).startswith("busy"), 5, "the far end's hang-up to reach the line")
    messages = log_messages(daemon)
    assert len([m for m in messages if m.endswith("ended: the far end hung up")]) == 1, messages
    assert daemon.running()


# ---------------------------------------------------------------------------
# 3. A far end that ignores CANCEL


@pytest.mark.slow
def test_far_end_ignoring_cancel_frees_the_line_within_64_t1_and_the_next_call_works(
        daemons, tmp_path, short_dir, sipp):
    """Line 1 dials 9123 straight at a SIPp UAS that answers 100 and 180,
    then ignores the CANCEL (no 200, no 487). The handset hangs up: atad
    sends the CANCEL and, over UDP, retransmits it (SIPp sees several
    copies, one branch). Within 64*T1 (32 s; 40 s allowed) the call is gone
    from `status`. Then line 1 dials 9002 at the same SIPp, which answers:
    the call is up, and the handset's hang-up ends it with a BYE."""
    # -d: how long SIPp keeps the ignored call open after the CANCEL (its
    # copies are logged in the call; later ones go to SIPp's dead call).
    uas = sipp.uas("uas_cancel_ignored.xml", calls=2, timeout=90, extra=["-d", "8000"])
    daemon = start_direct(daemons, tmp_path, short_dir, uas)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("ringback"), 10, "ringback from the far end's 180")
    assert call_lines(daemon), status_of(daemon)

    assert daemon.ctl("hook", "1", "on").returncode == 0
    hung_up = time.monotonic()
    wait_until(lambda: requests_seen(uas, "CANCEL"), 5, "the CANCEL to reach SIPp", interval=0.05)
    wait_for(lambda: not call_lines(daemon), TRANSACTION_TIMEOUT + 8,
             "the call to leave status within 64*T1 of the CANCEL",
             lambda: f"status: {status_of(daemon)}\nSIPp's trace:\n{exchange(uas)}", interval=0.2)
    freed = time.monotonic() - hung_up
    assert line_state(daemon).startswith("idle"), status_of(daemon)

    # Timer E: copies about T1 and 3*T1 after the first (and on, until it
    # gives up). (Had the line been freed at once, they may still be coming.)
    cancels = wait_for(lambda: len(requests_seen(uas, "CANCEL")) >= 3 and requests_seen(uas, "CANCEL"), 5,
                       "three copies of the CANCEL", lambda: exchange(uas), interval=0.05)
    invite = requests_seen(uas, "INVITE")[0]
    assert {m.header("Via") for m in cancels} == {invite.header("Via")}, cancels
    assert {m.cseq for m in cancels} == {invite.cseq.replace("INVITE", "CANCEL")}, cancels
    gaps = [later.at - earlier.at for earlier, later in zip(cancels, cancels[1:])]
    print(f"call gone from status {freed:.1f} s after the hang-up; CANCEL copies so far {len(cancels)}, "
          f"gaps {', '.join(f'{gap:.2f}' for gap in gaps)} s")
    assert gaps[0] >= T1 * 0.8, f"the CANCEL was repeated too soon: {gaps}"

    # The next call, to the number the same SIPp answers.
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9002").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "the next call to be answered")
    assert media_counters(daemon) is not None, status_of(daemon)
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    wait_until(lambda: line_state(daemon).startswith("idle") and not call_lines(daemon), 5,
               "the line to be idle with no call")
    assert [m.code for m in parse_trace(uas) if not m.received and m.cseq.endswith("BYE")] == [200]


# ---------------------------------------------------------------------------
# 4. Kamailio challenges the BYE


def test_bye_challenged_by_the_proxy_is_sent_again_with_credentials(daemons, tmp_path, short_dir, kamailio, sipp):
    """atad, registered as 1001, calls 9123 through Kamailio (which
    challenges the INVITE) to a SIPp UAS that answers. Kamailio is told to
    challenge BYEs from its users too: when the handset hangs up, atad's
    BYE gets 407, atad sends it again with Proxy-Authorization, Kamailio
    relays it and SIPp answers 200. The line is idle with no call left."""
    uas = sipp.uas("uas_answer.xml", timeout=30)
    proxy = kamailio.start(trunk=uas.address, challenge_bye=True)
    daemon = start_registered(daemons, tmp_path, short_dir, proxy)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 15, "the call to be answered")

    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_for(lambda: "bye: challenging BYE from 1001" in proxy.log(), 10, "Kamailio to challenge the BYE",
             lambda: f"Kamailio's log:\n{proxy.log()[-3000:]}")
    wait_for(lambda: requests_seen(uas, "BYE"), 10, "the BYE to reach SIPp after the 407",
             lambda: f"Kamailio's log:\n{proxy.log()[-3000:]}\natad's log:\n{daemon.log()[-3000:]}",
             interval=0.05)
    uas.assert_success()
    assert "bye: BYE from 1001 with credentials of 1001" in proxy.log(), proxy.log()
    assert len(requests_seen(uas, "BYE")) == 1, exchange(uas)
    wait_until(lambda: line_state(daemon).startswith("idle") and not call_lines(daemon), 5,
               "the line to be idle with no call")
    assert daemon.running()


# ---------------------------------------------------------------------------
# 5. A re-INVITE whose ACK is lost


def test_reinvite_200_is_retransmitted_until_its_ack_comes(daemons, tmp_path, short_dir, sipp):
    """SIPp calls, the handset answers; SIPp re-INVITEs (same media) and
    does not ACK the 200: atad retransmits it (RFC 3261 13.3.1.4: T1, then
    2*T1 later); SIPp ACKs the third copy, after which no copy comes; the
    call goes on and SIPp's BYE ends it with 200."""
    daemon = start(daemons, tmp_path, short_dir)
    # -nr: SIPp would absorb the copies of the 200 itself.
    uac = sipp.uac("uac_reinvite_ack_lost.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "2000"}, timeout=30, extra=["-d", "500", "-nr"])
    answer_incoming(daemon, uac)
    code = uac.wait()
    copies = [m for m in responses_to(uac, "2 INVITE") if m.code == 200]
    assert len(copies) >= 3, (
        f"the re-INVITE's 200 came {len(copies)} time(s) without an ACK, not retransmitted "
        f"(sipp exit {code}):\n{exchange(uac)}")
    assert code == 0, f"sipp exited with {code}:\n{uac.logs()}"
    gaps = [later.at - earlier.at for earlier, later in zip(copies, copies[1:])]
    print(f"the re-INVITE's 200 came {len(copies)} times, gaps {', '.join(f'{gap:.2f}' for gap in gaps)} s")
    # T1 then 2*T1, with room for a loaded machine.
    assert T1 * 0.8 <= gaps[0] <= T1 * 3, gaps
    assert 2 * T1 * 0.8 <= gaps[1] <= 2 * T1 * 3, gaps
    assert len({m.header("To") for m in copies}) == 1, copies
    ack = next(m for m in parse_trace(uac) if not m.received and m.start.startswith("ACK") and m.cseq == "2 ACK")
    assert len(copies) == 3 and all(m.at <= ack.at for m in copies), (
        f"a copy of the 200 came after the ACK:\n{exchange(uac)}")
    assert [m.code for m in responses_to(uac, "3 BYE")] == [200], exchange(uac)
    wait_until(lambda: line_state(daemon).startswith("busy"), 5, "the far end's hang-up to reach the line")
    assert len([m for m in log_messages(daemon) if m.endswith("ended: the far end hung up")]) == 1
    assert daemon.running()
