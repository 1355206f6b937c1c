"""The test's side of the rig's sound card, through libasound with ctypes
(no Python ALSA package needed): blocking S16_LE mono streams with an exact
period and buffer, as snd-aloop requires both ends of a cable to agree.

`Recorder` hears the earpiece: it reads without a break in a thread and can
tell when each sample was captured. `Talker` speaks into the mouthpiece: it
keeps its stream running with silence between what it is given, since
snd-aloop loses the last 70-100 ms of a stream that ends.
"""

import array
import ctypes
import math
import threading
import time

SND_PCM_STREAM_PLAYBACK = 0
SND_PCM_STREAM_CAPTURE = 1
SND_PCM_ACCESS_RW_INTERLEAVED = 3
SND_PCM_FORMAT_S16_LE = 2

# A 0 dBm0 sine's peak in 16-bit linear units (the convention of Sources/DSP/Level.swift).
ZERO_DBM0_PEAK = 22826.36098786756

_lib = None


def _asound():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL("libasound.so.2")
        pointer = ctypes.c_void_p
        lib.snd_strerror.restype = ctypes.c_char_p
        lib.snd_strerror.argtypes = [ctypes.c_int]
        lib.snd_pcm_open.argtypes = [ctypes.POINTER(pointer), ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        lib.snd_pcm_hw_params_malloc.argtypes = [ctypes.POINTER(pointer)]
        lib.snd_pcm_hw_params_free.argtypes = [pointer]
        for name in ("snd_pcm_hw_params_any", "snd_pcm_hw_params"):
            getattr(lib, name).argtypes = [pointer, pointer]
        lib.snd_pcm_hw_params_set_access.argtypes = [pointer, pointer, ctypes.c_int]
        lib.snd_pcm_hw_params_set_format.argtypes = [pointer, pointer, ctypes.c_int]
        lib.snd_pcm_hw_params_set_channels.argtypes = [pointer, pointer, ctypes.c_uint]
        lib.snd_pcm_hw_params_set_rate.argtypes = [pointer, pointer, ctypes.c_uint, ctypes.c_int]
        lib.snd_pcm_hw_params_set_period_size.argtypes = [pointer, pointer, ctypes.c_ulong, ctypes.c_int]
        lib.snd_pcm_hw_params_set_buffer_size.argtypes = [pointer, pointer, ctypes.c_ulong]
        lib.snd_pcm_readi.argtypes = [pointer, ctypes.c_void_p, ctypes.c_ulong]
        lib.snd_pcm_readi.restype = ctypes.c_long
        lib.snd_pcm_writei.argtypes = [pointer, ctypes.c_void_p, ctypes.c_ulong]
        lib.snd_pcm_writei.restype = ctypes.c_long
        lib.snd_pcm_delay.argtypes = [pointer, ctypes.POINTER(ctypes.c_long)]
        lib.snd_pcm_recover.argtypes = [pointer, ctypes.c_int, ctypes.c_int]
        lib.snd_pcm_prepare.argtypes = [pointer]
        lib.snd_pcm_start.argtypes = [pointer]
        lib.snd_pcm_close.argtypes = [pointer]
        lib.snd_ctl_open.argtypes = [ctypes.POINTER(pointer), ctypes.c_char_p, ctypes.c_int]
        lib.snd_ctl_close.argtypes = [pointer]
        lib.snd_ctl_elem_value_malloc.argtypes = [ctypes.POINTER(pointer)]
        lib.snd_ctl_elem_value_free.argtypes = [pointer]
        lib.snd_ctl_elem_value_set_interface.argtypes = [pointer, ctypes.c_int]
        lib.snd_ctl_elem_value_set_name.argtypes = [pointer, ctypes.c_char_p]
        lib.snd_ctl_elem_value_set_device.argtypes = [pointer, ctypes.c_uint]
        lib.snd_ctl_elem_value_set_subdevice.argtypes = [pointer, ctypes.c_uint]
        lib.snd_ctl_elem_value_set_integer.argtypes = [pointer, ctypes.c_uint, ctypes.c_long]
        lib.snd_ctl_elem_write.argtypes = [pointer, pointer]
        _lib = lib
    return _lib


class ALSAFailure(AssertionError):
    pass


class PCM:
    """One blocking stream: S16_LE, mono, `rate`, exactly `period` frames a
    period and `periods` periods in the buffer."""

    def __init__(self, device, capture, rate=8000, period=80, periods=4):
        lib = _asound()
        self.lib = lib
        self.device = device
        self.rate = rate
        self.period = period
        handle = ctypes.c_void_p()
        self._check(lib.snd_pcm_open(ctypes.byref(handle), device.encode(),
                                     SND_PCM_STREAM_CAPTURE if capture else SND_PCM_STREAM_PLAYBACK, 0), "open")
        self.handle = handle
        params = ctypes.c_void_p()
        self._check(lib.snd_pcm_hw_params_malloc(ctypes.byref(params)), "hw_params_malloc")
        try:
            steps = [
                (lib.snd_pcm_hw_params_any, (), "no configuration"),
                (lib.snd_pcm_hw_params_set_access, (SND_PCM_ACCESS_RW_INTERLEAVED,), "interleaved access"),
                (lib.snd_pcm_hw_params_set_format, (SND_PCM_FORMAT_S16_LE,), "S16_LE"),
                (lib.snd_pcm_hw_params_set_channels, (1,), "1 channel"),
                (lib.snd_pcm_hw_params_set_rate, (rate, 0), f"{rate} Hz"),
                (lib.snd_pcm_hw_params_set_period_size, (period, 0), f"period of {period} frames"),
                (lib.snd_pcm_hw_params_set_buffer_size, (period * periods,), f"buffer of {period * periods} frames"),
                (lib.snd_pcm_hw_params, (), "hw_params"),
            ]
            for function, extra, what in steps:
                self._check(function(handle, params, *extra), what)
        except BaseException:
            lib.snd_pcm_close(handle)
            raise
        finally:
            lib.snd_pcm_hw_params_free(params)

    def _check(self, code, what):
        if code < 0:
            raise ALSAFailure(f"{self.device}: {what}: {self.lib.snd_strerror(code).decode()}")
        return code

    def read(self, frames):
        """Blocks until `frames` frames are read; recovers an overrun
        (counted) and goes on."""
        buffer = array.array("h", bytes(2 * frames))
        address, _ = buffer.buffer_info()
        got = self.lib.snd_pcm_readi(self.handle, address, frames)
        if got < 0:
            self._check(self.lib.snd_pcm_recover(self.handle, int(got), 1), "recover from read")
            return None
        return buffer[:got]

    def write(self, samples):
        """Blocks until all of `samples` (array 'h') is queued. Returns the
        underruns recovered on the way."""
        address, count = samples.buffer_info()
        done = 0
        underruns = 0
        while done < count:
            put = self.lib.snd_pcm_writei(self.handle, address + 2 * done, count - done)
            if put < 0:
                self._check(self.lib.snd_pcm_recover(self.handle, int(put), 1), "recover from write")
                underruns += 1
                continue
            done += put
        return underruns

    def delay(self):
        """Frames between the application and the wire (captured but not
        read yet, or queued but not played yet)."""
        value = ctypes.c_long()
        if self.lib.snd_pcm_delay(self.handle, ctypes.byref(value)) < 0:
            return 0
        return value.value

    def close(self):
        if self.handle:
            self.lib.snd_pcm_close(self.handle)
            self.handle = None


class _PCMThread:
    """A PCM device serviced by a thread of its own from `start()` to
    `stop()`; `_run` is the subclass's loop, and whatever it raises is
    raised again by `stop()`."""

    def __init__(self, device, capture, rate, period):
        self.pcm = PCM(device, capture=capture, rate=rate, period=period)
        self.rate = rate
        self.period = period
        self.failure = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _serve(self):
        try:
            self._run()
        except BaseException as error:  # reported by stop()
            self.failure = error

    def _join(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.pcm.close()
        if self.failure:
            raise self.failure


class Recorder(_PCMThread):
    """Records a capture device in a thread from `start()` to `stop()`.
    `origin` is the monotonic time of the first sample: each read's end time
    less the frames before it, the earliest estimate (a read can return
    late, never early)."""

    def __init__(self, device, rate=8000, period=80):
        super().__init__(device, True, rate, period)
        self.samples = array.array("h")
        self.origin = None
        self.overruns = 0

    def _run(self):
        while not self._stop.is_set():
            chunk = self.pcm.read(self.pcm.period)
            now = time.monotonic()
            if chunk is None:
                self.overruns += 1
                continue
            with self._lock:
                self.samples.extend(chunk)
                origin = now - (len(self.samples) + self.pcm.delay()) / self.rate
                if self.origin is None or origin < self.origin:
                    self.origin = origin

    def frames(self):
        with self._lock:
            return len(self.samples)

    def time_of(self, index):
        """The monotonic time sample `index` was captured."""
        return self.origin + index / self.rate

    def index_at(self, moment):
        return max(0, int(round((moment - self.origin) * self.rate)))

    def stop(self):
        self._join()
        with self._lock:
            return array.array("h", self.samples)


class Talker(_PCMThread):
    """Keeps a playback device running: silence, and whatever `say` queues."""

    def __init__(self, device, rate=8000, period=80):
        super().__init__(device, False, rate, period)
        self._queue = array.array("h")

    def say(self, samples):
        with self._lock:
            self._queue.extend(samples)

    def pending(self):
        with self._lock:
            return len(self._queue)

    def _run(self):
        silence = array.array("h", bytes(2 * self.period))
        while not self._stop.is_set():
            with self._lock:
                chunk = self._queue[:self.period]
                del self._queue[:self.period]
            if len(chunk) < self.period:
                chunk.extend(silence[:self.period - len(chunk)])
            self.pcm.write(chunk)

    def stop(self):
        self._join()


# snd-aloop registers its controls on the PCM interface in some kernels and
# the mixer interface in others: both are tried.
SND_CTL_ELEM_IFACES = (3, 2)  # SND_CTL_ELEM_IFACE_PCM, SND_CTL_ELEM_IFACE_MIXER


def set_loopback_rate_shift(device, ppm, card="hw:CARD=Loopback", subdevice=0):
    """Skews snd-aloop's clock for the streams of `device` by `ppm` parts
    per million (its "PCM Rate Shift 100000" control: 100000 is nominal)."""
    lib = _asound()
    control = ctypes.c_void_p()
    code = lib.snd_ctl_open(ctypes.byref(control), card.encode(), 0)
    if code < 0:
        raise ALSAFailure(f"{card}: open control: {lib.snd_strerror(code).decode()}")
    value = ctypes.c_void_p()
    lib.snd_ctl_elem_value_malloc(ctypes.byref(value))
    try:
        for interface in SND_CTL_ELEM_IFACES:
            lib.snd_ctl_elem_value_set_interface(value, interface)
            lib.snd_ctl_elem_value_set_name(value, b"PCM Rate Shift 100000")
            lib.snd_ctl_elem_value_set_device(value, device)
            lib.snd_ctl_elem_value_set_subdevice(value, subdevice)
            lib.snd_ctl_elem_value_set_integer(value, 0, 100000 + round(ppm / 10))
            code = lib.snd_ctl_elem_write(control, value)
            if code >= 0:
                break
        if code < 0:
            raise ALSAFailure(f"{card}: rate shift of device {device}: {lib.snd_strerror(code).decode()}")
    finally:
        lib.snd_ctl_elem_value_free(value)
        lib.snd_ctl_close(control)


def sine_pair(frequencies, dbm0_each, milliseconds, rate=8000):
    """A tone of one or more frequencies, each at `dbm0_each`."""
    peak = ZERO_DBM0_PEAK * 10 ** (dbm0_each / 20)
    count = rate * milliseconds // 1000
    return array.array("h", (int(round(sum(peak * math.sin(2 * math.pi * f * n / rate) for f in frequencies)))
                             for n in range(count)))


def silence(milliseconds, rate=8000):
    return array.array("h", bytes(2 * (rate * milliseconds // 1000)))
