"""A DNS lookup never holds up the audio of another call.

Line 1 is in a call through a direct account whose server is an IP literal
(no DNS): a SIPp UAS does the signalling, an RtpPeer the audio, both ways
(the handset's mouthpiece plays a tone, so atad sends RTP without a break).
Line 2's account is direct too, but its server is a name without a port,
`outage.test`, so dialing through it starts an RFC 3263 lookup (NAPTR ->
SRV -> A/AAAA) at `[sip] dns_servers`: a UDP socket of the test's that
reads every query and answers none (a DNS outage). c-ares gives each query
2 s, then 4 s, before it fails, so the lookup runs for many seconds while
line 1's call goes on.

The test measures when atad's RTP packets for line 1 arrive: each packet's
lateness against its schedule (packet k of the window is due k * ptime
after the window's first, the schedule placed so that the earliest packet
is exactly on time). Over a window with line 2 idle (the baseline) and a
window of the same length in which line 2 dials and the whole lookup runs
and fails, no packet may be missing and none more than 20 ms late. The
lookup must really run inside the window (the dead server hears it), fail
there (line 2 gets the congestion tone), and leave line 1's call up.

Real binaries (atad, SIPp), loopback only."""

import re
import select
import socket
import struct
import threading
import time

import pytest

from conftest import real_time_audio, wait_until, write_site
from dns_server import TYPE_A, TYPE_AAAA, TYPE_NAPTR, TYPE_SRV, decode_name
from rtp_peer import PCMU, sipp_media_uas, wait_sipp_sdp
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import LOOPBACK, sipp  # noqa: F401 (fixture)
from test_call_media import heard_frequencies, line_state, media_line

pytestmark = [real_time_audio, pytest.mark.slow]

PTIME_MS = 20
LATE_LIMIT_MS = 20.0
# Both windows, in packets (22 s). A lookup at a dead server takes 18 s:
# NAPTR, SRV and the address lookup (A and AAAA together) one after the
# other, each query given 2 s and then 4 s by c-ares.
WINDOW_PACKETS = 1100
# The failure must leave this much of the window after it, so that what
# atad does when the lookup fails is measured too.
AFTER_FAILURE = 1.0
NAME = "outage.test"
NUMBER = "5123"
MOUTHPIECE_TONE = 1000
FAR_TONE = 700
# US congestion (fast busy): 480+620 Hz.
CONGESTION = [480, 620]

LOG_LINE = re.compile(r"^\[(\d+\.\d{3})\] (\w+): (.*)$")
QUERY_TYPES = {TYPE_A: "A", TYPE_AAAA: "AAAA", TYPE_SRV: "SRV", TYPE_NAPTR: "NAPTR"}


# ---------------------------------------------------------------------------
# A DNS server that never answers


class DeadDnsServer:
    """A UDP socket on 127.0.0.1 that reads DNS queries and answers none.
    Its thread records (time.monotonic(), type, name) of each query; it
    stops at stop() or at its deadline, whichever comes first, and reads a
    bounded number of datagrams."""

    POLL = 0.05
    MAX_DATAGRAMS = 10_000

    def __init__(self, lifetime=300.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.seen = []
        self.thread = threading.Thread(target=self._read, name=f"dead-dns-{self.port}", daemon=True)

    @property
    def address(self):
        return f"{LOOPBACK}:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def _read(self):
        for _ in range(self.MAX_DATAGRAMS):
            if self.stopping.is_set() or time.monotonic() >= self.deadline:
                return
            try:
                readable, _, _ = select.select([self.sock], [], [], self.POLL)
            except (OSError, ValueError):
                return
            if not readable:
                continue
            try:
                data, _ = self.sock.recvfrom(4096, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            arrival = time.monotonic()
            with self.lock:
                self.seen.append((arrival, *self._question(data)))

    @staticmethod
    def _question(data):
        """(type, name) of a query's first question; ("?", "") if unreadable."""
        try:
            if len(data) < 12 or struct.unpack_from(">H", data, 4)[0] < 1:
                return "?", ""
            name, offset = decode_name(data, 12)
            qtype = struct.unpack_from(">H", data, offset)[0]
            return QUERY_TYPES.get(qtype, str(qtype)), name.lower()
        except (IndexError, ValueError, struct.error):
            return "?", ""

    def queries(self, since=None, until=None):
        with self.lock:
            seen = list(self.seen)
        return [q for q in seen if (since is None or q[0] >= since) and (until is None or q[0] <= until)]

    def stop(self, timeout=5.0):
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "the dead DNS server's thread did not stop"
        self.sock.close()


@pytest.fixture
def dead_dns():
    server = DeadDnsServer().start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------
# Lateness of atad's RTP


def extended_seqs(packets):
    """Each packet's sequence number relative to the first, unwrapped
    (a step back of more than half the space is a wrap forward)."""
    values = []
    previous = None
    for p in packets:
        if previous is None:
            values.append(0)
        else:
            step = (p.seq - previous[1]) & 0xFFFF
            if step >= 0x8000:
                step -= 0x10000
            values.append(previous[0] + step)
        previous = (values[-1], p.seq)
    return values


def window_after(peer, ssrc, start, count, timeout):
    """The `count` packets of atad's stream (one SSRC) that follow the
    first to arrive at or after `start`, by sequence number. Waits (up to
    `timeout`) until a packet 5 positions past the window shows that none
    of them is still on its way. Returns (the positions 0..count-1
    missing, {position: packet}, later positions included)."""
    def complete():
        packets = [p for p in peer.received(pt=PCMU) if p.ssrc == ssrc and p.arrival >= start]
        if len(packets) < count:
            return None
        positions = extended_seqs(packets)
        return (packets, positions) if max(positions) >= count + 5 else None
    packets, positions = peer.wait_for(complete, timeout, f"{count} packets of atad's RTP after {start:.3f}")
    by_position = {}
    for position, p in zip(positions, packets):
        by_position.setdefault(position, p)
    missing = [k for k in range(count) if k not in by_position]
    return missing, by_position


def lateness_ms(by_position, count):
    """{position: lateness ms}: arrival - (t0 + k * ptime), with t0 such
    that the earliest packet is 0 ms late."""
    offsets = {k: by_position[k].arrival - k * PTIME_MS / 1000 for k in range(count) if k in by_position}
    t0 = min(offsets.values())
    return {k: (offset - t0) * 1000 for k, offset in offsets.items()}


def describe(name, late, missing):
    worst = max(late, key=late.get)
    over = sorted(k for k, value in late.items() if value > LATE_LIMIT_MS)
    p99 = sorted(late.values())[int(len(late) * 0.99)]
    return (f"{name}: max lateness {late[worst]:.1f} ms (packet {worst} of {len(late) + len(missing)}), "
            f"99th percentile {p99:.1f} ms, {len(over)} over {LATE_LIMIT_MS:.0f} ms {over[:10]}, "
            f"missing {len(missing)} {missing[:10]}")


# ---------------------------------------------------------------------------
# atad


def start_atad(daemons, tmp_path, short_dir, uas, dns):
    """Line 1 calls 2xxx straight at the SIPp UAS (an IP literal); line 2
    calls 5xxx through `outage.test`, which only `dns` could resolve."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        f"dns_servers = {dns.address}\n"
        f"[account peer]\nuser = 1000\ndomain = {LOOPBACK}:{uas.port}\nregister = no\n"
        f"[account outage]\nuser = 1001\ndomain = {NAME}\nregister = no\n"
        "[line 1]\naccount = peer\ndial_plan = (2xxx)\n"
        "[line 2]\naccount = outage\ndial_plan = (5xxx)\n"))
    return daemons.start(site, control, tmp_path)


def log_time(daemon, pattern):
    """The monotonic time (s) of the first log line whose message matches
    `pattern`, or None."""
    for line in daemon.log().splitlines():
        match = LOG_LINE.match(line)
        if match and re.search(pattern, match.group(3)):
            return float(match.group(1))
    return None


def test_dns_outage_leaves_another_calls_audio_unbroken(daemons, tmp_path, short_dir, sipp, peers, dead_dns):
    window_seconds = WINDOW_PACKETS * PTIME_MS / 1000
    far = peers(seed=21)
    uas = sipp_media_uas(sipp, far, timeout=3 * window_seconds + 60)
    daemon = start_atad(daemons, tmp_path, short_dir, uas, dead_dns)

    # Line 1's call: audio both ways for both windows and a margin.
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "2000").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "line 1's call to be answered")
    ip, port, _ = wait_sipp_sdp(uas)
    far.remote = (ip, port)
    media = media_line(daemon)
    assert media and media.startswith(f"media: PCMU {PTIME_MS} ms"), media
    far.send_tone_async(FAR_TONE, duration=2 * window_seconds + 15, level_dbm0=-12.0, ptime=PTIME_MS)
    assert daemon.ctl("say", "1", "tone", str(MOUTHPIECE_TONE), "-10").returncode == 0
    far.wait_for(lambda: far.first_tone_arrival(-30.0, frequency=MOUTHPIECE_TONE), 5, "atad's tone")
    # The far end's packets reach atad: the peer has built its whole tone
    # (a second of Python that would delay its arrival times) and sends.
    wait_until(lambda: re.search(r"received [1-9]\d", media_line(daemon) or ""), 10,
               "atad to receive the far end's audio")
    ssrc = far.received(pt=PCMU)[-1].ssrc

    # Baseline: line 2 idle.
    baseline_start = time.monotonic()
    baseline_missing, baseline_packets = window_after(far, ssrc, baseline_start, WINDOW_PACKETS,
                                                      window_seconds + 10)
    baseline = lateness_ms(baseline_packets, WINDOW_PACKETS)
    # A direct account is looked up only when a line dials through it.
    assert dead_dns.queries() == [], f"DNS asked before line 2 dialed: {dead_dns.queries()}"

    # The outage window: line 2 dials through outage.test.
    outage_start = time.monotonic()
    assert daemon.ctl("hook", "2", "off").returncode == 0
    assert daemon.ctl("dtmf", "2", NUMBER).returncode == 0
    outage_missing, outage_packets = window_after(far, ssrc, outage_start, WINDOW_PACKETS,
                                                  window_seconds + 10)
    outage = lateness_ms(outage_packets, WINDOW_PACKETS)
    window_end = max(p.arrival for k, p in outage_packets.items() if k < WINDOW_PACKETS)

    timed_out_at = log_time(daemon, rf"^account outage: cannot resolve {re.escape(NAME)}: DNS timeout$")
    failed_at = log_time(daemon, rf"^line 2: no SIP account or reachable server to call {NUMBER}\b")
    queries = dead_dns.queries()
    in_window = [q for q in queries if outage_start <= q[0] <= window_end]
    summary = (f"{describe('baseline (line 2 idle)', baseline, baseline_missing)}\n"
               f"{describe('outage (line 2 looking up ' + NAME + ')', outage, outage_missing)}\n"
               f"lookup failed {failed_at - outage_start if failed_at else float('nan'):.2f} s into the "
               f"{window_seconds:.0f} s window; the dead server read {len(queries)} queries: "
               f"{[(round(t - outage_start, 2), kind, name) for t, kind, name in queries]}")
    print("\n" + summary)

    assert any(kind == "NAPTR" and name == NAME for _, kind, name in in_window), (
        f"no NAPTR query for {NAME} during the window\n{summary}\natad log:\n{daemon.log()[-4000:]}")
    assert timed_out_at is not None and failed_at is not None and failed_at + AFTER_FAILURE <= window_end, (
        f"the lookup did not fail inside the window\n{summary}\natad log:\n{daemon.log()[-4000:]}")
    assert not outage_missing, f"atad's RTP lost packets during the lookup\n{summary}"
    assert max(outage.values()) <= LATE_LIMIT_MS, f"atad's RTP was late during the lookup\n{summary}"

    # Line 2 hears the congestion tone; line 1's call goes on.
    wait_until(lambda: line_state(daemon, 2) == f"congestion number {NUMBER}", 5, "line 2 in congestion")
    wait_until(lambda: sorted(heard_frequencies(daemon, 2)) == CONGESTION, 5, "line 2 to hear congestion")
    assert line_state(daemon, 1).startswith("talking"), line_state(daemon, 1)
    count = len(far.received(pt=PCMU))
    far.wait_for(lambda: len(far.received(pt=PCMU)) >= count + 10, 2, "atad's RTP to keep coming")

    assert daemon.ctl("hook", "2", "on").returncode == 0
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    wait_until(lambda: line_state(daemon, 1).startswith("idle") and line_state(daemon, 2).startswith("idle"), 5,
               "both lines idle")
