"""Locating the registrar by DNS (RFC 3263): atad asks a real dnsmasq
(`[sip] dns_servers`) for NAPTR, SRV and A/AAAA records and registers with
real Kamailio instances on loopback. A name without a port goes NAPTR ->
SRV -> address, in priority order, with a fresh lookup before every
REGISTER; a name with a port is looked up by address only. Failures show in
`status` and are retried with back-off; the daemon answers throughout.

The first tests check the test's own DNS server and the two registrars it
points at, without atad."""

import os
import re
import time

import pytest

from conftest import SIM_BOARD, wait_until
from dns_server import RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA, TYPE_NAPTR, TYPE_SRV, dns_server, query_srv  # noqa: F401
from sip_peers import (LOOPBACK, USERS, free_port, kamailio, sip_request, sipp,  # noqa: F401 (fixtures)
                       sipsak_register, status_code)

NAME = "atad.test"
SRV_NAME = "_sip._udp.atad.test"
AOR = "1001@atad.test"

# RFC 3261 Timer F for UDP (64*T1): how long a REGISTER to a dead server
# waits before the next target is tried.
TIMER_F = 32.0
# A registrar that grants 20 s makes atad refresh about every 17 s.
SHORT_EXPIRES = 20

REGISTERED = re.compile(r"^account home: registered, expires in (\d+) s, with (\S+):(\d+)/udp$")
FAILED = re.compile(r"^account home: failed: (.*), retry in (\d+) s$")


# ---------------------------------------------------------------------------
# Records


def sip_domain_records(dns, preferred_port, backup_port=None):
    """atad.test as RFC 3263 finds it: NAPTR SIP+D2U -> _sip._udp SRV ->
    sip1 (priority 10) and sip2 (priority 20), both 127.0.0.1."""
    dns.naptr(NAME, 10, 10, "s", "SIP+D2U", SRV_NAME)
    dns.srv(SRV_NAME, "sip1.atad.test", preferred_port, priority=10, weight=0)
    dns.host("sip1.atad.test", LOOPBACK)
    if backup_port is not None:
        dns.srv(SRV_NAME, "sip2.atad.test", backup_port, priority=20, weight=0)
        dns.host("sip2.atad.test", LOOPBACK)
    return dns


# ---------------------------------------------------------------------------
# atad


def write_dns_site(path, control_socket, dns_address, registrar=None, expires=600):
    """A site with account `home` (1001@atad.test over UDP) on line 1 whose
    registrar is found through `dns_address` only: `registrar` as written
    in the file ("name", "name:port"), or none (the domain is used)."""
    text = (
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control_socket}\n"
        "log_level = info\n"
        "[sip]\n"
        "listen_address = 127.0.0.1\n"
        "listen_port = 0\n"
        f"dns_servers = {dns_address}\n"
        "[account home]\n"
        "user = 1001\n"
        f"domain = {NAME}\n"
        + (f"registrar = {registrar}\n" if registrar else "") +
        f"password = \"{USERS['1001']}\"\n"
        f"expires = {expires}\n"
        "transport = udp\n"
        "[line 1]\n"
        "account = home\n"
        "dial_plan = (9xxx)\n"
    )
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def start_atad(daemons, tmp_path, short_dir, dns, registrar=None):
    control = short_dir / "control.sock"
    site = write_dns_site(tmp_path / "site.conf", control, dns.address, registrar)
    return daemons.start(site, control, tmp_path)


def status_lines(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def account_state(daemon):
    return next((line for line in status_lines(daemon) if line.startswith("account home: ")), "")


def line_state(daemon, line=1):
    prefix = f"line {line}: "
    return next((l[len(prefix):] for l in status_lines(daemon) if l.startswith(prefix)), "")


def registered_with(daemon):
    """(ip, port) of the server `status` says the account registered with,
    or None."""
    match = REGISTERED.match(account_state(daemon))
    return (match.group(2), int(match.group(3))) if match else None


def sip_port(daemon):
    for line in status_lines(daemon):
        match = re.match(r"^sip: 127\.0\.0\.1:(\d+)/udp$", line)
        if match:
            return int(match.group(1))
    raise AssertionError("no sip line in status")


def wait_registered_with(daemon, registrar, timeout, dns=None):
    """Waits until `status` says registered with `registrar` and the
    registrar holds atad's contact."""
    def there():
        assert daemon.running(), f"atad exited:\n{daemon.log()}"
        return registered_with(daemon) == (LOOPBACK, registrar.port)
    try:
        wait_until(there, timeout, f"atad to register with 127.0.0.1:{registrar.port}", interval=0.2)
    except AssertionError as error:
        raise AssertionError(f"{error}\nstatus: {status_lines(daemon)}\natad log:\n{daemon.log()}"
                             + (f"\ndnsmasq log:\n{dns.log()}" if dns else "")) from None
    return registrar.wait_registered(AOR, f"sip:1001@127.0.0.1:{sip_port(daemon)}", timeout=5)


# ---------------------------------------------------------------------------
# The test's DNS server and registrars, without atad


def test_dns_server_answers_naptr_srv_and_addresses(dns_server):
    dns = sip_domain_records(dns_server.create(), 5071, 5072).start()
    assert query_srv(dns.port, SRV_NAME) == [(10, 0, 5071, "sip1.atad.test"), (20, 0, 5072, "sip2.atad.test")]
    naptr = dns.query(NAME, TYPE_NAPTR).of_type(TYPE_NAPTR)
    assert naptr == [{"order": 10, "preference": 10, "flags": "s", "service": "SIP+D2U",
                      "regexp": "", "replacement": SRV_NAME}], naptr
    assert dns.query("sip2.atad.test", TYPE_A).of_type(TYPE_A) == [LOOPBACK]
    no_ipv6 = dns.query("sip2.atad.test", TYPE_AAAA)
    assert no_ipv6.rcode == 0 and no_ipv6.answers == [], no_ipv6
    # Names it was not given do not exist, in the domain and outside it.
    for name in ("nowhere.atad.test", "_sip._tcp.atad.test", "example.com"):
        assert dns.query(name, TYPE_SRV).rcode == RCODE_NXDOMAIN, name
    assert ("SRV", SRV_NAME) in wait_until(lambda: dns.queries("SRV"), 5, "the query log")

    # Stopped, nothing answers; restarted with other records, on the same port.
    dns.stop()
    assert query_srv(dns.port, SRV_NAME, timeout=0.3) is None
    dns.clear().srv(SRV_NAME, "sip9.atad.test", 5099, priority=5).host("sip9.atad.test", "::1")
    dns.restart()
    assert query_srv(dns.port, SRV_NAME) == [(5, 0, 5099, "sip9.atad.test")]
    assert dns.query("sip9.atad.test", TYPE_AAAA).of_type(TYPE_AAAA) == ["::1"]


def test_dns_server_points_at_two_kamailio_side_by_side(dns_server, kamailio):
    """What the fail-over test stands on: two registrars at once on
    127.0.0.1, each found through SRV, each keeping its own bindings."""
    first = kamailio.start(max_expires=SHORT_EXPIRES)
    second = kamailio.start(max_expires=SHORT_EXPIRES)
    assert first.port != second.port
    dns = sip_domain_records(dns_server.create(), first.port, second.port).start()
    targets = query_srv(dns.port, SRV_NAME)
    assert [port for _, _, port, _ in targets] == [first.port, second.port], targets
    for _, _, port, _ in targets:
        assert status_code(sip_request(LOOPBACK, port, "OPTIONS", timeout=2.0)) == 200, port
    code, output = sipsak_register(first, "1001", USERS["1001"], expires=SHORT_EXPIRES)
    assert code == 0, output
    contacts = first.registrations(AOR)
    assert contacts and all(c["expires"] <= SHORT_EXPIRES for c in contacts), contacts
    assert second.registrations(AOR) == []


# ---------------------------------------------------------------------------
# atad


@pytest.mark.slow
def test_registers_to_the_preferred_srv_target_and_fails_over(daemons, tmp_path, short_dir, kamailio, sipp,
                                                              dns_server):
    """Kamailio A behind SRV priority 10, B behind priority 20. atad
    registers with A. A stops: a refresh (every ~17 s) waits out Timer F
    (32 s) at A, then goes to B at once, and a call then goes through B.
    A starts again: the next refresh's fresh lookup takes atad back to A."""
    first = kamailio.start(max_expires=SHORT_EXPIRES)
    trunk = sipp.create("uas_answer.xml", timeout=30)  # B's trunk; started when the call is placed
    second = kamailio.start(max_expires=SHORT_EXPIRES, trunk=trunk.address)
    dns = sip_domain_records(dns_server.create(), first.port, second.port).start()
    daemon = start_atad(daemons, tmp_path, short_dir, dns)

    wait_registered_with(daemon, first, 10, dns)
    assert second.registrations(AOR) == [], "registered with the backup while the preferred target was up"
    # Found through the domain's NAPTR and SRV records, not by a guess.
    assert dns.queries("NAPTR", NAME) and dns.queries("SRV", SRV_NAME), dns.log()

    first.stop()
    wait_registered_with(daemon, second, SHORT_EXPIRES + TIMER_F + 23, dns)

    # A call placed now goes to B: A is down, and B's trunk answers it.
    trunk.start().wait_listening()
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 15,
               f"the call to be answered through B; atad log:\n{daemon.log()}")
    assert "number 9123" in line_state(daemon)
    assert daemon.ctl("hook", "1", "on").returncode == 0
    trunk.assert_success()
    wait_until(lambda: line_state(daemon) == "idle number 9123", 5, "the line to be idle")

    first.start()
    wait_registered_with(daemon, first, 40, dns)
    assert daemon.running()


def test_boots_before_the_network(daemons, tmp_path, short_dir, kamailio, dns_server):
    """atad starts while its DNS server and its registrar are not there:
    it reports the failure, keeps answering, and retries with back-off
    (5 s, then 10 s). Once both appear it registers at the next retry."""
    registrar = kamailio.create()  # its port is chosen; not started yet
    dns = sip_domain_records(dns_server.create(), registrar.port)  # not started yet
    daemon = start_atad(daemons, tmp_path, short_dir, dns)

    allowed = re.compile(r"^account home: (resolving|registering"
                         r"|failed: cannot resolve atad\.test: .+, retry in \d+ s)$")
    seen = []

    def failed_twice():
        assert daemon.running(), f"atad exited:\n{daemon.log()}"
        state = account_state(daemon)  # fails if status does not answer
        assert allowed.match(state), f"unexpected state {state!r} after {seen}"
        if not seen or seen[-1] != state:
            seen.append(state)
        match = FAILED.match(state)
        # The back-off doubled: the first retry failed too.
        return match is not None and int(match.group(2)) > 5
    wait_until(failed_twice, 60, "two failed attempts (retry in more than 5 s)", interval=0.2)
    assert any(FAILED.match(state) for state in seen), seen

    dns.start()
    registrar.start()
    wait_registered_with(daemon, registrar, 15, dns)


def test_a_name_with_a_port_uses_address_records_only(daemons, tmp_path, short_dir, kamailio, dns_server):
    """`registrar = sip1.atad.test:PORT`: RFC 3263 §4.2, an A/AAAA lookup
    only. The name's NAPTR and SRV records point elsewhere (nothing
    listens there): used, they would send the REGISTER nowhere."""
    registrar = kamailio.start()
    decoy = free_port(LOOPBACK)
    dns = dns_server.create()
    dns.host("sip1.atad.test", LOOPBACK)
    dns.naptr("sip1.atad.test", 10, 10, "s", "SIP+D2U", "_sip._udp.sip1.atad.test")
    dns.srv("_sip._udp.sip1.atad.test", "sip1.atad.test", decoy, priority=10)
    dns.start()
    daemon = start_atad(daemons, tmp_path, short_dir, dns, registrar=f"sip1.atad.test:{registrar.port}")

    wait_registered_with(daemon, registrar, 10, dns)
    assert dns.queries("A", "sip1.atad.test") or dns.queries("AAAA", "sip1.atad.test"), dns.log()
    assert dns.queries("SRV") == [] and dns.queries("NAPTR") == [], dns.log()


def test_unresolvable_registrar_is_reported(daemons, tmp_path, short_dir, dns_server):
    """The domain has no records at all (NXDOMAIN): `status` says why, the
    daemon answers, and it retries with a fresh lookup and a longer wait."""
    dns = dns_server.create()
    dns.host("other.atad.test", LOOPBACK)
    dns.start()
    daemon = start_atad(daemons, tmp_path, short_dir, dns)

    def failure():
        assert daemon.running(), f"atad exited:\n{daemon.log()}"
        match = FAILED.match(account_state(daemon))
        return (match.group(1), int(match.group(2))) if match else None
    reason, retry = wait_until(failure, 10, "the lookup to fail", interval=0.1)
    assert re.fullmatch(r"cannot resolve atad\.test: .*no such name.*", reason), reason
    assert 0 <= retry <= 5, retry
    assert registered_with(daemon) is None
    lookups = len(dns.queries(name=NAME))
    assert lookups > 0, dns.log()

    # The retry asks the server again and fails again; the wait doubles.
    wait_until(lambda: (failure() or ("", 0))[1] > 5, 5 + 10, "the retry to fail with a longer back-off",
               interval=0.1)
    assert len(dns.queries(name=NAME)) > lookups, dns.log()
    assert status_lines(daemon)[0] == "ok"


# ---------------------------------------------------------------------------
# Calls failing over (RFC 3263 §4.3)


def start_direct_atad(daemons, tmp_path, short_dir, dns, transport="udp"):
    """account `home` (1001@atad.test, register = no) on line 1: its calls
    go to the best server the domain's NAPTR and SRV records give."""
    control = short_dir / "control.sock"
    site = tmp_path / "site.conf"
    site.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        "log_level = info\n"
        "[sip]\n"
        "listen_address = 127.0.0.1\n"
        "listen_port = 0\n"
        f"dns_servers = {dns.address}\n"
        "[account home]\n"
        "user = 1001\n"
        f"domain = {NAME}\n"
        "register = no\n"
        f"transport = {transport}\n"
        "[line 1]\n"
        "account = home\n"
        "dial_plan = (9xxx)\n")
    return daemons.start(site, control, tmp_path)


def dial_and_wait_talking(daemon, timeout):
    """Dials 9123 on line 1; returns how long until it was answered."""
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("dialtone"), 5, "dial tone")
    started = time.monotonic()
    assert daemon.ctl("dtmf", "1", "9123").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), timeout,
               f"the call to be answered; atad log:\n{daemon.log()}", interval=0.05)
    return time.monotonic() - started


def hang_up(daemon, answering):
    assert daemon.ctl("hook", "1", "on").returncode == 0
    answering.assert_success()
    wait_until(lambda: line_state(daemon) == "idle number 9123", 5, "the line to be idle")


def test_a_call_the_preferred_server_refuses_with_503_goes_to_the_next(daemons, tmp_path, short_dir, sipp,
                                                                        dns_server):
    """SRV priority 10 answers the INVITE 503 (overloaded); priority 20
    answers the call. The caller hears it answered, not a failure."""
    refusing = sipp.create("uas_unavailable.xml", timeout=30).start()
    answering = sipp.create("uas_answer.xml", timeout=30).start()
    refusing.wait_listening()
    answering.wait_listening()
    dns = sip_domain_records(dns_server.create(), refusing.port, answering.port).start()
    daemon = start_direct_atad(daemons, tmp_path, short_dir, dns)

    dial_and_wait_talking(daemon, 10)
    refusing.assert_success()  # its 503 was acknowledged
    assert "503 Service Unavailable; trying another server" in daemon.log()
    hang_up(daemon, answering)


def test_a_call_to_a_silent_server_goes_to_the_next_within_four_seconds(daemons, tmp_path, short_dir, sipp,
                                                                       dns_server):
    """SRV priority 10 points at a port nothing listens on. Rather than
    Timer B's 32 s of silence, the INVITE goes to priority 20 once 8*T1
    (4 s) passed without even a 100 Trying. The next call goes straight
    to priority 20: a server found down is passed by for a minute."""
    silent = free_port(LOOPBACK)
    answering = sipp.create("uas_answer.xml", calls=2, timeout=40).start()
    answering.wait_listening()
    dns = sip_domain_records(dns_server.create(), silent, answering.port).start()
    daemon = start_direct_atad(daemons, tmp_path, short_dir, dns)

    waits = []
    for _ in range(2):
        waits.append(dial_and_wait_talking(daemon, 12))
        assert daemon.ctl("hook", "1", "on").returncode == 0
        wait_until(lambda: line_state(daemon) == "idle number 9123", 5, "the line to be idle")
    answering.assert_success()
    assert 3.9 <= waits[0] <= 8, f"first call answered after {waits[0]:.1f} s:\n{daemon.log()}"
    # Below the 4 s a silent server costs (plus the digits' time).
    assert waits[1] < 3.9, f"second call answered after {waits[1]:.1f} s:\n{daemon.log()}"
    assert daemon.log().count("no response from the server in 4 s; trying another server") == 1, daemon.log()


def test_a_tcp_call_to_a_server_that_refuses_the_connection_goes_to_the_next_at_once(
        daemons, tmp_path, short_dir, sipp, dns_server):
    """transport = tcp: SRV priority 10 refuses the connection (nothing
    listens), which is a transport error: the INVITE goes to priority 20
    at once, without waiting out the 4 s of silence."""
    refused = free_port(LOOPBACK)
    answering = sipp.create("uas_answer.xml", transport="t1", timeout=30).start()
    answering.wait_listening()
    dns = dns_server.create()
    dns.srv("_sip._tcp.atad.test", "sip1.atad.test", refused, priority=10, weight=0)
    dns.srv("_sip._tcp.atad.test", "sip2.atad.test", answering.port, priority=20, weight=0)
    dns.host("sip1.atad.test", LOOPBACK).host("sip2.atad.test", LOOPBACK)
    dns.start()
    daemon = start_direct_atad(daemons, tmp_path, short_dir, dns, transport="tcp")

    waited = dial_and_wait_talking(daemon, 10)
    # Below the 4 s a silent server costs (plus the digits' time).
    assert waited < 3.9, f"answered after {waited:.1f} s:\n{daemon.log()}"
    assert "cannot connect to the server; trying another server" in daemon.log(), daemon.log()
    hang_up(daemon, answering)
