"""Fixtures of the board-in-a-box tests. They run inside the rig's VM (see
run.py; `make rig-test`), where atad's `gpio` driver meets a real kernel's
GPIO character device (gpio-sim) and ALSA hw device (snd-aloop). Outside
the rig they skip.

The scenario suite's helpers (Daemon, wait_until, write_site) are reused
as they are: the daemon is the same binary, driven the same way.
"""

import configparser
import importlib.util
import os
import sys
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
IN_RIG = bool(os.environ.get("ATAD_RIG") and os.environ.get("RIG_GPIO_SYSFS"))
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
    """The SLIC's side of the GPIO lines, through gpio-sim's sysfs files."""

    def __init__(self, sysfs, box):
        self.sysfs = Path(sysfs)
        self.box = box

    def _line(self, offset):
        return self.sysfs / f"sim_gpio{offset}"

    def hook(self, off_hook):
        """Moves the handset: SHK driven high (off hook) or low. Returns the
        monotonic time just before the edge."""
        moment = time.monotonic()
        (self._line(self.box.hook_offset) / "pull").write_text("pull-up" if off_hook else "pull-down")
        return moment

    def value(self, offset):
        return int((self._line(offset) / "value").read_text().strip())

    @property
    def ring_mode(self):
        return self.value(self.box.ring_mode_offset)

    @property
    def forward_reverse(self):
        return self.value(self.box.forward_reverse_offset)


@pytest.fixture
def box():
    return Box()


@pytest.fixture
def slic(box):
    slic = SimulatedSLIC(os.environ["RIG_GPIO_SYSFS"], box)
    slic.hook(False)
    return slic


@pytest.fixture
def box_daemon(request, tmp_path, slic):
    """atad on Board/box.conf (country us), its audio open on the card. Its
    log is kept in the run's results folder."""
    sockets = Path(scenarios.tempfile.mkdtemp(prefix="atad-", dir="/tmp"))
    site = scenarios.write_site(tmp_path / "atad.conf", sockets / "control.sock", board=BOX_BOARD)
    daemon = scenarios.Daemon(site, sockets / "control.sock", tmp_path).launch()
    try:
        # Slow under an emulated CPU: the binary and its libraries come over 9p.
        daemon.wait_ready(timeout=30)
        scenarios.wait_until(lambda: "audio on" in daemon.log(), 30, f"atad to open the card; log:\n{daemon.log()}")
        yield daemon
    finally:
        daemon.stop()
        scenarios.shutil.rmtree(sockets, ignore_errors=True)
        results = os.environ.get("RIG_RESULTS")
        if results and daemon.log_path.exists():
            scenarios.shutil.copy(daemon.log_path, Path(results) / f"atad-{request.node.name}.log")


@pytest.fixture
def earpiece(box, box_daemon):
    """Records what atad plays to the handset, from before the test acts."""
    recorder = Recorder(box.earpiece, period=box.period_frames).start()
    scenarios.wait_until(lambda: recorder.frames() >= RATE // 2 and recorder.origin is not None, 10,
                         "the earpiece recording to run")
    yield recorder
    recorder.stop()


@pytest.fixture
def mouthpiece(box, box_daemon):
    """Speaks into the handset's microphone (silence until told)."""
    talker = Talker(box.mouthpiece, period=box.period_frames).start()
    yield talker
    talker.stop()


def line_status(daemon, number=1):
    """`line N: ...` from `atad ctl status`, without the prefix."""
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    prefix = f"line {number}: "
    for line in result.out_lines:
        if line.startswith(prefix):
            return line[len(prefix):]
    raise AssertionError(f"no line {number} in status: {result}")
