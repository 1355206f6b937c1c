"""A reload (SIGHUP or `atad ctl reload`) reaches the SIP accounts: a
changed password registers again with it, a removed account is
un-registered. Real binary, real Kamailio registrar, on loopback."""

import os
import signal

from conftest import SIM_BOARD, wait_until
from sip_peers import USERS, kamailio  # noqa: F401 (fixture)
from test_registration import account_state, sip_port, write_account_site


def test_sighup_with_a_corrected_password_registers_with_it(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, "not-the-password")
    daemon = daemons.start(site, control, tmp_path)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: failed:"), 10,
               "the wrong password to be refused")
    assert proxy.registrations("1001@atad.test") == []

    write_account_site(site, control, proxy.address, USERS["1001"])
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: (account_state(daemon) or "").startswith("account home: registered, expires in"), 10,
               "the new password to register")
    proxy.wait_registered("1001@atad.test", f"sip:1001@127.0.0.1:{sip_port(daemon)}")
    assert ("info", "reload: account home: changed: registering again") in daemon.log_messages(), daemon.log()
    # One registration for the account, not the old one beside it.
    assert [line for line in daemon.ctl("status").out_lines if line.startswith("account ")] \
        == [account_state(daemon)]
    assert daemon.running()


def test_reload_without_the_account_unregisters_it(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    control = short_dir / "control.sock"
    site = write_account_site(tmp_path / "site.conf", control, proxy.address, USERS["1001"])
    daemon = daemons.start(site, control, tmp_path)
    contact = f"sip:1001@127.0.0.1:{sip_port(daemon)}"
    proxy.wait_registered("1001@atad.test", contact)

    site.write_text(f"[general]\nboard = {SIM_BOARD}\ncontrol_socket = {control}\n"
                    "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n")
    os.chmod(site, 0o600)
    reply = daemon.ctl("reload")
    assert reply.returncode == 0, reply
    assert "account home: removed: un-registering" in reply.out_lines, reply
    wait_until(lambda: proxy.registrations("1001@atad.test") == [], 10, "the binding to be removed at the registrar")
    wait_until(lambda: account_state(daemon) is None and not any(
        line.startswith("account home") for line in daemon.ctl("status").out_lines), 10,
        "the account to leave the status")
    assert daemon.running()
