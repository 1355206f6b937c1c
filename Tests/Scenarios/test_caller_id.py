"""Type I caller ID (issue 16): SIPp calls the real atad on the simulated
board, and what the on-hook phone receives is recorded (`record 1 PATH
SECONDS` ... `record 1 stop`: a WAV of the earpiece and the line's ring and
polarity events on the same timeline) and decoded by programs that know
nothing of atad: minimodem (Bell 202 and V.23 bytes, GR-30 fields) and
multimon-ng (ETSI/GR-30 MDMF with its checksum, and DTMF). Neither decoder
tells Bell 202 from V.23, nor has a level threshold, so the tests measure
the modem's frequencies and levels themselves (Goertzel, zero crossings).

The decoders are Debian's minimodem, multimon-ng and sox (multimon-ng's
`-t wav` runs sox); the Makefile's TEST_PACKAGES installs them. A test
skips only when one of them is missing from PATH.

Timing facts come from the recording alone (sample positions and event
times are both counted in samples of the board's frame clock), never from
the test's own clock. The bell's phases are visible nowhere but in the
recording's events, so where a test needs the recording to cover the
next ring burst it lets the cadence run for that long (a bounded wait on
the clock, named for what it waits for) before stopping the recording.
"""

import math
import re
import shutil
import struct
import subprocess
import time
import wave

import pytest

from conftest import UNDER_QEMU, wait_until, write_site
from sip_peers import sipp  # noqa: F401 (fixture)
from test_incoming_calls import line_state, sip_port

RATE = 8000
# Under qemu-user the emulated CPU wakes the loop late now and then: a gap
# that a timer ends (the ring after the data, a cadence phase) may run this
# much longer than on the board. The data's own timing (one modem stream)
# keeps its tolerances.
LAG = 300 if UNDER_QEMU else 0
# A 0 dBm0 sine's peak in 16-bit linear audio (Sources/DSP/Level.swift).
ZERO_DBM0_PEAK = 22826.36
# A sample louder than -45 dBm0 (peak) is sound; the FSK is sent at about
# -14 dBm0 and the DTMF at -8 dBm0 per tone, the rest of the time the
# on-hook earpiece is silent.
SOUND_THRESHOLD = ZERO_DBM0_PEAK * 10 ** (-45 / 20)
# Quiet shorter than this inside a sound is the same sound (a sine's zero
# crossings); the gaps the tests measure (60 ms after the alert tone, 70 ms
# between DTMF digits) are longer.
MERGE_GAP_MS = 20

SENT_TIMEOUT = 15.0       # INVITE to "caller ID sent": us sends 2.5-3.3 s after the ring starts
DECODER_TIMEOUT = 30.0    # each decoder run (they take milliseconds)
RECORD_SECONDS = 30       # the recording's upper bound; every test stops it sooner
BAUD = 1200
SEIZURE_BITS = 300
POSTAMBLE_BITS = 5        # spandsp's marks after the message (docs/research/caller-id.md)

BELL202 = {"name": "bell202", "mark": 1200, "space": 2200}
V23 = {"name": "v23", "mark": 1300, "space": 2100}

RECORDED = re.compile(r"^recorded (\d+) ms to (.+)$")
EVENT = re.compile(r"^at (\d+) ms: (ring on|ring off|polarity reverse|polarity forward|loop open|loop closed)$")
MINIMODEM_TIME = re.compile(r"^Time:\s+(\d\d)/(\d\d) (\d\d):(\d\d)$")


def need(*tools):
    """Skips when a decoder is missing (the Makefile's TEST_PACKAGES
    installs minimodem, multimon-ng and sox for `make test`)."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (make test installs them)")


# ---------------------------------------------------------------------------
# The adapter, the call, the recording


def start_adapter(daemons, tmp_path, short_dir, country, line_settings=""):
    """atad on the simulated board in `country`; `line_settings`: lines of a
    `[line 1]` section."""
    control = short_dir / "control.sock"
    extra = f"[line 1]\n{line_settings}" if line_settings else ""
    site = write_site(tmp_path / "site.conf", control, country=country, extra=extra)
    return daemons.start(site, control, tmp_path)


def call_with_identity(sipp, daemon, name, number, privacy="none"):
    """SIPp calls line 1 with P-Asserted-Identity `"name" <sip:number@...>`
    and `Privacy: privacy`; its From is "Somebody Else" <sip:999@...>. It
    waits for the answer, then hangs up 500 ms after it."""
    return sipp.uac("uac_caller_id.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                    keys={"pai_name": name, "pai_number": number, "privacy": privacy},
                    timeout=40, extra=["-d", "500"])


def start_recording(daemon, path):
    """Starts recording line 1's earpiece and line signals; before the
    INVITE, so the recording sees the line from its first change."""
    result = daemon.ctl("record", "1", str(path), str(RECORD_SECONDS))
    assert result.returncode == 0 and result.out_lines[:1] == ["ok"], result


class Recording:
    """What `record 1 stop` gave: the WAV's samples and the events as
    (ms from the recording's start, text), in order."""

    def __init__(self, path, samples, events, recorded_ms):
        self.path = path
        self.samples = samples
        self.events = events
        self.recorded_ms = recorded_ms

    def times(self, text):
        return [at for at, what in self.events if what == text]

    def first(self, text, after=-1):
        """The first `text` event later than `after` ms; fails when none."""
        later = [at for at in self.times(text) if at > after]
        assert later, f"no '{text}' event after {after} ms in {self.events}"
        return later[0]


def stop_recording(daemon, path):
    result = daemon.ctl("record", "1", "stop")
    assert result.returncode == 0 and result.out_lines[:1] == ["ok"], result
    lines = result.out_lines[1:]
    assert lines, result
    match = RECORDED.match(lines[0])
    assert match and match.group(2) == str(path), result
    events = []
    for text in lines[1:]:
        event = EVENT.match(text)
        assert event, f"not an event line: {text!r} in {result.out_lines}"
        events.append((int(event.group(1)), event.group(2)))
    assert [at for at, _ in events] == sorted(at for at, _ in events), events
    samples = read_wav(path)
    recorded_ms = int(match.group(1))
    assert abs(len(samples) * 1000 // RATE - recorded_ms) <= 1, (len(samples), result.out_lines)
    return Recording(path, samples, events, recorded_ms)


def read_wav(path):
    """The samples of an 8 kHz 16-bit mono WAV (what `record` writes)."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE), path
        data = wav.readframes(wav.getnframes())
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def wait_for_caller_id(daemon, modulation):
    """Both log lines of a burst: its start (with the modulation) and its
    end. Returns the test's clock when the end was seen."""
    daemon.wait_for_log("info", f"line 1: sending caller ID ({modulation})", timeout=SENT_TIMEOUT)
    daemon.wait_for_log("info", "line 1: caller ID sent", timeout=SENT_TIMEOUT)
    return time.monotonic()


def ring_bursts(daemon):
    """How many ring bursts the simulated bell has seen begin (the second
    line of `ringing`; 0 while it does not ring)."""
    lines = daemon.ctl("ringing", "1").out_lines
    return next((int(l.split()[1]) for l in lines if l.startswith("bursts ")), 0)


def let_the_line_ring(daemon, bursts, what, timeout=10):
    """Waits until the bell has begun `bursts` bursts: the recording then
    holds that burst's `ring on`."""
    wait_until(lambda: ring_bursts(daemon) >= bursts, timeout, what, interval=0.1)


def ring_started(daemon):
    """Waits for the line to ring and returns the test's clock then."""
    wait_until(lambda: line_state(daemon, 1) == "ringing", 10, "line 1 to ring", interval=0.1)
    return time.monotonic()


def answer_and_hang_up(daemon, uac):
    """Ends the call the way the tests of incoming calls do: the handset
    answers, SIPp hangs up 500 ms later."""
    assert daemon.ctl("hook", "1", "off").returncode == 0
    uac.assert_success()
    wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the caller's hang-up to reach the line")


def date_stamps(since_wall, until_wall):
    """Every MMDDHHMM (local time) from the minute before `since_wall`
    to `until_wall`: what the message's date may say."""
    stamps = set()
    moment = since_wall - 60
    while moment < until_wall + 60:
        stamps.add(time.strftime("%m%d%H%M", time.localtime(min(moment, until_wall))))
        moment += 30
    return stamps


# ---------------------------------------------------------------------------
# Reading the audio


def ms(sample):
    return sample * 1000 / RATE


def sample_at(milliseconds):
    return int(round(milliseconds * RATE / 1000))


def sounds(samples, start_ms=0, end_ms=None):
    """The stretches of sound in `samples` between `start_ms` and `end_ms`,
    as (first ms, end ms) to the sample: loud samples less than
    MERGE_GAP_MS apart belong to one stretch."""
    first = sample_at(start_ms)
    last = len(samples) if end_ms is None else min(len(samples), sample_at(end_ms))
    gap = sample_at(MERGE_GAP_MS)
    found = []
    begin = previous = None
    for index in range(first, last):
        if abs(samples[index]) <= SOUND_THRESHOLD:
            continue
        if begin is None:
            begin = index
        elif index - previous > gap:
            found.append((ms(begin), ms(previous + 1)))
            begin = index
        previous = index
    if begin is not None:
        found.append((ms(begin), ms(previous + 1)))
    return found


def part(samples, start_ms, end_ms):
    return samples[sample_at(start_ms):sample_at(end_ms)]


def rms_dbm0(samples):
    mean_square = sum(x * x for x in samples) / max(1, len(samples))
    return 10 * math.log10(max(mean_square, 1e-9) / (ZERO_DBM0_PEAK ** 2 / 2))


def goertzel_power(samples, hertz):
    """|X(f)|² / N² of `samples` at exactly `hertz` (not a bin centre)."""
    coefficient = 2 * math.cos(2 * math.pi * hertz / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coefficient * s1 - s2, s1
    return max(s1 * s1 + s2 * s2 - coefficient * s1 * s2, 0.0) / (len(samples) ** 2)


def tone_dbm0(samples, hertz):
    """The level of a sine at `hertz` in `samples` (peak 2|X|/N)."""
    amplitude = 2 * math.sqrt(goertzel_power(samples, hertz))
    return 20 * math.log10(max(amplitude, 1e-9) / ZERO_DBM0_PEAK)


def zero_crossing_hz(samples):
    """The mean frequency over `samples`, from their sign changes (each
    half cycle is one; the first and last are placed by interpolation).
    For FSK this is the mean of the bits' frequencies."""
    crossings = []
    for index in range(1, len(samples)):
        a, b = samples[index - 1], samples[index]
        if (a < 0) != (b < 0):
            crossings.append(index - 1 + a / (a - b))
    assert len(crossings) >= 3, "no tone to measure"
    return (len(crossings) - 1) / 2 / ((crossings[-1] - crossings[0]) / RATE)


def check_fsk(samples, burst, modem, marks, message):
    """The FSK burst (start ms, end ms) is `modem` (BELL202 or V23) at a
    sane level, with the preamble the spec names: SEIZURE_BITS alternating
    bits, then `marks` mark bits, then `message` (bytes with checksum) and
    the postamble. The mark frequency is measured on the mark run (a pure
    tone): its energy dominates the other modem's mark and its zero
    crossings give it within 15 Hz. The space frequency cannot be measured
    alone (a space bit lasts 0.83 ms); the seizure alternates the two
    tones, so its mean frequency is their mean, and the space is twice
    that minus the mark. Both modems share the mean 1700 Hz, so this is
    what tells Bell 202's 2200 Hz space from V.23's 2100 Hz."""
    start, end = burst
    other = V23 if modem is BELL202 else BELL202
    level = rms_dbm0(part(samples, start + 5, end - 5))
    assert -25 <= level <= -5, f"FSK at {level:.1f} dBm0: not a sane caller ID level"

    seizure_ms = SEIZURE_BITS * 1000 / BAUD
    marks_ms = marks * 1000 / BAUD
    mark_run = part(samples, start + seizure_ms + 8, start + seizure_ms + marks_ms - 8)
    own, others = goertzel_power(mark_run, modem["mark"]), goertzel_power(mark_run, other["mark"])
    assert own > 10 * others, (
        f"the mark run is not {modem['name']}: {10 * math.log10(max(own, 1e-12)):.1f} dB at {modem['mark']} Hz, "
        f"{10 * math.log10(max(others, 1e-12)):.1f} dB at {other['mark']} Hz")
    mark = zero_crossing_hz(mark_run)
    assert abs(mark - modem["mark"]) <= 15, f"mark at {mark:.0f} Hz, not {modem['mark']} Hz ({modem['name']})"

    seizure_mean = zero_crossing_hz(part(samples, start + 30, start + seizure_ms - 30))
    space = 2 * seizure_mean - mark
    assert abs(space - modem["space"]) <= 40, (
        f"space at {space:.0f} Hz (seizure mean {seizure_mean:.0f} Hz, mark {mark:.0f} Hz), "
        f"not {modem['space']} Hz ({modem['name']})")

    bits = SEIZURE_BITS + marks + 10 * len(message) + POSTAMBLE_BITS
    expected = bits * 1000 / BAUD
    assert abs((end - start) - expected) <= 15, (
        f"the FSK lasted {end - start:.1f} ms; {SEIZURE_BITS} seizure + {marks} mark bits, "
        f"{len(message)} bytes and the postamble take {expected:.1f} ms")


# ---------------------------------------------------------------------------
# The decoders


def run_decoder(command):
    completed = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=DECODER_TIMEOUT)
    assert completed.returncode == 0, (command, completed)
    return completed.stdout


def minimodem_bytes(path, modem):
    """The bytes minimodem demodulates from the recording (8-N-1, 1200 Bd)."""
    frequencies = [] if modem is BELL202 else ["-M", str(V23["mark"]), "-S", str(V23["space"])]
    return run_decoder(["minimodem", "--rx", "-q", "-f", str(path), *frequencies, "1200"])


def minimodem_callerid(path):
    """minimodem's GR-30 parser: {"Time": ..., "Phone": ..., "Name": ...}."""
    fields = {}
    for line in run_decoder(["minimodem", "--rx", "-q", "-f", str(path), "callerid"]).decode(
            "utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if value:
            fields[key.strip()] = line
    return fields


def multimon(path, mode):
    """multimon-ng's lines for `mode` (CLIPFSK, DTMF)."""
    text = run_decoder(["multimon-ng", "-q", "-c", "-a", mode, "-t", "wav", str(path)])
    return [line for line in text.decode("utf-8", errors="replace").splitlines() if line.startswith(f"{mode}:")]


def mdmf_message(raw, kind=0x80, seizure=True):
    """The MDMF message in minimodem's bytes: the first `kind` (0x80 call
    setup, 0x82 message waiting) after the
    seizure's run of 0x55 (off-hook data, `seizure=False`, has none: from
    the first byte) whose length fits and whose checksum holds (the
    bytes, type to checksum, sum to 0 mod 256). Returns (message bytes,
    [(parameter type, value bytes)]); the parameters must fill the length
    exactly."""
    start = 0
    if seizure:
        run = re.search(rb"\x55{10,}", raw)
        assert run, f"no seizure (0x55 run) in the demodulated bytes: {raw.hex(' ')}"
        start = run.end()
    for index in range(start, len(raw) - 2):
        if raw[index] != kind:
            continue
        length = raw[index + 1]
        message = raw[index:index + length + 3]
        if len(message) != length + 3 or sum(message) % 256 != 0:
            continue
        parameters = []
        body = message[2:-1]
        offset = 0
        while offset + 2 <= len(body):
            kind, size = body[offset], body[offset + 1]
            parameters.append((kind, body[offset + 2:offset + 2 + size]))
            offset += 2 + size
        assert offset == len(body), f"parameters overrun the length: {message.hex(' ')}"
        return message, parameters
    raise AssertionError(f"no MDMF message ({kind:#x}, length, checksum)" + (" after the seizure" if seizure else "")
                         + f": {raw.hex(' ')}")


def check_message(parameters, message, number, name, stamps):
    """Date and time, number, name: in that order, nothing else."""
    kinds = [kind for kind, _ in parameters]
    assert kinds == [0x01, 0x02, 0x07], f"parameters {kinds} in {message.hex(' ')}"
    values = dict(parameters)
    assert values[0x01].decode("ascii") in stamps, (values[0x01], sorted(stamps))
    assert values[0x02] == number.encode("ascii"), (values[0x02], number)
    assert values[0x07] == name.encode("ascii"), (values[0x07], name)


def check_clipfsk(path, number, name, stamps):
    """multimon-ng (which drops a packet whose checksum fails) finds the
    same date, number and name."""
    lines = multimon(path, "CLIPFSK")
    wanted = [line for line in lines
              if f" CID={number} " in line + " " and line.endswith(f"CNT={name}")
              and any(f" DATE={stamp} " in line for stamp in stamps)]
    assert wanted, f"multimon-ng CLIPFSK: {lines}; wanted CID={number} CNT={name}, DATE one of {sorted(stamps)}"


def fsk_after(recording, ring_off):
    """The one stretch of sound between the first ring's end and the next
    burst: the FSK."""
    next_ring = recording.first("ring on", after=ring_off)
    heard = sounds(recording.samples, ring_off, next_ring)
    assert len(heard) == 1, f"sound in the first pause ({ring_off}-{next_ring} ms): {heard}"
    return heard[0], next_ring


def check_data_in_first_pause(recording, cadence_on, cadence_off):
    """The GR-30 / EN 300 659-1 window: the first ring burst as the
    cadence says, no sound during it, the FSK 500 ms (450-700) after it
    ends and ending at least 200 ms before the next burst, which comes as
    the cadence says. Returns the burst (start ms, end ms)."""
    ring_on = recording.first("ring on")
    ring_off = recording.first("ring off", after=ring_on)
    assert abs((ring_off - ring_on) - cadence_on) <= 100 + LAG, (
        f"the first burst lasted {ring_off - ring_on} ms, not {cadence_on}: {recording.events}")
    assert not sounds(recording.samples, 0, ring_off), (
        f"sound before the first ring ended: {sounds(recording.samples, 0, ring_off)}")
    burst, next_ring = fsk_after(recording, ring_off)
    assert 450 <= burst[0] - ring_off <= 700 + LAG, (
        f"the FSK started {burst[0] - ring_off:.0f} ms after the first ring ended (wanted 500): {burst}")
    assert next_ring - burst[1] >= 200, (
        f"the FSK ended {next_ring - burst[1]:.0f} ms before the second ring (wanted >= 200): {burst}")
    assert abs((next_ring - ring_off) - cadence_off) <= 100 + LAG, (
        f"the first pause lasted {next_ring - ring_off} ms, not {cadence_off}: {recording.events}")
    return burst


# ---------------------------------------------------------------------------
# The tests


def test_bell202_caller_id_in_the_first_pause_of_us_ringing(daemons, tmp_path, short_dir, sipp):
    """us: the asserted identity (P-Asserted-Identity, not the From) goes to
    the on-hook phone as a Bell 202 MDMF message in the first ring pause:
    its number without '+' and '-', its name cut to GR-30's 15 characters,
    the board's local date and time. minimodem's GR-30 parser and
    multimon-ng read it; the modem is Bell 202 by its frequencies, at a
    sane level, with the on-hook preamble (300 + 180 bits)."""
    need("minimodem", "multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "us")
    recording_path = tmp_path / "us.wav"
    start_recording(daemon, recording_path)
    called_at = time.time()
    uac = call_with_identity(sipp, daemon, "Alice Example-Longername", "+1-555-123-4567")
    ring_started(daemon)
    wait_for_caller_id(daemon, "bell202")
    stamps = date_stamps(called_at, time.time())
    # The second burst comes 2 s + 4 s after the first starts.
    let_the_line_ring(daemon, 2, "the second ring burst (2000 on, 4000 off)")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    burst = check_data_in_first_pause(recording, 2000, 4000)
    message, parameters = mdmf_message(minimodem_bytes(recording_path, BELL202))
    check_message(parameters, message, "15551234567", "Alice Example-L", stamps)
    check_fsk(recording.samples, burst, BELL202, 180, message)

    fields = minimodem_callerid(recording_path)
    assert fields.get("Phone") == "Phone: 15551234567", fields
    assert fields.get("Name") == "Name:  Alice Example-L", fields
    time_field = MINIMODEM_TIME.match(fields.get("Time", ""))
    assert time_field and "".join(time_field.groups()) in stamps, (fields, sorted(stamps))
    check_clipfsk(recording_path, "15551234567", "Alice Example-L", stamps)
    assert b"999" not in message and b"Somebody" not in message, "the From won over P-Asserted-Identity"


def test_v23_caller_id_from_the_from_header_in_the_first_pause_of_de_ringing(daemons, tmp_path, short_dir, sipp):
    """de: without P-Asserted-Identity the From gives the identity (uac_call
    sends `"CALLER" <sip:CALLER@...>`: number and name both the 16 digits
    4930123456789012, so the length byte is 0x10, the byte spandsp's own
    field builder would wrongly escape); V.23
    MDMF in the first pause of the 1000/4000 cadence, 500 ms after the
    first burst, read raw from minimodem and checked against its checksum,
    and by multimon-ng; the modem is V.23 by its frequencies."""
    need("minimodem", "multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "de")
    recording_path = tmp_path / "de.wav"
    start_recording(daemon, recording_path)
    called_at = time.time()
    uac = sipp.uac("uac_call.xml", remote=("127.0.0.1", sip_port(daemon)), service="1001",
                   keys={"caller": "4930123456789012"}, timeout=40, extra=["-d", "500"])
    ring_started(daemon)
    wait_for_caller_id(daemon, "v23")
    stamps = date_stamps(called_at, time.time())
    let_the_line_ring(daemon, 2, "the second ring burst (1000 on, 4000 off)")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    burst = check_data_in_first_pause(recording, 1000, 4000)
    message, parameters = mdmf_message(minimodem_bytes(recording_path, V23))
    check_message(parameters, message, "4930123456789012", "4930123456789012", stamps)
    check_fsk(recording.samples, burst, V23, 180, message)
    check_clipfsk(recording_path, "4930123456789012", "4930123456789012", stamps)


def test_bt_caller_id_comes_before_the_ring_after_a_reversal_and_a_dual_tone(daemons, tmp_path, short_dir, sipp):
    """gb (BT SIN 227): the line's polarity reverses at once, with no ring;
    then the 2130+2750 Hz alert tone (about 110 ms), 60 ms of silence, the
    V.23 message with 80 mark bits; 250 ms after it the polarity goes back
    and the first ring starts. The name is cut to 20 characters (V.23), a
    non-ASCII character shows as '?'."""
    need("minimodem", "multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "gb")
    recording_path = tmp_path / "gb.wav"
    start_recording(daemon, recording_path)
    called_at = time.time()
    uac = call_with_identity(sipp, daemon, "Zo\u00eb Example-Longername", "+44-20-7946-0123")
    wait_for_caller_id(daemon, "v23")
    stamps = date_stamps(called_at, time.time())
    let_the_line_ring(daemon, 1, "the polarity to return and the first ring (250 ms after the data)")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    assert recording.events and recording.events[0][1] == "polarity reverse", recording.events
    reversed_at = recording.events[0][0]
    heard = sounds(recording.samples, reversed_at, recording.first("ring on"))
    assert len(heard) == 2, f"wanted the alert tone then the FSK before the first ring: {heard}"
    tone, burst = heard

    assert 100 <= tone[0] - reversed_at <= 400 + LAG, f"alert tone {tone[0] - reversed_at:.0f} ms after the reversal"
    assert 88 <= tone[1] - tone[0] <= 120, f"alert tone lasted {tone[1] - tone[0]:.1f} ms"
    middle = part(recording.samples, tone[0] + 10, tone[1] - 10)
    for hertz in (2130, 2750):
        level = tone_dbm0(middle, hertz)
        assert -20 <= level <= -6, f"alert tone at {hertz} Hz: {level:.1f} dBm0"
    # Far enough from both tones (30+ Goertzel bins) for the window's
    # leakage to stay well under 20 dB.
    for hertz in (1200, 1300, 1700, 2440):
        assert tone_dbm0(middle, hertz) < min(tone_dbm0(middle, 2130), tone_dbm0(middle, 2750)) - 20, (
            f"the alert tone is not 2130+2750 Hz alone: {hertz} Hz at {tone_dbm0(middle, hertz):.1f} dBm0")
    assert 45 <= burst[0] - tone[1] <= 150, f"the FSK started {burst[0] - tone[1]:.0f} ms after the alert tone"

    message, parameters = mdmf_message(minimodem_bytes(recording_path, V23))
    check_message(parameters, message, "442079460123", "Zo? Example-Longerna", stamps)
    check_fsk(recording.samples, burst, V23, 80, message)
    check_clipfsk(recording_path, "442079460123", "Zo? Example-Longerna", stamps)

    forward = recording.first("polarity forward", after=reversed_at)
    ring_on = recording.first("ring on")
    assert 200 <= forward - burst[1] <= 500 + LAG, f"polarity forward {forward - burst[1]:.0f} ms after the FSK"
    assert 200 <= ring_on - burst[1] <= 500 + LAG, f"first ring {ring_on - burst[1]:.0f} ms after the FSK"


DTMF_TONES = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def keys_heard(daemon):
    """The keys the simulated handset's own DTMF detector heard (`hear 1`)."""
    result = daemon.ctl("hear", "1")
    assert result.returncode == 0, result
    prefix = "keys heard: "
    return next((line[len(prefix):] for line in result.out_lines if line.startswith(prefix)), "")


def test_dtmf_caller_id_comes_before_the_ring_after_a_reversal_in_sweden(daemons, tmp_path, short_dir, sipp):
    """se: polarity reversal, then `A<number>C` in DTMF (70 ms on, 70 ms
    off, -8 dBm0 per tone) at least 200 ms later, then 250 ms after the
    last digit the polarity returns and the ring starts. The simulated
    handset's own DTMF detector and multimon-ng hear the same digits."""
    need("multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "se")
    recording_path = tmp_path / "se.wav"
    digits = "A0701234567C"
    start_recording(daemon, recording_path)
    uac = call_with_identity(sipp, daemon, "Alice Example", "0701234567")
    wait_for_caller_id(daemon, "dtmf")
    try:
        wait_until(lambda: keys_heard(daemon) == digits, 5, f"the handset's DTMF detector to hear {digits}",
                   interval=0.1)
    except AssertionError as failure:
        raise AssertionError(f"{failure}; `hear 1` says {daemon.ctl('hear', '1').out_lines}") from None
    let_the_line_ring(daemon, 1, "the polarity to return and the first ring (250 ms after the digits)")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    heard = "".join(line.split(":", 1)[1].strip() for line in multimon(recording_path, "DTMF"))
    assert heard == digits, f"multimon-ng heard {heard!r}, wanted {digits!r}"

    assert recording.events and recording.events[0][1] == "polarity reverse", recording.events
    reversed_at = recording.events[0][0]
    ring_on = recording.first("ring on")
    tones = sounds(recording.samples, reversed_at, ring_on)
    assert len(tones) == len(digits), f"{len(tones)} tone bursts before the ring, wanted {len(digits)}: {tones}"
    for (start, end), digit in zip(tones, digits):
        assert 62 <= end - start <= 78, f"digit {digit} lasted {end - start:.1f} ms (wanted 70)"
        middle = part(recording.samples, start + 10, end - 10)
        for hertz in DTMF_TONES[digit]:
            level = tone_dbm0(middle, hertz)
            assert -10.5 <= level <= -5.5, f"digit {digit}: {hertz} Hz at {level:.1f} dBm0 (wanted -8)"
    for (_, end), (start, _) in zip(tones, tones[1:]):
        assert 62 <= start - end <= 78, f"{start - end:.1f} ms between digits (wanted 70): {tones}"

    assert 200 <= tones[0][0] - reversed_at <= 700 + LAG, f"first digit {tones[0][0] - reversed_at:.0f} ms after the reversal"
    assert 200 <= ring_on - tones[-1][1] <= 500 + LAG, f"first ring {ring_on - tones[-1][1]:.0f} ms after the last digit"
    forward = recording.first("polarity forward", after=reversed_at)
    assert 200 <= forward - tones[-1][1] <= 500 + LAG, (
        f"polarity forward {forward - tones[-1][1]:.0f} ms after the last digit")


def test_privacy_id_withholds_number_and_name(daemons, tmp_path, short_dir, sipp):
    """`Privacy: id` with a P-Asserted-Identity: the message says "private"
    for both (0x04 'P', 0x08 'P') and carries neither the asserted nor the
    From identity; multimon-ng reads RACLI=P."""
    need("minimodem", "multimon-ng", "sox")
    daemon = start_adapter(daemons, tmp_path, short_dir, "us")
    recording_path = tmp_path / "private.wav"
    start_recording(daemon, recording_path)
    uac = call_with_identity(sipp, daemon, "Alice Example", "+1-555-123-4567", privacy="id")
    wait_for_caller_id(daemon, "bell202")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    message, parameters = mdmf_message(minimodem_bytes(recording_path, BELL202))
    assert [kind for kind, _ in parameters] == [0x01, 0x04, 0x08], message.hex(" ")
    values = dict(parameters)
    assert values[0x04] == b"P" and values[0x08] == b"P", message.hex(" ")
    for secret in (b"5551234567", b"Alice", b"999", b"Somebody"):
        assert secret not in message, f"{secret!r} in a private caller's message: {message.hex(' ')}"
    lines = multimon(recording_path, "CLIPFSK")
    assert any("RACLI=P" in line and "CID=" not in line for line in lines), lines


def test_caller_id_off_sends_nothing_and_rings_as_before(daemons, tmp_path, short_dir, sipp):
    """`caller_id = off` on line 1 (us): the line rings 2000/4000 as it
    would without caller ID and the first pause stays silent; the log says
    nothing about caller ID."""
    daemon = start_adapter(daemons, tmp_path, short_dir, "us", line_settings="caller_id = off\n")
    recording_path = tmp_path / "off.wav"
    start_recording(daemon, recording_path)
    uac = call_with_identity(sipp, daemon, "Alice Example", "+1-555-123-4567")
    ring_started(daemon)
    let_the_line_ring(daemon, 2, "the second ring burst (2000 on, 4000 off)")
    recording = stop_recording(daemon, recording_path)
    answer_and_hang_up(daemon, uac)

    ring_on = recording.first("ring on")
    ring_off = recording.first("ring off", after=ring_on)
    next_ring = recording.first("ring on", after=ring_off)
    assert abs((ring_off - ring_on) - 2000) <= 100 + LAG, recording.events
    assert abs((next_ring - ring_off) - 4000) <= 100 + LAG, recording.events
    heard = sounds(recording.samples, ring_off, next_ring)
    assert not heard, f"sound in the first pause with caller_id = off: {heard}"
    assert "polarity reverse" not in [what for _, what in recording.events], recording.events
    messages = [message for _, message in daemon.log_messages()]
    assert not any(message.startswith("line 1: sending caller ID") or message == "line 1: caller ID sent"
                   for message in messages), messages
