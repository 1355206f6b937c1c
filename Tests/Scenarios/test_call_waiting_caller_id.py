"""Caller ID for a waiting call (type II, issue 16 item 2), with the real
binary on the simulated board and real SIPp far ends on loopback. The
phone talks to SIPp A (whose RtpPeer sends 1000 Hz) when SIPp B calls:

- a phone that takes caller ID during a call (`ack 1 D`: the simulated
  handset hears the CPE alerting signal and answers with DTMF D, as a
  type II set does) gets, right after the call-waiting tone's first
  300 ms burst, the 2130+2750 Hz alerting signal (80 ms) and then B's
  identity as off-hook Bell 202 data (no channel seizure), which
  minimodem and multimon-ng decode from the recorded earpiece: date and
  time, number and name. A's voice is cut off from the alert until the
  data ends, and comes back after;
- a phone that does not answer the alert gets no data: A's voice is back
  260 ms after the alert, and the tone alone announces the call;
- with `call_waiting_caller_id = no` there is no alert, and A's voice is
  never cut off.

The recording (`record`) and the decoders are as in test_caller_id.py;
timings come from the recording's own samples."""

import time
import wave

from conftest import UNDER_QEMU
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import sipp  # noqa: F401 (fixture)
from test_call_media import heard_frequencies, status_of
from test_caller_id import (BELL202, RATE, date_stamps, check_clipfsk, check_message, minimodem_bytes, mdmf_message,
                            need, stop_recording)
from test_call_waiting import (CALLER_B, wait_burst_heard, CW_BURST_MS, CW_ON, CW_TONE, FAR_ON, FAR_TONE, SLACK_MS,
                               far_end_talks, finals, frame_levels, hang_up_a, runs_above, second_caller, start,
                               start_recording, wait_line, wait_waiting)
from test_hold import SIPP_TIMEOUT, call_id, ctl_ok, place_call, rtp, tell_go, wait_for

ALERT_MS = 80
# Each of the alert's tones is sent at -13 dBm0; a 10 ms frame holds the
# alert when both read above this.
ALERT_ON = -25.0
# The phone may answer up to 260 ms after the alert (GR-30's 160 ms and
# the sound card's and the key detector's delays); A is back then.
ACK_WAIT_MS = 260
# The data: 80 marks, the message (about 35 bytes with its header and
# checksum, 10 bits each) and spandsp's 5 closing marks, at 1200 bit/s.
DATA_MS_MAX = 700
SENT_TIMEOUT = 15.0 * (3 if UNDER_QEMU else 1)


def alert_runs(samples):
    """The stretches of 10 ms frames holding both tones of the alert."""
    low = frame_levels(samples, 2130)
    high = frame_levels(samples, 2750)
    return runs_above([min(a, b) for a, b in zip(low, high)], ALERT_ON)


def far_end_gaps(samples, start_ms):
    """Where A's 1000 Hz is missing after `start_ms`: [(start ms, length ms)]."""
    levels = frame_levels(samples, FAR_TONE)
    missing = [-level if level < FAR_ON else -200.0 for level in levels]
    return [(at, length) for at, length in runs_above(missing, 0.0) if at + length > start_ms]


def the_one_alert(recording):
    """The call-waiting burst and the alert just after it: (burst start,
    alert start, alert end), in ms."""
    bursts = runs_above(frame_levels(recording.samples, CW_TONE), CW_ON)
    assert len(bursts) == 1, f"{CW_TONE} Hz bursts (start ms, ms): {bursts}"
    begun, length = bursts[0]
    assert abs(length - CW_BURST_MS) <= SLACK_MS, bursts
    alerts = alert_runs(recording.samples)
    assert len(alerts) == 1, f"alerting signals (start ms, ms): {alerts}"
    alert_start, alert_length = alerts[0]
    assert abs(alert_length - ALERT_MS) <= 20, f"the alert lasted {alert_length} ms: {alerts}"
    assert abs(alert_start - (begun + length)) <= 20 + SLACK_MS, (
        f"the alert began at {alert_start} ms, the burst ({begun} ms, {length} ms) ended at {begun + length} ms")
    return begun, alert_start, alert_start + alert_length


def alert_and_cut_off(recording):
    """The alert after the burst, and A's voice cut off from its start:
    (the alert's end, how long A was cut off), in ms."""
    _, alert_start, alert_end = the_one_alert(recording)
    gaps = far_end_gaps(recording.samples, alert_start)
    assert gaps, "A's voice was never cut off"
    cut_start, cut_length = gaps[0]
    assert abs(cut_start - alert_start) <= 20 + SLACK_MS, f"A cut off at {cut_start} ms, the alert at {alert_start} ms"
    return alert_end, cut_length


def write_part(samples, path, start_ms, end_ms):
    """`samples` from `start_ms` to `end_ms` as an 8 kHz 16-bit WAV."""
    chunk = samples[start_ms * RATE // 1000:end_ms * RATE // 1000]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(b"".join(int(x).to_bytes(2, "little", signed=True) for x in chunk))


def waiting_call(daemons, tmp_path, short_dir, sipp, peers, acknowledge, line_settings=""):
    """atad talking to A, A's voice in the earpiece, `ack 1 D` or not, and
    the earpiece recorded from before B's INVITE until B's call waited and
    its caller ID was sent or not. Returns (daemon, A, B, recording, the
    wall-clock span of the call for the date)."""
    peer_a = peers(seed=1)
    a_side = sipp.uas("uas_media.xml", keys=rtp(peer_a), timeout=SIPP_TIMEOUT)
    daemon = start(daemons, tmp_path, short_dir, a_side, line_settings=line_settings)
    if acknowledge:
        ctl_ok(daemon, "ack", "1", "D")
    place_call(daemon, a_side)
    far_end_talks(daemon, a_side, peer_a)
    path = tmp_path / "waiting.wav"
    start_recording(daemon, path)
    called_at = time.time()
    b_side = second_caller(sipp, daemon, "uac_waiting_cancelled.xml")
    wait_waiting(daemon, b_side, a_side)
    if line_settings:
        wait_burst_heard(daemon, a_side, b_side)
    elif acknowledge:
        daemon.wait_for_log("info", "line 1: sending the waiting call's caller ID (bell202)", timeout=SENT_TIMEOUT)
        daemon.wait_for_log("info", "line 1: caller ID sent", timeout=SENT_TIMEOUT)
    else:
        daemon.wait_for_log("info", "line 1: the phone did not acknowledge the alert: no caller ID for the waiting call",
                            timeout=SENT_TIMEOUT)
    # A's voice back in the earpiece after the data (or the wait).
    wait_for(lambda: FAR_TONE in heard_frequencies(daemon), SENT_TIMEOUT,
             "A's voice back in the earpiece", daemon, a_side, b_side)
    recording = stop_recording(daemon, path)
    return daemon, a_side, b_side, recording, (called_at, time.time())


def end_calls(daemon, a_side, b_side):
    b = call_id(b_side)
    assert not finals(b_side), "the waiting call had a final answer"
    wait_line(daemon, "talking", None, b, "B still waiting", a_side, b_side)
    tell_go(b_side)
    b_side.assert_success()
    wait_line(daemon, "talking", None, None, "the waiting caller's CANCEL", a_side, b_side)
    hang_up_a(daemon, a_side, b_side)


def test_a_phone_that_acknowledges_the_alert_gets_the_waiting_callers_identity(daemons, tmp_path, short_dir, sipp,
                                                                               peers):
    need("minimodem", "multimon-ng", "sox")
    daemon, a_side, b_side, recording, (since, until) = waiting_call(daemons, tmp_path, short_dir, sipp, peers,
                                                                     acknowledge=True)
    alert_end, cut_length = alert_and_cut_off(recording)
    cut_end = alert_end - ALERT_MS + cut_length
    assert ALERT_MS + 100 < cut_length <= ALERT_MS + 100 + DATA_MS_MAX + SLACK_MS, (
        f"A was cut off for {cut_length} ms: the alert, the phone's answer and the data take "
        f"{ALERT_MS + 100}-{ALERT_MS + 100 + DATA_MS_MAX} ms")

    # The data, between the alert and A's return, by two decoders.
    data = tmp_path / "data.wav"
    write_part(recording.samples, data, alert_end, cut_end)
    stamps = date_stamps(since, until)
    message, parameters = mdmf_message(minimodem_bytes(data, BELL202), seizure=False)
    check_message(parameters, message, CALLER_B, CALLER_B, stamps)
    check_clipfsk(data, CALLER_B, CALLER_B, stamps)
    assert b"\x55" * 10 not in minimodem_bytes(data, BELL202), "off-hook data has no channel seizure"
    end_calls(daemon, a_side, b_side)


def test_a_phone_that_does_not_answer_the_alert_gets_the_tone_alone(daemons, tmp_path, short_dir, sipp, peers):
    daemon, a_side, b_side, recording, _ = waiting_call(daemons, tmp_path, short_dir, sipp, peers,
                                                        acknowledge=False)
    _, cut_length = alert_and_cut_off(recording)
    assert abs(cut_length - (ALERT_MS + ACK_WAIT_MS)) <= 30 + SLACK_MS, (
        f"A was cut off for {cut_length} ms, not the alert and the {ACK_WAIT_MS} ms wait")
    assert "sending the waiting call's caller ID" not in daemon.log()
    end_calls(daemon, a_side, b_side)
    assert daemon.running(), status_of(daemon)


def test_with_call_waiting_caller_id_off_the_call_is_never_cut(daemons, tmp_path, short_dir, sipp, peers):
    daemon, a_side, b_side, recording, _ = waiting_call(daemons, tmp_path, short_dir, sipp, peers, acknowledge=True,
                                                        line_settings="call_waiting_caller_id = no\n")
    bursts = runs_above(frame_levels(recording.samples, CW_TONE), CW_ON)
    assert len(bursts) == 1, f"{CW_TONE} Hz bursts (start ms, ms): {bursts}"
    assert alert_runs(recording.samples) == [], "no alerting signal"
    begun, length = bursts[0]
    gaps = [(at, gap) for at, gap in far_end_gaps(recording.samples, begun) if gap > 30 + SLACK_MS]
    assert gaps == [], f"A's voice was cut off (start ms, ms): {gaps}"
    assert "alerting the phone" not in daemon.log()
    end_calls(daemon, a_side, b_side)
