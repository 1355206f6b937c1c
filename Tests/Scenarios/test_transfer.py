"""Transfer by hanging up, between two independent SIP stacks: PJSIP A
(pjsua2, user 3000) calls atad's line 1 and the handset answers; a flash
holds A, and the handset dials 2000, which is PJSIP B. Hanging up then
transfers A to B (`transfer_on_hang_up`, on by default):

- blind, while B still rings: atad cancels its call to B and sends A a
  REFER to sip:2000@B; A's own INVITE reaches B, which answers it; atad
  ends its call with A;
- attended, once B answered: atad sends A a REFER to B's Contact with a
  Replaces naming atad's call with B; A's INVITE with that Replaces takes
  the place of atad's call at B (B hangs that one up), and atad ends its
  call with A once A's NOTIFY says the new call is up.

Each ends with atad's line idle and no call left at atad. A held party
that refuses the REFER (603) rings the line back, and lifting the handset
takes it back, as a hang-up without a transfer would.

The other way round, atad is the one transferred: A, in a call with the
handset, REFERs atad to B. atad answers 202, calls B itself (the line
hears B ring, then B), and tells A by NOTIFY; A then hangs up its call,
and the handset talks with B. When B declines, the NOTIFY says so and
the handset is back with A. Real binaries,
every process stopped by its pid; every wait polls against a deadline."""

from conftest import wait_until, write_site
from test_pjsip import pjsip  # noqa: F401  (the fixture: PJSIP peers, each stopped by its pid)
from test_call_media import heard_frequencies, line_state, media_line, sip_port, status_of

WAIT = 15.0


def state(daemon):
    """The first word of line 1's state ("idle number 2000": idle)."""
    return (line_state(daemon).split() or [""])[0]


def ctl_ok(daemon, *words):
    reply = daemon.ctl(*words)
    assert reply.returncode == 0 and reply.out_lines[:1] == ["ok"], reply
    return reply


def held_and_dialing(daemons, tmp_path, short_dir, pjsip, target_answers, refuse_transfers=False):
    """atad, A in a call on line 1 and held, and the handset dialing B.
    Returns (daemon, A, B)."""
    b = pjsip.start(user="2000", tone=660.0, auto_answer=target_answers)
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{b.sip_port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    daemon = daemons.start(site, control, tmp_path)
    a = pjsip.start(user="3000", tone=440.0, refuse_transfers=refuse_transfers)
    assert a.dial(f"sip:1000@127.0.0.1:{sip_port(daemon)}").get("ok")
    wait_until(lambda: state(daemon) == "ringing", WAIT, "atad's line 1 to ring")
    ctl_ok(daemon, "hook", "1", "off")
    a.wait_for_event("confirmed", WAIT)
    wait_until(lambda: state(daemon) == "talking", WAIT, "the handset to talk with A")

    ctl_ok(daemon, "flash", "1")
    wait_until(lambda: any(l.startswith("line 1 held: ") for l in status_of(daemon)), WAIT, "A to be held")
    ctl_ok(daemon, "dtmf", "1", "2000")
    incoming = b.wait_for_event("incoming", WAIT)
    assert "1000@" in incoming["remote"], incoming
    return daemon, a, b


def check_nothing_left(daemon, a):
    """atad's line is idle with no call, and its call with A got our BYE."""
    a.wait_for_event("disconnected", WAIT)
    def settled():
        status = status_of(daemon)
        return (state(daemon) == "idle" and media_line(daemon) is None
                and not any(l.startswith("line 1 held: ") for l in status))
    try:
        wait_until(settled, WAIT, "atad's line 1 to be idle with no call")
    except AssertionError as error:
        raise AssertionError(f"{error}\nstatus: {status_of(daemon)}") from None
    assert daemon.running()


def test_hanging_up_while_the_target_rings_transfers_blind(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = held_and_dialing(daemons, tmp_path, short_dir, pjsip, target_answers=False)
    wait_until(lambda: state(daemon) == "ringback", WAIT, "the handset to hear B ring")

    ctl_ok(daemon, "hook", "1", "on")
    referred = a.wait_for_event("transfer_request", WAIT)
    assert referred["target"].startswith(f"<sip:2000@127.0.0.1:{b.sip_port}"), referred
    assert "Replaces" not in referred["target"], referred
    cancelled = b.wait_for_event("disconnected", WAIT)
    assert cancelled["code"] == 487, cancelled

    # A's own call reaches B; B answers it.
    from_a = b.wait_for_event("incoming", WAIT, count=2)
    assert "3000@" in from_a["remote"], from_a
    assert b.answer().get("ok")
    b.wait_for_event("confirmed", WAIT)
    assert any("3000@" in e.get("remote", "") for e in b.events("confirmed")), b.events("confirmed")
    check_nothing_left(daemon, a)
    assert "transfer accepted (202)" in daemon.log()


def test_hanging_up_after_the_target_answered_transfers_with_replaces(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = held_and_dialing(daemons, tmp_path, short_dir, pjsip, target_answers=True)
    b.wait_for_event("confirmed", WAIT)
    wait_until(lambda: state(daemon) == "talking", WAIT, "the handset to talk with B")

    ctl_ok(daemon, "hook", "1", "on")
    referred = a.wait_for_event("transfer_request", WAIT)
    assert f"127.0.0.1:{b.sip_port}" in referred["target"] and "?Replaces=" in referred["target"], referred
    # A's INVITE with Replaces takes the place of atad's call at B, which
    # B then hangs up.
    replaced = b.wait_for_event("replaced", WAIT)
    print(f"B: call {replaced['call']} replaced by {replaced['new_call']}")
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: any("3000@" in e.get("remote", "") for e in b.events("confirmed")), WAIT,
               "B's call with A to be up")
    check_nothing_left(daemon, a)
    log = daemon.log()
    assert "transfer done" in log, log[-3000:]


def test_a_refused_transfer_rings_the_line_back_for_the_held_party(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = held_and_dialing(daemons, tmp_path, short_dir, pjsip, target_answers=False,
                                    refuse_transfers=True)
    wait_until(lambda: state(daemon) == "ringback", WAIT, "the handset to hear B ring")

    ctl_ok(daemon, "hook", "1", "on")
    a.wait_for_event("transfer_request", WAIT)
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: state(daemon) == "ringing", WAIT, "the line to ring back for A")
    assert any(l.startswith("line 1 held: ") for l in status_of(daemon)), status_of(daemon)
    assert not a.events("disconnected"), "A was not hung up on"

    ctl_ok(daemon, "hook", "1", "off")
    wait_until(lambda: state(daemon) == "talking" and
               not any(l.startswith("line 1 held: ") for l in status_of(daemon)), WAIT, "A to be taken back")
    assert "transfer failed: the far end refused it (603); ringing the line back" in daemon.log()
    ctl_ok(daemon, "hook", "1", "on")
    check_nothing_left(daemon, a)


def in_a_call_with_a(daemons, tmp_path, short_dir, pjsip, target_answers=True):
    """atad's handset talking with A (which called it), and B ready.
    Returns (daemon, A, B)."""
    b = pjsip.start(user="2000", tone=660.0, auto_answer=target_answers)
    a = pjsip.start(user="3000", tone=440.0)
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=(
        f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{a.sip_port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    daemon = daemons.start(site, control, tmp_path)
    assert a.dial(f"sip:1000@127.0.0.1:{sip_port(daemon)}").get("ok")
    wait_until(lambda: state(daemon) == "ringing", WAIT, "atad's line 1 to ring")
    ctl_ok(daemon, "hook", "1", "off")
    a.wait_for_event("confirmed", WAIT)
    wait_until(lambda: state(daemon) == "talking", WAIT, "the handset to talk with A")
    wait_until(lambda: 440 in heard_frequencies(daemon), WAIT, "the handset to hear A's 440 Hz")
    return daemon, a, b


def test_a_refer_from_the_far_end_makes_atad_call_the_target_and_report_it(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = in_a_call_with_a(daemons, tmp_path, short_dir, pjsip, target_answers=False)
    assert a.transfer(f"sip:2000@127.0.0.1:{b.sip_port}").get("ok")

    # atad's own INVITE reaches B; the handset hears it ring, as for a
    # call it placed, until B answers; A hears of each step by NOTIFY.
    incoming = b.wait_for_event("incoming", WAIT)
    assert "1000@" in incoming["remote"], incoming
    wait_until(lambda: state(daemon) == "ringback", WAIT, "the handset to hear B ring")
    assert b.answer().get("ok")
    b.wait_for_event("confirmed", WAIT)
    final = wait_until(lambda: next((e for e in a.events("transfer_status") if e["final"]), None), WAIT,
                       "A's final NOTIFY about the transfer")
    assert final["code"] == 200, a.events("transfer_status")
    assert any(e["code"] == 100 for e in a.events("transfer_status")), a.events("transfer_status")

    # A leaves; the handset talks with B and hears B's tone, not A's.
    assert a.hangup().get("ok")
    a.wait_for_event("disconnected", WAIT)
    wait_until(lambda: state(daemon) == "talking" and heard_frequencies(daemon) == [660], WAIT,
               "the handset to hear B's 660 Hz alone")
    assert not b.events("disconnected"), "B's call with atad is up"
    log = daemon.log()
    assert f"transfers us to sip:2000@127.0.0.1:{b.sip_port}" in log, log[-3000:]

    ctl_ok(daemon, "hook", "1", "on")
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: state(daemon) == "idle" and media_line(daemon) is None, WAIT, "atad's line idle, no call")
    assert daemon.running()


def test_a_declined_transfer_is_reported_and_the_handset_is_back_with_the_far_end(daemons, tmp_path, short_dir,
                                                                                pjsip):
    daemon, a, b = in_a_call_with_a(daemons, tmp_path, short_dir, pjsip, target_answers=False)
    assert a.transfer(f"sip:2000@127.0.0.1:{b.sip_port}").get("ok")
    b.wait_for_event("incoming", WAIT)
    wait_until(lambda: state(daemon) == "ringback", WAIT, "the handset to hear B ring")
    assert b.hangup().get("ok")  # an unanswered call: 603 Decline

    final = wait_until(lambda: next((e for e in a.events("transfer_status") if e["final"]), None), WAIT,
                       "A's final NOTIFY about the transfer")
    assert final["code"] == 603, a.events("transfer_status")
    wait_until(lambda: state(daemon) == "talking" and 440 in heard_frequencies(daemon), WAIT,
               "the handset back with A, hearing its 440 Hz")
    assert not a.events("disconnected"), "A's call is up"
    assert "the transfer failed (603 Decline); back to call" in daemon.log()

    ctl_ok(daemon, "hook", "1", "on")
    check_nothing_left(daemon, a)
