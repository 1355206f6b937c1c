"""atad's SIP registration against a real Kamailio (registrar with digest
auth), and its answers to OPTIONS from SIPp: the real binary, on loopback."""

import os
import re
import signal
import socket
import time

import pytest

from conftest import SIM_BOARD, wait_until
from sip_peers import USERS, kamailio, sip_request, sipp, status_code  # noqa: F401 (fixtures)

SIP_LINE = re.compile(r"^sip: 127\.0\.0\.1:(\d+)/udp$")


def write_account_site(path, control_socket, registrar, password, expires=600, transport="udp",
                       listen_address="127.0.0.1", sip_extra=""):
    host = f"[{registrar[0]}]" if ":" in registrar[0] else registrar[0]
    text = (
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control_socket}\n"
        "log_level = info\n"
        f"[sip]\nlisten_address = {listen_address}\nlisten_port = 0\n" + sip_extra +
        "[account home]\n"
        "user = 1001\n"
        "domain = atad.test\n"
        f"registrar = {host}:{registrar[1]}\n"
        f"password = \"{password}\"\n"
        f"expires = {expires}\n"
        f"transport = {transport}\n"
    )
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def status_lines(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def account_state(daemon):
    return next((line for line in status_lines(daemon) if line.startswith("account home: ")), None)


def sip_port(daemon):
    for line in status_lines(daemon):
        match = SIP_LINE.match(line)
        if match:
            return int(match.group(1))
    raise AssertionError("no sip line in status")


def start_registered(daemons, tmp_path, short_dir, proxy, password=USERS["1001"], expires=600, transport="udp"):
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, password, expires, transport)
    return daemons.start(site, control, tmp_path)


def test_registers_over_udp_and_unregisters_on_shutdown(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    daemon = start_registered(daemons, tmp_path, short_dir, proxy)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered, expires in"),
               10, "atad to register")
    port = sip_port(daemon)
    contacts = proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{port}")
    assert contacts[0]["expires"] > 500, contacts
    assert ("info", f"account home: registered sip:1001@atad.test at 127.0.0.1:{proxy.port} for 600 s") \
        in daemon.log_messages(), daemon.log()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    wait_until(lambda: proxy.registrations("1001@atad.test") == [], 5, "the binding to be removed")


def test_wrong_password_is_logged_once_and_backs_off(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    daemon = start_registered(daemons, tmp_path, short_dir, proxy, password="not the password")

    def retry_seconds():
        state = account_state(daemon) or ""
        match = re.search(r"failed: (.*), retry in (\d+) s$", state)
        return (match.group(1), int(match.group(2))) if match else None

    reason, first_wait = wait_until(retry_seconds, 10, "the registration to fail")
    assert "403 Forbidden" in reason or "authentication failed" in reason, reason
    assert first_wait <= 5
    # After the retry fails too, the wait doubles; the log still says it once.
    wait_until(lambda: (retry_seconds() or ("", 0))[1] > 5, 15, "the second failure and a longer back-off")
    warnings = [message for level, message in daemon.log_messages()
                if level == "warn" and "registration failed" in message]
    assert len(warnings) == 1, daemon.log()
    assert proxy.registrations("1001@atad.test") == []
    assert daemon.running()


def test_registers_again_after_kamailio_restarts(daemons, tmp_path, short_dir, kamailio):
    # A registrar that grants only 10 s makes atad refresh every 8.5 s.
    proxy = kamailio.start(max_expires=10)
    daemon = start_registered(daemons, tmp_path, short_dir, proxy)
    port = None
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered"), 10, "registration")
    port = sip_port(daemon)
    proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{port}")
    proxy.restart()
    assert proxy.registrations("1001@atad.test") == [], "the restarted registrar forgot the binding"
    proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{port}", timeout=20)
    assert (account_state(daemon) or "").startswith("account home: registered"), status_lines(daemon)


def test_answers_options_with_what_it_supports(daemons, tmp_path, short_dir, sipp):
    from conftest import write_site
    control = short_dir / "control.sock"
    daemon = daemons.start(write_site(tmp_path / "site.conf", control), control, tmp_path)
    uac = sipp.uac("uac_options.xml", remote=("127.0.0.1", sip_port(daemon)), service="atad",
                   keys={"caller": "2000"}, timeout=10)
    uac.assert_success()
    assert daemon.running()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_responses_record_rport_and_received(daemons, tmp_path, short_dir, transport):
    """RFC 3581: a request whose Via asks for rport gets a response whose top
    Via carries the source port (rport=) and address (received=)."""
    from conftest import write_site
    control = short_dir / "control.sock"
    daemon = daemons.start(write_site(tmp_path / "site.conf", control), control, tmp_path)
    response = sip_request("127.0.0.1", sip_port(daemon), "OPTIONS", transport=transport, timeout=3.0)
    assert status_code(response) == 200, response
    via = re.search(r"^Via: SIP/2\.0/\w+ 127\.0\.0\.1:(\d+);branch=\w+;rport=(\d+);received=127\.0\.0\.1\r$",
                    response, re.M)
    assert via and via.group(1) == via.group(2), response


def test_registers_over_tcp_and_again_after_the_connection_drops(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start(max_expires=10)
    daemon = start_registered(daemons, tmp_path, short_dir, proxy, transport="tcp")
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered"), 10, "registration over TCP")
    port = sip_port(daemon)
    contacts = proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{port};transport=tcp")
    assert contacts, contacts
    # The registrar restarts: the TCP connection breaks and the binding is
    # gone; atad reconnects and registers again.
    proxy.restart()
    proxy.wait_registered("1001@atad.test", f"transport=tcp", timeout=25)
    assert daemon.running()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_registers_over_ipv6(daemons, tmp_path, short_dir, kamailio, transport):
    """Kamailio and atad both on ::1 only: REGISTER with digest over IPv6,
    the binding's Contact an IPv6 reference."""
    proxy = kamailio.start(ip="::1")
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, USERS["1001"],
                              transport=transport, listen_address="::1")
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered, expires in"),
               10, f"atad to register over IPv6/{transport}")
    port = next(int(m.group(1)) for m in map(re.compile(r"^sip: \[::1\]:(\d+)/udp$").match,
                                              status_lines(daemon)) if m)
    suffix = ";transport=tcp" if transport == "tcp" else ""
    proxy.wait_registered("1001@atad.test", f"sip:1001@[::1]:{port}{suffix}")


def keep_alive_counts(daemon):
    pattern = re.compile(r"^sip: keep-alive every \d+ s \((\w+)\): (\d+) sent(?:, (\d+) answered)?$")
    for line in status_lines(daemon):
        match = pattern.match(line)
        if match:
            return match.group(1), int(match.group(2)), int(match.group(3) or 0)
    return None


def test_udp_keep_alive_with_options_is_answered_by_kamailio(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, USERS["1001"],
                              sip_extra="keep_alive_seconds = 1\nkeep_alive = options\n")
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: (keep_alive_counts(daemon) or ("", 0, 0))[2] >= 2, 10,
               "two keep-alive OPTIONS answered by Kamailio")
    assert keep_alive_counts(daemon)[0] == "options"
    assert (account_state(daemon) or "").startswith("account home: registered"), status_lines(daemon)


def test_unanswered_keep_alives_make_it_register_again(daemons, tmp_path, short_dir, kamailio):
    """Kamailio goes away (its bindings with it): two keep-alive OPTIONS in
    a row go unanswered, atad registers again at once, and its REGISTER,
    retransmitted, reaches Kamailio when it is back."""
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, USERS["1001"],
                              sip_extra="keep_alive_seconds = 1\nkeep_alive = options\n")
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: (keep_alive_counts(daemon) or ("", 0, 0))[2] >= 1, 10, "a keep-alive OPTIONS answered")
    assert (account_state(daemon) or "").startswith("account home: registered"), status_lines(daemon)
    proxy.stop()
    wait_until(lambda: not (account_state(daemon) or "").startswith("account home: registered"), 6,
               "atad to notice the silent registrar", interval=0.05)
    assert "does not answer keep-alives; registering again" in daemon.log()
    proxy.start()
    proxy.wait_registered("1001@atad.test", timeout=15)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered"), 10,
               "registered again")


def test_udp_keep_alive_crlf_reaches_the_registrar(daemons, tmp_path, short_dir):
    """A bare UDP socket stands where the registrar would be: the CRLF
    datagrams arrive there every second (REGISTERs are left unanswered)."""
    registrar = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    registrar.bind(("127.0.0.1", 0))
    registrar.settimeout(0.2)
    try:
        control = short_dir / "control.sock"
        site = write_account_site(tmp_path / "site.conf", control, registrar.getsockname(), "x",
                                  sip_extra="keep_alive_seconds = 1\n")
        daemons.start(site, control, tmp_path)
        keep_alives = 0
        deadline = time.monotonic() + 10
        while keep_alives < 2 and time.monotonic() < deadline:
            try:
                data = registrar.recv(65535)
            except socket.timeout:
                continue
            if data == b"\r\n\r\n":
                keep_alives += 1
        assert keep_alives >= 2, "no CRLF keep-alives reached the registrar's address"
    finally:
        registrar.close()


def test_keep_alive_seconds_zero_sends_none(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, USERS["1001"],
                              sip_extra="keep_alive_seconds = 0\n")
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered"), 10, "registration")
    assert keep_alive_counts(daemon) is None, status_lines(daemon)
