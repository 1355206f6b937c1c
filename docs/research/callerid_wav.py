#!/usr/bin/env python3
"""Make test WAV files of caller ID bursts without spandsp (stdlib only).

8 kHz, 16-bit, mono.  Written for the atad caller-ID research note
(research-caller-id.md); the point is to check what the Debian decoders
(minimodem, multimon-ng) accept, independently of the code under test.

  python3 callerid_wav.py bell202 out.wav            # GR-30 MDMF, 300 seizure + 180 mark
  python3 callerid_wav.py v23 out.wav --dtas         # ETSI: DT-AS, gap, V.23 MDMF
  python3 callerid_wav.py dtmf out.wav               # A<number>C
  python3 callerid_wav.py bell202 out.wav --sdmf --number 5551234567
  python3 callerid_wav.py bell202 out.wav --absent P  # private caller (0x04 'P', 0x08 'P')
"""
import argparse
import math
import struct
import wave

RATE = 8000
# 0 dBm0 sine = peak 32767 * 10^(-3.14/20) (the G.711 / spandsp convention)
DBM0_PEAK = 32767 * 10 ** (-3.14 / 20)


def peak(dbm0):
    return DBM0_PEAK * 10 ** (dbm0 / 20)


class Writer:
    def __init__(self):
        self.samples = []
        self.phase = 0.0

    def silence(self, ms):
        self.samples.extend([0.0] * int(RATE * ms / 1000))

    def tones(self, freqs, ms, dbm0):
        n = int(RATE * ms / 1000)
        a = peak(dbm0)
        for i in range(n):
            self.samples.append(sum(a * math.sin(2 * math.pi * f * i / RATE) for f in freqs))

    def fsk_bits(self, bits, mark, space, baud, dbm0):
        """Phase-continuous FSK; bit timing kept exact with a fractional clock."""
        a = peak(dbm0)
        per_bit = RATE / baud
        t = 0.0
        for b in bits:
            f = mark if b else space
            t += per_bit
            n = int(round(t)) - int(round(t - per_bit))
            for _ in range(n):
                self.phase += 2 * math.pi * f / RATE
                self.samples.append(a * math.sin(self.phase))
        self.phase %= 2 * math.pi

    def save(self, path):
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"".join(
                struct.pack("<h", max(-32768, min(32767, int(round(s))))) for s in self.samples))


def async_bits(data, stop_bits=1):
    """8-N-1 (LSB first) framing of each byte."""
    out = []
    for byte in data:
        out.append(0)
        out.extend((byte >> i) & 1 for i in range(8))
        out.extend([1] * stop_bits)
    return out


def mdmf(number, name, datetime, absent, call_type=None):
    params = []
    if call_type is not None:                       # ETSI only (0x11, 1 = voice)
        params.append((0x11, bytes([call_type])))
    params.append((0x01, datetime.encode()))
    if absent:
        params.append((0x04, absent.encode()))
        params.append((0x08, absent.encode()))
    else:
        params.append((0x02, number.encode()))
        if name:
            params.append((0x07, name.encode()))
    body = b"".join(bytes([t, len(v)]) + v for t, v in params)
    return message(0x80, body)


def sdmf(number, datetime, absent):
    return message(0x04, datetime.encode() + (absent or number).encode())


def message(msg_type, body):
    m = bytes([msg_type, len(body)]) + body
    return m + bytes([(-sum(m)) & 0xFF])


DTMF = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("standard", choices=["bell202", "v23", "dtmf"])
    p.add_argument("out")
    p.add_argument("--number", default="5551234567")
    p.add_argument("--name", default="ALICE EXAMPLE")
    p.add_argument("--datetime", default="03141526", help="MMDDHHMM")
    p.add_argument("--absent", choices=["O", "P"], help="send an absence reason instead")
    p.add_argument("--sdmf", action="store_true", help="single data message (0x04)")
    p.add_argument("--seizure", type=int, default=300, help="alternating bits (0 for off-hook)")
    p.add_argument("--mark", type=int, default=180, help="mark bits before the message")
    p.add_argument("--dtas", action="store_true", help="v23: 2130+2750 Hz 100 ms alert, then 60 ms gap")
    p.add_argument("--level", type=float, default=-13.0, help="dBm0")
    p.add_argument("--lead", type=int, default=200, help="ms of silence before and after")
    p.add_argument("--dtmf-start", default="A")
    p.add_argument("--dtmf-end", default="C")
    a = p.parse_args()

    w = Writer()
    w.silence(a.lead)
    if a.standard == "dtmf":
        digits = a.dtmf_start + a.number + a.dtmf_end
        for d in digits:                              # 70 ms on / 70 ms off
            w.tones(DTMF[d], 70, a.level)
            w.silence(70)
    else:
        if a.dtas:
            w.tones((2130, 2750), 100, a.level - 3)
            w.silence(60)
        if a.sdmf:
            msg = sdmf(a.number, a.datetime, a.absent)
        else:
            msg = mdmf(a.number, a.name, a.datetime, a.absent,
                       call_type=1 if a.standard == "v23" else None)
        mark, space = (1200, 2200) if a.standard == "bell202" else (1300, 2100)
        bits = [i & 1 for i in range(a.seizure)] + [1] * a.mark + async_bits(msg) + [1] * 5
        w.fsk_bits(bits, mark, space, 1200, a.level)
        print("message bytes:", msg.hex(" "))
    w.silence(a.lead)
    w.save(a.out)
    print(f"{a.out}: {len(w.samples)} samples, {len(w.samples) / RATE * 1000:.0f} ms")


if __name__ == "__main__":
    main()
