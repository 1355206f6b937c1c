"""A real DNS server for the atad scenario tests: dnsmasq on 127.0.0.1 at a
free port, serving only the records a test gives it (NAPTR, SRV, A/AAAA),
and a minimal DNS client written here to check what it answers.

dnsmasq runs in the foreground (--keep-in-foreground) as a child of the
test: no /etc/resolv.conf, no /etc/hosts, no upstream servers, bound to
loopback only. Every name it is not given is NXDOMAIN (`local=/#/`), so a
lookup never leaves the machine. Its query log (--log-queries) is kept in
the test's folder: tests read it to see which lookups atad made.

The client builds and parses DNS messages (RFC 1035, SRV RFC 2782, NAPTR
RFC 3403) with struct, so the tests need no package from PyPI.

Debian package: dnsmasq-base (/usr/sbin/dnsmasq).
"""

import grp
import ipaddress
import os
import pwd
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import wait_until
from sip_peers import LOOPBACK, STOP_TIMEOUT, _tail, free_port, stop_process

DNSMASQ_START_TIMEOUT = 10.0

TYPE_A = 1
TYPE_AAAA = 28
TYPE_SRV = 33
TYPE_NAPTR = 35

RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
RCODE_REFUSED = 5

# A name as dnsmasq's options take it: no commas, slashes or spaces.
NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")

# "query[SRV] _sip._udp.atad.test from 127.0.0.1" in dnsmasq's log.
QUERY_LOG_LINE = re.compile(r"\bquery\[(\w+)\] (\S+) from (\S+)$")


# ---------------------------------------------------------------------------
# DNS messages


def encode_name(name: str) -> bytes:
    """A domain name in wire form: length-prefixed labels, then a zero."""
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        assert 0 < len(raw) < 64, f"bad label in {name!r}"
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def build_query(name: str, qtype: int, ident: int) -> bytes:
    """One question, class IN, recursion desired."""
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack(">HH", qtype, 1)


def decode_name(message: bytes, offset: int):
    """(name, offset after it) for the name at `offset`, following
    compression pointers (at most 64 of them, so a loop cannot hang)."""
    labels = []
    end = None
    for _ in range(64):
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        labels.append(message[offset + 1:offset + 1 + length].decode("ascii", errors="replace"))
        offset += 1 + length
    raise ValueError("too many compression pointers")


def _character_string(message: bytes, offset: int):
    length = message[offset]
    return message[offset + 1:offset + 1 + length].decode("ascii", errors="replace"), offset + 1 + length


def decode_rdata(message: bytes, rtype: int, start: int, length: int):
    """The record data of the types the tests use, as Python values; the
    raw bytes for the others."""
    data = message[start:start + length]
    if rtype == TYPE_A:
        return str(ipaddress.IPv4Address(data))
    if rtype == TYPE_AAAA:
        return str(ipaddress.IPv6Address(data))
    if rtype == TYPE_SRV:
        priority, weight, port = struct.unpack(">HHH", data[:6])
        target, _ = decode_name(message, start + 6)
        return {"priority": priority, "weight": weight, "port": port, "target": target}
    if rtype == TYPE_NAPTR:
        order, preference = struct.unpack(">HH", data[:4])
        offset = start + 4
        flags, offset = _character_string(message, offset)
        service, offset = _character_string(message, offset)
        regexp, offset = _character_string(message, offset)
        replacement, _ = decode_name(message, offset)
        return {"order": order, "preference": preference, "flags": flags, "service": service,
                "regexp": regexp, "replacement": replacement}
    return data


class DnsResponse:
    def __init__(self, ident, rcode, authoritative, answers):
        self.ident = ident
        self.rcode = rcode
        self.authoritative = authoritative
        self.answers = answers  # [(name, type, ttl, data)]

    def of_type(self, rtype):
        return [data for _, kind, _, data in self.answers if kind == rtype]

    def __repr__(self):
        return f"<DnsResponse rcode {self.rcode} answers {self.answers!r}>"


def parse_response(message: bytes) -> DnsResponse:
    ident, flags, questions, answers, _, _ = struct.unpack(">HHHHHH", message[:12])
    assert flags & 0x8000, "not a response"
    offset = 12
    for _ in range(questions):
        _, offset = decode_name(message, offset)
        offset += 4
    records = []
    for _ in range(answers):
        name, offset = decode_name(message, offset)
        rtype, _, ttl, length = struct.unpack(">HHIH", message[offset:offset + 10])
        offset += 10
        records.append((name, rtype, ttl, decode_rdata(message, rtype, offset, length)))
        offset += length
    return DnsResponse(ident, flags & 0x000F, bool(flags & 0x0400), records)


def dns_query(port, name, qtype, host=LOOPBACK, timeout=1.0):
    """Asks `host`:`port` over UDP; the parsed response, or None when none
    with our id came within `timeout` (nothing listening, not started).
    Bounded in time and in datagrams read."""
    ident = random.randrange(1, 0x10000)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect((host, port))
        sock.send(build_query(name, qtype, ident))
        deadline = time.monotonic() + timeout
        for _ in range(100):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                message = sock.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if len(message) >= 12 and struct.unpack(">H", message[:2])[0] == ident:
                return parse_response(message)
        return None
    finally:
        sock.close()


def query_srv(port, name, host=LOOPBACK, timeout=1.0):
    """The SRV records of `name` as (priority, weight, port, target),
    sorted; None when the server did not answer."""
    response = dns_query(port, name, TYPE_SRV, host, timeout)
    if response is None:
        return None
    return sorted((r["priority"], r["weight"], r["port"], r["target"]) for r in response.of_type(TYPE_SRV))


# ---------------------------------------------------------------------------
# dnsmasq


def dnsmasq_binary() -> str:
    path = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    assert os.access(path, os.X_OK), "dnsmasq not found: install the Debian package dnsmasq-base"
    return path


def _check_name(name):
    assert NAME.match(name), f"not a name dnsmasq can take: {name!r}"
    return name


class DnsServer:
    """One dnsmasq in the foreground on 127.0.0.1:`port` (UDP and TCP),
    answering from the records given before `start()`. The port is chosen
    when the server is made, so a test can point atad at it before it
    runs; `restart()` keeps it."""

    def __init__(self, workdir, port=None):
        self.workdir = Path(workdir)
        self.port = port or free_port(LOOPBACK, udp=True, tcp=True)
        self.lines = []
        self.config = self.workdir / "dnsmasq.conf"
        self.log_path = self.workdir / "dnsmasq.log"
        self.process = None
        self.starts = 0
        self.err_path = None

    # -- records (read when dnsmasq starts: restart() after a change)

    def srv(self, name, target, port, priority=10, weight=0):
        """An SRV record: `name` ("_sip._udp.atad.test") -> `target`:`port`."""
        self.lines.append(f"srv-host={_check_name(name)},{_check_name(target)},{int(port)},"
                          f"{int(priority)},{int(weight)}")
        return self

    def naptr(self, name, order, preference, flags, service, replacement, regexp=""):
        """A NAPTR record (RFC 3403), e.g. ("atad.test", 10, 10, "s",
        "SIP+D2U", "_sip._udp.atad.test")."""
        for text in (flags, service, regexp):
            assert "," not in text and "\n" not in text, text
        self.lines.append(f"naptr-record={_check_name(name)},{int(order)},{int(preference)},"
                          f"{flags},{service},{regexp},{_check_name(replacement)}")
        return self

    def host(self, name, *addresses):
        """A and/or AAAA records of `name`."""
        assert addresses, "a host record needs an address"
        for address in addresses:
            ipaddress.ip_address(address)
        self.lines.append(f"host-record={_check_name(name)}," + ",".join(addresses))
        return self

    def clear(self):
        self.lines = []
        return self

    def render(self) -> str:
        return "\n".join([
            "# Written by Tests/Scenarios/dns_server.py: every name not below is",
            "# NXDOMAIN, nothing is forwarded.",
            "local=/#/",
            *self.lines,
            "",
        ])

    def command(self) -> list:
        cmd = [
            dnsmasq_binary(),
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            f"--port={self.port}",
            f"--conf-file={self.config}",
            "--log-queries",
            f"--log-facility={self.log_path}",
            f"--pid-file={self.workdir / 'dnsmasq.pid'}",
        ]
        # As root dnsmasq would drop to nobody (and group dip); stay who we
        # are, so it can write its log in our folder. Not root: it keeps its
        # ids anyway, and naming them is harmless.
        try:
            cmd.append(f"--user={pwd.getpwuid(os.getuid()).pw_name}")
            cmd.append(f"--group={grp.getgrgid(os.getgid()).gr_name}")
        except KeyError:
            pass
        return cmd

    # -- life cycle

    def start(self, timeout=DNSMASQ_START_TIMEOUT):
        assert not self.running(), "dnsmasq already running"
        self.config.write_text(self.render())
        self.starts += 1
        self.err_path = self.workdir / f"dnsmasq-{self.starts}.err"
        with open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=err,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=DNSMASQ_START_TIMEOUT):
        """Waits until a query gets an answer (any answer: the server is up)."""
        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"dnsmasq exited with {self.process.returncode} while starting:\n"
                                     f"$ {' '.join(self.command())}\n{self.output()}")
            return dns_query(self.port, "ready.invalid", TYPE_A, timeout=0.2) is not None
        wait_until(answers, timeout, f"dnsmasq to answer on 127.0.0.1:{self.port}", interval=0.02)

    def stop(self, timeout=STOP_TIMEOUT):
        """By pid: SIGTERM, SIGKILL after `timeout`. Then nothing answers."""
        if self.process is not None:
            stop_process(self.process, timeout, group=True)

    def restart(self, timeout=DNSMASQ_START_TIMEOUT):
        """A new process on the same port, with the records as they are now."""
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
        """As atad's `dns_servers` takes it."""
        return f"{LOOPBACK}:{self.port}"

    # -- what happened

    def output(self) -> str:
        return _tail(self.err_path) if self.err_path else ""

    def log(self) -> str:
        return _tail(self.log_path, limit=10**6)

    def queries(self, qtype=None, name=None) -> list:
        """(type, name) of every query in the log so far (all starts),
        optionally only of one type ("SRV") and/or one name."""
        found = []
        for line in self.log().splitlines():
            match = QUERY_LOG_LINE.search(line)
            if not match:
                continue
            kind, queried = match.group(1), match.group(2).rstrip(".").lower()
            if (qtype is None or kind == qtype) and (name is None or queried == name.lower()):
                found.append((kind, queried))
        return found

    def query(self, name, qtype, timeout=1.0):
        return dns_query(self.port, name, qtype, timeout=timeout)


@pytest.fixture
def dns_server():
    """Factory: `dns_server.create()` returns a DnsServer with its port
    chosen: add records, then `.start()` it (later, for a test where the
    network comes up after atad). Every instance is stopped by its pid at
    the end of the test and its folder removed."""
    made = []
    workdirs = []

    class Factory:
        @staticmethod
        def create(port=None) -> DnsServer:
            workdir = Path(tempfile.mkdtemp(prefix="dns-", dir="/tmp"))
            workdirs.append(workdir)
            server = DnsServer(workdir, port)
            made.append(server)
            return server

    yield Factory
    for server in made:
        server.stop()
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
