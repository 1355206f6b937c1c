"""Shared fixtures for the atad scenario tests.

Every test drives the real `atad` binary (from $ATAD_BIN) the way a user
does: `check-config`, `run --config`, `ctl`, signals, and raw bytes on the
control socket. Nothing is mocked. Waits are conditions polled against a
deadline; every process started here is stopped by its pid in a finalizer.
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOARD_DIR = REPO / "Board"
SIM_BOARD = BOARD_DIR / "sim.conf"
RPI_BOARD = BOARD_DIR / "rpi-ag1171.conf"
ETC_DIR = REPO / "etc"

# How long anything may take before a test gives up. The daemon answers in
# milliseconds; these are generous upper bounds, not expected durations.
START_TIMEOUT = 10.0
COMMAND_TIMEOUT = 10.0
EXIT_TIMEOUT = 5.0
POLL_INTERVAL = 0.01

LOG_LINE = re.compile(r"^\[\d+\.\d{3}\] (error|warn|info|debug): (.*)$")
STATUS_DAEMON_LINE = re.compile(
    r"^daemon: running, atad \d+\.\d+\.\d+, pid (\d+), up (\d+) s, reloads (\d+)$")


# Set by `make qemu-test`: the firmware runs under qemu-user, an emulated CPU
# many times slower than the board's, so real-time audio quality is not the
# product's there.
UNDER_QEMU = bool(os.environ.get("ATAD_UNDER_QEMU"))
real_time_audio = pytest.mark.skipif(
    UNDER_QEMU, reason="measures real-time audio quality; an emulated CPU cannot keep the board's timing")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds of real time (timeouts of the line)")


def atad_binary() -> str:
    path = os.environ.get("ATAD_BIN") or str(REPO / ".build-firmware" / "atad")
    return path


@pytest.fixture(scope="session")
def atad_bin() -> str:
    path = atad_binary()
    assert os.path.isfile(path) and os.access(path, os.X_OK), (
        f"atad binary not found at {path}: build it with `make firmware` or set ATAD_BIN")
    return path


# ---------------------------------------------------------------------------
# Waiting


def wait_until(predicate, timeout=START_TIMEOUT, what="condition", interval=POLL_INTERVAL):
    """Polls `predicate` until it returns a truthy value or the deadline
    passes. Bounded in time and in the number of polls."""
    deadline = time.monotonic() + timeout
    max_polls = int(timeout / interval) + 2
    last = None
    for _ in range(max_polls):
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last result: {last!r})")


# ---------------------------------------------------------------------------
# Running atad as a command


class Result:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.returncode = completed.returncode
        self.stdout = completed.stdout.decode("utf-8", errors="replace")
        self.stderr = completed.stderr.decode("utf-8", errors="replace")

    @property
    def out_lines(self):
        return self.stdout.splitlines()

    @property
    def err_lines(self):
        return self.stderr.splitlines()

    def __repr__(self):
        return f"<exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}>"


def run_atad(*args, timeout=COMMAND_TIMEOUT, prefix=()) -> Result:
    """Runs `atad ARGS...` to completion (stdin closed) and returns its exit
    status and output."""
    completed = subprocess.run([*prefix, atad_binary(), *map(str, args)], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
    return Result(completed)


@pytest.fixture
def atad(atad_bin):
    """`atad(*args)` runs the binary and returns a Result."""
    return run_atad


# ---------------------------------------------------------------------------
# Short folders for sockets


@pytest.fixture
def short_dir():
    """A fresh folder under /tmp with a short path (sun_path holds 108 bytes)."""
    path = tempfile.mkdtemp(prefix="atad-", dir="/tmp")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def write_site(path, control_socket, country="us", log_level="info", board=SIM_BOARD, extra="",
               listen_address="127.0.0.1"):
    """Writes a site file for the simulated board (by absolute path)."""
    text = (
        "[general]\n"
        f"board = {board}\n"
        f"country = {country}\n"
        f"log_level = {log_level}\n"
        f"control_socket = {control_socket}\n"
        "\n"
        "[sip]\n"
        f"listen_address = {listen_address}\n"
        "listen_port = 0\n"
    ) + extra
    # Replace atomically, so a reload never sees a half-written file.
    path = Path(path)
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    os.replace(temporary, path)
    return path


# ---------------------------------------------------------------------------
# The control socket, byte by byte


class ControlConnection:
    """A raw AF_UNIX client of the control socket."""

    def __init__(self, path, timeout=5.0):
        self.path = str(path)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect, as `atad ctl` does: when the listen backlog is
        # full it waits for the daemon to accept, bounded by SO_SNDTIMEO
        # (a Python socket timeout would make it fail at once with EAGAIN).
        seconds = int(timeout)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                             struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000)))
        try:
            self.sock.connect(self.path)
        except BaseException:
            self.sock.close()
            raise
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.closed_by_peer = False

    def send(self, data: bytes) -> bool:
        """Sends all of `data`; False when the daemon closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, deadline) -> bool:
        if self.closed_by_peer:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no reply within {self.timeout} s; have {self.buffer[:200]!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except socket.timeout:
            raise AssertionError(f"no reply within {self.timeout} s; have {self.buffer[:200]!r}")
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buffer += chunk
        return True

    def reply(self):
        """One reply: its lines (status line first) without the empty line
        that ends it."""
        deadline = time.monotonic() + self.timeout
        for _ in range(100_000):
            end = self.buffer.find(b"\n\n")
            if end >= 0:
                raw, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                return raw.decode("utf-8", errors="replace").split("\n")
            if not self._fill(deadline):
                raise AssertionError(f"connection closed before a complete reply; have {self.buffer!r}")
        raise AssertionError("reply loop did not terminate")

    def wait_closed(self) -> bytes:
        """Reads until the daemon closes the connection; returns what came."""
        deadline = time.monotonic() + self.timeout
        for _ in range(100_000):
            if not self._fill(deadline):
                rest, self.buffer = self.buffer, b""
                return rest
        raise AssertionError("close loop did not terminate")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def raw_status(path, timeout=2.0):
    """`status` over a raw connection; its reply lines, or None when the
    socket does not answer."""
    try:
        connection = ControlConnection(path, timeout=timeout)
    except OSError:
        return None
    try:
        if not connection.send(b"status\n"):
            return None
        return connection.reply()
    except (AssertionError, OSError):
        return None
    finally:
        connection.close()


# ---------------------------------------------------------------------------
# The daemon


class Daemon:
    """One `atad run --config SITE` process, its log in a file. `prefix`
    words go before the binary (e.g. `ip netns exec NAME`, which execs it,
    so the pid is still the daemon's); the control socket is a file, so
    `ctl` reaches it from our namespace."""

    def __init__(self, site, socket_path, workdir, args=(), env=None, prefix=()):
        self.env = env
        self.prefix = list(prefix)
        self.site = Path(site)
        self.socket = str(socket_path)
        self.workdir = Path(workdir)
        self.args = list(args)
        self.log_path = self.workdir / f"atad-{id(self)}.log"
        self.out_path = self.workdir / f"atad-{id(self)}.out"
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    def launch(self):
        with open(self.log_path, "wb") as log, open(self.out_path, "wb") as out:
            self.process = subprocess.Popen(
                [*self.prefix, atad_binary(), "run", "--config", str(self.site), *self.args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=log, start_new_session=True,
                env={**os.environ, **self.env} if self.env else None)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"atad exited with {self.process.returncode} while starting:\n{self.log()}")
            reply = raw_status(self.socket)
            return reply is not None and reply[0] == "ok"
        wait_until(ready, timeout, f"atad to answer on {self.socket}")
        return self

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_messages(self):
        """(level, message) for every log line; fails on a line that is not
        in the log format."""
        messages = []
        for line in self.log().splitlines():
            match = LOG_LINE.match(line)
            assert match, f"not a log line: {line!r}"
            messages.append((match.group(1), match.group(2)))
        return messages

    def wait_for_log(self, level, message, timeout=START_TIMEOUT):
        return wait_until(lambda: (level, message) in self.log_messages(), timeout,
                          f"log line '{level}: {message}'; log so far:\n{self.log()}")

    def ctl(self, *words, timeout=COMMAND_TIMEOUT) -> Result:
        return run_atad("ctl", "--socket", self.socket, *words, timeout=timeout)

    def signal(self, number):
        os.kill(self.process.pid, number)

    def wait_exit(self, timeout=EXIT_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"atad (pid {self.pid}) still running after {timeout} s:\n{self.log()}")

    def stop(self):
        """Finalizer: SIGTERM, then SIGKILL after a deadline. By pid only."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=EXIT_TIMEOUT)


@pytest.fixture
def daemons(atad_bin, short_dir):
    """`daemons.start(site, socket, workdir)`: a started, answering daemon,
    stopped at the end of the test whatever happens. `prefix=[...]` runs it
    under a command such as `ip netns exec NAME`."""
    started = []

    class Factory:
        @staticmethod
        def launch(site, socket_path, workdir, args=(), env=None, prefix=()):
            daemon = Daemon(site, socket_path, workdir, args, env, prefix)
            started.append(daemon)
            return daemon.launch()

        @staticmethod
        def start(site, socket_path, workdir, args=(), env=None, prefix=()):
            return Factory.launch(site, socket_path, workdir, args, env, prefix).wait_ready()

    yield Factory
    for daemon in started:
        daemon.stop()


@pytest.fixture
def site(tmp_path, short_dir):
    """A site file for the simulated board with its socket in a short folder."""
    return write_site(tmp_path / "atad.conf", short_dir / "control.sock")


@pytest.fixture
def daemon(daemons, site, short_dir, tmp_path):
    """A running daemon on the simulated board."""
    return daemons.start(site, short_dir / "control.sock", tmp_path)


def expected_status(site, country="us", reloads=None, pid=None):
    """Checks a status reply's lines (with or without the leading 'ok')."""
    def check(lines):
        if lines and lines[0] == "ok":
            lines = lines[1:]
        assert len(lines) == 7, lines
        match = STATUS_DAEMON_LINE.match(lines[0])
        assert match, lines[0]
        if pid is not None:
            assert int(match.group(1)) == pid, lines[0]
        if reloads is not None:
            assert int(match.group(3)) == reloads, lines[0]
        assert lines[1:4] == [
            f"config: {site}",
            "board: Simulated board (sim)",
            f"country: {country}",
        ]
        assert re.fullmatch(r"sip: 127\.0\.0\.1:\d+/udp", lines[4]), lines[4]
        assert lines[5:] == ["line 1: idle", "line 2: idle"]
        return True
    return check


def assert_healthy(daemon, site=None, country="us"):
    """The daemon still runs and `atad ctl status` answers ok."""
    assert daemon.running(), f"atad exited with {daemon.process.returncode}:\n{daemon.log()}"
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    assert result.out_lines[0] == "ok", result
    expected_status(site or daemon.site, country=country, pid=daemon.pid)(result.out_lines)
    assert result.stderr == "", result
