"""A pure-Python RTP endpoint for the atad media tests: the far end of a
call on the network side, loopback only.

It says what a telephone says (a G.711 tone, RFC 4733 telephone-events)
and hears what arrives (every RTP packet with its arrival time, decoded
G.711, RTCP receiver reports), so a test can check what atad sends and how
it copes with loss, jitter and a stranger's packets.

Sending is paced against time.monotonic() from a schedule fixed when the
stream starts (packet n is due at start + n * ptime), so sleeping never
accumulates drift; a send that follows another at once continues its
schedule, so back-to-back sends make one evenly paced stream. Impairments come from a seeded random.Random and are
counted exactly. Every loop is bounded in count and time; the receive
thread stops on stop() within one poll interval.

Standard library only (and nat_network's socket_in, for a peer inside a
network namespace the test made).
"""

import heapq
import math
import random
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import pytest

from nat_network import socket_in

LOOPBACK = "127.0.0.1"
SAMPLE_RATE = 8000
PCMU = 0
PCMA = 8
TELEPHONE_EVENT = 101
POLL_INTERVAL = 0.02

# A full-scale 16-bit sine (the G.711 decoders' range, 14/13-bit values
# scaled up) is about +3.14 dBm0 (G.711's digital milliwatt is 0 dBm0).
FULL_SCALE_DBM0 = 3.14

DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
EVENT_DIGITS = {code: digit for digit, code in DTMF_EVENTS.items()}


# ---------------------------------------------------------------------------
# G.711 (ITU-T G.711): 16-bit linear <-> 8-bit µ-law / A-law


def linear_to_ulaw(sample: int) -> int:
    """µ-law: bias by 33 (in 14-bit units), find the segment from the
    highest set bit, keep four mantissa bits, invert all bits."""
    value = max(-32768, min(32767, int(sample))) >> 2  # 14-bit
    sign = 0x80 if value < 0 else 0x00
    magnitude = min(-value if value < 0 else value, 8158) + 33
    segment = max(0, magnitude.bit_length() - 6)  # 33..8191 -> 0..7
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    return (~(sign | (segment << 4) | mantissa)) & 0xFF


def ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    segment = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 1) + 33) << segment) - 33  # 14-bit
    return (-magnitude if code & 0x80 else magnitude) << 2


def linear_to_alaw(sample: int) -> int:
    """A-law: 13-bit magnitude, segment from the highest set bit (segments
    0 and 1 share a step), four mantissa bits, even bits inverted (0x55)."""
    value = max(-32768, min(32767, int(sample))) >> 3  # 13-bit
    sign = 0x80 if value >= 0 else 0x00
    magnitude = min(-value - 1 if value < 0 else value, 4095)
    if magnitude < 32:
        segment, mantissa = 0, magnitude >> 1
    else:
        segment = magnitude.bit_length() - 5  # 32..4095 -> 1..7
        mantissa = (magnitude >> segment) & 0x0F
    return (sign | (segment << 4) | mantissa) ^ 0x55


def alaw_to_linear(code: int) -> int:
    code ^= 0x55
    segment = (code >> 4) & 0x07
    mantissa = code & 0x0F
    if segment == 0:
        magnitude = (mantissa << 1) + 1
    else:
        magnitude = ((mantissa << 1) + 33) << (segment - 1)
    return (magnitude if code & 0x80 else -magnitude) << 3


_ULAW_DECODE = [ulaw_to_linear(c) for c in range(256)]
_ALAW_DECODE = [alaw_to_linear(c) for c in range(256)]


def encode(samples, pt=PCMU) -> bytes:
    coder = linear_to_ulaw if pt == PCMU else linear_to_alaw
    return bytes(coder(s) for s in samples)


def decode(payload: bytes, pt=PCMU) -> list:
    table = _ULAW_DECODE if pt == PCMU else _ALAW_DECODE
    return [table[b] for b in payload]


# ---------------------------------------------------------------------------
# Signals and their analysis


def amplitude_for_dbm0(level_dbm0: float) -> float:
    return 32767.0 * 10.0 ** ((level_dbm0 - FULL_SCALE_DBM0) / 20.0)


def dbm0_of(samples) -> float:
    """The RMS level of 16-bit samples in dBm0 (-inf for silence)."""
    if not samples:
        return float("-inf")
    power = sum(s * s for s in samples) / len(samples)
    if power <= 0:
        return float("-inf")
    # A sine of amplitude A has RMS A/sqrt(2).
    return 20.0 * math.log10(math.sqrt(2.0 * power) / 32767.0) + FULL_SCALE_DBM0


def tone_samples(frequency, level_dbm0, count, start_index=0):
    amplitude = amplitude_for_dbm0(level_dbm0)
    step = 2.0 * math.pi * frequency / SAMPLE_RATE
    return [int(round(amplitude * math.sin(step * (start_index + i)))) for i in range(count)]


def goertzel_power(samples, frequency) -> float:
    """Power of `samples` at `frequency` (any real frequency, not only a bin)."""
    coefficient = 2.0 * math.cos(2.0 * math.pi * frequency / SAMPLE_RATE)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coefficient * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def dominant_frequency(samples, low=100.0, high=3900.0) -> float:
    """The frequency with the most power in `samples`: a coarse Goertzel
    scan on a 100 ms block, then finer scans over the whole (up to 1 s)
    signal around the peak, then a parabola through the last three points.
    On a clean tone of 0.3 s or more it is within 0.05 %."""
    assert len(samples) >= 400, f"need at least 50 ms of audio, have {len(samples)} samples"
    mean = sum(samples) / len(samples)
    centred = [s - mean for s in samples[:SAMPLE_RATE]]
    block = centred[:800]
    step = 5.0
    candidates = [low + step * i for i in range(int((high - low) / step) + 1)]
    best = max(candidates, key=lambda f: goertzel_power(block, f))
    span = 2 * step
    for _ in range(4):  # 10 Hz -> 1 Hz -> 0.1 Hz -> 0.01 Hz steps
        step = span / 10.0
        grid = [best - span + step * i for i in range(21)]
        powers = [goertzel_power(centred, f) for f in grid]
        index = max(range(len(grid)), key=lambda i: powers[i])
        best = grid[index]
        if 0 < index < len(grid) - 1:
            left, middle, right = powers[index - 1], powers[index], powers[index + 1]
            denominator = left - 2.0 * middle + right
            if denominator < 0:
                best += 0.5 * step * (left - right) / denominator
        span = step
    return best


# ---------------------------------------------------------------------------
# RTP / RFC 4733 / RTCP wire formats


def rtp_packet(pt, seq, timestamp, ssrc, payload, marker=False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def telephone_event_payload(event, end, volume, duration) -> bytes:
    return struct.pack("!BBH", event & 0xFF, (0x80 if end else 0) | (volume & 0x3F), duration & 0xFFFF)


@dataclass
class RtpReceived:
    arrival: float  # time.monotonic()
    source: tuple
    seq: int
    timestamp: int
    ssrc: int
    pt: int
    marker: bool
    payload: bytes


@dataclass
class ReportBlock:
    ssrc: int
    fraction_lost: float  # 0..1 (the 8-bit field / 256)
    cumulative_lost: int
    highest_seq: int
    jitter: int  # timestamp units
    lsr: int
    dlsr: int


@dataclass
class RtcpReceived:
    arrival: float
    source: tuple
    kind: str  # "SR", "RR", or "PT<n>" for others
    sender_ssrc: int
    reports: list = field(default_factory=list)


def parse_rtcp(data: bytes) -> list:
    """The packets of a compound RTCP datagram (SR and RR report blocks
    parsed; other types kept by name only). Stops at anything malformed."""
    packets = []
    offset = 0
    for _ in range(32):
        if offset + 8 > len(data):
            break
        first, pt, length = struct.unpack_from("!BBH", data, offset)
        if first >> 6 != 2:
            break
        count = first & 0x1F
        end = offset + 4 * (length + 1)
        if end > len(data):
            break
        sender_ssrc = struct.unpack_from("!I", data, offset + 4)[0]
        kind = {200: "SR", 201: "RR"}.get(pt, f"PT{pt}")
        reports = []
        if pt in (200, 201):
            block = offset + 8 + (20 if pt == 200 else 0)
            for _ in range(count):
                if block + 24 > end:
                    break
                ssrc, lost_word, highest, jitter, lsr, dlsr = struct.unpack_from("!IIIIII", data, block)
                cumulative = lost_word & 0xFFFFFF
                if cumulative & 0x800000:
                    cumulative -= 0x1000000
                reports.append(ReportBlock(ssrc, (lost_word >> 24) / 256.0, cumulative, highest, jitter, lsr, dlsr))
                block += 24
        packets.append((kind, sender_ssrc, reports))
        offset = end
    return packets


def rtcp_receiver_report(sender_ssrc, media_ssrc, fraction_lost, cumulative_lost, highest_seq, jitter,
                         lsr=0, dlsr=0) -> bytes:
    lost_word = (int(fraction_lost * 256) & 0xFF) << 24 | (cumulative_lost & 0xFFFFFF)
    return struct.pack("!BBHIIIIIII", 0x81, 201, 7, sender_ssrc, media_ssrc, lost_word,
                       highest_seq & 0xFFFFFFFF, jitter, lsr, dlsr)


# ---------------------------------------------------------------------------
# Sockets


def bind_pair(host=LOOPBACK, attempts=50, netns=None):
    """An RTP socket on an even port and its RTCP socket on port + 1, in the
    network namespace `netns` (None: ours)."""
    for _ in range(attempts):
        rtp = socket_in(netns)
        rtcp = socket_in(netns)
        try:
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port >= 65535:
                raise OSError("odd port")
            rtcp.bind((host, port + 1))
            return rtp, rtcp
        except OSError:
            rtp.close()
            rtcp.close()
    raise AssertionError(f"no free even/odd UDP port pair on {host} after {attempts} attempts")


# ---------------------------------------------------------------------------
# The peer


@dataclass
class SendReport:
    """What one send_* call put on the wire (exact counts)."""
    sent: int = 0
    dropped: int = 0
    first_seq: int = 0
    first_timestamp: int = 0
    started: float = 0.0  # monotonic time of the first packet's due time
    samples: int = 0  # the stream time the packets cover (timestamp units)
    seqs_sent: list = field(default_factory=list)
    seqs_dropped: list = field(default_factory=list)
    # (seq, time.monotonic_ns() just before its sendto), in sending order:
    # on loopback, the packet's arrival time at the far end to within the
    # kernel's few microseconds.
    send_times: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + self.dropped

    def send_time_ns(self, seq):
        """When the packet with sequence number `seq` was sent (None if it
        was dropped or never sent)."""
        return next((when for sent, when in self.send_times if sent == seq), None)


class RtpPeer:
    """One RTP endpoint on 127.0.0.1 (RTP on an even port, RTCP on +1), or
    on `host` inside the network namespace `netns` when given (its sockets
    are made there, so it sends and receives on that namespace's network).

    Typical use:
        peer = RtpPeer().start()
        peer.remote = ("127.0.0.1", atad_rtp_port)
        peer.send_tone(1000, duration=1.0)          # blocks while sending
        job = peer.send_tone_async(...); job.wait() # or in the background
        peer.wait_for_packets(50)
        assert abs(peer.dominant_frequency() - 1000) < 5
        peer.stop()
    """

    def __init__(self, host=LOOPBACK, ssrc=None, seed=1, netns=None):
        self.host = host
        self.netns = netns
        self.rtp_socket, self.rtcp_socket = bind_pair(host, netns=netns)
        self.port = self.rtp_socket.getsockname()[1]
        self.rtcp_port = self.port + 1
        self.rogue_socket = None
        self.remote = None  # (host, port) of the far end's RTP
        self.random = random.Random(seed)
        self.ssrc = ssrc if ssrc is not None else self.random.getrandbits(32)
        self.seq = self.random.getrandbits(16)
        self.timestamp = self.random.getrandbits(32)
        self.started_stream = False
        self.tone_phase = 0  # sample index, so consecutive tones join smoothly
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()
        self.packets = []  # RtpReceived, in arrival order
        self.rtcp = []  # RtcpReceived
        self.stopping = threading.Event()
        self.thread = None
        self.jobs = []
        # When the next packet of the peer's own stream is due: a send that
        # follows another at once continues its pace (packet n of the
        # stream due n * ptime after the first), so back-to-back sends
        # arrive as one evenly paced stream and a jitter buffer sees no
        # early packets. After a pause the schedule starts from now.
        self.stream_due = None

    # -- life cycle

    def start(self):
        assert self.thread is None, "already started"
        self.thread = threading.Thread(target=self._receive_loop, name=f"rtp-peer-{self.port}", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout=5.0):
        self.stopping.set()
        for job in self.jobs:
            job.join(timeout)
        if self.thread is not None:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), "RTP receive thread did not stop"
        for s in (self.rtp_socket, self.rtcp_socket, self.rogue_socket):
            if s is not None:
                s.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self):
        return (self.host, self.port)

    @property
    def rogue_port(self):
        return self._rogue().getsockname()[1]

    def _rogue(self):
        if self.rogue_socket is None:
            self.rogue_socket = socket_in(self.netns)
            self.rogue_socket.bind((self.host, 0))
        return self.rogue_socket

    # -- receiving

    def _receive_loop(self):
        sockets = [self.rtp_socket, self.rtcp_socket]
        while not self.stopping.is_set():
            try:
                readable, _, _ = select.select(sockets, [], [], POLL_INTERVAL)
            except (OSError, ValueError):
                return
            for s in readable:
                for _ in range(256):  # drain, bounded
                    try:
                        data, source = s.recvfrom(65536, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    arrival = time.monotonic()
                    if s is self.rtp_socket:
                        self._on_rtp(data, source, arrival)
                    else:
                        self._on_rtcp(data, source, arrival)

    def _on_rtp(self, data, source, arrival):
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        first, second, seq, timestamp, ssrc = struct.unpack_from("!BBHII", data)
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= offset + 4:  # header extension
            offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
        payload = data[offset:]
        if first & 0x20 and payload:  # padding
            payload = payload[:-payload[-1]]
        with self.lock:
            self.packets.append(RtpReceived(arrival, source, seq, timestamp, ssrc, second & 0x7F,
                                            bool(second & 0x80), payload))

    def _on_rtcp(self, data, source, arrival):
        with self.lock:
            for kind, sender, reports in parse_rtcp(data):
                self.rtcp.append(RtcpReceived(arrival, source, kind, sender, reports))

    def received(self, pt=None, source=None, since=None) -> list:
        """A copy of the received RTP packets, optionally only payload type
        `pt`, from `source` (host, port), arrived at or after `since`."""
        with self.lock:
            packets = list(self.packets)
        return [p for p in packets
                if (pt is None or p.pt == pt) and (source is None or p.source == tuple(source))
                and (since is None or p.arrival >= since)]

    def received_rtcp(self) -> list:
        with self.lock:
            return list(self.rtcp)

    def clear(self):
        with self.lock:
            self.packets.clear()
            self.rtcp.clear()

    def wait_for(self, predicate, timeout=5.0, what="condition"):
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / POLL_INTERVAL) + 2):
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL)
        raise AssertionError(f"RtpPeer {self.port}: timed out after {timeout} s waiting for {what}; "
                             f"{len(self.received())} RTP and {len(self.received_rtcp())} RTCP packets so far")

    def wait_for_packets(self, count, pt=None, timeout=5.0):
        return self.wait_for(lambda: len(self.received(pt)) >= count, timeout, f"{count} RTP packets (pt {pt})")

    def wait_for_rtcp(self, kind="RR", timeout=5.0):
        return self.wait_for(lambda: [r for r in self.received_rtcp() if r.kind == kind], timeout, f"RTCP {kind}")

    def wait_quiet(self, quiet=0.2, timeout=5.0):
        """Waits until no RTP has arrived for `quiet` seconds."""
        def settled():
            packets = self.received()
            last = packets[-1].arrival if packets else 0.0
            return time.monotonic() - last >= quiet
        return self.wait_for(settled, timeout, f"{quiet} s without RTP")

    def audio(self, start=None, end=None, pt=None, source=None) -> list:
        """The received G.711 audio as 16-bit samples, each packet placed by
        its RTP timestamp (so reordering is undone and a lost packet leaves
        silence); packets selected by arrival time in [start, end). Uses the
        SSRC of the first audio packet in the window."""
        packets = [p for p in self.received(source=source)
                   if p.pt in ((PCMU, PCMA) if pt is None else (pt,))
                   and (start is None or p.arrival >= start) and (end is None or p.arrival < end)]
        if not packets:
            return []
        ssrc = packets[0].ssrc
        packets = [p for p in packets if p.ssrc == ssrc]
        base = packets[0].timestamp
        # Offsets relative to the first arrival; a reordered earlier packet
        # has a small negative offset (modulo 2^32).
        placed = []
        for p in packets:
            offset = (p.timestamp - base) & 0xFFFFFFFF
            if offset >= 0x80000000:
                offset -= 0x100000000
            placed.append((offset, p))
        low = min(o for o, _ in placed)
        high = max(o + len(p.payload) for o, p in placed)
        assert high - low <= 60 * SAMPLE_RATE, "more than a minute of audio in the window"
        samples = [0] * (high - low)
        for offset, p in placed:
            decoded = decode(p.payload, p.pt)
            samples[offset - low:offset - low + len(decoded)] = decoded
        return samples

    def dominant_frequency(self, start=None, end=None, **kwargs) -> float:
        return dominant_frequency(self.audio(start, end, **kwargs))

    def level_dbm0(self, start=None, end=None, **kwargs) -> float:
        return dbm0_of(self.audio(start, end, **kwargs))

    def first_tone_arrival(self, threshold_dbm0=-40.0, frequency=None, pt=None):
        """The arrival time of the first G.711 packet whose level is above
        `threshold_dbm0` (with `frequency`: the level at that frequency, by
        Goertzel, so noise or other tones do not count). None if none."""
        for p in self.received():
            if p.pt not in ((PCMU, PCMA) if pt is None else (pt,)) or not p.payload:
                continue
            samples = decode(p.payload, p.pt)
            if frequency is None:
                level = dbm0_of(samples)
            else:
                power = goertzel_power(samples, frequency)
                # |X(f)| of a sine of amplitude A over N samples is A*N/2.
                amplitude = 2.0 * math.sqrt(max(power, 0.0)) / len(samples)
                level = (20.0 * math.log10(amplitude / 32767.0) + FULL_SCALE_DBM0) if amplitude > 0 else float("-inf")
            if level >= threshold_dbm0:
                return p.arrival
        return None

    def events(self, pt=TELEPHONE_EVENT) -> list:
        """RFC 4733 events received, one dict per event (keyed by SSRC and
        RTP timestamp, in order of first arrival): digit, code, duration
        (the largest, in timestamp units), end (an end packet was seen),
        end_packets, packets, volume, marker (the first packet had M)."""
        found = {}
        for p in self.received(pt):
            if len(p.payload) < 4:
                continue
            code, flags, duration = struct.unpack_from("!BBH", p.payload)
            key = (p.ssrc, p.timestamp)
            event = found.setdefault(key, {"digit": EVENT_DIGITS.get(code), "code": code, "duration": 0,
                                           "end": False, "end_packets": 0, "packets": 0,
                                           "volume": flags & 0x3F, "marker": p.marker,
                                           "timestamp": p.timestamp, "arrival": p.arrival})
            event["packets"] += 1
            event["duration"] = max(event["duration"], duration)
            if flags & 0x80:
                event["end"] = True
                event["end_packets"] += 1
        return list(found.values())

    def stats(self, pt=None, source=None) -> dict:
        """RFC 3550 receive statistics of the first SSRC received: packets
        received, expected (from the extended highest sequence number),
        lost, duplicates, reordered (arrived after a higher seq), and the
        interarrival jitter (RFC 3550 A.8) in timestamp units."""
        packets = [p for p in self.received(pt, source) if p.pt < 72 or p.pt > 76]
        if not packets:
            return {"received": 0, "expected": 0, "lost": 0, "duplicates": 0, "reordered": 0, "jitter": 0.0}
        ssrc = packets[0].ssrc
        packets = [p for p in packets if p.ssrc == ssrc]
        base = packets[0].seq
        extended = []
        highest = 0
        reordered = 0
        for p in packets:
            delta = (p.seq - base) & 0xFFFF
            if delta >= 0x8000:
                delta -= 0x10000
            # Extend against the highest seen so far (cycles counted).
            cycles = (highest - delta + 0x8000) // 0x10000
            value = delta + cycles * 0x10000
            if value < highest:
                reordered += 1
            highest = max(highest, value)
            extended.append(value)
        seen = set(extended)
        expected = max(extended) - min(extended) + 1
        jitter = 0.0
        previous = None
        for p in packets:
            if p.pt in (PCMU, PCMA) or previous is None or p.pt == previous[2]:
                transit = p.arrival * SAMPLE_RATE - p.timestamp
                if previous is not None:
                    d = abs(transit - previous[0])
                    jitter += (d - jitter) / 16.0
                previous = (transit, p.timestamp, p.pt)
        return {"ssrc": ssrc, "received": len(packets), "expected": expected, "lost": expected - len(seen),
                "duplicates": len(packets) - len(seen), "reordered": reordered, "jitter": jitter,
                "highest_seq": (base + max(extended)) & 0xFFFFFFFF if max(extended) >= 0 else base}

    def send_receiver_report(self, to=None):
        """Sends one RTCP RR about what was received (cumulative counts;
        the fraction is lost/expected over the whole stream)."""
        stats = self.stats()
        fraction = max(0, stats["lost"]) / stats["expected"] if stats["expected"] else 0.0
        data = rtcp_receiver_report(self.ssrc, stats.get("ssrc", 0), min(fraction, 255 / 256), stats["lost"],
                                    stats.get("highest_seq", 0), int(stats["jitter"]))
        target = to or (self.remote[0], self.remote[1] + 1)
        self.rtcp_socket.sendto(data, target)
        return stats

    # -- sending

    def _next_header(self, marker=False):
        """Takes the next sequence number (the stream's state is shared by
        tones and events)."""
        seq = self.seq
        self.seq = (self.seq + 1) & 0xFFFF
        first = not self.started_stream
        self.started_stream = True
        return seq, marker or first

    def _transmit(self, packets, ptime_ms, loss, jitter_ms, rogue, report, seed, to):
        """Sends [(offset_index, bytes, seq)] paced at offset_index *
        ptime from the stream's next due time (now, or later when the
        previous send of the stream ends after now; rogue and `to` sends
        have their own schedule from now), each delayed by a uniform
        0..jitter_ms, each dropped with probability `loss`. Blocks until all
        are sent or stop()."""
        rng = random.Random(seed) if seed is not None else self.random
        sock = self._rogue() if rogue else self.rtp_socket
        target = to or self.remote
        assert target is not None, "set peer.remote = (host, port) first"
        start = time.monotonic()
        if not rogue and to is None:
            with self.send_lock:
                if self.stream_due is not None:
                    start = max(start, self.stream_due)
                self.stream_due = start + report.samples / SAMPLE_RATE
        report.started = start
        queue = []
        for order, (index, data, seq) in enumerate(packets):
            if loss and rng.random() < loss:
                report.dropped += 1
                report.seqs_dropped.append(seq)
                continue
            delay = rng.uniform(0.0, jitter_ms) / 1000.0 if jitter_ms else 0.0
            heapq.heappush(queue, (start + index * ptime_ms / 1000.0 + delay, order, data, seq))
        limit = start + (len(packets) * ptime_ms + jitter_ms) / 1000.0 + 5.0
        for _ in range(len(queue)):
            due, _, data, seq = heapq.heappop(queue)
            wait = due - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):
                return report
            if time.monotonic() > limit:
                raise AssertionError("RTP sender fell more than 5 s behind its schedule")
            sent_at = time.monotonic_ns()
            try:
                sock.sendto(data, target)
            except OSError:
                return report
            report.send_times.append((seq, sent_at))
            report.sent += 1
            report.seqs_sent.append(seq)
        return report

    def tone_packets(self, frequency, duration=1.0, level_dbm0=-10.0, ptime=20, pt=PCMU):
        """Builds the packets of a tone (advancing seq/timestamp/phase)."""
        assert ptime in (10, 20, 30, 40, 60), ptime
        per_packet = SAMPLE_RATE * ptime // 1000
        count = max(1, int(round(duration * 1000 / ptime)))
        packets = []
        report = SendReport()
        with self.send_lock:
            for index in range(count):
                seq, marker = self._next_header()
                if index == 0:
                    report.first_seq, report.first_timestamp = seq, self.timestamp
                report.samples += per_packet
                samples = tone_samples(frequency, level_dbm0, per_packet, self.tone_phase) if frequency else [0] * per_packet
                self.tone_phase += per_packet
                packets.append((index, rtp_packet(pt, seq, self.timestamp, self.ssrc, encode(samples, pt), marker), seq))
                self.timestamp = (self.timestamp + per_packet) & 0xFFFFFFFF
        return packets, report

    def send_tone(self, frequency, duration=1.0, level_dbm0=-10.0, ptime=20, pt=PCMU, loss=0.0, jitter_ms=0,
                  seed=None, rogue=False, to=None) -> SendReport:
        """Sends a tone (frequency 0: silence) for `duration` seconds in
        packets of `ptime` ms; blocks until sent. Loss and jitter as
        described above; `rogue` sends from a second socket on another port;
        `to` overrides the destination."""
        packets, report = self.tone_packets(frequency, duration, level_dbm0, ptime, pt)
        return self._transmit(packets, ptime, loss, jitter_ms, rogue, report, seed, to)

    def send_tone_async(self, *args, **kwargs) -> "SendJob":
        job = SendJob(lambda: self.send_tone(*args, **kwargs))
        self.jobs.append(job)
        return job.begin()

    def event_packets(self, digit, duration_ms=100, pt=TELEPHONE_EVENT, volume=10, ptime=20):
        """RFC 4733: a start packet with M set, updates every ptime with the
        growing duration, then three end packets with the final duration.
        All share the event's timestamp (the stream's current position);
        each has its own sequence number. The stream's timestamp then moves
        past the event."""
        code = DTMF_EVENTS[str(digit).upper()] if not isinstance(digit, int) else digit
        per_packet = SAMPLE_RATE * ptime // 1000
        total = max(per_packet, SAMPLE_RATE * duration_ms // 1000)
        durations = []
        for k in range(1, 1000):  # updates while the event goes on
            if k * per_packet >= total:
                break
            durations.append((k * per_packet, False))
        durations += [(total, True)] * 3
        packets = []
        report = SendReport()
        with self.send_lock:
            timestamp = self.timestamp
            report.first_timestamp = timestamp
            for index, (length, end) in enumerate(durations):
                seq, _ = self._next_header()
                if index == 0:
                    report.first_seq = seq
                payload = telephone_event_payload(code, end, volume, length)
                packets.append((index, rtp_packet(pt, seq, timestamp, self.ssrc, payload, marker=index == 0), seq))
            advance = math.ceil(total / per_packet) * per_packet
            report.samples = advance
            self.timestamp = (self.timestamp + advance) & 0xFFFFFFFF
            self.tone_phase += advance
        return packets, report

    def send_event(self, digit, duration_ms=100, pt=TELEPHONE_EVENT, volume=10, ptime=20, loss=0.0,
                   jitter_ms=0, seed=None, rogue=False, to=None) -> SendReport:
        packets, report = self.event_packets(digit, duration_ms, pt, volume, ptime)
        return self._transmit(packets, ptime, loss, jitter_ms, rogue, report, seed, to)

    def send_raw(self, data: bytes, rogue=False, to=None):
        (self._rogue() if rogue else self.rtp_socket).sendto(data, to or self.remote)


class SendJob:
    """A send_* call in its own thread; wait() returns its SendReport."""

    def __init__(self, function):
        self.function = function
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.result = self.function()
        except BaseException as error:  # re-raised in wait()
            self.error = error

    def begin(self):
        self.thread.start()
        return self

    def join(self, timeout):
        if self.thread.is_alive():
            self.thread.join(timeout)

    def wait(self, timeout=60.0) -> SendReport:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"send job still running after {timeout} s"
        if self.error is not None:
            raise self.error
        return self.result


# ---------------------------------------------------------------------------
# SDP and SIPp with an RtpPeer as its media endpoint


def sdp_audio(text):
    """(ip, port, [payload types]) of the first audio stream in the SDP
    found in `text` (a SIP message or a log holding one), or None."""
    ip = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("c=IN IP4 ") and ip is None:
            ip = line.split()[2]
        if line.startswith("m=audio "):
            words = line.split()
            for later in text[text.find(line):].splitlines()[1:]:
                later = later.strip()
                if later.startswith("c=IN IP4 "):
                    ip = later.split()[2]
                    break
                if later.startswith("m=") or not later:
                    break
            return ip, int(words[1]), [int(w) for w in words[3:] if w.isdigit()]
    return None


def sipp_received_sdp(sipp):
    """The audio (ip, port, pts) of the last SDP a running or finished Sipp
    received (from its -trace_msg log, which SIPp writes as it goes)."""
    blocks = sipp.messages().split("message received")
    for block in reversed(blocks[1:]):
        found = sdp_audio(block.split("message sent")[0])
        if found:
            return found
    return None


def sipp_media_uas(sipp_factory, peer, hangs_up_after_ms=None, **kwargs):
    """A started SIPp UAS (sip_peers.Sipp) whose 200 OK SDP points at
    `peer` (an RtpPeer): uas_media.xml (waits for the far end's BYE), or
    uas_media_bye.xml (hangs up itself `hangs_up_after_ms` after the ACK)."""
    keys = {"rtp_ip": peer.host, "rtp_port": peer.port, **kwargs.pop("keys", {})}
    if hangs_up_after_ms is None:
        return sipp_factory.uas("uas_media.xml", keys=keys, **kwargs)
    extra = ["-d", str(int(hangs_up_after_ms)), *kwargs.pop("extra", [])]
    return sipp_factory.uas("uas_media_bye.xml", keys=keys, extra=extra, **kwargs)


def sipp_media_uac(sipp_factory, peer, remote, service, caller="2000", hangs_up_after_ms=None, **kwargs):
    """A started SIPp UAC calling `service` at `remote` (host, port) with
    an SDP pointing at `peer`: uac_media.xml (BYE `hangs_up_after_ms` after
    the ACK) or, with None, uac_media_wait_bye.xml (waits for the far
    end's BYE)."""
    keys = {"rtp_ip": peer.host, "rtp_port": peer.port, "caller": caller, **kwargs.pop("keys", {})}
    if hangs_up_after_ms is None:
        return sipp_factory.uac("uac_media_wait_bye.xml", remote=remote, service=service, keys=keys, **kwargs)
    extra = ["-d", str(int(hangs_up_after_ms)), *kwargs.pop("extra", [])]
    return sipp_factory.uac("uac_media.xml", remote=remote, service=service, keys=keys, extra=extra, **kwargs)


def wait_sipp_sdp(sipp, timeout=10.0):
    """Waits until SIPp has received an SDP; returns (ip, port, pts)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / POLL_INTERVAL) + 2):
        found = sipp_received_sdp(sipp)
        if found:
            return found
        if sipp.process.poll() is not None or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"no SDP received by sipp {sipp.name} within {timeout} s:\n{sipp.logs()}")


# The pytest fixture the scenario files import (like sip_peers' `sipp`).
@pytest.fixture
def peers():
    """Factory: `peers(**kwargs)` is a started RtpPeer, stopped at the end."""
    started = []

    def make(**kwargs):
        peer = RtpPeer(**kwargs).start()
        started.append(peer)
        return peer
    yield make
    for peer in started:
        peer.stop()
