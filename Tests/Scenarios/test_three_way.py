"""Three-way calling between two independent SIP stacks: PJSIP A (pjsua2,
user 3000, sending 440 Hz) calls atad's line 1 and the handset answers; a
flash holds A, the handset dials 2000, PJSIP B (sending 660 Hz) answers,
and a second flash joins the three (`three_way_calling`, on by default).
atad mixes the audio itself: the handset hears A and B, A hears B and the
handset (1000 Hz said into its mouthpiece), B hears A and the handset,
and neither far end hears itself. Every tone is measured within 1 % in
what each side received (atad's earpiece analyzer; each PJSIP's recording).

Then: a flash drops B and leaves the handset with A; B hanging up leaves
the handset with A; hanging up ends both calls with no ring-back. Real
binaries, every process stopped by its pid; every wait polls against a
deadline."""

import math

from conftest import wait_until
from test_pjsip import pjsip  # noqa: F401  (the fixture: PJSIP peers, each stopped by its pid)
from test_call_media import heard_frequencies, media_line, status_of
from test_transfer import WAIT, ctl_ok, held_and_dialing, state
from rtp_peer import SAMPLE_RATE, dominant_frequency, goertzel_power

TOLERANCE = 0.01
A_TONE, B_TONE, HANDSET_TONE = 440.0, 660.0, 1000.0
# Each far end must hear the other two at least this far above its own
# tone (which it would hear if the mix sent a far end back to itself).
OWN_TONE_MARGIN_DB = 20.0


def three_way(status):
    return next((line for line in status if line.startswith("line 1 three-way: ")), None)


def in_three_way_call(daemons, tmp_path, short_dir, pjsip):
    """A held, B answered, then the flash that joins them. Returns (daemon, A, B)."""
    daemon, a, b = held_and_dialing(daemons, tmp_path, short_dir, pjsip, target_answers=True)
    b.wait_for_event("confirmed", WAIT)
    wait_until(lambda: state(daemon) == "talking" and heard_frequencies(daemon) == [660], WAIT,
               "the handset to talk with B alone (A on hold)")
    ctl_ok(daemon, "flash", "1")
    try:
        wait_until(lambda: three_way(status_of(daemon)), WAIT, "the three-way call")
    except AssertionError as error:
        raise AssertionError(f"{error}\nstatus: {status_of(daemon)}") from None
    return daemon, a, b


def hang_up_with_a_alone(daemon, a):
    """The handset talks with A alone (A's call up); its hang-up ends it."""
    assert state(daemon) == "talking"
    assert not a.events("disconnected"), "A's call is up"
    ctl_ok(daemon, "hook", "1", "on")
    a.wait_for_event("disconnected", WAIT)
    wait_until(lambda: state(daemon) == "idle" and media_line(daemon) is None, WAIT, "atad's line idle, no call")


def level_db(samples, frequency):
    """The level of `frequency` in `samples`, in dB (relative: for comparing
    tones in one recording)."""
    power = goertzel_power(samples, frequency)
    return 10.0 * math.log10(power) if power > 0 else -math.inf


def hears_both(samples, expected, own):
    """(ok, what was measured): each of `expected` is the strongest tone in
    its own band within 1 %, and `own` is at least OWN_TONE_MARGIN_DB below
    the weaker of them."""
    found = [dominant_frequency(samples, low=f * 0.8, high=f * 1.2) for f in expected]
    levels = [level_db(samples, f) for f in expected]
    own_level = level_db(samples, own)
    ok = (all(abs(got - want) <= want * TOLERANCE for got, want in zip(found, expected))
          and own_level <= min(levels) - OWN_TONE_MARGIN_DB)
    measured = ", ".join(f"{want:.0f} Hz: {got:.2f} Hz at {level:.1f} dB" for want, got, level
                         in zip(expected, found, levels)) + f"; own {own:.0f} Hz at {own_level:.1f} dB"
    return ok, measured


def check_recording(phone, expected, own, name, deadline_seconds=20.0):
    """The newest second of `phone`'s recording holds both `expected`
    tones, not its own; looked at as it grows (an emulated daemon may take
    a while before the mixed audio flows evenly)."""
    before = len(phone.received_audio())
    seconds = (before + SAMPLE_RATE * 1.5) / SAMPLE_RATE
    measured = ""
    for _ in range(int(deadline_seconds / 0.5)):
        tail = phone.wait_received_audio(seconds, timeout=10)[-SAMPLE_RATE:]
        ok, measured = hears_both(tail, expected, own)
        if ok:
            print(f"{name} heard {measured}")
            return
        seconds += 0.5
    raise AssertionError(f"{name} did not hear {expected} without its own {own} Hz: {measured}")


def test_a_flash_in_the_second_call_joins_the_three_and_each_hears_the_other_two(daemons, tmp_path, short_dir,
                                                                                 pjsip):
    daemon, a, b = in_three_way_call(daemons, tmp_path, short_dir, pjsip)
    ctl_ok(daemon, "say", "1", "tone", str(int(HANDSET_TONE)), "-10")

    def handset_hears_a_and_b():
        heard = heard_frequencies(daemon)
        return (len(heard) == 2 and abs(heard[0] - A_TONE) <= A_TONE * TOLERANCE
                and abs(heard[1] - B_TONE) <= B_TONE * TOLERANCE)
    wait_until(handset_hears_a_and_b, WAIT, "the handset to hear A's 440 Hz and B's 660 Hz")
    check_recording(a, [B_TONE, HANDSET_TONE], A_TONE, "A")
    check_recording(b, [A_TONE, HANDSET_TONE], B_TONE, "B")
    assert not a.events("disconnected") and not b.events("disconnected")

    # A flash drops B; the handset is left with A, and A with the handset.
    ctl_ok(daemon, "flash", "1")
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: heard_frequencies(daemon) == [440] and three_way(status_of(daemon)) is None, WAIT,
               "the handset to hear A alone, the three-way call over")
    hang_up_with_a_alone(daemon, a)
    assert daemon.running()


def test_a_party_hanging_up_leaves_the_handset_with_the_other(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = in_three_way_call(daemons, tmp_path, short_dir, pjsip)
    wait_until(lambda: heard_frequencies(daemon) == [440, 660], WAIT, "the handset to hear A and B")
    assert b.hangup().get("ok")
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: heard_frequencies(daemon) == [440] and three_way(status_of(daemon)) is None, WAIT,
               "the handset to hear A alone: no busy tone, the call goes on")
    hang_up_with_a_alone(daemon, a)


def test_hanging_up_in_a_three_way_call_ends_both_calls(daemons, tmp_path, short_dir, pjsip):
    daemon, a, b = in_three_way_call(daemons, tmp_path, short_dir, pjsip)
    ctl_ok(daemon, "hook", "1", "on")
    a.wait_for_event("disconnected", WAIT)
    b.wait_for_event("disconnected", WAIT)
    wait_until(lambda: state(daemon) == "idle" and media_line(daemon) is None
               and three_way(status_of(daemon)) is None, WAIT, "atad's line idle with no call")
    assert not a.events("transfer_status"), "a three-way call is not transferred"
    assert "hung up in a three-way call: ending both calls" in daemon.log()
    assert state(daemon) == "idle", "no ring-back"
    assert daemon.running()
