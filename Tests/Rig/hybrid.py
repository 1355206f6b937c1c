"""A hybrid on the rig's sound card: what atad plays to the earpiece comes
back into its mouthpiece, filtered and attenuated, as a SLIC's 2-to-4-wire
hybrid returns it on a real line. One thread reads the earpiece end of the
loopback a period at a time and writes the echo of that period to the
mouthpiece end, so the echo path is linear and fixed: its delay is the
card's buffering both ways plus the periods kept queued here, as long as
the test's thread keeps up. When it does not (a slow emulated CPU), its
playback is topped up with silence to the same delay (`top_ups`), since
an echo that moves in time is what no real hybrid does; `overruns` of the
capture side would still move it.
"""

import array
import threading

from alsa import PCM

# A short impulse response (the taps' signs alternate as a line's do) at
# 10 dB of echo return loss: the main tap is -10 dB.
ECHO_TAPS = (0.316, -0.142, 0.063, -0.025)


class LoopbackHybrid:
    """Keeps both of the test's streams of the card running from `start()`
    to `stop()`; `earpiece` holds everything atad played."""

    def __init__(self, device, period, rate=8000, taps=ECHO_TAPS, queued_periods=4):
        self.period = period
        self.rate = rate
        self.taps = taps
        self.queued_periods = queued_periods
        self.earpiece = array.array("h")
        self.failure = None
        self.overruns = 0
        self.underruns = 0
        self.top_ups = 0
        self._capture = PCM(device, capture=True, rate=rate, period=period, periods=8)
        self._playback = PCM(device, capture=False, rate=rate, period=period, periods=8)
        # The last len(taps) - 1 samples heard, oldest first.
        self._history = [0.0] * (len(taps) - 1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def frames(self):
        with self._lock:
            return len(self.earpiece)

    def _echo(self, chunk):
        """The chunk through the taps, a tap at a time over the whole chunk
        (a few list passes: cheap enough for an emulated CPU)."""
        count = len(chunk)
        extra = len(self.taps) - 1
        signal = self._history + [float(sample) for sample in chunk]
        values = [0.0] * count
        for lag, tap in enumerate(self.taps):
            start = extra - lag
            values = [value + tap * past for value, past in zip(values, signal[start:start + count])]
        self._history = signal[len(signal) - extra:] if extra else []
        return array.array("h", [max(-32768, min(32767, int(round(value)))) for value in values])

    def _serve(self):
        try:
            path = (self.queued_periods + 1) * self.period
            self._playback.write(array.array("h", bytes(2 * self.queued_periods * self.period)))
            while not self._stop.is_set():
                chunk = self._capture.read(self.period)
                if chunk is None:
                    self.overruns += 1
                    continue
                with self._lock:
                    self.earpiece.extend(chunk)
                # The echo path's delay is what waits in both buffers. A
                # late wake-up moves audio from one to the other; an
                # underrun loses some: then silence tops it up again, so
                # the echo keeps its delay (its sound is lost for that gap).
                queued = self._capture.delay() + self._playback.delay() + len(chunk)
                if queued < path - self.period // 2:
                    self.underruns += self._playback.write(array.array("h", bytes(2 * (path - queued))))
                    self.top_ups += 1
                self.underruns += self._playback.write(self._echo(chunk))
        except BaseException as error:  # reported by stop()
            self.failure = error

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._capture.close()
        self._playback.close()
        if self.failure:
            raise self.failure
