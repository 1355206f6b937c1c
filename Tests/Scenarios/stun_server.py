"""A real STUN server for the atad scenario tests: coturn's `turnserver`
in STUN-only mode, as a child of the test, on one address and a free UDP
port (in a network namespace of nat_network.py, or ours), and a minimal
STUN client written here (RFC 5389 Binding Request, XOR-MAPPED-ADDRESS),
so the tests need no package from PyPI.

turnserver runs in the foreground with no configuration file (-n), every
setting on its command line: STUN only (TURN requests ignored), UDP and
TCP on the one address (no TLS/DTLS listeners), no telnet CLI, no RFC 5780
second address. Nothing it writes goes outside the test's folder: its log
(stdout, --simple-log), its pid file and its (unused, but always opened)
SQLite user database.

Debian package: coturn (/usr/bin/turnserver). Installing it enables a
coturn systemd service; the tests never use it (their own server listens
on an address and port of their own).
"""

import ipaddress
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import wait_until
from nat_network import exec_prefix, socket_in
from sip_peers import LOOPBACK, STOP_TIMEOUT, _tail, free_port, stop_process

TURNSERVER_START_TIMEOUT = 10.0

# RFC 5389
MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
ATTR_MAPPED_ADDRESS = 0x0001
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_MAPPED_ADDRESS = 0x0020
FAMILY_IPV4 = 0x01
FAMILY_IPV6 = 0x02
HEADER = struct.Struct(">HHI12s")


# ---------------------------------------------------------------------------
# STUN messages


def binding_request(transaction_id: bytes) -> bytes:
    """A Binding Request with no attributes: the 20-byte header."""
    assert len(transaction_id) == 12
    return HEADER.pack(BINDING_REQUEST, 0, MAGIC_COOKIE, transaction_id)


def _attributes(message: bytes):
    """(type, value) of each attribute, bounded by the message's length."""
    _, length, _, _ = HEADER.unpack_from(message)
    end = min(len(message), HEADER.size + length)
    offset = HEADER.size
    while offset + 4 <= end:
        kind, size = struct.unpack_from(">HH", message, offset)
        yield kind, message[offset + 4:offset + 4 + size]
        offset += 4 + (size + 3) // 4 * 4  # values are padded to 4 bytes


def xor_mapped_address(value: bytes, transaction_id: bytes):
    """(ip, port) of an XOR-MAPPED-ADDRESS value (RFC 5389 15.2): the port
    XORed with the cookie's top 16 bits, the address with the cookie (and,
    for IPv6, the transaction id after it)."""
    family, xport = value[1], struct.unpack_from(">H", value, 2)[0]
    port = xport ^ (MAGIC_COOKIE >> 16)
    key = struct.pack(">I", MAGIC_COOKIE) + transaction_id
    if family == FAMILY_IPV4:
        raw = bytes(a ^ b for a, b in zip(value[4:8], key[:4]))
    elif family == FAMILY_IPV6:
        raw = bytes(a ^ b for a, b in zip(value[4:20], key))
    else:
        raise ValueError(f"unknown address family {family} in XOR-MAPPED-ADDRESS")
    return str(ipaddress.ip_address(raw)), port


def parse_binding_response(message: bytes, transaction_id: bytes):
    """(ip, port) of XOR-MAPPED-ADDRESS in a Binding success response for
    `transaction_id`; None when `message` is not a response to it (a
    stray datagram). An error response or a success without the
    attribute fails."""
    if len(message) < HEADER.size:
        return None
    kind, _, cookie, ident = HEADER.unpack_from(message)
    if cookie != MAGIC_COOKIE or ident != transaction_id:
        return None
    if kind == BINDING_ERROR:
        codes = [value for attribute, value in _attributes(message) if attribute == ATTR_ERROR_CODE]
        detail = (f"{codes[0][2] * 100 + codes[0][3]} {codes[0][4:].decode('utf-8', 'replace')}"
                  if codes and len(codes[0]) >= 4 else "no ERROR-CODE")
        raise AssertionError(f"STUN Binding error response: {detail}")
    if kind != BINDING_SUCCESS:
        return None
    for attribute, value in _attributes(message):
        if attribute == ATTR_XOR_MAPPED_ADDRESS:
            return xor_mapped_address(value, transaction_id)
    raise AssertionError(f"Binding success response without XOR-MAPPED-ADDRESS: {message.hex()}")


def stun_binding(sock, server_addr, timeout=1.0):
    """Sends one RFC 5389 Binding Request from `sock` (a UDP socket, bound
    or not) to `server_addr` (host, port) and returns the (ip, port) the
    server saw it come from (XOR-MAPPED-ADDRESS), or None when no answer
    to it came within `timeout`. Datagrams from elsewhere or for another
    transaction are skipped (read and dropped); the wait is bounded in time
    and in datagrams read. The socket's own timeout is put back."""
    transaction_id = os.urandom(12)
    server_addr = (server_addr[0], int(server_addr[1]))
    previous = sock.gettimeout()
    try:
        sock.sendto(binding_request(transaction_id), server_addr)
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                message, source = sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if tuple(source[:2]) != server_addr:
                continue
            mapped = parse_binding_response(message, transaction_id)
            if mapped is not None:
                return mapped
        return None
    finally:
        sock.settimeout(previous)


# ---------------------------------------------------------------------------
# turnserver


def turnserver_binary() -> str:
    path = shutil.which("turnserver") or "/usr/bin/turnserver"
    assert os.access(path, os.X_OK), "turnserver not found: install the Debian package coturn"
    return path


class StunServer:
    """One turnserver in STUN-only mode, in the foreground, listening on
    `ip`:`port` (UDP, and TCP) in the network namespace `netns` (None:
    ours). The port is chosen when the server is made; `restart()` keeps
    it."""

    def __init__(self, workdir, ip=LOOPBACK, port=None, netns=None):
        self.workdir = Path(workdir)
        self.ip = ip
        self.netns = netns
        self.port = port or free_port(ip, udp=True, tcp=True, netns=netns)
        self.process = None
        self.starts = 0
        self.log_path = None

    def command(self) -> list:
        return [
            *exec_prefix(self.netns), turnserver_binary(),
            "-n",  # no configuration file (not /etc/turnserver.conf): only these options
            "--stun-only",
            "--listening-ip", self.ip,
            "--listening-port", str(self.port),
            "--no-tls", "--no-dtls",
            "--no-cli",
            "--no-rfc5780",
            "--log-file", "stdout", "--simple-log",
            "--pidfile", str(self.workdir / "turnserver.pid"),
            "--userdb", str(self.workdir / "turndb"),
        ]

    # -- life cycle

    def start(self, timeout=TURNSERVER_START_TIMEOUT):
        assert not self.running(), "turnserver already running"
        self.starts += 1
        self.log_path = self.workdir / f"turnserver-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=TURNSERVER_START_TIMEOUT):
        """Waits until a Binding Request from the server's own namespace
        gets a success response naming the socket it came from."""
        sock = socket_in(self.netns, socket.AF_INET6 if ":" in self.ip else socket.AF_INET)
        try:
            sock.bind((self.ip, 0))
            own = sock.getsockname()[:2]

            def answers():
                if self.process.poll() is not None:
                    raise AssertionError(f"turnserver exited with {self.process.returncode} while starting:\n"
                                         f"$ {' '.join(self.command())}\n{self.log()}")
                mapped = stun_binding(sock, self.address, timeout=0.2)
                assert mapped is None or mapped == own, f"turnserver maps {own} to {mapped}"
                return mapped is not None
            wait_until(answers, timeout, f"turnserver to answer a Binding Request on {self.ip}:{self.port}",
                       interval=0.02)
        finally:
            sock.close()

    def stop(self, timeout=STOP_TIMEOUT):
        """By pid: SIGTERM, SIGKILL after `timeout` (and to its group)."""
        if self.process is not None:
            stop_process(self.process, timeout, group=True)

    def restart(self, timeout=TURNSERVER_START_TIMEOUT):
        old = self.process.pid if self.process else None
        self.stop()
        self.start(timeout)
        assert self.process.pid != old
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    @property
    def address(self):
        """(ip, port), as stun_binding() takes it."""
        return (self.ip, self.port)

    @property
    def config_value(self):
        """As atad's `[sip] stun_server` would take it: ip:port."""
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def log(self) -> str:
        return _tail(self.log_path) if self.log_path else ""


@pytest.fixture
def stun_server():
    """Factory: `stun_server.start(ip=..., netns=..., port=None)` returns a
    started StunServer that has answered a Binding Request;
    `stun_server.create(...)` one not started yet (its port already
    chosen). Every instance is stopped by its pid at the end of the test
    and its folder removed. With a NatNetwork, request `nat`/`nat_eim`
    first, so the server stops before its namespace goes."""
    made = []
    workdirs = []

    class Factory:
        @staticmethod
        def create(ip=LOOPBACK, port=None, netns=None) -> StunServer:
            workdir = Path(tempfile.mkdtemp(prefix="stun-", dir="/tmp"))
            workdirs.append(workdir)
            server = StunServer(workdir, ip=ip, port=port, netns=netns)
            made.append(server)
            return server

        @staticmethod
        def start(ip=LOOPBACK, port=None, netns=None) -> StunServer:
            return Factory.create(ip=ip, port=port, netns=netns).start()

    yield Factory
    for server in made:
        server.stop()
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
