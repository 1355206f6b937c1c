"""baresip 1.0 (Debian's baresip-core) as a far end for the atad media
tests: a real SIP phone on 127.0.0.1 that plays a tone file into every
call and records what it hears.

Each instance runs in its own temporary config folder with its own SIP
port and control port (ctrl_tcp). It needs no sound card and does not spin
a core: audio comes from the `aufile` source (a WAV made by sox), the
player is `aubridge` (whose clock thread only runs when an aubridge source
of the same name exists, which never happens here, so the player stays
idle), and the `sndfile` audio filter writes what baresip decodes from the
far end to `<record_dir>/dump-<date-time>-dec.wav` (and what it encodes to
`...-enc.wav`); decoding and filters run on the RTP receive path, so the
recording does not depend on the player.

Control: ctrl_tcp speaks netstring-framed JSON. A command is
{"command": "dial", "params": "sip:...", "token": "7"}; the reply is
{"response": true, "ok": true, "data": "...", "token": "7"}; events are
{"event": true, "class": "call", "type": "CALL_ESTABLISHED", ...}. The
commands (dial, hangup, accept) come from the `menu` module.

The process is a child stopped by its pid (SIGTERM, then SIGKILL after a
deadline); every wait is a condition polled against a deadline.
"""

import json
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import wait_until
from sip_peers import LOOPBACK, _tail, free_port, stop_process

BARESIP_MODULES = Path("/usr/lib/baresip/modules")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

CONFIG_TEMPLATE = """\
poll_method\t\tepoll
sip_listen\t\t{ip}:{sip_port}
call_local_timeout\t120
call_max_calls\t\t4
audio_player\t\taubridge,{name}
audio_source\t\taufile,{source}
audio_alert\t\taubridge,{name}
audio_level\t\tno
ausrc_format\t\ts16
auplay_format\t\ts16
auenc_format\t\ts16
audec_format\t\ts16
audio_buffer\t\t20-160
rtcp_mux\t\tno
jitter_buffer_delay\t5-10
rtp_stats\t\tno
rtp_ports\t\t{rtp_low}-{rtp_high}
net_interface\t\t{ip}
module_path\t\t{modules}
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\taubridge.so
module\t\t\tsndfile.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
ctrl_tcp_listen\t\t{ip}:{ctrl_port}
snd_path\t\t{record_dir}
"""


def make_tone_wav(path, frequency=440.0, seconds=60, level=0.3):
    """An 8 kHz mono 16-bit WAV with a sine of `frequency` (sox)."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
                    "sine", str(frequency), "vol", str(level)],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return Path(path)


def read_wav(path) -> list:
    """The samples of a mono 16-bit PCM WAV. A file sndfile is still
    writing has size fields that lag behind (or are 0): its data chunk is
    read to the end of what is on disk."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return []
    offset = 12
    for _ in range(64):
        if offset + 8 > len(data):
            return []
        name, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if name == b"fmt ":
            audio_format, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, offset + 8)
            assert (audio_format, channels, rate, bits) == (1, 1, 8000, 16), (audio_format, channels, rate, bits)
        if name == b"data":
            frames = data[offset + 8:] if size == 0 else data[offset + 8:offset + 8 + size]
            frames = frames[:len(frames) // 2 * 2]
            return list(struct.unpack(f"<{len(frames) // 2}h", frames))
        offset += 8 + size + (size & 1)
    return []


class ControlClient:
    """ctrl_tcp: netstrings of JSON; a reader thread sorts replies (by
    token) from events."""

    def __init__(self, address, timeout=5.0):
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.settimeout(0.1)
        self.lock = threading.Lock()
        self.events = []
        self.responses = {}
        self.token = 0
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._read_loop, daemon=True)
        self.thread.start()

    def _read_loop(self):
        buffer = b""
        while not self.closing.is_set():
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            for _ in range(10_000):
                colon = buffer.find(b":")
                if colon < 0:
                    break
                length = int(buffer[:colon])
                if len(buffer) < colon + 1 + length + 1:
                    break
                body = buffer[colon + 1:colon + 1 + length]
                buffer = buffer[colon + 1 + length + 1:]  # skip the trailing ","
                try:
                    message = json.loads(body.decode("utf-8", errors="replace"))
                except ValueError:
                    continue
                with self.lock:
                    if message.get("response"):
                        self.responses[str(message.get("token"))] = message
                    elif message.get("event"):
                        message["received_at"] = time.monotonic()
                        self.events.append(message)

    def command(self, command, params="", timeout=5.0) -> dict:
        with self.lock:
            self.token += 1
            token = str(self.token)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

        def reply():
            with self.lock:
                return self.responses.pop(token, None)
        return wait_until(reply, timeout, f"baresip's reply to {command} {params}")

    def close(self):
        self.closing.set()
        self.thread.join(2.0)
        try:
            self.sock.close()
        except OSError:
            pass


class Baresip:
    """One baresip 1.0 process: user `user` at 127.0.0.1:`sip_port`.

    registrar=None: no registration (regint=0), reached directly at
    sip:user@127.0.0.1:sip_port. registrar=(host, port): registers
    user@domain there with `password` (domain defaults to host:port).
    auto_answer: answermode=auto. tone: the frequency of the sine it sends
    (None: a silent file)."""

    def __init__(self, workdir, user="baresip", tone=440.0, tone_level=0.3, auto_answer=True, registrar=None,
                 password=None, domain=None, regint=60, ptime=20, codecs="PCMU,PCMA"):
        self.workdir = Path(workdir)
        self.config_dir = self.workdir / "config"
        self.record_dir = self.workdir / "recordings"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.ip = LOOPBACK
        self.sip_port = free_port(self.ip, udp=True, tcp=True)
        self.ctrl_port = free_port(self.ip, udp=False, tcp=True)
        self.rtp_low = free_port(self.ip, udp=True, tcp=False, span=64)
        self.tone = tone
        self.source_path = self.workdir / "source.wav"
        make_tone_wav(self.source_path, tone or 440.0, level=tone_level if tone else 0.0)
        self.auto_answer = auto_answer
        self.registrar = registrar
        self.password = password
        self.domain = domain
        self.regint = regint
        self.ptime = ptime
        self.codecs = codecs
        self.log_path = self.workdir / "baresip.log"
        self.process = None
        self.control = None

    # -- configuration

    def account_line(self) -> str:
        params = [f"answermode={'auto' if self.auto_answer else 'manual'}", f"audio_codecs={self.codecs}",
                  f"ptime={self.ptime}"]
        if self.registrar is None:
            aor = f"<sip:{self.user}@{self.ip}:{self.sip_port}>"
            params.append("regint=0")
        else:
            host, port = self.registrar
            domain = self.domain or f"{host}:{port}"
            aor = f"<sip:{self.user}@{domain}>"
            params += [f"regint={self.regint}", f'outbound="sip:{host}:{port}"']
            if self.password is not None:
                params += [f"auth_user={self.user}", f"auth_pass={self.password}"]
        return aor + ";" + ";".join(params)

    def config_text(self) -> str:
        return CONFIG_TEMPLATE.format(ip=self.ip, sip_port=self.sip_port, ctrl_port=self.ctrl_port,
                                      name=f"bs{self.sip_port}", source=self.source_path,
                                      modules=BARESIP_MODULES, record_dir=self.record_dir,
                                      rtp_low=self.rtp_low, rtp_high=self.rtp_low + 63)

    # -- life cycle

    def start(self, timeout=START_TIMEOUT):
        assert BARESIP_MODULES.is_dir(), "baresip modules not found: install the Debian package baresip-core"
        (self.config_dir / "config").write_text(self.config_text())
        (self.config_dir / "accounts").write_text(self.account_line() + "\n")
        (self.config_dir / "contacts").write_text("")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(["baresip", "-f", str(self.config_dir)], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                            start_new_session=True)

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited with {self.process.returncode} while starting:\n{self.log()}")
            if "baresip is ready." not in self.log():
                return False
            try:
                self.control = ControlClient((self.ip, self.ctrl_port))
                return True
            except OSError:
                return False
        wait_until(ready, timeout, f"baresip to start (ctrl_tcp on {self.ctrl_port})", interval=0.05)
        return self

    def stop(self, timeout=STOP_TIMEOUT):
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            stop_process(self.process, timeout, group=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    @property
    def address(self):
        return (self.ip, self.sip_port)

    @property
    def uri(self) -> str:
        """Where to call it directly."""
        return f"sip:{self.user}@{self.ip}:{self.sip_port}"

    def log(self) -> str:
        return _tail(self.log_path, limit=10**6)

    # -- control

    def command(self, command, params="", timeout=5.0) -> dict:
        assert self.control is not None, "baresip not started"
        return self.control.command(command, params, timeout)

    def dial(self, uri) -> dict:
        return self.command("dial", uri)

    def hangup(self) -> dict:
        return self.command("hangup")

    def accept(self) -> dict:
        return self.command("accept")

    def events(self, kind=None) -> list:
        """Events so far (dicts from ctrl_tcp), optionally of one type
        ("CALL_INCOMING", "CALL_RINGING", "CALL_ESTABLISHED",
        "CALL_CLOSED", "REGISTER_OK", "REGISTER_FAIL", ...)."""
        if self.control is None:
            return []
        with self.control.lock:
            events = list(self.control.events)
        return [e for e in events if kind is None or e.get("type") == kind]

    def wait_for_event(self, kind, timeout=10.0, count=1) -> dict:
        """The `count`-th event of type `kind`, waiting until `timeout`."""
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited with {self.process.returncode}:\n{self.log()}")
            found = self.events(kind)
            return found[count - 1] if len(found) >= count else None
        try:
            return wait_until(seen, timeout, f"baresip event {kind}", interval=0.02)
        except AssertionError as error:
            raise AssertionError(f"{error}\nevents: {[e.get('type') for e in self.events()]}\n"
                                 f"log:\n{self.log()}") from None

    def registered(self) -> bool:
        """The registrar answered a REGISTER with 200 (ctrl_tcp's
        REGISTER_OK, or the log line, since the first registration may
        finish before the control connection is up)."""
        if self.events("REGISTER_OK"):
            return True
        return re.search(r"^\S+: \{\d+/\w+/v4\} 200 OK", self.log(), flags=re.M) is not None

    def wait_registered(self, timeout=10.0):
        def done():
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited with {self.process.returncode}:\n{self.log()}")
            return self.registered()
        return wait_until(done, timeout, f"baresip to register; log:\n{self.log()}", interval=0.05)

    # -- recordings

    def recordings(self, which="dec") -> list:
        """The sndfile dumps, oldest first: "dec" = audio received from the
        far end (decoded), "enc" = audio baresip sent."""
        return sorted(self.record_dir.glob(f"dump-*-{which}.wav"), key=lambda p: (p.stat().st_mtime, p.name))

    @property
    def received_audio_path(self):
        """The recording of the latest call's received audio (None before
        the first call's audio started)."""
        found = self.recordings("dec")
        return found[-1] if found else None

    def received_audio(self, path=None) -> list:
        return read_wav(path or self.received_audio_path)

    def wait_received_audio(self, seconds, timeout=10.0) -> list:
        """Waits until the latest recording holds `seconds` of audio."""
        def enough():
            path = self.received_audio_path
            if path is None:
                return None
            samples = read_wav(path)
            return samples if len(samples) >= seconds * 8000 else None
        return wait_until(enough, timeout, f"{seconds} s of received audio in {self.record_dir}", interval=0.05)


@pytest.fixture
def baresip():
    """Factory: `baresip.start(tone=440, auto_answer=True, registrar=None, ...)`
    returns a started Baresip; each is stopped (by pid) at the end of the
    test and its folder removed."""
    started = []
    workdirs = []

    class Factory:
        @staticmethod
        def create(**kwargs) -> Baresip:
            workdir = Path(tempfile.mkdtemp(prefix="baresip-", dir="/tmp"))
            workdirs.append(workdir)
            instance = Baresip(workdir, **kwargs)
            started.append(instance)
            return instance

        @staticmethod
        def start(**kwargs) -> Baresip:
            return Factory.create(**kwargs).start()

    yield Factory
    for instance in started:
        instance.stop()
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
