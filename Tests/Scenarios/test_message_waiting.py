"""Message waiting (RFC 3842) from a voicemail server's unsolicited NOTIFY
or from a subscription (SIPp): the line's dial tone stutters, the on-hook phone's indicator is
set and cleared by an FSK message (VMWI) that Debian's decoders read, and
`status` shows the counts. The real binary, on loopback."""

import re

from conftest import wait_until, write_site
from sip_peers import sipp  # noqa: F401 (fixture)
from test_caller_id import (BELL202, V23, line_state, mdmf_message, minimodem_bytes, multimon, need, sip_port,
                            start_adapter, start_recording, stop_recording)

STUTTER = re.compile(r"^350\+440 Hz -13 dBm0 100/100")
DIAL = re.compile(r"^350\+440 Hz -13 dBm0 continuous")


def notify(sipp, daemon, waiting, voice):
    """SIPp sends the NOTIFY for user 1001 and expects its 200."""
    uac = sipp.uac("uac_notify_mwi.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"event": "message-summary", "waiting": waiting, "voice": voice}, timeout=10)
    uac.assert_success()


def bursts_sent(daemon):
    return sum(1 for _, message in daemon.log_messages() if message == "line 1: message waiting indicator sent")


def indicator_message(daemon, path, modem, nth):
    """Waits for the end of line 1's `nth` indicator burst, then reads its
    MDMF 0x82 message back from the recording: the visual indicator's byte."""
    wait_until(lambda: bursts_sent(daemon) >= nth, 10, f"indicator burst {nth} to end", interval=0.1)
    stop_recording(daemon, path)
    return indicator_byte(path, modem)


def indicator_byte(path, modem):
    """The visual indicator's byte of the MDMF 0x82 message in a recording."""
    message, parameters = mdmf_message(minimodem_bytes(path, modem), kind=0x82)
    assert [kind for kind, _ in parameters] == [0x0B], message.hex(" ")
    return dict(parameters)[0x0B]


def heard(daemon):
    lines = daemon.ctl("hear", "1").out_lines
    return lines[1] if len(lines) > 1 else ""


def status(daemon):
    return daemon.ctl("status").out_lines


def test_a_waiting_message_stutters_the_dial_tone_and_lights_the_indicator(daemons, tmp_path, short_dir, sipp):
    """us (Bell 202): `Messages-Waiting: yes` sets the indicator (0x0B =
    0xFF, checksum checked; multimon-ng reads the same packet), the dial
    tone then starts with the 100/100 ms stutter and `status` has the
    counts; `no` clears the indicator (0x00) and the dial tone is steady
    again."""
    need("minimodem", "multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "us")
    on_path = tmp_path / "on.wav"
    start_recording(daemon, on_path)
    notify(sipp, daemon, "yes", "2/8 (0/0)")
    assert indicator_message(daemon, on_path, BELL202, 1) == b"\xff"
    assert multimon(on_path, "CLIPFSK"), "multimon-ng found no packet with a good checksum"
    assert "messages: waiting, 2 new, 8 old" in status(daemon), status(daemon)

    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: STUTTER.match(heard(daemon)), 5, "the stutter dial tone", interval=0.1)
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the line to be idle", interval=0.1)

    off_path = tmp_path / "off.wav"
    start_recording(daemon, off_path)
    notify(sipp, daemon, "no", "0/10 (0/0)")
    assert indicator_message(daemon, off_path, BELL202, 2) == b"\x00"
    assert "messages: none waiting" in status(daemon), status(daemon)
    assert daemon.ctl("hook", "1", "off").returncode == 0
    wait_until(lambda: DIAL.match(heard(daemon)), 5, "the steady dial tone", interval=0.1)


def test_the_indicator_waits_for_the_handset_to_be_hung_up(daemons, tmp_path, short_dir, sipp):
    """de (V.23, after the dual-tone alert): a NOTIFY during a call changes
    nothing on the line until it is idle; then the indicator is set."""
    need("minimodem")
    daemon = start_adapter(daemons, tmp_path, short_dir, "de")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    notify(sipp, daemon, "yes", "1/0 (0/0)")
    assert not any(m.startswith("line 1: sending message waiting indicator") for _, m in daemon.log_messages())
    path = tmp_path / "later.wav"
    start_recording(daemon, path)
    assert daemon.ctl("hook", "1", "on").returncode == 0
    assert indicator_message(daemon, path, V23, 1) == b"\xff"


def account_site(tmp_path, short_dir, server_port, mwi):
    """A site in us with account `home` (no registration) whose requests go
    to SIPp on `server_port`, and line 1 on it."""
    extra = ("[account home]\nuser = 1001\ndomain = 127.0.0.1\nregister = no\n"
             f"outbound_proxy = 127.0.0.1:{server_port}\nmwi = {mwi}\nvoicemail_uri = sip:*97@127.0.0.1\n\n"
             "[line 1]\naccount = home\n")
    return write_site(tmp_path / "site.conf", short_dir / "control.sock", country="us", extra=extra)


def test_a_subscription_sets_and_clears_the_indicator_and_is_refreshed(daemons, tmp_path, short_dir, sipp):
    """mwi = subscribe (turned on by a reload): atad SUBSCRIBEs to the
    voicemail URI; the server's NOTIFY in that dialog sets the indicator
    (VMWI decoded) and `status` has the counts; ahead of the 8 s lifetime
    granted atad refreshes inside the dialog (SIPp checks the To tag), and
    the server's next NOTIFY clears the indicator."""
    need("minimodem")
    server = sipp.uas("uas_subscribe_mwi.xml", keys={"expires": 8}, timeout=40)
    site = account_site(tmp_path, short_dir, server.port, "off")
    daemon = daemons.start(site, short_dir / "control.sock", tmp_path)
    on_path = tmp_path / "on.wav"
    start_recording(daemon, on_path)
    account_site(tmp_path, short_dir, server.port, "subscribe")
    assert daemon.ctl("reload").returncode == 0
    # The refresh comes 6.8 s (85 % of 8 s) after the first answer: the
    # second recording starts at once, the checks and decoding come after.
    wait_until(lambda: bursts_sent(daemon) >= 1, 10, "indicator burst 1 to end", interval=0.1)
    stop_recording(daemon, on_path)
    off_path = tmp_path / "off.wav"
    start_recording(daemon, off_path)
    lines = status(daemon)
    assert "account home messages: waiting, 3 new, 1 old" in lines, lines
    assert any(line.startswith("account home mwi: subscribed to sip:*97@127.0.0.1, expires in ") for line in lines), lines
    assert indicator_byte(on_path, BELL202) == b"\xff"

    assert indicator_message(daemon, off_path, BELL202, 2) == b"\x00"
    server.assert_success()
    subscribes = server.received_messages("SUBSCRIBE")
    assert len(subscribes) == 2, subscribes
    assert "Expires: 3600" in subscribes[0] and "Expires: 3600" in subscribes[1], subscribes
    assert "account home messages: none waiting" in status(daemon), status(daemon)
