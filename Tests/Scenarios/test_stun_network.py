"""The network for atad's STUN tests, checked without atad: a STUN server
(coturn's turnserver, stun_server.py) on the internet side of the NAT of
nat_network.py, and the router in its endpoint-independent mode (fixture
`nat_eim`), the NAT behind which STUN is worth doing.

- The server answers a Binding Request with the address and port it came
  from (XOR-MAPPED-ADDRESS).
- The router gives one home socket one public port (in EIM_PORT_RANGE,
  not the private one) whatever it sends to: what the STUN server sees is
  what every other peer sees, so an address learnt by STUN can go in SDP.
- Filtering is still "replies only": a peer home never sent to cannot use
  the mapped address, so STUN alone does not open the door; home's own
  packet toward that peer does.

Real binaries (turnserver, ip, nft, conntrack); needs root for the
namespaces (skipped otherwise)."""

import socket

from nat_network import (EIM_PORT_RANGE, HOME_IP, INTERNET_IP, ROUTER_PUBLIC_IP, nat_eim,  # noqa: F401 (fixture)
                         socket_in)
from stun_server import stun_binding, stun_server  # noqa: F401 (fixture)

# Upper bounds, not expected durations: everything here takes milliseconds.
RECEIVE_TIMEOUT = 5.0
STUN_TIMEOUT = 5.0


# ---------------------------------------------------------------------------
# Helpers


def udp_socket(netns, ip, avoid=None):
    """A UDP socket in `netns` bound to `ip` and a port the kernel picks,
    outside the inclusive range `avoid` when given (so a public port in
    that range cannot be the private one by chance). Bounded in
    attempts."""
    for _ in range(50):
        sock = socket_in(netns)
        try:
            sock.bind((ip, 0))
        except BaseException:
            sock.close()
            raise
        port = sock.getsockname()[1]
        if avoid is None or not avoid[0] <= port <= avoid[1]:
            return sock
        sock.close()
    raise AssertionError(f"no port outside {avoid} after 50 attempts")


def receive(sock, what, timeout=RECEIVE_TIMEOUT):
    """The next datagram on `sock` as (data, source), waiting at most
    `timeout`."""
    sock.settimeout(timeout)
    try:
        return sock.recvfrom(2048)
    except socket.timeout:
        raise AssertionError(f"nothing received within {timeout} s: expected {what}") from None


def nothing_queued(sock):
    """True when no datagram is waiting on `sock` (looked at without
    waiting)."""
    sock.setblocking(False)
    try:
        sock.recvfrom(2048)
    except BlockingIOError:
        return True
    return False


def mapped_through_the_router(home, server):
    """Home's STUN mapped address: it must be the router's public address
    and a port of EIM_PORT_RANGE, not home's private port."""
    mapped = stun_binding(home, server.address, timeout=STUN_TIMEOUT)
    assert mapped is not None, f"no Binding response from {server.address} within {STUN_TIMEOUT} s:\n{server.log()}"
    private_port = home.getsockname()[1]
    assert mapped[0] == ROUTER_PUBLIC_IP and EIM_PORT_RANGE[0] <= mapped[1] <= EIM_PORT_RANGE[1], (
        f"home's {HOME_IP}:{private_port} is mapped to {mapped}, expected {ROUTER_PUBLIC_IP} and a port "
        f"in {EIM_PORT_RANGE}")
    assert mapped[1] != private_port, mapped
    return mapped


# ---------------------------------------------------------------------------
# Tests


def test_the_stun_server_names_the_address_a_request_came_from(nat_eim, stun_server):
    """Without a NAT in between, the mapped address a client learns is its
    own: the server reads the source of the request, and our client
    decodes XOR-MAPPED-ADDRESS right (two sockets, two ports)."""
    server = stun_server.start(ip=INTERNET_IP, netns=nat_eim.internet)
    clients = [udp_socket(nat_eim.internet, INTERNET_IP) for _ in range(2)]
    try:
        for client in clients:
            mapped = stun_binding(client, server.address, timeout=STUN_TIMEOUT)
            assert mapped == client.getsockname(), (
                f"the STUN server says {client.getsockname()} is {mapped}\n{server.log()}")
    finally:
        for client in clients:
            client.close()


def test_the_eim_router_gives_a_home_socket_one_public_port_for_every_destination(nat_eim):
    """The endpoint-independent router maps one home socket to ONE public
    port in EIM_PORT_RANGE (not the private port) toward two different
    peers, and each peer's reply comes back to it; the router's
    conntrack table holds that port for both flows. (The default router,
    masquerade random, would give each destination its own port.)"""
    home = udp_socket(nat_eim.home, HOME_IP, avoid=EIM_PORT_RANGE)
    peers = [udp_socket(nat_eim.internet, INTERNET_IP) for _ in range(2)]
    try:
        sources = []
        for peer in peers:
            home.sendto(b"ping", peer.getsockname())
            data, source = receive(peer, f"home's ping at {peer.getsockname()}")
            assert data == b"ping", data
            sources.append(source)
            peer.sendto(b"pong", source)
            assert receive(home, f"the reply of {peer.getsockname()}") == (b"pong", peer.getsockname())
        public = sources[0]
        assert sources[1] == public, f"one home socket reached two peers from {sources}"
        assert public[0] == ROUTER_PUBLIC_IP and EIM_PORT_RANGE[0] <= public[1] <= EIM_PORT_RANGE[1], public
        assert public[1] != home.getsockname()[1], public
        for peer in peers:
            assert nat_eim.public_port(home.getsockname()[1], peer.getsockname()) == public[1]
    finally:
        home.close()
        for peer in peers:
            peer.close()


def test_the_stun_mapped_address_is_what_other_peers_see(nat_eim, stun_server):
    """Through the endpoint-independent router, the address STUN reports
    to a home socket (the router's public address, a port of
    EIM_PORT_RANGE) is the one another peer on the internet then sees that
    socket's packets come from, and that peer's reply gets back in: what
    atad's SDP would name is where its RTP really comes from."""
    server = stun_server.start(ip=INTERNET_IP, netns=nat_eim.internet)
    home = udp_socket(nat_eim.home, HOME_IP, avoid=EIM_PORT_RANGE)
    peer = udp_socket(nat_eim.internet, INTERNET_IP)
    try:
        mapped = mapped_through_the_router(home, server)
        home.sendto(b"rtp", peer.getsockname())
        data, source = receive(peer, "home's packet after its Binding Request")
        assert (data, source) == (b"rtp", mapped), (
            f"STUN said {mapped}, but the next peer sees home's packet {data!r} come from {source}")
        peer.sendto(b"rtp back", mapped)
        assert receive(home, "the peer's reply to the mapped address") == (b"rtp back", peer.getsockname())
        assert nat_eim.public_port(home.getsockname()[1], server.address) == mapped[1]
        assert nat_eim.public_port(home.getsockname()[1], peer.getsockname()) == mapped[1]
    finally:
        home.close()
        peer.close()


def test_a_stun_mapping_does_not_let_a_peer_in_before_home_sends_to_it(nat_eim, stun_server):
    """Mapping is endpoint-independent, filtering is not: a peer home has
    never sent to gets nothing through the mapped address (the router
    answers its packet port unreachable, so it ended there, and home has
    nothing). Once home sends to that peer, the peer's packets get in, and
    home's packets reach it from the same mapped address (the refused
    packet left no conntrack entry to make the router pick another port).
    So STUN alone does not open the door: atad's first RTP packet to the
    far end does."""
    server = stun_server.start(ip=INTERNET_IP, netns=nat_eim.internet)
    home = udp_socket(nat_eim.home, HOME_IP, avoid=EIM_PORT_RANGE)
    stranger = udp_socket(nat_eim.internet, INTERNET_IP)
    try:
        mapped = mapped_through_the_router(home, server)
        # Connected, the stranger's socket hears the router's ICMP port
        # unreachable (ECONNREFUSED), and takes datagrams only from the
        # mapped address.
        stranger.connect(mapped)
        stranger.send(b"knock")
        stranger.settimeout(RECEIVE_TIMEOUT)
        try:
            data = stranger.recv(2048)
            raise AssertionError(f"the stranger got {data!r} instead of a port unreachable from the router")
        except ConnectionRefusedError:
            pass  # the router took the packet as its own and refused it
        except socket.timeout:
            raise AssertionError(f"no port unreachable from the router within {RECEIVE_TIMEOUT} s for a packet "
                                 f"to the mapped address {mapped} from a peer home never sent to") from None
        assert nothing_queued(home), "a packet from a peer home never sent to reached home"
        # Home sends to the stranger: now its packets get in, and the first
        # one home gets is the answer, not the earlier knock.
        home.sendto(b"hello", stranger.getsockname())
        assert receive(stranger, "home's packet from the mapped address") == (b"hello", mapped)
        stranger.send(b"answer")
        assert receive(home, "the stranger's answer once home sent to it") == (b"answer", stranger.getsockname())
        assert nothing_queued(home)
    finally:
        home.close()
        stranger.close()
