"""The programs the benchmark measures and the peers they talk to, all on
127.0.0.1 and all started here: Kamailio and SIPp come from the scenario
tests' own fixtures (Tests/Scenarios/sip_peers.py), baresip from
Tests/Scenarios/baresip_peer.py, the RTP far end from rtp_peer.py. This
module only adds what a measurement needs on top: a launch prefix
(valgrind), a board with N lines, and readings of /proc.

Every process is a child stopped by its pid (SIGTERM, then SIGKILL after a
deadline); every wait is polled against a deadline.
"""

import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCENARIOS = REPO / "Tests" / "Scenarios"
if str(SCENARIOS) not in sys.path:
    sys.path.insert(0, str(SCENARIOS))

import baresip_peer  # noqa: E402
import conftest  # noqa: E402
import rtp_peer  # noqa: E402
import sip_peers  # noqa: E402

import parsing  # noqa: E402

LOOPBACK = sip_peers.LOOPBACK
USERS = sip_peers.USERS
REALM = sip_peers.REALM
TRUNK_NUMBER = "9123"  # Kamailio routes 9... to its trunk, the SIPp far end
TONE_HZ = 440.0
TONE_LEVEL = 0.3  # of full scale, as baresip_peer's make_tone_wav takes it
# The same level in dBm0: G.711's full-scale sine is +3.17 dBm0.
TONE_DBM0 = 20 * math.log10(TONE_LEVEL) + 3.17
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------------------
# /proc


def read_proc(pid, name):
    with open(f"/proc/{pid}/{name}", "r", errors="replace") as handle:
        return handle.read()


def rss_kib(pid):
    return parsing.proc_status_kib(read_proc(pid, "status"), "VmRSS")


def hwm_kib(pid):
    return parsing.proc_status_kib(read_proc(pid, "status"), "VmHWM")


def cpu_seconds(pid):
    return parsing.proc_stat_cpu_ticks(read_proc(pid, "stat")) / os.sysconf("SC_CLK_TCK")


def shared_objects(pid):
    """[(path, size in bytes)] of the distinct .so files mapped now."""
    found = []
    for path in parsing.proc_maps_shared_objects(read_proc(pid, "maps")):
        try:
            found.append((path, os.stat(path).st_size))
        except OSError:
            continue
    return found


def stop(process, timeout=STOP_TIMEOUT):
    """SIGTERM by pid, SIGKILL after the deadline; the exit code."""
    if process is None:
        return None
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=timeout)


def wait_until(predicate, timeout, what, interval=0.01):
    return conftest.wait_until(predicate, timeout, what, interval=interval)


# ---------------------------------------------------------------------------
# The audio both programs send: one tone file


def make_audio(workdir, seconds=100):
    """The 440 Hz WAV baresip's aufile sends (atad generates the same tone
    itself: `Atad.say_tone`)."""
    wav = Path(workdir) / "tone.wav"
    baresip_peer.make_tone_wav(wav, TONE_HZ, seconds=seconds, level=TONE_LEVEL)
    return wav


# ---------------------------------------------------------------------------
# Peers


class Peers:
    """Kamailio (registrar for 1001/1002, trunk 9... to SIPp) and a SIPp
    UAS answering every call with its media port echoing RTP
    (`-rtp_echo`). One pair serves the whole benchmark."""

    def __init__(self, workdir, calls=10000, timeout=3600.0, uas_scenario="uas_answer.xml", rtp_echo=True,
                 keys=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sipp = sip_peers.Sipp(self.workdir, uas_scenario, calls=calls, timeout=timeout,
                                   rtp_echo=rtp_echo, keys=keys)
        self.kamailio = sip_peers.Kamailio(self.workdir, trunk=None, debug=1)

    def start(self):
        self.sipp.start().wait_listening()
        self.kamailio.trunk = self.sipp.address
        self.kamailio.start()
        return self

    def stop(self):
        self.kamailio.stop()
        self.sipp.stop()

    def commands(self):
        return [" ".join(self.sipp.command()),
                f"kamailio -DD -E -f {self.kamailio.config} -Y {self.workdir} -w {self.workdir} -m 64 -M 8"]


# ---------------------------------------------------------------------------
# atad


def write_board(path, lines):
    """A simulated board (driver sim, as Board/sim.conf) with `lines` lines."""
    text = "[board]\nname = Benchmark board\ndriver = sim\n\n" + "".join(f"[line {n}]\n" for n in range(1, lines + 1))
    Path(path).write_text(text)
    return Path(path)


class Atad:
    """`atad run --config SITE` (optionally under a prefix such as
    valgrind), registered as 1001 at the Kamailio, every line dialing the
    trunk number through that account."""

    def __init__(self, binary, workdir, peers, lines=1, prefix=(), name="atad", echo_canceller=True):
        self.binary = str(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.peers = peers
        self.lines = lines
        self.prefix = list(prefix)
        self.socket = Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp")) / "control.sock"
        self.board = write_board(self.workdir / "board.conf", lines)
        canceller = "" if echo_canceller else "echo_canceller = no\n"
        line_sections = "".join(f"[line {n}]\naccount = home\ndial_plan = (9xxx)\n{canceller}"
                                for n in range(1, lines + 1))
        self.site = conftest.write_site(
            self.workdir / "site.conf", self.socket, board=self.board, extra=(
                "[account home]\nuser = 1001\ndomain = atad.test\n"
                f"registrar = {LOOPBACK}:{peers.kamailio.port}\npassword = \"{USERS['1001']}\"\n"
                "codec = pcmu\nptime = 20\n" + line_sections))
        os.chmod(self.site, 0o600)
        self.log_path = self.workdir / f"{name}.log"
        self.process = None

    def command_line(self):
        return [*self.prefix, self.binary, "run", "--config", str(self.site)]

    def launch(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command_line(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=log, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.process.pid

    def request(self, *words, timeout=30.0):
        """One control request on its own connection (atad closes a client
        that stays silent for 10 s); its reply lines."""
        connection = conftest.ControlConnection(self.socket, timeout=timeout)
        try:
            assert connection.send((" ".join(map(str, words)) + "\n").encode()), "atad closed the control socket"
            return connection.reply()
        finally:
            connection.close()

    def status(self, timeout=30.0):
        return self.request("status", timeout=timeout)

    def poll_status(self):
        """A `status` reply, or None while the socket does not answer."""
        return conftest.raw_status(self.socket, timeout=2.0)

    def wait_registered(self, timeout=30.0, interval=0.01):
        def registered():
            if self.process.poll() is not None:
                raise AssertionError(f"atad exited with {self.process.returncode}:\n{self.log()}")
            reply = self.poll_status()
            return reply is not None and parsing.atad_registered(reply, "home")
        return wait_until(registered, timeout, "atad to register", interval)

    def call(self, lines=None, timeout=30.0):
        """Lifts the handsets and dials the trunk; waits until every line talks."""
        lines = list(lines or range(1, self.lines + 1))
        for line in lines:
            assert self.request("hook", line, "off")[0] == "ok"
        for line in lines:
            assert self.request("dtmf", line, TRUNK_NUMBER)[0] == "ok"

        def talking():
            states = parsing.atad_line_states(self.status())
            return all(states.get(line) == "talking" for line in lines)
        wait_until(talking, timeout, f"lines {lines[0]}..{lines[-1]} to talk", interval=0.1)

    def say_tone(self, lines=None):
        """The handset's mouthpiece sends the bench's 440 Hz tone at the
        level of baresip's WAV, from atad's own generator: a file given
        to `say LINE file` is held in memory whole (1.6 MB for 100 s), one
        copy per line, which the memory rows would count as atad's."""
        for line in lines or range(1, self.lines + 1):
            assert self.request("say", line, "tone", f"{TONE_HZ:g}", f"{round(TONE_DBM0)}")[0] == "ok"

    def hang_up(self, lines=None, timeout=30.0):
        lines = list(lines or range(1, self.lines + 1))
        for line in lines:
            self.request("hook", line, "on")
        wait_until(lambda: all(s == "idle" for n, s in parsing.atad_line_states(self.status()).items() if n in lines),
                   timeout, "the lines to be idle", interval=0.1)

    def stop(self, timeout=STOP_TIMEOUT):
        try:
            return stop(self.process, timeout)
        finally:
            shutil.rmtree(self.socket.parent, ignore_errors=True)

    def log(self):
        return sip_peers._tail(self.log_path)


# ---------------------------------------------------------------------------
# baresip


class Baresip(baresip_peer.Baresip):
    """baresip 1.0 as the scenario tests run it (aufile source, idle
    aubridge player, ctrl_tcp), registered as 1002 at the Kamailio, with
    two changes for a fair comparison: no `sndfile` recorder (atad records
    nothing either) and a launch prefix (valgrind)."""

    def __init__(self, workdir, peers, wav, prefix=()):
        super().__init__(workdir, user="1002", tone=TONE_HZ, auto_answer=True, registrar=peers.kamailio.address,
                         password=USERS["1002"], domain=REALM, regint=3600, ptime=20, codecs="PCMU")
        # The same samples atad plays (the parent made a 60 s file of its own).
        self.source_path.write_bytes(Path(wav).read_bytes())
        self.prefix = list(prefix)

    def config_text(self):
        return "".join(line + "\n" for line in super().config_text().splitlines() if "sndfile" not in line)

    def command_line(self):
        return [*self.prefix, "baresip", "-f", str(self.config_dir)]

    def launch(self):
        """Writes the config and starts the process; returns at once."""
        (self.config_dir / "config").write_text(self.config_text())
        (self.config_dir / "accounts").write_text(self.account_line() + "\n")
        (self.config_dir / "contacts").write_text("")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command_line(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        return self

    def registered_in_log(self):
        try:
            return parsing.baresip_registered(self.log_path.read_text(errors="replace"))
        except OSError:
            return False

    def connect(self, timeout=60.0):
        """Waits for baresip's control port and registration."""
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited with {self.process.returncode}:\n{self.log()}")
            if "baresip is ready." not in self.log():
                return False
            try:
                self.control = baresip_peer.ControlClient((self.ip, self.ctrl_port))
                return True
            except OSError:
                return False
        wait_until(ready, timeout, "baresip's control port", interval=0.05)
        wait_until(lambda: self.registered_in_log() or self.events("REGISTER_OK"), timeout, "baresip to register",
                   interval=0.05)
        return self

    def call(self, timeout=60.0):
        reply = self.command("dial", f"sip:{TRUNK_NUMBER}@{REALM}", timeout=timeout)
        assert reply.get("ok"), reply
        self.wait_for_event("CALL_ESTABLISHED", timeout=timeout)

    def hang_up(self, timeout=60.0):
        count = len(self.events("CALL_CLOSED"))
        self.command("hangup", timeout=timeout)
        self.wait_for_event("CALL_CLOSED", timeout=timeout, count=count + 1)

    def stop(self, timeout=STOP_TIMEOUT):
        if self.control is not None:
            self.control.close()
            self.control = None
        return stop(self.process, timeout)
