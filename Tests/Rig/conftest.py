"""Fixtures of the board-in-a-box tests. They run inside the rig's VM (see
run.py; `make rig-test`), where atad's `gpio` driver meets a real kernel's
GPIO character device (gpio-sim) and ALSA hw device (snd-aloop). Outside
the rig they skip.

The scenario suite's helpers (Daemon, wait_until, write_site) are reused
as they are: the daemon is the same binary, driven the same way.
"""

import configparser
import ctypes
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("scenario_helpers", REPO / "Tests" / "Scenarios" / "conftest.py")
scenarios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)

from alsa import Recorder, Talker  # noqa: E402

BOX_BOARD = REPO / "Board" / "box.conf"
IN_RIG = bool(os.environ.get("ATAD_RIG") and os.environ.get("RIG_GPIO_CONFIGFS"))
RATE = 8000


def pytest_collection_modifyitems(config, items):
    if IN_RIG:
        return
    skip = pytest.mark.skip(reason="runs inside the rig's VM: `make rig-test`")
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(skip)


class Box:
    """What Board/box.conf says is wired where, and the test's ends of it."""

    def __init__(self, path=BOX_BOARD):
        parser = configparser.ConfigParser(inline_comment_prefixes=None)
        parser.read(path)
        line = parser["line 1"]
        self.hook_offset = int(line["hook_gpio"])
        self.ring_mode_offset = int(line["ring_mode_gpio"])
        self.forward_reverse_offset = int(line["forward_reverse_gpio"])
        self.debounce_ms = int(line["hook_debounce_ms"])
        self.period_ms = int(line["period_ms"])
        # snd-aloop: device 0 of the card is atad's, device 1 (same
        # subdevice) the other end of the cable.
        self.earpiece = line["playback"].replace(",DEV=0", ",DEV=1")
        self.mouthpiece = line["capture"].replace(",DEV=0", ",DEV=1")
        assert self.earpiece.endswith(",DEV=1,SUBDEV=0") and self.mouthpiece == self.earpiece, self.earpiece
        self.period_frames = RATE * self.period_ms // 1000


class SimulatedSLIC:
    """The SLIC's side of the GPIO lines, through gpio-sim's sysfs files
    (found through its configfs entry, since a chip that was taken away and
    brought back may have another number)."""

    def __init__(self, configfs, box):
        self.configfs = Path(configfs)
        self.box = box

    @property
    def sysfs(self):
        device = (self.configfs / "dev_name").read_text().strip()
        chip = (self.configfs / "bank0" / "chip_name").read_text().strip()
        return Path("/sys/devices/platform") / device / chip

    def _line(self, offset):
        return self.sysfs / f"sim_gpio{offset}"

    def hook(self, off_hook):
        """Moves the handset: SHK driven high (off hook) or low. Returns the
        monotonic time just before the edge."""
        path = self._line(self.box.hook_offset) / "pull"
        moment = time.monotonic()
        path.write_text("pull-up" if off_hook else "pull-down")
        return moment

    def dial_pulses(self, count, break_s=0.060, make_s=0.040):
        """A rotary dial's digit: `count` breaks of the loop at 10 pulses/s,
        paced against absolute deadlines."""
        path = self._line(self.box.hook_offset) / "pull"
        moment = time.monotonic()
        for _ in range(count):
            path.write_text("pull-down")
            moment += break_s
            time.sleep(max(0.0, moment - time.monotonic()))
            path.write_text("pull-up")
            moment += make_s
            time.sleep(max(0.0, moment - time.monotonic()))

    def set_live(self, live):
        """Takes the whole chip away (as if its driver were unbound) or
        brings it back."""
        (self.configfs / "live").write_text("1" if live else "0")

    def value(self, offset):
        return int((self._line(offset) / "value").read_text().strip())

    @property
    def ring_mode(self):
        return self.value(self.box.ring_mode_offset)

    @property
    def forward_reverse(self):
        return self.value(self.box.forward_reverse_offset)


class RingerSampler:
    """Samples RM and F/R about once a millisecond through their sysfs value
    files, kept open (a read from offset 0 asks the driver again), and keeps
    only the changes: a guest under TCG cannot afford more."""

    def __init__(self, slic):
        self.files = [os.open(slic._line(offset) / "value", os.O_RDONLY)
                      for offset in (slic.box.ring_mode_offset, slic.box.forward_reverse_offset)]
        self.changes = []  # (monotonic time, RM, F/R), the first sample included
        self.samples = 0
        self.longest_gap = 0.0

    def read(self):
        return tuple(int(os.pread(descriptor, 8, 0)) for descriptor in self.files)

    def run(self, done, timeout):
        """Samples until `done(changes)` is true; fails after `timeout` s."""
        if self._sample(done, time.monotonic() + timeout):
            return self.changes
        raise AssertionError(f"sampling RM and F/R: condition not met within {timeout} s; "
                             f"{len(self.changes)} changes in {self.samples} samples")

    def run_until(self, moment):
        """Samples until the monotonic clock passes `moment`."""
        self._sample(lambda changes: False, moment)
        return self.changes

    def _sample(self, done, deadline):
        """Whether `done` came true (checked at each change) before `deadline`."""
        last = None
        previous_at = None
        while True:
            values = self.read()
            now = time.monotonic()
            self.samples += 1
            if previous_at is not None:
                self.longest_gap = max(self.longest_gap, now - previous_at)
            previous_at = now
            if values != last:
                self.changes.append((now, *values))
                last = values
                if done(self.changes):
                    return True
            if now > deadline:
                return False
            time.sleep(0.001)

    def close(self):
        for descriptor in self.files:
            os.close(descriptor)


def ring_mode_edges(changes):
    """(time, RM) for every change of RM in the sampled changes."""
    edges = []
    for (_, previous_rm, _), (at, rm, _) in zip(changes, changes[1:]):
        if rm != previous_rm:
            edges.append((at, rm))
    return edges


def segments(changes):
    """The complete bursts and pauses: (start, end, RM) between RM edges."""
    edges = ring_mode_edges(changes)
    return [(start, end, rm) for (start, rm), (end, _) in zip(edges, edges[1:])]


def toggles_in(changes, start, end):
    """Times F/R changed while RM was high, strictly inside (start, end)."""
    times = []
    for (_, _, previous_fr), (at, rm, fr) in zip(changes, changes[1:]):
        if start < at < end and rm == 1 and fr != previous_fr:
            times.append(at)
    return times


class SoundCard:
    """The snd-aloop card as a whole: unbinding its platform device is what
    unplugging a USB sound card does to the programs that hold it."""

    DRIVER = Path("/sys/bus/platform/drivers/snd_aloop")
    DEVICE = "snd_aloop.0"

    @property
    def present(self):
        return Path("/proc/asound/Loopback").exists()

    def __init__(self):
        self.unbinding = None

    def unplug(self, timeout):
        """Unbinds the card; the kernel finishes only once every program
        has closed it. Returns whether it finished within `timeout`."""
        self.unbinding = threading.Thread(target=lambda: (self.DRIVER / "unbind").write_text(self.DEVICE),
                                          daemon=True)
        self.unbinding.start()
        return self.unplugged(timeout)

    def unplugged(self, timeout):
        """Waits up to `timeout` for an unplug to finish."""
        if self.unbinding is not None:
            self.unbinding.join(timeout)
            if self.unbinding.is_alive():
                return False
        return not self.present

    def plug(self):
        if not self.present:
            (self.DRIVER / "bind").write_text(self.DEVICE)


def cpu_seconds(pid):
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def box():
    return Box()


@pytest.fixture
def slic(box):
    slic = SimulatedSLIC(os.environ["RIG_GPIO_CONFIGFS"], box)
    slic.hook(False)
    return slic


@pytest.fixture
def card():
    card = SoundCard()
    yield card
    card.plug()


@pytest.fixture
def box_daemons(request, tmp_path):
    """`box_daemons(board, extra)` starts atad on Board/box.conf or a
    variant of it (country us; `extra` is added to its site file) and waits
    for its audio to open on the card; every one started is stopped at the
    end, its log kept in the run's results folder."""
    started = []

    def start(board=BOX_BOARD, extra="", log_level="info"):
        sockets = Path(tempfile.mkdtemp(prefix="atad-", dir="/tmp"))
        site = scenarios.write_site(tmp_path / f"atad-{len(started)}.conf", sockets / "control.sock",
                                    board=board, extra=extra, log_level=log_level)
        daemon = scenarios.Daemon(site, sockets / "control.sock", tmp_path).launch()
        started.append((daemon, sockets))
        # Slow under an emulated CPU: the binary and its libraries come over 9p.
        daemon.wait_ready(timeout=30)
        scenarios.wait_until(lambda: "audio on" in daemon.log(), 30, f"atad to open the card; log:\n{daemon.log()}")
        return daemon

    yield start
    stop_and_keep_logs(started, f"atad-{request.node.name}")


def stop_and_keep_logs(started, name):
    """Stops each (daemon, socket folder) a fixture started and keeps its
    log in the run's results folder as NAME-INDEX.log."""
    results = os.environ.get("RIG_RESULTS")
    for index, (daemon, sockets) in enumerate(started):
        daemon.stop()
        shutil.rmtree(sockets, ignore_errors=True)
        if results and daemon.log_path.exists():
            shutil.copy(daemon.log_path, Path(results) / f"{name}-{index}.log")


@pytest.fixture
def box_daemon(box_daemons, slic):
    """atad on Board/box.conf, the handset on hook."""
    return box_daemons()


@pytest.fixture
def earpiece(box, box_daemon):
    """Records what atad plays to the handset, from before the test acts."""
    recorder = start_recording(box)
    yield recorder
    recorder.stop()


def start_recording(box):
    recorder = Recorder(box.earpiece, period=box.period_frames).start()
    scenarios.wait_until(lambda: recorder.frames() >= RATE // 2 and recorder.origin is not None, 10,
                         "the earpiece recording to run")
    return recorder


@pytest.fixture
def mouthpiece(box, box_daemon):
    """Speaks into the handset's microphone (silence until told)."""
    talker = Talker(box.mouthpiece, period=box.period_frames).start()
    yield talker
    talker.stop()


def board_variant(path, **changes):
    """Writes Board/box.conf to `path` with some of line 1's keys changed."""
    lines = []
    for line in BOX_BOARD.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {changes.pop(key)}" if key in changes else line)
    assert not changes, f"keys not in the board file: {changes}"
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def line_status(daemon, number=1):
    """`line N: ...` from `atad ctl status`, without the prefix."""
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    prefix = f"line {number}: "
    for line in result.out_lines:
        if line.startswith(prefix):
            return line[len(prefix):]
    raise AssertionError(f"no line {number} in status: {result}")


def mixer_controls(card="hw:Loopback"):
    """Every mixer control of `card` as {(name, device, subdevice, index):
    first value}, read through alsa-lib's control API (the rig has no
    amixer), to check what atad's mixer keys set."""
    lib = ctypes.CDLL("libasound.so.2")
    pointer = ctypes.c_void_p
    lib.snd_ctl_open.argtypes = [ctypes.POINTER(pointer), ctypes.c_char_p, ctypes.c_int]
    for name in ("snd_ctl_elem_list_malloc", "snd_ctl_elem_value_malloc"):
        getattr(lib, name).argtypes = [ctypes.POINTER(pointer)]
    for name in ("snd_ctl_elem_list", "snd_ctl_elem_read"):
        getattr(lib, name).argtypes = [pointer, pointer]
    for name in ("snd_ctl_elem_list_get_count", "snd_ctl_elem_list_get_used", "snd_ctl_elem_list_free_space",
                 "snd_ctl_elem_list_free", "snd_ctl_elem_value_free", "snd_ctl_close"):
        getattr(lib, name).argtypes = [pointer]
    lib.snd_ctl_elem_list_alloc_space.argtypes = [pointer, ctypes.c_uint]
    for name in ("snd_ctl_elem_list_get_numid", "snd_ctl_elem_list_get_device", "snd_ctl_elem_list_get_subdevice",
                 "snd_ctl_elem_list_get_index"):
        getattr(lib, name).argtypes = [pointer, ctypes.c_uint]
        getattr(lib, name).restype = ctypes.c_uint
    lib.snd_ctl_elem_list_get_name.argtypes = [pointer, ctypes.c_uint]
    lib.snd_ctl_elem_list_get_name.restype = ctypes.c_char_p
    lib.snd_ctl_elem_value_set_numid.argtypes = [pointer, ctypes.c_uint]
    lib.snd_ctl_elem_value_get_integer.argtypes = [pointer, ctypes.c_uint]
    lib.snd_ctl_elem_value_get_integer.restype = ctypes.c_long

    ctl, elements, value = pointer(), pointer(), pointer()
    assert lib.snd_ctl_open(ctypes.byref(ctl), card.encode(), 0) >= 0, f"cannot open the controls of {card}"
    lib.snd_ctl_elem_list_malloc(ctypes.byref(elements))
    lib.snd_ctl_elem_value_malloc(ctypes.byref(value))
    try:
        assert lib.snd_ctl_elem_list(ctl, elements) >= 0
        lib.snd_ctl_elem_list_alloc_space(elements, lib.snd_ctl_elem_list_get_count(elements))
        assert lib.snd_ctl_elem_list(ctl, elements) >= 0
        controls = {}
        for index in range(lib.snd_ctl_elem_list_get_used(elements)):
            lib.snd_ctl_elem_value_set_numid(value, lib.snd_ctl_elem_list_get_numid(elements, index))
            if lib.snd_ctl_elem_read(ctl, value) < 0:
                continue
            key = (lib.snd_ctl_elem_list_get_name(elements, index).decode(),
                   lib.snd_ctl_elem_list_get_device(elements, index),
                   lib.snd_ctl_elem_list_get_subdevice(elements, index),
                   lib.snd_ctl_elem_list_get_index(elements, index))
            controls[key] = lib.snd_ctl_elem_value_get_integer(value, 0)
        lib.snd_ctl_elem_list_free_space(elements)
        return controls
    finally:
        lib.snd_ctl_elem_value_free(value)
        lib.snd_ctl_elem_list_free(elements)
        lib.snd_ctl_close(ctl)


class UserMixerControls:
    """Mixer controls the test adds to the Loopback card through alsa-lib's
    control API, named as a CM108 USB codec names its own: snd-aloop's
    controls belong to its PCMs, not to the mixer, so atad's mixer (alsa-lib's
    simple mixer) cannot see them. Removed again by `remove()`."""

    MIXER_INTERFACE = 2  # SND_CTL_ELEM_IFACE_MIXER

    def __init__(self, card="hw:Loopback"):
        lib = ctypes.CDLL("libasound.so.2")
        pointer = ctypes.c_void_p
        lib.snd_ctl_open.argtypes = [ctypes.POINTER(pointer), ctypes.c_char_p, ctypes.c_int]
        for name in ("snd_ctl_elem_id_malloc", "snd_ctl_elem_value_malloc"):
            getattr(lib, name).argtypes = [ctypes.POINTER(pointer)]
        lib.snd_ctl_elem_id_set_interface.argtypes = [pointer, ctypes.c_int]
        lib.snd_ctl_elem_id_set_name.argtypes = [pointer, ctypes.c_char_p]
        lib.snd_ctl_elem_add_integer.argtypes = [pointer, pointer, ctypes.c_uint, ctypes.c_long, ctypes.c_long,
                                                 ctypes.c_long]
        lib.snd_ctl_elem_add_boolean.argtypes = [pointer, pointer, ctypes.c_uint]
        lib.snd_ctl_elem_remove.argtypes = [pointer, pointer]
        lib.snd_ctl_elem_value_set_id.argtypes = [pointer, pointer]
        lib.snd_ctl_elem_value_set_integer.argtypes = [pointer, ctypes.c_uint, ctypes.c_long]
        lib.snd_ctl_elem_write.argtypes = [pointer, pointer]
        for name in ("snd_ctl_elem_id_free", "snd_ctl_elem_value_free", "snd_ctl_close"):
            getattr(lib, name).argtypes = [pointer]
        self.lib = lib
        self.card = card
        self.names = []

    def _open(self):
        """A control handle for one change: the kernel lets only the handle
        that added a control write it while that handle stays open."""
        ctl = ctypes.c_void_p()
        assert self.lib.snd_ctl_open(ctypes.byref(ctl), self.card.encode(), 0) >= 0, f"cannot open {self.card}"
        return ctl

    def _id(self, name):
        identifier = ctypes.c_void_p()
        self.lib.snd_ctl_elem_id_malloc(ctypes.byref(identifier))
        self.lib.snd_ctl_elem_id_set_interface(identifier, self.MIXER_INTERFACE)
        self.lib.snd_ctl_elem_id_set_name(identifier, name.encode())
        return identifier

    def add(self, name, value, maximum=None):
        """A volume (0..maximum) or, without a maximum, a switch; set to `value`."""
        identifier = self._id(name)
        ctl = self._open()
        try:
            if maximum is None:
                code = self.lib.snd_ctl_elem_add_boolean(ctl, identifier, 1)
            else:
                code = self.lib.snd_ctl_elem_add_integer(ctl, identifier, 1, 0, maximum, 1)
            assert code >= 0 or code == -16, f"cannot add the control {name!r}: {code}"  # -EBUSY: there already
            self.names.append(name)
            element = ctypes.c_void_p()
            self.lib.snd_ctl_elem_value_malloc(ctypes.byref(element))
            self.lib.snd_ctl_elem_value_set_id(element, identifier)
            self.lib.snd_ctl_elem_value_set_integer(element, 0, value)
            code = self.lib.snd_ctl_elem_write(ctl, element)
            self.lib.snd_ctl_elem_value_free(element)
            assert code >= 0, f"cannot set the control {name!r}: {code}"
        finally:
            self.lib.snd_ctl_elem_id_free(identifier)
            self.lib.snd_ctl_close(ctl)

    def remove(self):
        ctl = self._open()
        for name in self.names:
            identifier = self._id(name)
            self.lib.snd_ctl_elem_remove(ctl, identifier)
            self.lib.snd_ctl_elem_id_free(identifier)
        self.names = []
        self.lib.snd_ctl_close(ctl)
