"""atad behind a NAT (issue 15): atad in a `home` network namespace, a
router namespace that masquerades (nftables, random ports) what leaves
toward the `internet` namespace, where Kamailio and the callers are (see
nat_network.py). Kamailio does nothing about NAT (no nathelper, no
fix_nated_*): whatever makes the calls reach the line is atad's own doing.

- atad registers through the NAT and learns its public address and port
  from the `received`/`rport` of its REGISTER's 2xx: the binding Kamailio
  keeps names the router's address, not atad's private one, so a call from
  the internet rings the line through the router, with tone both ways.
- The router forgets its mappings (conntrack flushed): atad's next
  keep-alive OPTIONS leaves through a new public port, its answer says so,
  and atad registers again with that port, within a few keep-alive
  intervals; a new call rings the line.
- Kamailio goes away (its bindings with it) and comes back: the
  keep-alives go unanswered, atad registers again, and the new binding
  names the public address again.

The first test checks the network itself, without atad. Real binaries
(atad, Kamailio, SIPp, ip, nft, conntrack); needs root for the namespaces
(skipped otherwise)."""

import os
import re
import time

from conftest import SIM_BOARD, wait_until
from nat_network import HOME_IP, INTERNET_IP, ROUTER_INSIDE_IP, ROUTER_PUBLIC_IP, nat, socket_in  # noqa: F401 (fixture)
from rtp_peer import dominant_frequency, peers, sipp_media_uac, wait_sipp_sdp  # noqa: F401 (fixture)
from sip_peers import USERS, kamailio, sip_request, sipp, status_code  # noqa: F401 (fixtures)
from test_call_media import HEAR_POLL, hears_tone, line_state

AOR = "1001@atad.test"
KEEP_ALIVE_SECONDS = 2
SIP_LINE = re.compile(r"^sip: [0-9.]+:(\d+)/udp$")
# The address DHCP gives home after a renumbering (same subnet).
NEW_HOME_IP = "10.77.0.3"
CONTACT = re.compile(r"^sips?:(?:[^@;>]+@)?([^:;>]+):(\d+)")
FAR_TONE = 700
NEAR_TONE = 1000


# ---------------------------------------------------------------------------
# Helpers


def start_kamailio(kamailio, nat):
    """Kamailio on the internet side; it reaches home only through the router."""
    return kamailio.start(ip=INTERNET_IP, netns=nat.internet)


def start_atad(daemons, tmp_path, short_dir, nat, proxy, listen_address=HOME_IP, sip_extra=""):
    """atad in the home namespace: one line on an account that registers
    with Kamailio across the router and keeps the path open with OPTIONS
    every KEEP_ALIVE_SECONDS; `sip_extra`: more [sip] lines."""
    control = short_dir / "control.sock"
    site = tmp_path / "site.conf"
    site.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        "log_level = debug\n"
        f"[sip]\nlisten_address = {listen_address}\nlisten_port = 0\n"
        f"keep_alive = options\nkeep_alive_seconds = {KEEP_ALIVE_SECONDS}\n" + sip_extra +
        "[account home]\nuser = 1001\ndomain = atad.test\n"
        f"registrar = {proxy.ip}:{proxy.port}\npassword = \"{USERS['1001']}\"\n"
        "[line 1]\naccount = home\n")
    os.chmod(site, 0o600)
    return daemons.start(site, control, tmp_path, prefix=["ip", "netns", "exec", nat.home])


def status_lines(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def registered(daemon) -> bool:
    return any(line.startswith("account home: registered") for line in status_lines(daemon))


def sip_port(daemon) -> int:
    for line in status_lines(daemon):
        match = SIP_LINE.match(line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no sip line for {HOME_IP} in {status_lines(daemon)}")


def contact_addresses(proxy):
    """(host, port) of every contact Kamailio keeps for the AoR."""
    found = []
    for contact in proxy.registrations(AOR):
        match = CONTACT.match(contact["uri"])
        assert match, contact
        found.append((match.group(1), int(match.group(2))))
    return found


def wait_public_contact(proxy, nat, daemon, timeout, home_ip=HOME_IP):
    """Waits until the only contact Kamailio keeps for the AoR is the
    router's public side of atad's SIP binding (the mapping the router
    holds for atad's SIP port, on `home_ip`, toward Kamailio); returns its
    port."""
    port = sip_port(daemon)

    def public():
        mapped = nat.public_port(port, proxy.address, home_ip)
        return mapped if contact_addresses(proxy) == [(ROUTER_PUBLIC_IP, mapped)] else None
    try:
        return wait_until(public, timeout, "Kamailio to keep only the public contact", interval=0.05)
    except AssertionError:
        raise AssertionError(
            f"Kamailio keeps {[c['uri'] for c in proxy.registrations(AOR)]} for {AOR}; expected only "
            f"sip:1001@{ROUTER_PUBLIC_IP}:{nat.public_port(port, proxy.address)}, the router's current "
            f"mapping of atad's {HOME_IP}:{port}, the only way from the internet side to atad"
            f"\natad log (tail):\n{daemon.log()[-4000:]}") from None


def call_from_the_internet(sipp, peers, nat, proxy, daemon, tones):
    """A caller on the internet side (SIPp, with an RTP peer for its media)
    calls 1001 through Kamailio; line 1 rings and is taken off-hook. With
    `tones`, a tone goes each way; then the line hangs up and the caller
    sees the BYE."""
    far = peers(host=INTERNET_IP, netns=nat.internet, seed=15)
    # 3000 is not one of Kamailio's users, so its INVITE is not challenged.
    uac = sipp_media_uac(sipp, far, remote=proxy.address, service="1001", caller="3000", timeout=30,
                         ip=INTERNET_IP, netns=nat.internet)
    wait_until(lambda: line_state(daemon).startswith("ringing"), 10,
               f"line 1 to ring (when the call was placed, Kamailio kept "
               f"{[c['uri'] for c in proxy.registrations(AOR)]} for {AOR})")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "the call to be up")
    answer = wait_sipp_sdp(uac)
    assert 0 in answer[2], answer
    if tones:
        # atad's SDP names the address of its RTP socket, the private one,
        # which nothing on the internet side can reach. So the far end does
        # what provider SBCs do, symmetric RTP: it sends its audio to where
        # atad's audio comes from, the router's public side of atad's RTP
        # socket (and atad's audio reaches it there because atad sends to
        # the far end's SDP address, through the router).
        said = time.monotonic()
        assert daemon.ctl("say", "1", "tone", str(NEAR_TONE), "-10").returncode == 0
        first = far.wait_for(lambda: far.received(since=said), 10, "atad's RTP to arrive through the router")
        source = first[0].source
        assert source[0] == ROUTER_PUBLIC_IP, (
            f"atad's RTP came from {source}, not through the router's {ROUTER_PUBLIC_IP}")
        far.remote = source
        # A second of atad's audio, from well after the tone started, is the tone.
        far.wait_for(lambda: len(far.received(source=source, since=said + 0.3)) >= 50, 10,
                     "a second of atad's audio")
        heard = dominant_frequency(far.audio(start=said + 0.3, source=source))
        assert abs(heard - NEAR_TONE) < NEAR_TONE * 0.01, f"the far end hears {heard:.1f} Hz"
        far.send_tone_async(FAR_TONE, duration=15.0, level_dbm0=-10.0)
        wait_until(lambda: hears_tone(daemon, FAR_TONE), 10, f"the earpiece to hear the far end's {FAR_TONE} Hz",
                   interval=HEAR_POLL)
    # The line hangs up: the BYE goes to the caller through Kamailio.
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uac.assert_success()
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "line 1 to be idle")


# ---------------------------------------------------------------------------
# The network itself


def test_the_router_hides_home_and_a_flush_gives_a_new_public_port(nat, kamailio):
    proxy = start_kamailio(kamailio, nat)
    # A request from home reaches Kamailio through the router, and the
    # answer (sent where the request came from, rport) comes back.
    response = sip_request(proxy.ip, proxy.port, "OPTIONS", uri=proxy.uri, timeout=2.0, netns=nat.home,
                           source=HOME_IP)
    assert status_code(response) == 200, response
    assert re.search(rf"^Via: .*;received={re.escape(ROUTER_PUBLIC_IP)}", response, re.M), response
    home = socket_in(nat.home)
    internet = socket_in(nat.internet)
    try:
        home.bind((HOME_IP, 0))
        internet.bind((INTERNET_IP, 0))
        home.settimeout(2.0)
        internet.settimeout(2.0)
        ports = []
        for _ in range(2):
            home.sendto(b"ping", internet.getsockname())
            data, source = internet.recvfrom(100)
            # The internet side sees only the router's address...
            assert data == b"ping" and source[0] == ROUTER_PUBLIC_IP, source
            internet.sendto(b"pong", source)
            assert home.recvfrom(100) == (b"pong", internet.getsockname())
            assert nat.public_port(home.getsockname()[1], internet.getsockname()) == source[1]
            ports.append(source[1])
            # ...and a router that forgot its mappings maps the same flow
            # to a new port (masquerade random).
            nat.flush_conntrack()
        assert ports[0] != ports[1], ports
        # Nothing on the internet side has a way to home's private address.
        try:
            internet.sendto(b"direct", (HOME_IP, home.getsockname()[1]))
            unreachable = False
        except OSError:
            unreachable = True
        assert unreachable, "the internet side must have no route to the home subnet"
    finally:
        home.close()
        internet.close()


# ---------------------------------------------------------------------------
# atad behind the router


def test_registers_through_the_nat_and_a_call_from_the_internet_rings_the_line(
        nat, kamailio, daemons, tmp_path, short_dir, sipp, peers):
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy)
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    # The 2xx said where the REGISTER came from (the router's address and
    # port); atad registers again at once with that as its Contact, and
    # drops the private one.
    public_port = wait_public_contact(proxy, nat, daemon, timeout=5)
    assert (ROUTER_PUBLIC_IP, public_port, "udp") in proxy.request_sources("REGISTER")
    call_from_the_internet(sipp, peers, nat, proxy, daemon, tones=True)
    assert daemon.running()


def test_a_new_nat_binding_makes_it_register_again(nat, kamailio, daemons, tmp_path, short_dir, sipp, peers):
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy)
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    old_port = wait_public_contact(proxy, nat, daemon, timeout=5)
    # The router forgets its mappings: atad's next keep-alive OPTIONS
    # leaves through a new public port, which Kamailio sees (and names in
    # the answer's rport).
    nat.flush_conntrack()
    flushed = len(proxy.request_sources("OPTIONS"))

    def new_port():
        return next((port for ip, port, _ in proxy.request_sources("OPTIONS")[flushed:]
                     if ip == ROUTER_PUBLIC_IP and port != old_port), None)
    new = wait_until(new_port, 3 * KEEP_ALIVE_SECONDS, "a keep-alive OPTIONS through a new public port")
    # atad notices from the answer and registers again with the new port,
    # within a few keep-alive intervals.
    assert wait_public_contact(proxy, nat, daemon, timeout=3 * KEEP_ALIVE_SECONDS) == new
    assert registered(daemon), status_lines(daemon)
    # Calls reach the line through the new binding.
    call_from_the_internet(sipp, peers, nat, proxy, daemon, tones=False)
    assert daemon.running()


def test_a_registrar_that_lost_its_bindings_gets_the_public_contact_again(
        nat, kamailio, daemons, tmp_path, short_dir, sipp, peers):
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy)
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    wait_public_contact(proxy, nat, daemon, timeout=5)
    # Kamailio stops (its in-memory bindings go with it): two keep-alives
    # in a row go unanswered and atad starts registering again.
    proxy.stop()
    wait_until(lambda: not registered(daemon), 4 * KEEP_ALIVE_SECONDS + 2, "atad to notice the silent registrar",
               interval=0.05)
    proxy.start()
    assert proxy.registrations(AOR) == [], "the restarted registrar forgot the binding"
    # A retransmitted REGISTER reaches it; the binding names the router again.
    wait_until(lambda: registered(daemon), 20, "atad to register again through the router")
    wait_public_contact(proxy, nat, daemon, timeout=5)
    call_from_the_internet(sipp, peers, nat, proxy, daemon, tones=False)
    assert daemon.running()


def test_a_new_home_address_is_registered_without_a_restart(nat, kamailio, daemons, tmp_path, short_dir, sipp,
                                                            peers):
    """DHCP renumbers the home network while atad (listening on every
    address) is registered: at its next keep-alive tick atad sees that its
    address toward the registrar changed and registers again from the new
    one, the old Contact taken away; calls reach the line without a
    restart, after the old address is gone."""
    proxy = start_kamailio(kamailio, nat)
    daemon = start_atad(daemons, tmp_path, short_dir, nat, proxy, listen_address="0.0.0.0")
    wait_until(lambda: registered(daemon), 10, "atad to register through the router")
    wait_public_contact(proxy, nat, daemon, timeout=5)
    nat.run(nat.home, "ip", "address", "add", f"{NEW_HOME_IP}/24", "dev", "eth0")
    nat.run(nat.home, "ip", "route", "replace", "default", "via", ROUTER_INSIDE_IP, "src", NEW_HOME_IP)
    noticed = f"our address toward {proxy.ip}:{proxy.port}/udp is now {NEW_HOME_IP} (was {HOME_IP})"
    wait_until(lambda: noticed in daemon.log(), 3 * KEEP_ALIVE_SECONDS, "atad to notice its new address")
    # The old address goes; the new one (a secondary on the same subnet)
    # must stay, with the routes through it.
    nat.run(nat.home, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1")
    nat.run(nat.home, "ip", "address", "del", f"{HOME_IP}/24", "dev", "eth0")
    nat.run(nat.home, "ip", "route", "replace", "default", "via", ROUTER_INSIDE_IP, "src", NEW_HOME_IP)
    wait_public_contact(proxy, nat, daemon, timeout=3 * KEEP_ALIVE_SECONDS, home_ip=NEW_HOME_IP)
    wait_until(lambda: registered(daemon), 5, "the registration to be in place")
    call_from_the_internet(sipp, peers, nat, proxy, daemon, tones=False)
    assert daemon.running()
