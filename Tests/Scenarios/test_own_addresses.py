"""Two adapters on one machine, each on its own address (127.0.0.4 and
127.0.0.5, the same port), register with one Kamailio and call each other
through it. Each gives its own `listen_address` in Contact, Via and SDP,
not the kernel's source address toward the registrar (127.0.0.1): the
registrar binds each user to the right adapter, the call reaches the
other one, and the audio of each side goes to the address the other sends
from. Real binaries, loopback only."""

import os

from conftest import wait_until, write_site
from sip_peers import USERS, free_port, kamailio  # noqa: F401 (fixture)
from test_call_media import HEAR_POLL, hears_tone, line_state

ADDRESSES = {"a": "127.0.0.4", "b": "127.0.0.5"}


def start_adapter(daemons, tmp_path, short_dir, name, user, port, proxy):
    folder = tmp_path / name
    folder.mkdir()
    control = short_dir / f"{name}.sock"
    site = write_site(folder / "site.conf", control, listen_address=ADDRESSES[name], extra=(
        f"listen_port = {port}\n"
        f"[account home]\nuser = {user}\ndomain = atad.test\nregistrar = 127.0.0.1:{proxy.port}\n"
        f"password = \"{USERS[user]}\"\n"
        "[line 1]\naccount = home\ndial_plan = (1xxx)\n"))
    # write_site puts listen_port = 0 first; the later key wins.
    text = site.read_text().replace("listen_port = 0\n", "", 1)
    site.write_text(text)
    os.chmod(site, 0o600)
    return daemons.start(site, control, folder)


def test_two_adapters_on_their_own_addresses_call_each_other(daemons, tmp_path, short_dir, kamailio):
    proxy = kamailio.start()
    port = free_port(ADDRESSES["a"], also_on=[ADDRESSES["b"]])  # free on both adapters' addresses
    a = start_adapter(daemons, tmp_path, short_dir, "a", "1001", port, proxy)
    b = start_adapter(daemons, tmp_path, short_dir, "b", "1002", port, proxy)
    # Each binding names the adapter's own address, where it listens.
    proxy.wait_registered("1001@atad.test", f"sip:1001@{ADDRESSES['a']}:{port}")
    proxy.wait_registered("1002@atad.test", f"sip:1002@{ADDRESSES['b']}:{port}")
    assert not [c for c in proxy.registrations("1001@atad.test") if "127.0.0.1" in c["uri"]]

    assert a.ctl("hook", "1", "off").returncode == 0
    assert a.ctl("dtmf", "1", "1002").returncode == 0
    wait_until(lambda: (line_state(b) or "").startswith("ringing"), 15, "B to ring through Kamailio")
    assert b.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: (line_state(a) or "").startswith("talking") and (line_state(b) or "").startswith("talking"),
               10, "both lines talking")
    # Audio both ways: each SDP gave the address the adapter's RTP is bound to.
    assert a.ctl("say", "1", "tone", "1000", "-10").returncode == 0
    assert b.ctl("say", "1", "tone", "700", "-12").returncode == 0
    wait_until(lambda: hears_tone(b, 1000), 10, "B to hear A's 1000 Hz", interval=HEAR_POLL)
    wait_until(lambda: hears_tone(a, 700), 10, "A to hear B's 700 Hz", interval=HEAR_POLL)
    assert a.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: not (line_state(b) or "").startswith("talking"), 10, "B to learn of the hang-up")
    for daemon in (a, b):
        assert daemon.running()
