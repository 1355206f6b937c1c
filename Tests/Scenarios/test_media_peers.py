"""Self-tests of the media peers (rtp_peer.py, baresip_peer.py, the
peers/*_media*.xml SIPp scenarios) against each other, without atad."""

import math
import struct
import time

import pytest

import rtp_peer
from baresip_peer import baresip  # noqa: F401 (fixture)
from rtp_peer import (PCMA, PCMU, RtpPeer, alaw_to_linear, linear_to_alaw, linear_to_ulaw, sipp_media_uac,
                      sipp_media_uas, ulaw_to_linear, wait_sipp_sdp)
from rtp_peer import peers  # noqa: F401 (fixture)
from sip_peers import USERS, kamailio, sipp  # noqa: F401 (fixtures)


def pair(peers, **kwargs):
    a, b = peers(seed=11, **kwargs), peers(seed=22, **kwargs)
    a.remote, b.remote = b.address, a.address
    return a, b


# ---------------------------------------------------------------------------
# G.711


def test_g711_matches_the_reference_points():
    # Silence, the extremes and the sign handling of ITU-T G.711.
    assert linear_to_ulaw(0) == 0xFF and linear_to_alaw(0) == 0xD5
    assert linear_to_ulaw(32767) == 0x80 and linear_to_ulaw(-32768) == 0x00
    assert linear_to_alaw(32767) == 0xAA and linear_to_alaw(-32768) == 0x2A
    assert ulaw_to_linear(0x80) == 32124 and ulaw_to_linear(0x00) == -32124
    assert alaw_to_linear(0xAA) == 32256 and alaw_to_linear(0x2A) == -32256
    # Every code decodes to a value that encodes back to itself
    # (µ-law's two zeros 0x7F/0xFF both decode to 0, which encodes as 0xFF).
    for code in range(256):
        assert linear_to_alaw(alaw_to_linear(code)) == code
        if code != 0x7F:
            assert linear_to_ulaw(ulaw_to_linear(code)) == code
    # Quantisation error stays within half a step plus the truncation to
    # 14/13 bits (about 3.5 % above the first segments).
    for value in range(-32000, 32000, 97):
        for coder, decoder in ((linear_to_ulaw, ulaw_to_linear), (linear_to_alaw, alaw_to_linear)):
            back = decoder(coder(value))
            assert abs(back - value) <= max(24, abs(value) * 0.035), (value, back)


def test_dominant_frequency_and_level_of_a_synthetic_tone():
    for frequency in (350.0, 440.0, 697.0, 1004.0, 2600.0, 3400.0):
        samples = rtp_peer.tone_samples(frequency, -10.0, 4000)
        measured = rtp_peer.dominant_frequency(samples)
        assert abs(measured - frequency) / frequency < 0.0005, (frequency, measured)
    assert abs(rtp_peer.dbm0_of(rtp_peer.tone_samples(1000, -20.0, 8000)) + 20.0) < 0.05


# ---------------------------------------------------------------------------
# RtpPeer against RtpPeer


@pytest.mark.parametrize("pt, ptime, frequency", [(PCMU, 20, 1000.0), (PCMA, 10, 440.0), (PCMU, 30, 2100.0)])
def test_tone_between_two_peers(peers, pt, ptime, frequency):
    a, b = pair(peers)
    report = a.send_tone(frequency, duration=0.6, level_dbm0=-10.0, ptime=ptime, pt=pt)
    count = 600 // ptime
    assert report.sent == count and report.dropped == 0
    packets = b.wait_for_packets(count) and b.received()
    assert len(packets) == count
    # Header: consecutive seq, timestamp steps of ptime*8, one SSRC, the
    # marker on the first packet only.
    first = packets[0]
    assert first.marker and not any(p.marker for p in packets[1:])
    assert (first.seq, first.timestamp, first.ssrc) == (report.first_seq, report.first_timestamp, a.ssrc)
    for n, p in enumerate(packets):
        assert p.pt == pt and p.ssrc == a.ssrc and len(p.payload) == ptime * 8
        assert p.seq == (first.seq + n) & 0xFFFF
        assert p.timestamp == (first.timestamp + n * ptime * 8) & 0xFFFFFFFF
    # Pacing: packets arrive ptime apart (the whole stream within 10 %).
    span = packets[-1].arrival - packets[0].arrival
    assert abs(span - (count - 1) * ptime / 1000.0) < 0.1 * count * ptime / 1000.0, span
    measured = b.dominant_frequency()
    level = b.level_dbm0()
    print(f"pt {pt} ptime {ptime}: sent {frequency} Hz, measured {measured:.3f} Hz, level {level:.2f} dBm0, "
          f"stream {span * 1000:.1f} ms")
    assert abs(measured - frequency) / frequency < 0.005
    assert abs(level + 10.0) < 0.5
    assert b.first_tone_arrival(-30.0, frequency) == first.arrival
    # A second tone continues the stream: no new marker, seq/timestamp go on.
    a.send_tone(frequency, duration=0.1, ptime=ptime, pt=pt)
    more = b.wait_for_packets(count + 100 // ptime) and b.received()[count:]
    assert not more[0].marker and more[0].seq == (packets[-1].seq + 1) & 0xFFFF
    assert more[0].timestamp == (packets[-1].timestamp + ptime * 8) & 0xFFFFFFFF


@pytest.mark.parametrize("loss", [0.05, 0.20])
def test_loss_is_injected_and_counted_exactly(peers, loss):
    a, b = pair(peers)
    report = a.send_tone(700.0, duration=1.0, ptime=10, loss=loss, seed=5)
    assert report.total == 100 and report.sent + report.dropped == 100
    # Binomial: within four standard deviations of 100 * loss (the seed fixes it).
    assert abs(report.dropped - 100 * loss) <= 4 * math.sqrt(100 * loss * (1 - loss)), report.dropped
    b.wait_for_packets(report.sent)
    b.wait_quiet(0.1)
    received = b.received()
    assert len(received) == report.sent
    assert sorted(p.seq for p in received) == sorted(report.seqs_sent)
    stats = b.stats()
    print(f"loss {loss}: sent {report.sent}, dropped {report.dropped}, receiver counted lost {stats['lost']} "
          f"of {stats['expected']} expected (first/last drops at the stream's ends are invisible to it)")
    assert stats["received"] == report.sent
    # The receiver sees every drop except any before the first or after
    # the last packet it received.
    assert stats["lost"] <= report.dropped
    first, last = min(report.seqs_sent), max(report.seqs_sent)
    assert stats["lost"] == sum(1 for s in report.seqs_dropped if first < s < last)
    # Lost packets leave silence; the tone is still measured right.
    assert abs(b.dominant_frequency() - 700.0) < 3.5
    # The same seed drops the same packets.
    again = RtpPeer(seed=11)
    try:
        again.remote = b.address
        b.clear()
        repeat = again.send_tone(700.0, duration=1.0, ptime=10, loss=loss, seed=5)
        assert repeat.dropped == report.dropped
        assert [s - repeat.first_seq for s in repeat.seqs_dropped] == [s - report.first_seq for s in report.seqs_dropped]
    finally:
        again.stop()


def test_jitter_reorders_and_the_audio_is_put_back_in_order(peers):
    a, b = pair(peers)
    report = a.send_tone(1000.0, duration=1.0, ptime=20, jitter_ms=60, seed=3)
    assert report.sent == 50
    b.wait_for_packets(50)
    stats = b.stats()
    print(f"jitter 0..60 ms: {stats['reordered']} of 50 packets reordered, RFC 3550 jitter {stats['jitter']:.0f} "
          f"timestamp units ({stats['jitter'] / 8:.1f} ms)")
    assert stats["reordered"] > 0 and stats["lost"] == 0
    assert stats["jitter"] > 8 * 5  # well above the loopback's own
    arrivals = [p.seq for p in b.received()]
    assert arrivals != sorted(arrivals)
    # Placed by timestamp, the audio is the continuous tone again.
    samples = b.audio()
    assert len(samples) == 8000
    assert abs(rtp_peer.dominant_frequency(samples) - 1000.0) < 1.0
    assert abs(rtp_peer.dbm0_of(samples) + 10.0) < 0.5


def test_send_times_are_recorded_per_packet(peers):
    a, b = pair(peers)
    report = a.send_tone(1000.0, duration=0.4, ptime=20, loss=0.2, jitter_ms=10, seed=4)
    b.wait_for_packets(report.sent)
    # One send time per packet on the wire, in sending order, none for drops.
    assert [seq for seq, _ in report.send_times] == report.seqs_sent
    times = [when for _, when in report.send_times]
    assert times == sorted(times)
    assert all(report.send_time_ns(seq) is None for seq in report.seqs_dropped)
    # Each is the moment just before sendto: on loopback the receiver's
    # arrival time (time.monotonic(), the same clock) comes a little later.
    by_seq = {p.seq: p.arrival for p in b.received()}
    delays = [by_seq[seq] * 1e9 - when for seq, when in report.send_times]
    print(f"send -> arrival on loopback: {min(delays) / 1e3:.0f}..{max(delays) / 1e3:.0f} µs "
          f"over {len(delays)} packets")
    assert all(-1e6 < d < 20e6 for d in delays), delays  # float rounding of arrival; a slow poll
    # Paced by the schedule: no packet leaves before its due time.
    first_due_ns = report.started * 1e9
    for seq, when in report.send_times:
        index = (seq - report.first_seq) & 0xFFFF
        assert when >= first_due_ns + index * 20e6 - 1e6, (seq, when)


def test_back_to_back_sends_keep_the_stream_paced(peers):
    a, b = pair(peers)
    first = a.send_tone(0, duration=0.2, ptime=20)
    second = a.send_tone(1000.0, duration=0.2, ptime=20)
    # The second send's first packet is due one ptime after the first
    # send's last, not at once: one schedule across both.
    assert abs(second.started - (first.started + 0.2)) < 1e-9
    gap_ms = (second.send_times[0][1] - first.send_times[-1][1]) / 1e6
    # After a pause the schedule starts from now.
    b.wait_for_packets(20)
    b.wait_quiet(0.1)
    before = time.monotonic()
    third = a.send_tone(1000.0, duration=0.04, ptime=20)
    print(f"gap between back-to-back sends: {gap_ms:.2f} ms (ptime 20 ms); after a pause the next send started "
          f"{(third.started - before) * 1000:.2f} ms after it was called")
    assert 15.0 <= gap_ms <= 30.0, gap_ms
    assert before <= third.started < before + 0.01
    # The rogue socket has a schedule of its own, from now.
    before = time.monotonic()
    rogue = a.send_tone(440.0, duration=0.04, ptime=20, rogue=True)
    assert before <= rogue.started < before + 0.01


@pytest.mark.parametrize("digit, duration_ms", [("5", 100), ("#", 240), ("A", 20)])
def test_telephone_event_round_trip(peers, digit, duration_ms):
    a, b = pair(peers)
    a.send_tone(0, duration=0.06)  # the stream starts with some silence
    report = a.send_event(digit, duration_ms=duration_ms, pt=101)
    updates = math.ceil(duration_ms / 20) - 1
    assert report.sent == updates + 3
    b.wait_for_packets(3 + report.sent)
    events = b.events(101)
    assert len(events) == 1, events
    event = events[0]
    assert event["digit"] == digit and event["duration"] == duration_ms * 8
    assert event["end"] and event["end_packets"] == 3 and event["packets"] == report.sent
    assert event["marker"] and event["timestamp"] == report.first_timestamp
    packets = b.received(101)
    assert [p.marker for p in packets] == [True] + [False] * (len(packets) - 1)
    assert len({p.seq for p in packets}) == len(packets)  # every packet its own seq
    durations = [struct.unpack("!H", p.payload[2:4])[0] for p in packets]
    assert durations == sorted(durations)
    # The audio after the event continues past the event's time span.
    a.send_tone(440, duration=0.04)
    after = b.wait_for_packets(3 + report.sent + 2) and b.received(PCMU)[-2]
    assert (after.timestamp - event["timestamp"]) & 0xFFFFFFFF >= duration_ms * 8


def test_rogue_source_uses_another_port(peers):
    a, b = pair(peers)
    a.send_tone(440, duration=0.1)
    a.send_tone(1500, duration=0.1, rogue=True)
    b.wait_for_packets(10)
    sources = {p.source for p in b.received()}
    assert sources == {a.address, ("127.0.0.1", a.rogue_port)} and a.rogue_port != a.port
    assert len(b.received(source=("127.0.0.1", a.rogue_port))) == 5
    assert abs(b.dominant_frequency(source=a.address) - 440) < 2


def test_rtcp_receiver_report_round_trip(peers):
    a, b = pair(peers)
    report = a.send_tone(1000.0, duration=1.0, ptime=20, loss=0.1, seed=9, jitter_ms=10)
    b.wait_for_packets(report.sent)
    b.wait_quiet(0.1)
    stats = b.send_receiver_report()
    rr = a.wait_for_rtcp("RR")[0]
    assert rr.sender_ssrc == b.ssrc and rr.source == (b.host, b.rtcp_port)
    block = rr.reports[0]
    print(f"RR: fraction lost {block.fraction_lost:.3f}, cumulative {block.cumulative_lost}, jitter {block.jitter}")
    assert block.ssrc == a.ssrc and block.cumulative_lost == stats["lost"]
    assert abs(block.fraction_lost - stats["lost"] / stats["expected"]) < 1 / 256 + 1e-9
    assert block.jitter == int(stats["jitter"]) and block.jitter > 0
    assert block.highest_seq & 0xFFFF == max(report.seqs_sent, key=lambda s: (s - report.first_seq) & 0xFFFF)


def test_async_send_and_clean_stop(peers):
    a, b = pair(peers)
    job = a.send_tone_async(440, duration=5.0)
    b.wait_for_packets(5)
    started = time.monotonic()
    a.stop()  # stops the sender mid-stream and the receiver
    assert time.monotonic() - started < 1.0
    assert job.wait(2.0).sent < 250


# ---------------------------------------------------------------------------
# SIPp signalling, RtpPeer media


def test_sipp_uas_media_sdp_points_at_the_rtp_peer(sipp, peers):
    far, near = peers(seed=1), peers(seed=2)
    uas = sipp_media_uas(sipp, far, timeout=15)
    uac = sipp_media_uac(sipp, near, remote=uas.address, service="1001", hangs_up_after_ms=600, timeout=15)
    answer = wait_sipp_sdp(uac)
    offer = wait_sipp_sdp(uas)
    assert answer == ("127.0.0.1", far.port, [0, 8, 101]), answer
    assert offer == ("127.0.0.1", near.port, [0, 8, 101]), offer
    # Media flows between the two peers while SIPp keeps the call.
    far.remote, near.remote = offer[:2], answer[:2]
    near.send_tone(700, duration=0.2)
    far.send_tone(1300, duration=0.2)
    far.wait_for_packets(10)
    near.wait_for_packets(10)
    assert abs(far.dominant_frequency() - 700) < 3 and abs(near.dominant_frequency() - 1300) < 6
    uac.assert_success()
    uas.assert_success()
    assert uas.received("BYE") == 1


def test_sipp_uas_media_hangs_up_itself(sipp, peers):
    far, near = peers(seed=1), peers(seed=2)
    uas = sipp_media_uas(sipp, far, hangs_up_after_ms=300, timeout=15)
    uac = sipp_media_uac(sipp, near, remote=uas.address, service="1001", timeout=15)
    assert wait_sipp_sdp(uac)[1] == far.port
    uas.assert_success()
    uac.assert_success()
    assert uac.received("BYE") == 1


# ---------------------------------------------------------------------------
# baresip


def test_baresip_auto_answers_and_both_directions_carry_their_tones(sipp, peers, baresip):
    phone = baresip.start(tone=440.0)
    near = peers(seed=3)
    uac = sipp_media_uac(sipp, near, remote=phone.address, service=phone.user, hangs_up_after_ms=2500, timeout=15)
    answer = wait_sipp_sdp(uac)
    assert answer[0] == "127.0.0.1" and PCMU in answer[2], answer
    near.remote = answer[:2]
    phone.wait_for_event("CALL_ESTABLISHED")
    near.send_tone(700.0, duration=1.5, level_dbm0=-10.0)
    # baresip's aufile tone arrives at the RtpPeer.
    near.wait_for_packets(50)
    heard = near.dominant_frequency()
    # The RtpPeer's tone is in baresip's recording of what it received.
    recorded = phone.wait_received_audio(1.2)
    recorded_frequency = rtp_peer.dominant_frequency(recorded[2400:])
    print(f"baresip -> RtpPeer: {heard:.2f} Hz; RtpPeer -> baresip recording ({phone.received_audio_path.name}): "
          f"{recorded_frequency:.2f} Hz, {rtp_peer.dbm0_of(recorded[2400:]):.1f} dBm0")
    assert abs(heard - 440.0) < 2.2
    assert abs(recorded_frequency - 700.0) < 3.5
    uac.assert_success()
    phone.wait_for_event("CALL_CLOSED")


def test_baresip_dials_the_sipp_media_uas_and_hangs_up(sipp, peers, baresip):
    far = peers(seed=4)
    uas = sipp_media_uas(sipp, far, timeout=15)
    phone = baresip.start(tone=1000.0, auto_answer=False)
    reply = phone.dial(f"sip:1001@{uas.ip}:{uas.port}")
    assert reply.get("ok"), reply
    phone.wait_for_event("CALL_ESTABLISHED")
    offer = wait_sipp_sdp(uas)
    far.remote = offer[:2]
    far.send_tone(600.0, duration=1.0)
    far.wait_for_packets(40)
    heard = far.dominant_frequency()
    recorded = phone.wait_received_audio(0.8)
    print(f"baresip dialled out: RtpPeer heard {heard:.2f} Hz, baresip recorded "
          f"{rtp_peer.dominant_frequency(recorded[1600:]):.2f} Hz")
    assert abs(heard - 1000.0) < 5
    assert abs(rtp_peer.dominant_frequency(recorded[1600:]) - 600.0) < 3
    assert phone.hangup().get("ok")
    phone.wait_for_event("CALL_CLOSED")
    uas.assert_success()
    assert uas.received("BYE") == 1


def test_baresip_rings_until_accepted(sipp, peers, baresip):
    phone = baresip.start(tone=440.0, auto_answer=False)
    near = peers(seed=5)
    uac = sipp_media_uac(sipp, near, remote=phone.address, service=phone.user, hangs_up_after_ms=300, timeout=15)
    phone.wait_for_event("CALL_INCOMING")
    assert phone.events("CALL_ESTABLISHED") == []
    assert phone.accept().get("ok")
    phone.wait_for_event("CALL_ESTABLISHED")
    uac.assert_success()
    phone.wait_for_event("CALL_CLOSED")


def test_baresip_registers_and_is_called_through_kamailio(kamailio, sipp, peers, baresip):
    proxy = kamailio.start()
    phone = baresip.start(user="1002", registrar=proxy.address, password=USERS["1002"], domain="atad.test")
    phone.wait_registered()
    proxy.wait_registered("1002@atad.test", f"127.0.0.1:{phone.sip_port}")
    near = peers(seed=6)
    uac = sipp_media_uac(sipp, near, remote=proxy.address, service="1002", caller="1001",
                         auth=("1001", USERS["1001"]), hangs_up_after_ms=800, timeout=15)
    near.remote = wait_sipp_sdp(uac)[:2]
    phone.wait_for_event("CALL_ESTABLISHED")
    near.wait_for_packets(20)
    assert abs(near.dominant_frequency() - 440.0) < 2.2
    uac.assert_success()
