"""Floods of SIP from a remote peer: garbage datagrams, well-formed OPTIONS
and INVITEs that each start a new call. The loop must keep serving the
control socket while they arrive, and memory must not grow with them: the
daemon's resident size after the flood stays within a small bound of what
it was after a warm-up flood of the same kind."""

import os
import random
import socket
import time
import uuid

from conftest import UNDER_QEMU, wait_until, write_site

FLOOD_ROUNDS = 8          # each round: garbage, OPTIONS and INVITEs
PER_ROUND = 400           # datagrams of each kind per round
GROWTH_LIMIT_KB = 768     # a leak of 100 bytes a message would show up
FLOOD_DEADLINE = 60.0     # seconds for the whole flood, whatever happens


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def sip_port(daemon):
    for line in daemon.ctl("status").out_lines:
        if line.startswith("sip: 127.0.0.1:") and line.endswith("/udp"):
            return int(line[len("sip: 127.0.0.1:"):-len("/udp")])
    raise AssertionError("no sip line in status")


def request(method, port, local_port, body=b""):
    call_id = uuid.uuid4().hex
    headers = [
        f"{method} sip:1001@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{uuid.uuid4().hex};rport",
        f"From: <sip:flood@127.0.0.1>;tag={call_id[:8]}",
        "To: <sip:1001@127.0.0.1>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:flood@127.0.0.1:{local_port}>",
        "Max-Forwards: 70",
    ]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def flood_round(sock, port, rng):
    local_port = sock.getsockname()[1]
    for _ in range(PER_ROUND):
        sock.sendto(rng.randbytes(rng.randrange(1, 1400)), ("127.0.0.1", port))
        sock.sendto(request("OPTIONS", port, local_port), ("127.0.0.1", port))
        sock.sendto(request("INVITE", port, local_port, SDP), ("127.0.0.1", port))
        # Drain the answers now and then, so our own buffer never fills.
        try:
            while True:
                sock.recv(65535)
        except BlockingIOError:
            pass


def test_floods_neither_block_the_loop_nor_grow_memory(daemons, tmp_path, short_dir):
    control = short_dir / "control.sock"
    daemon = daemons.start(write_site(tmp_path / "site.conf", control), control, tmp_path)
    port = sip_port(daemon)
    rng = random.Random(4475)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    deadline = time.monotonic() + FLOOD_DEADLINE
    try:
        # Warm-up: the allocator settles, both lines ring, calls fill up.
        flood_round(sock, port, rng)
        flood_round(sock, port, rng)
        wait_until(lambda: daemon.ctl("status").returncode == 0, 10, "status after the warm-up")
        before = rss_kb(daemon.pid)
        for _ in range(FLOOD_ROUNDS):
            assert time.monotonic() < deadline, "the flood took too long"
            flood_round(sock, port, rng)
            # The loop still serves the control socket between rounds.
            started = time.monotonic()
            assert daemon.ctl("status").returncode == 0
            assert time.monotonic() - started < 5.0, "status took over 5 s during the flood"
        wait_until(lambda: daemon.ctl("status").returncode == 0, 10, "status after the flood")
        after = rss_kb(daemon.pid)
    finally:
        sock.close()
    assert daemon.running(), daemon.log()
    print(f"\nflood: {FLOOD_ROUNDS * PER_ROUND * 3} datagrams, RSS {before} -> {after} kB")
    if UNDER_QEMU:
        return  # qemu's own translation cache grows as new paths run: not ours to bound
    assert after - before <= GROWTH_LIMIT_KB, (
        f"resident size grew {after - before} kB over {FLOOD_ROUNDS * PER_ROUND * 3} datagrams "
        f"({before} -> {after} kB)")
