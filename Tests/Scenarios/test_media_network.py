"""atad's media path against a far end on an impaired network: SIPp does
the signalling (a UAS whose SDP points at a pure-Python RTP endpoint,
rtp_peer.RtpPeer), the RtpPeer sends and receives the audio.

- Loss and jitter: a tone through 5 % and 20 % seeded loss with 40 ms
  jitter stays continuous at the earpiece (packet loss concealment bridges
  the gaps), the call survives, and the loss atad counts (in `status` and
  in its RTCP reports) is the loss injected; with jitter alone, the
  reordered packets are all counted and played.
- Latency on a clean network: mouthpiece -> first RTP packet within one
  packet time (+10 ms), and RTP arrival -> earpiece within the jitter
  buffer's delay (+10 ms), against the daemon's own onset times
  (CLOCK_MONOTONIC, the clock of Python's time.monotonic_ns()).
- RTP bleed: packets from any other source are ignored and counted: from
  another port once the far end is latched, from another host always; a
  single stray packet does not win the latch.
- Symmetric RTP: atad sends to where the far end's packets come from, not
  to the port its SDP named.

Real binaries (atad, SIPp), real sockets, loopback only."""

import re
import socket
import time

import pytest

from conftest import wait_until, write_site

from conftest import real_time_audio

pytestmark = real_time_audio
from rtp_peer import SendJob, dominant_frequency, sipp_media_uas, wait_sipp_sdp
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import sipp  # noqa: F401 (fixture)
from test_call_media import line_state, media_line

HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")
FIGURES = re.compile(r"(sent|received|lost|jitter|buffer|concealed|ignored) (\d+(?:\.\d+)?)")
LOSS_PERCENT = re.compile(r"lost \d+ \((\d+\.\d) %\)")
ONSET = re.compile(r"^(earpiece|mouthpiece) onset (\d+) ns$")

PTIME_MS = 20
TONE = 1000
ROGUE_TONE = 2500


# ---------------------------------------------------------------------------
# Helpers


def start_atad(daemons, tmp_path, short_dir, uas, sip_settings=""):
    """One atad whose line 1 calls 2xxx straight at the SIPp UAS
    (`sip_settings`: more `[sip]` lines)."""
    control = short_dir / "control.sock"
    site = write_site(tmp_path / "site.conf", control, log_level="debug", extra=sip_settings + (
        f"[account direct]\nuser = 1000\ndomain = 127.0.0.1:{uas.port}\nregister = no\n"
        "[line 1]\naccount = direct\ndial_plan = (2xxx)\n"))
    return daemons.start(site, control, tmp_path)


def dial(daemon, uas):
    """Line 1 dials 2000; SIPp answers. Returns atad's RTP (ip, port) from
    the offer SIPp received."""
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "2000").returncode == 0
    wait_until(lambda: line_state(daemon).startswith("talking"), 10, "the call to be answered")
    ip, port, pts = wait_sipp_sdp(uas)
    assert ip == "127.0.0.1" and 0 in pts, (ip, port, pts)
    return ip, port


def hang_up(daemon, uas):
    assert daemon.ctl("hook", "1", "on").returncode == 0
    uas.assert_success()
    wait_until(lambda: line_state(daemon).startswith("idle"), 5, "the line to be idle")


def hear(daemon) -> dict:
    """`hear 1`, parsed: sound (the first line), frequencies, cadence,
    earpiece / mouthpiece onset (ns, or None)."""
    reply = daemon.ctl("hear", "1")
    assert reply.returncode == 0, reply
    lines = reply.out_lines[1:]
    heard = {"sound": lines[0], "frequencies": [], "cadence": None, "earpiece": None, "mouthpiece": None}
    match = HEARD.match(lines[0])
    if match:
        heard["frequencies"] = [int(f) for f in match.group(1).split("+")]
        heard["cadence"] = match.group(3)
    for line in lines[1:]:
        onset = ONSET.match(line)
        if onset:
            heard[onset.group(1)] = int(onset.group(2))
    return heard


HEARD_TONE = re.compile(r"^(\d+(?:\+\d+)*) Hz ")


def hears_continuous(heard, frequency, tolerance=0.01, artifact_tolerance=0.03) -> bool:
    """The tone, without a break, at its pitch: the cadence is continuous
    and the tone is within `tolerance`. Concealment repeats whole pitch
    periods of the audio before a gap, which can be a little off the tone's
    own period, so the analyzer may also resolve a close second component
    (e.g. 984+1000 Hz); that one must stay within `artifact_tolerance`."""
    frequencies = heard["frequencies"]
    return (any(abs(f - frequency) <= frequency * tolerance for f in frequencies)
            and all(abs(f - frequency) <= frequency * artifact_tolerance for f in frequencies)
            and heard["cadence"] == "continuous")


def figures(daemon) -> dict:
    """The numbers of `call line 1: media: ...` (ignored is 0 when absent)."""
    media = media_line(daemon)
    assert media is not None, "no call on line 1"
    # The first of each name: "digits sent N received N" comes later.
    found = {}
    for name, value in FIGURES.findall(media.split(", port ")[1]):
        found.setdefault(name, float(value))
    found.setdefault("ignored", 0.0)
    found["loss_percent"] = float(LOSS_PERCENT.search(media).group(1))
    found["text"] = media
    return found


def wait_for_figures(daemon, predicate, what, timeout=2.0) -> dict:
    """Polls the call's figures until `predicate(figures)` holds."""
    last = {}

    def check():
        last.update(figures(daemon))
        return predicate(last)
    try:
        wait_until(check, timeout, what)
    except AssertionError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}: {last.get('text')}") from None
    return dict(last)


def settled_figures(daemon, quiet=0.2, timeout=3.0) -> dict:
    """The call's figures once `received` and `lost` have not moved for
    `quiet` seconds (the far end stopped sending)."""
    state = {"last": None, "since": time.monotonic()}

    def still():
        now = figures(daemon)
        key = (now["received"], now["lost"])
        if state["last"] is None or key != state["last"][0]:
            state["last"], state["since"] = (key, now), time.monotonic()
            return None
        return now if time.monotonic() - state["since"] >= quiet else None
    return wait_until(still, timeout, "the call's RTP counters to settle", interval=0.05)


def watch_while(daemon, job, until, interval=0.1):
    """Polls `hear 1` and the line state until the monotonic time `until`
    (or the send job ends); returns [(time, heard, line state)]."""
    seen = []
    for _ in range(int((until - time.monotonic()) / interval) + 2):
        if time.monotonic() >= until or not job.thread.is_alive():
            break
        seen.append((time.monotonic(), hear(daemon), line_state(daemon)))
        time.sleep(interval)
    return seen


def jitter_buffer_delay(daemon, packets=5):
    """The jitter buffer's delay: `buffer B ms` in `status` is the audio
    buffered now, a sawtooth that drops by a packet's worth between
    arrivals; its peak (just after a packet lands) is the delay. Read over
    `packets` packet times. Returns (peak, readings)."""
    readings = []
    until = time.monotonic() + packets * PTIME_MS / 1000
    for _ in range(packets * PTIME_MS):
        readings.append(int(figures(daemon)["buffer"]))
        if time.monotonic() >= until:
            break
    return max(readings), readings


def rogue_datagrams(sock) -> int:
    """Drains a socket nobody reads; how many datagrams were waiting."""
    count = 0
    for _ in range(100_000):
        try:
            sock.recvfrom(65536, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            break
        count += 1
    return count


# ---------------------------------------------------------------------------
# Loss and jitter


def rtcp_checks(peer, report, started):
    """atad's RTCP report blocks about `peer`'s stream, each against the
    truth: (arrival s after `started`, fraction lost, fraction dropped in
    the span it covers, cumulative lost, dropped up to its highest seq).
    A block's fraction covers the packets after the previous block's
    highest sequence number (the stream's start for the first) up to its
    own highest."""
    dropped = set(report.seqs_dropped)

    def position(seq):
        return (seq - report.first_seq) & 0xFFFF
    previous = -1
    checked = []
    for arrival, block in blocks_about(peer):
        highest = position(block.highest_seq & 0xFFFF)
        span = highest - previous
        lost_in_span = sum(1 for s in dropped if previous < position(s) <= highest)
        dropped_so_far = sum(1 for s in dropped if position(s) <= highest)
        checked.append((round(arrival - started, 2), round(block.fraction_lost, 3),
                        round(lost_in_span / span, 3) if span > 0 else 0.0, block.cumulative_lost, dropped_so_far))
        previous = highest
    return checked


def stream_through_network(daemon, far, loss, jitter_ms, duration, seed=1234):
    """Sends TONE through the impairments while watching the earpiece.
    Returns (send report, polls that did not hear TONE continuous or found
    the line not talking, number of polls, seconds until the tone was first
    heard continuous, the settled figures)."""
    job = far.send_tone_async(TONE, duration=duration, level_dbm0=-10.0, ptime=PTIME_MS, loss=loss,
                              jitter_ms=jitter_ms, seed=seed)
    started = time.monotonic()
    # The earpiece hears the tone once the jitter buffer has settled and
    # the analyzer holds half a second of it (before that it may still
    # describe the dial tone it kept from before the call)...
    wait_until(lambda: figures(daemon)["received"] >= 25 and hears_continuous(hear(daemon), TONE), 4,
               f"the earpiece to hear {TONE} Hz continuous", interval=0.05)
    settled = time.monotonic() - started
    # ...and should keep hearing it, continuous, to the end of the stream.
    seen = watch_while(daemon, job, started + duration - 0.3)
    report = job.wait(duration + 5)
    broken = [(round(t - started, 2), h["sound"], state) for t, h, state in seen
              if not hears_continuous(h, TONE) or not state.startswith("talking")]
    # The last jittered packets land: the counters stop moving.
    numbers = settled_figures(daemon)
    return report, broken, len(seen), settled, numbers


@pytest.mark.parametrize("loss", [0.05, 0.20])
def test_tone_survives_loss_and_jitter_and_the_loss_is_reported(daemons, tmp_path, short_dir, sipp, peers, loss):
    far = peers(seed=7)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    call_up = time.monotonic()
    duration = 7.0
    report, broken, polls, settled, numbers = stream_through_network(daemon, far, loss, 40, duration)
    injected = report.dropped / report.total
    reported = numbers["lost"] / (numbers["lost"] + numbers["received"])
    # atad's first RTCP report comes 2.5..7.5 s after the call is up.
    wait_until(lambda: blocks_about(far), max(1.0, call_up + 8.0 - time.monotonic()),
               "an RTCP report from atad about the peer's stream")
    checked = rtcp_checks(far, report, call_up)
    print(f"\nloss {loss:.0%}, jitter 0..40 ms, {duration} s: injected {report.dropped}/{report.total} "
          f"({injected:.1%}), {report.sent} sent; atad counts received {numbers['received']:.0f}, lost "
          f"{numbers['lost']:.0f} ({reported:.1%} of received + lost, shown {numbers['loss_percent']} %), "
          f"concealed {numbers['concealed']:.0f} frames, jitter {numbers['jitter']} ms\n"
          f"atad's RTCP blocks (s after the call was up, fraction lost, dropped in its span, cumulative lost, "
          f"dropped so far): {checked}\n"
          f"tone continuous {settled:.2f} s after the first packet; then {polls} polls, {len(broken)} not "
          f"continuous: {broken}")
    print(f"atad: {numbers['text']}")

    assert line_state(daemon).startswith("talking"), "the call did not survive"
    # The loss shown is the loss injected...
    assert abs(numbers["loss_percent"] / 100 - injected) <= 0.03, (numbers["loss_percent"], injected)
    assert abs(reported - injected) <= 0.03, (reported, injected)
    # ...and so is the loss in atad's RTCP reports.
    for _, fraction, actual, cumulative_reported, cumulative_dropped in checked:
        assert abs(fraction - actual) <= 0.03, checked
        assert abs(fraction - injected) <= 0.03 + 0.05, checked  # a sub-span of a binomial stream
        assert abs(cumulative_reported - cumulative_dropped) <= 3, checked
    # Every packet that arrived is counted (reordered ones too)...
    sent = report.sent
    assert numbers["received"] == sent, f"{sent} packets sent; {numbers['text']}"
    # ...and concealment bridges the gaps: the tone never stops.
    assert polls >= 30, f"only {polls} polls during the stream"
    if loss <= 0.05:
        assert not broken, f"the tone was not continuous at {len(broken)} of {polls} polls: {broken}"
    else:
        # Known gap (issue 5): at 20 % random loss a burst of 3+ lost packets
        # (about 2 per 350) outlasts spandsp's G.711 Appendix I concealment,
        # which fades to silence 50 ms into a gap, and the analyzer then
        # sees a short break in the cadence. The tone must still be heard,
        # at its pitch, at every poll.
        pitch = [(t, sound) for t, sound, state in broken
                 if not HEARD_TONE.match(sound) or not state.startswith("talking")
                 or not all(abs(int(f) - TONE) <= TONE * 0.03 for f in HEARD_TONE.match(sound).group(1).split("+"))]
        assert not pitch, f"the tone was lost at {len(pitch)} of {polls} polls: {pitch}"
    hang_up(daemon, uas)


def test_reordered_packets_are_played(daemons, tmp_path, short_dir, sipp, peers):
    """40 ms of jitter at 20 ms packets reorders about one packet in ten;
    no loss. The jitter buffer puts them back in order: every packet is
    counted and played, and nothing needs concealing once the buffer has
    grown to cover the jitter."""
    far = peers(seed=7)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    report, broken, polls, settled, numbers = stream_through_network(daemon, far, 0.0, 40, 4.0)
    reordered = sum(1 for a, b in zip(report.seqs_sent, report.seqs_sent[1:]) if ((b - a) & 0xFFFF) > 0x8000)
    print(f"\njitter 0..40 ms, no loss: {report.sent} sent, {reordered} sent after a later one; atad counts "
          f"received {numbers['received']:.0f}, concealed {numbers['concealed']:.0f} frames; {polls} polls, "
          f"{len(broken)} not continuous: {broken}")
    print(f"atad: {numbers['text']}")
    assert reordered > 0
    sent = report.sent
    assert numbers["received"] == sent, f"{sent} packets sent, {reordered} of them reordered; {numbers['text']}"
    # Concealment only while the buffer starts and grows to cover the
    # jitter: about 10 frames at the start on a clean network, then one
    # 10 ms frame per step up to packet + jitter + guard (~65 ms).
    assert numbers["concealed"] <= 30, numbers["text"]
    assert not broken, f"the tone was not continuous at {len(broken)} of {polls} polls: {broken}"
    hang_up(daemon, uas)


def blocks_about(peer):
    """(arrival, report block) of atad's RTCP SR/RR blocks about `peer`'s SSRC."""
    return [(r.arrival, block) for r in peer.received_rtcp() if r.kind in ("SR", "RR")
            for block in r.reports if block.ssrc == peer.ssrc]


# ---------------------------------------------------------------------------
# Latency on a clean network


def test_mouthpiece_to_first_rtp_packet_within_one_packet_time(daemons, tmp_path, short_dir, sipp, peers):
    far = peers(seed=8)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    # atad's RTP is flowing (silence from the quiet mouthpiece)...
    far.wait_for_packets(10)
    assert far.first_tone_arrival(-30.0, frequency=TONE) is None
    # ...when the handset starts to speak.
    assert daemon.ctl("say", "1", "tone", str(TONE), "-10").returncode == 0
    arrival = far.wait_for(lambda: far.first_tone_arrival(-30.0, frequency=TONE), 5, "atad's first tone packet")
    onset = wait_until(lambda: hear(daemon)["mouthpiece"], 2, "the mouthpiece onset")
    latency_ms = (arrival * 1e9 - onset) / 1e6
    print(f"\nmouthpiece onset -> first RTP packet with the tone: {latency_ms:.2f} ms (ptime {PTIME_MS} ms)")
    assert 0 <= latency_ms <= PTIME_MS + 10, latency_ms
    hang_up(daemon, uas)


def test_rtp_arrival_to_earpiece_within_the_jitter_buffer_delay(daemons, tmp_path, short_dir, sipp, peers):
    """After more than a second of silence packets, tone bursts (300 ms
    tone, 300 ms silence, in one unbroken stream): for each, the earpiece
    onset minus the send time of the burst's first packet (loopback: its
    arrival). The median of the bursts must be within the jitter buffer's
    delay + 10 ms (one frame tick); single bursts also carry the test
    machine's scheduling noise, so they are printed."""
    far = peers(seed=9)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    far.send_tone(0, duration=1.2, ptime=PTIME_MS)
    latencies = []
    delays = []
    for _ in range(5):
        tone = far.send_tone(TONE, duration=0.3, level_dbm0=-10.0, ptime=PTIME_MS)
        # The silence goes on while the daemon is asked: `hear` costs its
        # loop ~10 ms of analysis (more in a debug build), harmless now.
        gap = far.send_tone_async(0, duration=0.3, ptime=PTIME_MS)
        heard = hear(daemon)
        buffer_ms, _ = jitter_buffer_delay(daemon)
        gap.wait(5)
        first_sent = tone.send_time_ns(tone.first_seq)
        assert heard["earpiece"] is not None and heard["earpiece"] > first_sent, (heard, first_sent)
        latencies.append(round((heard["earpiece"] - first_sent) / 1e6, 2))
        delays.append(buffer_ms)
    latency_ms = sorted(latencies)[len(latencies) // 2]
    buffer_ms = sorted(delays)[len(delays) // 2]
    print(f"\nfirst tone packet sent -> earpiece onset: median {latency_ms:.2f} ms of {latencies}; jitter buffer "
          f"delay (peak of `buffer B ms`) median {buffer_ms} ms of {delays}; status: {media_line(daemon)}")
    assert latency_ms <= buffer_ms + 10, (latencies, delays)
    hang_up(daemon, uas)


# ---------------------------------------------------------------------------
# RTP bleed
#
# The policy (Sources/RTP/RTPSourceFilter.swift): only packets from the
# negotiated host are ever accepted; the first source there that sends two
# packets in sequence (one SSRC) is latched and from then on is the only
# source accepted (and the only one atad sends to). Everything else is
# dropped and counted: `ignored N from other sources` in `status`.


def watch_hearing(daemon, job, frequency, interval=0.2, limit=60):
    """`hear 1` while `job` runs: the sounds heard other than `frequency`
    alone (within 1 %; whatever the cadence: dropouts are the loss test's
    business), and the number of polls."""
    wrong = []
    polls = 0
    for _ in range(limit):
        if not job.thread.is_alive():
            break
        heard = hear(daemon)
        polls += 1
        found = heard["frequencies"]
        if not (len(found) == 1 and abs(found[0] - frequency) <= frequency * 0.01):
            wrong.append(heard["sound"])
        time.sleep(interval)
    return wrong, polls


def test_packets_from_another_port_are_ignored_once_the_far_end_is_latched(daemons, tmp_path, short_dir, sipp,
                                                                            peers):
    far = peers(seed=10)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    real = far.send_tone_async(TONE, duration=4.0, level_dbm0=-10.0, ptime=PTIME_MS)
    wait_until(lambda: hears_continuous(hear(daemon), TONE), 3, f"the earpiece to hear {TONE} Hz", interval=0.1)
    assert figures(daemon)["ignored"] == 0
    # The same host, another port: a stranger's 2500 Hz (same SSRC, even).
    rogue = far.send_tone_async(ROGUE_TONE, duration=2.0, level_dbm0=-5.0, ptime=PTIME_MS, rogue=True)
    wrong, polls = watch_hearing(daemon, rogue, TONE)
    rogue_report = rogue.wait(5)
    numbers = wait_for_figures(daemon, lambda f: f["ignored"] >= rogue_report.sent, "the rogue packets counted")
    print(f"\nrogue from 127.0.0.1:{far.rogue_port} sent {rogue_report.sent} packets of {ROGUE_TONE} Hz after the "
          f"latch; atad ignored {numbers['ignored']:.0f}; {polls} polls heard {TONE} Hz only, others: {wrong}")
    assert not wrong, wrong
    assert polls >= 5
    rogue_sent = rogue_report.sent
    assert numbers["ignored"] == rogue_sent, f"{rogue_sent} rogue packets; {numbers['text']}"
    # atad's RTP still goes to the real far end only.
    assert rogue_datagrams(far.rogue_socket) == 0
    count = len(far.received())
    far.wait_for(lambda: len(far.received()) >= count + 10, 2, "atad's RTP to keep coming")
    real.wait(5)
    hang_up(daemon, uas)


def test_another_host_is_ignored_even_before_the_far_end_sends(daemons, tmp_path, short_dir, sipp, peers):
    far = peers(seed=11)
    stranger = peers(host="127.0.0.2", seed=12)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = stranger.remote = dial(daemon, uas)
    # Before the far end sends anything: the stranger's stream is all
    # ignored (wrong host, so never a candidate for the latch).
    early = stranger.send_tone(ROGUE_TONE, duration=0.6, level_dbm0=-5.0, ptime=PTIME_MS)
    numbers = wait_for_figures(daemon, lambda f: f["ignored"] >= early.sent, "the stranger's packets counted")
    heard_early = hear(daemon)
    assert numbers["ignored"] == early.sent and numbers["received"] == 0, numbers["text"]
    assert heard_early["sound"] == "silence", heard_early
    # The far end starts; the stranger goes on. atad hears the far end only.
    real = far.send_tone_async(TONE, duration=3.0, level_dbm0=-10.0, ptime=PTIME_MS)
    late = stranger.send_tone_async(ROGUE_TONE, duration=2.0, level_dbm0=-5.0, ptime=PTIME_MS)
    wait_until(lambda: hears_continuous(hear(daemon), TONE), 3, f"the earpiece to hear {TONE} Hz", interval=0.1)
    wrong, polls = watch_hearing(daemon, late, TONE)
    late_report = late.wait(5)
    total = early.sent + late_report.sent
    numbers = wait_for_figures(daemon, lambda f: f["ignored"] >= total, "all the stranger's packets counted")
    print(f"\nstranger at 127.0.0.2 sent {early.sent} packets before the far end and {late_report.sent} during its "
          f"stream; atad ignored {numbers['ignored']:.0f}; {polls} polls heard {TONE} Hz only, others: {wrong}")
    assert not wrong, wrong
    assert numbers["ignored"] == total, numbers["text"]
    # atad never sent anything to the stranger, and does send to the far end.
    assert stranger.received() == [] and stranger.received_rtcp() == []
    assert far.received(source=far.remote)
    real.wait(5)
    hang_up(daemon, uas)


def test_a_single_stray_packet_does_not_win_the_latch(daemons, tmp_path, short_dir, sipp, peers):
    far = peers(seed=13)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    far.remote = dial(daemon, uas)
    # One packet from another port on the far end's host: accepted (it may
    # be the far end from behind a NAT) but not latched. It carries silence:
    # played at once ahead of the far end's tone, an audible stray would sit
    # in the analyzer's stretch of that tone for its first second.
    stray = far.send_tone(0, duration=0.02, ptime=PTIME_MS, rogue=True)
    assert stray.sent == 1
    wait_for_figures(daemon, lambda f: f["received"] == 1, "the stray packet received")
    # The far end proves itself with packets in sequence and is latched;
    # the stray port's later packets are ignored.
    real = far.send_tone_async(TONE, duration=3.0, level_dbm0=-10.0, ptime=PTIME_MS)
    wait_until(lambda: hears_continuous(hear(daemon), TONE), 3, f"the earpiece to hear {TONE} Hz", interval=0.1)
    rogue = far.send_tone_async(ROGUE_TONE, duration=1.0, level_dbm0=-5.0, ptime=PTIME_MS, rogue=True)
    wrong, polls = watch_hearing(daemon, rogue, TONE)
    rogue_report = rogue.wait(5)
    numbers = wait_for_figures(daemon, lambda f: f["ignored"] >= rogue_report.sent, "the rogue packets counted")
    print(f"\none stray packet first, then the far end; {rogue_report.sent} later stray packets, atad ignored "
          f"{numbers['ignored']:.0f}; others heard: {wrong}")
    assert not wrong, wrong
    rogue_sent = rogue_report.sent
    assert numbers["ignored"] == rogue_sent, f"{rogue_sent} rogue packets; {numbers['text']}"
    assert rogue_datagrams(far.rogue_socket) == 0
    real.wait(5)
    hang_up(daemon, uas)


# ---------------------------------------------------------------------------
# Symmetric RTP


def test_atad_sends_to_where_the_far_ends_packets_come_from(daemons, tmp_path, short_dir, sipp, peers):
    named = peers(seed=14)  # the port in SIPp's SDP
    actual = peers(seed=15)  # where the far end's packets really come from (a NAT, say)
    uas = sipp_media_uas(sipp, named, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas)
    actual.remote = dial(daemon, uas)
    # Until the far end sends, atad sends to the address the SDP gave.
    named.wait_for_packets(10)
    assert actual.received() == []
    job = actual.send_tone_async(TONE, duration=3.0, level_dbm0=-10.0, ptime=PTIME_MS)
    wait_until(lambda: hears_continuous(hear(daemon), TONE), 3, f"the earpiece to hear {TONE} Hz", interval=0.1)
    # Latched: atad's RTP now goes to the sender's port, and only there.
    actual.wait_for_packets(10)
    switched = actual.received()[0].arrival
    assert daemon.ctl("say", "1", "tone", "700", "-10").returncode == 0
    arrival = actual.wait_for(lambda: actual.first_tone_arrival(-30.0, frequency=700), 3, "atad's 700 Hz")
    actual.wait_for(lambda: len(actual.received(since=arrival)) >= 40, 3, "800 ms of atad's tone")
    heard = dominant_frequency(actual.audio(start=arrival + 0.1))
    after_switch = named.received(since=switched + 0.05)
    print(f"\nSDP named port {named.port}, far end sent from {actual.port}: atad's RTP went to the SDP port "
          f"{len(named.received())} times (the last {(switched - named.received()[-1].arrival) * 1000:.1f} ms "
          f"before the first to the sender's port), then to the sender's port {len(actual.received())} times; "
          f"tone there {heard:.1f} Hz; ignored: {figures(daemon)['ignored']:.0f}")
    assert after_switch == [], f"{len(after_switch)} packets still went to the SDP's port"
    assert abs(heard - 700) <= 7, heard
    assert figures(daemon)["ignored"] == 0
    job.wait(5)
    hang_up(daemon, uas)


def test_a_far_end_that_goes_silent_is_hung_up_at_the_rtp_timeout(daemons, tmp_path, short_dir, sipp, peers):
    """`rtp_timeout_seconds = 2`: while the far end sends, the call stays up
    past the timeout; once it stops (no BYE, no RTCP), atad sends BYE and
    the line hears the far end gone, no sooner than the timeout."""
    timeout = 2
    far = peers(seed=14)
    uas = sipp_media_uas(sipp, far, timeout=30)
    daemon = start_atad(daemons, tmp_path, short_dir, uas, sip_settings=f"rtp_timeout_seconds = {timeout}\n")
    far.remote = dial(daemon, uas)
    sent = far.send_tone(TONE, duration=2 * timeout + 1.0, level_dbm0=-10.0, ptime=PTIME_MS)
    last_packet = sent.send_times[-1][1] / 1e9
    assert line_state(daemon).startswith("talking"), "a far end that sends is not timed out"
    uas.assert_success()  # uas_media.xml ends with atad's BYE
    ended = time.monotonic()
    wait_until(lambda: not line_state(daemon).startswith("talking"), 5, "the line to learn of the end")
    silent = ended - last_packet
    print(f"\nlast RTP packet to BYE seen: {silent:.2f} s (timeout {timeout} s)")
    assert silent >= timeout - 0.1, silent
    assert f"nothing from the far end for {timeout} s; hanging up" in daemon.log()
    assert daemon.running()

