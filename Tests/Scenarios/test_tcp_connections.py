"""TCP connections others open to atad cannot take the places its own need:
inbound connections hold at most 24 of the 32, the quietest one without a
call makes room for a new one, and a TCP account still registers again and
places a call through Kamailio while 40 idle connections are held open.
Real binary, real Kamailio and SIPp, loopback only."""

import socket
import time

from conftest import wait_until
from sip_peers import kamailio, sipp  # noqa: F401 (fixtures)
from test_outgoing_calls import line_state, start, status_of

IDLE_CONNECTIONS = 40


def sip_port(daemon):
    for line in status_of(daemon):
        if line.startswith("sip: 127.0.0.1:") and line.endswith("/udp"):
            return int(line[len("sip: 127.0.0.1:"):-len("/udp")])
    raise AssertionError(f"no sip line in status: {status_of(daemon)}")


def open_idle(port, count, deadline_s=10.0):
    """`count` TCP connections to atad that send nothing. A connection atad
    refused or closed shows as EOF on a read that does not block."""
    held = []
    deadline = time.monotonic() + deadline_s
    for _ in range(count):
        assert time.monotonic() < deadline, "opening the idle connections took too long"
        s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
        held.append(s)
    return held


def still_open(connections):
    """How many of `connections` atad has not closed (no EOF waiting)."""
    alive = 0
    for s in connections:
        s.setblocking(False)
        try:
            data = s.recv(1)
            if data:
                alive += 1  # atad never speaks first; count it anyway
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def test_idle_inbound_connections_do_not_block_a_tcp_account(daemons, tmp_path, short_dir, kamailio, sipp):
    uas = sipp.uas("uas_answer.xml", timeout=40)
    proxy = kamailio.start(trunk=uas.address)
    daemon = start(daemons, tmp_path, short_dir, proxy, transport="tcp")
    idle = open_idle(sip_port(daemon), IDLE_CONNECTIONS)
    try:
        # atad keeps at most 24 of them: the 16 quietest were closed to make
        # room for the later ones.
        wait_until(lambda: still_open(idle) <= 24, 5, "atad to hold at most 24 inbound connections")
        assert still_open(idle) >= 20, "atad closed more inbound connections than it needed to"
        # The registrar restarts: the account's own connection breaks and a
        # new one must be opened while the idle ones are held.
        proxy.restart()
        proxy.wait_registered("1001@atad.test", "transport=tcp", timeout=25)
        wait_until(lambda: any(l.startswith("account home: registered") for l in status_of(daemon)), 10,
                   "registration again")
        assert daemon.ctl("hook", "1", "off").returncode == 0
        assert daemon.ctl("dtmf", "1", "9123").returncode == 0
        wait_until(lambda: (line_state(daemon) or "").startswith("talking"), 20, "the call to be answered")
        assert daemon.ctl("hook", "1", "on").returncode == 0
        uas.assert_success()
        assert daemon.running()
    finally:
        for s in idle:
            s.close()
