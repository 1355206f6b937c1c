"""A home network behind a NAT router, built from network namespaces for
the atad scenario tests (issue 15): atad lives in `home`, Kamailio and the
callers in `internet`, and `router` between them masquerades what leaves
toward the internet, as a home router does.

    home                    router                        internet
    eth0 10.77.0.2/24 --- lan0 10.77.0.1/24
    default via 10.77.0.1   wan0 198.51.100.1/24 --- eth0 198.51.100.2/24
                            ip_forward, nft masquerade random on wan0

The internet side has no route to 10.77.0.0/24: it only ever sees the
router's address. `masquerade random` picks a random public port for every
new mapping, so a flushed conntrack table gives the next packet from home
a NEW public port, which is what a NAT that forgot its binding looks like
to the registrar.

That default router is a symmetric NAT (RFC 4787: address-and-port-
dependent mapping): every new destination of one home socket gets its own
random public port, so the port a STUN server reports is useless to anyone
else. NatNetwork(mapping="endpoint-independent") (fixture `nat_eim`) makes
it the NAT STUN needs instead: UDP leaves through
`snat to 198.51.100.1:40000-40999` without the random flag, and Linux's
nf_nat gives a new flow the public port an existing flow from the same
private address and port already has (find_appropriate_src), so one home
socket keeps ONE public port, in 40000-40999, for every destination.
Filtering is the same in both: only replies (conntrack established,
related) come in; a packet to a public port from a peer home never sent
to reaches the router itself, which answers port unreachable. (The
endpoint-independent router rejects it in an input chain, so it leaves
no conntrack entry behind: see ruleset().)

Everything is made as root with `ip` (iproute2) and `nft` (nftables);
the conntrack table is flushed with `conntrack -F` (conntrack). Names are
unique per test run (pid and a counter), so parallel or stale runs never
meet. Teardown deletes the namespaces, which takes the veth pairs, the
nft table and the conntrack entries with them, and checks they are gone.

The test process stays in its own namespace: commands run in a namespace
through `ip netns exec NAME` (exec_prefix), and sockets are made in one by
socket_in(), which switches the calling thread's network namespace with
setns(2) just long enough to create the socket (a socket keeps the
namespace it was created in). Python 3.11 has no os.setns, hence ctypes.
"""

import ctypes
import itertools
import os
import re
import socket
import subprocess
import threading

import pytest

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"
COMMAND_TIMEOUT = 10.0

HOME_IP = "10.77.0.2"
ROUTER_INSIDE_IP = "10.77.0.1"
ROUTER_PUBLIC_IP = "198.51.100.1"  # TEST-NET-2 (RFC 5737)
INTERNET_IP = "198.51.100.2"
PREFIX_LENGTH = 24

RANDOM_MAPPING = "random"
EIM_MAPPING = "endpoint-independent"
# The public UDP ports of the endpoint-independent router (inclusive).
EIM_PORT_RANGE = (40000, 40999)

_names = itertools.count(1)
_setns_lock = threading.Lock()
_libc = None


# ---------------------------------------------------------------------------
# Entering a namespace


def _setns(fd):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"setns: {os.strerror(number)}")


def socket_in(netns, family=socket.AF_INET, kind=socket.SOCK_DGRAM) -> socket.socket:
    """A new socket that belongs to the network namespace `netns` (a name
    under /var/run/netns), or to ours when `netns` is None. Only the
    calling thread switches, and it is back in its own namespace before
    this returns (or raises)."""
    if netns is None:
        return socket.socket(family, kind)
    with _setns_lock:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
            try:
                _setns(target)
                try:
                    return socket.socket(family, kind)
                finally:
                    _setns(own)
            finally:
                os.close(target)
        finally:
            os.close(own)


def exec_prefix(netns) -> list:
    """The words that run a command in `netns` (none for our own). `ip
    netns exec` execs the command itself, so the child's pid is the
    command's (a script with a #! line, such as a qemu wrapper, works too)."""
    return [] if netns is None else ["ip", "netns", "exec", netns]


def _run(command, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT)
    if check and result.returncode != 0:
        raise AssertionError(f"`{' '.join(command)}` exited with {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------
# The network


class NatNetwork:
    """The three namespaces and the router between them (see the module's
    description). build() makes them, teardown() removes them; `home`,
    `router` and `internet` are the namespace names. `mapping` is how the
    router picks public ports: RANDOM_MAPPING ("random", masquerade
    random: a symmetric NAT) or EIM_MAPPING ("endpoint-independent": one
    public port per home socket, in EIM_PORT_RANGE, for UDP)."""

    def __init__(self, tag=None, mapping=RANDOM_MAPPING):
        assert mapping in (RANDOM_MAPPING, EIM_MAPPING), f"unknown NAT mapping {mapping!r}"
        self.mapping = mapping
        tag = tag or f"{os.getpid()}-{next(_names)}"
        self.home = f"atad-nat-{tag}-home"
        self.router = f"atad-nat-{tag}-router"
        self.internet = f"atad-nat-{tag}-internet"
        self.created = []

    @property
    def namespaces(self):
        return [self.home, self.router, self.internet]

    def run(self, netns, *command, check=True) -> subprocess.CompletedProcess:
        """Runs `command` in `netns` to completion; fails when it fails
        (unless check=False)."""
        return _run([*exec_prefix(netns), *map(str, command)], check)

    def build(self):
        for name in self.namespaces:
            _run(["ip", "netns", "add", name])
            self.created.append(name)
            self.run(name, "ip", "link", "set", "lo", "up")
        # The veth pairs are made inside the namespaces, so their names
        # never appear in ours.
        _run(["ip", "-n", self.router, "link", "add", "lan0", "type", "veth",
              "peer", "name", "eth0", "netns", self.home])
        _run(["ip", "-n", self.router, "link", "add", "wan0", "type", "veth",
              "peer", "name", "eth0", "netns", self.internet])
        for netns, device, address in ((self.home, "eth0", HOME_IP), (self.router, "lan0", ROUTER_INSIDE_IP),
                                       (self.router, "wan0", ROUTER_PUBLIC_IP), (self.internet, "eth0", INTERNET_IP)):
            self.run(netns, "ip", "address", "add", f"{address}/{PREFIX_LENGTH}", "dev", device)
            self.run(netns, "ip", "link", "set", device, "up")
        # Home reaches everything through the router; the internet knows
        # only its own subnet, where the router's public address is.
        self.run(self.home, "ip", "route", "add", "default", "via", ROUTER_INSIDE_IP)
        self.run(self.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        result = subprocess.run([*exec_prefix(self.router), "nft", "-f", "-"], input=self.ruleset(),
                                capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert result.returncode == 0, f"nft -f failed: {result.stdout}{result.stderr}"
        return self

    def ruleset(self) -> str:
        """The router's nft ruleset for this network's `mapping`. A home
        router: what leaves on wan0 takes the router's address (and, by
        default, a random port); from the internet only replies come in."""
        if self.mapping == EIM_MAPPING:
            # No random flag: nf_nat reuses the public port of the same
            # private source's existing flow for a new destination.
            low, high = EIM_PORT_RANGE
            source_nat = (f'    oifname "wan0" meta l4proto udp snat to {ROUTER_PUBLIC_IP}:{low}-{high}\n'
                          '    oifname "wan0" masquerade\n')
            # What comes to the router itself from the internet and is not
            # a reply is rejected (port unreachable), as a home router's
            # firewall does. Without this it would be delivered (to no
            # socket) and its conntrack entry kept: a peer that sent to a
            # public port before home sent to it would hold the reverse of
            # home's future flow to it, and nf_nat would give that flow
            # ANOTHER public port, no longer endpoint-independent.
            # Rejected, the packet's entry is never confirmed.
            input_chain = (
                "  chain input {\n"
                "    type filter hook input priority filter; policy accept;\n"
                '    iifname "wan0" ct state established,related accept\n'
                '    iifname "wan0" counter reject\n'
                "  }\n")
        else:
            source_nat = '    oifname "wan0" masquerade random\n'
            input_chain = ""
        return (
            "table ip atad_nat {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            + source_nat +
            "  }\n"
            "  chain forward {\n"
            "    type filter hook forward priority filter; policy drop;\n"
            "    ct state established,related accept\n"
            '    iifname "lan0" oifname "wan0" accept\n'
            "  }\n"
            + input_chain +
            "}\n")

    def teardown(self):
        """Deletes every namespace this network made (the veths, the nft
        table and the conntrack entries go with them); fails when one is
        still listed afterwards."""
        problems = []
        for name in reversed(self.created):
            result = _run(["ip", "netns", "del", name], check=False)
            if result.returncode != 0:
                problems.append(f"ip netns del {name}: {result.stderr.strip()}")
        self.created = []
        left = [name for name in _run(["ip", "netns", "list"]).stdout.split()
                if name in self.namespaces]
        assert not problems and not left, f"namespaces not removed: {left} {problems}"

    # -- the router's connection tracking

    def conntrack_udp(self) -> list:
        """The router's UDP conntrack entries, each a dict with the original
        direction's src/sport/dst/dport and the reply direction's
        reply_dst/reply_dport (for a masqueraded flow: the public address
        and port)."""
        result = self.run(self.router, "conntrack", "-L", "-p", "udp")
        entries = []
        for line in result.stdout.splitlines():
            pairs = re.findall(r"\b(src|dst|sport|dport)=(\S+)", line)
            if len(pairs) < 8:
                continue
            original, reply = dict(pairs[:4]), dict(pairs[4:8])
            entries.append({**original, "reply_dst": reply["dst"], "reply_dport": int(reply["dport"]),
                            "sport": int(original["sport"]), "dport": int(original["dport"])})
        return entries

    def public_port(self, private_port, remote, home_ip=HOME_IP):
        """The router's public port for home's UDP flow from
        `home_ip`:`private_port` to `remote` (host, port), or None when it
        has no mapping."""
        for entry in self.conntrack_udp():
            if (entry["src"] == home_ip and entry["sport"] == private_port
                    and (entry["dst"], entry["dport"]) == tuple(remote)):
                return entry["reply_dport"]
        return None

    def flush_conntrack(self):
        """Forgets every mapping, as a router does when it reboots or its
        table overflows: home's next packet gets a new public port."""
        self.run(self.router, "conntrack", "-F")
        assert self.conntrack_udp() == [], "the router's conntrack table is not empty after conntrack -F"


def skip_unless_namespaces_possible():
    """Skips the test when it cannot make network namespaces: not root, or
    `ip netns add` refused (a container without CAP_SYS_ADMIN)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces (ip netns)")
    probe = f"atad-nat-probe-{os.getpid()}"
    result = _run(["ip", "netns", "add", probe], check=False)
    if result.returncode != 0:
        pytest.skip(f"`ip netns add` is not possible here: {result.stderr.strip()}")
    _run(["ip", "netns", "del", probe])


def _built_network(mapping):
    skip_unless_namespaces_possible()
    network = NatNetwork(mapping=mapping)
    try:
        network.build()
    except BaseException:
        try:
            network.teardown()
        except AssertionError as error:  # the build's own error is the one to see
            print(f"after a failed build: {error}")
        raise
    yield network
    network.teardown()


@pytest.fixture
def nat():
    """A built NatNetwork (masquerade random: a symmetric NAT), removed at
    the end of the test whatever happens. Request it before the fixtures
    that start processes in it, so they are stopped before it goes."""
    yield from _built_network(RANDOM_MAPPING)


@pytest.fixture
def nat_eim():
    """As `nat`, but the router maps endpoint-independently (the NAT STUN
    works through): one home UDP socket has one public port, in
    EIM_PORT_RANGE, whatever it sends to."""
    yield from _built_network(EIM_MAPPING)
