"""Real SIP peers for the atad scenario tests: Kamailio (registrar, digest
auth, proxy) and SIPp (UAC/UAS scenarios from peers/), on loopback or, with
`netns=`, inside a network namespace the test made (nat_network.py).

Everything here is started by the tests themselves: free ports are picked at
runtime, every process is a child stopped by its pid (SIGTERM, then SIGKILL
after a deadline), every wait is a condition polled against a deadline and
every traffic loop is bounded in count and in time.

Debian packages: kamailio (auth, ctl, registrar, usrloc are in the main
package; no database), sip-tester (sipp), sipsak.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import wait_until
from nat_network import exec_prefix, socket_in

PEERS_DIR = Path(__file__).resolve().parent / "peers"
KAMAILIO_TEMPLATE = PEERS_DIR / "kamailio.cfg.in"

LOOPBACK = "127.0.0.1"
REALM = "atad.test"
USERS = {"1001": "secret1001", "1002": "secret1002", "2000": "secret2000"}

KAMAILIO_START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
SIPP_TIMEOUT = 30.0


# ---------------------------------------------------------------------------
# Ports


def free_port(host=LOOPBACK, udp=True, tcp=True, span=1, attempts=50, netns=None, also_on=()) -> int:
    """A port (and the `span`-1 ports after it) free right now on `host`,
    and on each address of `also_on`, for UDP and/or TCP (in the network
    namespace `netns`, None: ours). Asks the kernel for an ephemeral port,
    then checks the others by binding them too. Bounded in attempts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kinds = ([socket.SOCK_DGRAM] if udp else []) + ([socket.SOCK_STREAM] if tcp else [])
    for _ in range(attempts):
        held = []
        try:
            first = socket_in(netns, family, kinds[0])
            held.append(first)
            first.bind((host, 0))
            port = first.getsockname()[1]
            if port + span > 65535:
                continue
            for address in (host, *also_on):
                for offset in range(span):
                    for kind in kinds:
                        if address == host and offset == 0 and kind == kinds[0]:
                            continue
                        s = socket_in(netns, family, kind)
                        held.append(s)
                        s.bind((address, port + offset))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise AssertionError(f"no free port on {host} after {attempts} attempts")


# ---------------------------------------------------------------------------
# Processes


def stop_process(process, timeout=STOP_TIMEOUT, group=False):
    """SIGTERM by pid, SIGKILL after `timeout`. With `group`, the SIGKILL
    goes to the process group the child leads (started with
    start_new_session), so its own children go with it."""
    if process is None:
        return
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    if group:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _tail(path, limit=20000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


# ---------------------------------------------------------------------------
# A SIP request over a plain socket


def sip_request(host, port, method="OPTIONS", uri=None, transport="udp", timeout=1.0,
                headers=(), body=b"", netns=None, source=None) -> str:
    """Sends one out-of-dialog request to `host`:`port` from `source` (an
    address of ours; default `host` itself), in the network namespace
    `netns` when given, and returns the first final response (text), or ""
    when none came within `timeout`. Provisional responses are skipped; the
    loop is bounded in count and time."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    uri = uri or (f"sip:[{host}]:{port}" if family == socket.AF_INET6 else f"sip:{host}:{port}")
    source = source or host
    bracketed = f"[{source}]" if family == socket.AF_INET6 else source
    sock = socket_in(netns, family, kind)
    try:
        sock.settimeout(timeout)
        sock.bind((source, 0))
        local_port = sock.getsockname()[1]
        if kind == socket.SOCK_STREAM:
            sock.connect((host, port))
        branch = "z9hG4bK" + uuid.uuid4().hex
        tag = uuid.uuid4().hex[:10]
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/{transport.upper()} {bracketed}:{local_port};branch={branch};rport",
            f"From: <sip:probe@{bracketed}:{local_port}>;tag={tag}",
            f"To: <{uri}>",
            f"Call-ID: {uuid.uuid4().hex}@{bracketed}",
            f"CSeq: 1 {method}",
            f"Contact: <sip:probe@{bracketed}:{local_port};transport={transport}>",
            "Max-Forwards: 70",
            *headers,
            f"Content-Length: {len(body)}",
            "",
            "",
        ]
        data = "\r\n".join(lines).encode() + body
        if kind == socket.SOCK_STREAM:
            sock.sendall(data)
        else:
            sock.sendto(data, (host, port))
        deadline = time.monotonic() + timeout
        buffer = b""
        for _ in range(100):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return ""
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65535)
            except (socket.timeout, ConnectionRefusedError, ConnectionResetError):
                return ""
            if not chunk:
                return ""
            buffer = chunk if kind == socket.SOCK_DGRAM else buffer + chunk
            text = buffer.decode("utf-8", errors="replace")
            match = re.match(r"SIP/2\.0 (\d{3})", text)
            if match and int(match.group(1)) >= 200:
                return text
            if kind == socket.SOCK_STREAM and match:
                # Drop the provisional response and keep reading.
                end = text.find("\r\n\r\n")
                buffer = buffer[end + 4:] if end >= 0 else b""
        return ""
    except OSError:
        return ""
    finally:
        sock.close()


def status_code(response: str):
    match = re.match(r"SIP/2\.0 (\d{3})", response or "")
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------------------
# Kamailio


def kamailio_module_path() -> str:
    for candidate in sorted(glob.glob("/usr/lib/*/kamailio/modules")) + ["/usr/lib/kamailio/modules"]:
        if os.path.isfile(os.path.join(candidate, "registrar.so")):
            return candidate
    raise AssertionError("kamailio modules not found: install the Debian package kamailio")


class Kamailio:
    """One kamailio 5.6 in the foreground (-DD -E) with its own config,
    listening UDP and TCP on `ip` (127.0.0.1, or ::1 for IPv6):`port`; with
    `netns`, inside that network namespace (`ip` one of its addresses). Its
    ctl socket is a file, so kamcmd reaches it from any namespace."""

    def __init__(self, workdir, port=None, users=None, realm=REALM, trunk=None,
                 trunk_prefix="9", debug=2, max_expires=3600, ip=LOOPBACK, challenge_bye=False, netns=None):
        self.workdir = Path(workdir)
        self.ip = ip
        self.netns = netns
        self.port = port or free_port(self.ip, netns=netns)
        self.users = dict(USERS if users is None else users)
        self.realm = realm
        self.trunk = trunk  # (host, port) of the SIPp UAS behind the prefix, or None
        self.trunk_prefix = trunk_prefix
        self.debug = debug
        # The longest registration the registrar grants: tests that need a
        # quick refresh make it short.
        self.max_expires = max_expires
        # Off by default: a BYE in a dialog is relayed as it comes. On, a BYE
        # whose From user is in the user table gets 407 until it carries
        # that user's credentials (route AUTH, as for an INVITE).
        self.challenge_bye = challenge_bye
        self.config = self.workdir / "kamailio.cfg"
        self.ctl_socket = self.workdir / "kamailio_ctl"
        self.process = None
        self.starts = 0
        self.log_path = None

    # -- configuration

    def render(self) -> str:
        for user in self.users:
            assert re.fullmatch(r"[A-Za-z0-9._-]+", user), user
        for password in self.users.values():
            assert '"' not in password and "\\" not in password, password
        table = "\n".join(
            f'\tif ($var(user) == "{user}") {{ $var(known) = 1; $var(password) = "{password}"; }}'
            for user, password in self.users.items())
        if self.trunk:
            host, port = self.trunk
            trunk_route = f'\t$du = "sip:{host}:{port}";\n\troute(RELAY);'
        else:
            trunk_route = '\tsl_send_reply("503", "No Trunk");'
        assert re.fullmatch(r"[0-9]+", self.trunk_prefix), self.trunk_prefix
        if self.challenge_bye:
            bye_challenge = (
                '\t\tif (is_method("BYE")) {\n'
                '\t\t\troute(PASSWORD_FROM);\n'
                '\t\t\tif ($var(known) == 1) {\n'
                '\t\t\t\tif ($au == $null) {\n'
                '\t\t\t\t\txinfo("bye: challenging BYE from $fU\\n");\n'
                '\t\t\t\t} else {\n'
                '\t\t\t\t\txinfo("bye: BYE from $fU with credentials of $au\\n");\n'
                '\t\t\t\t}\n'
                '\t\t\t\troute(AUTH);\n'
                '\t\t\t}\n'
                '\t\t}')
        else:
            bye_challenge = "\t\t# (BYE not challenged: challenge_bye is off)"
        replacements = {
            "DEBUG": str(self.debug),
            "REALM": self.realm,
            "RUNDIR": str(self.workdir),
            "MPATH": kamailio_module_path(),
            "IP": self.host,
            "PORT": str(self.port),
            "CTL": str(self.ctl_socket),
            "PREFIX": self.trunk_prefix,
            "USERS": table,
            "TRUNK_ROUTE": trunk_route,
            "MAX_EXPIRES": str(self.max_expires),
            "BYE_CHALLENGE": bye_challenge,
        }
        text = KAMAILIO_TEMPLATE.read_text()
        for name, value in replacements.items():
            text = text.replace(f"@{name}@", value)
        leftover = re.search(r"@[A-Z_]+@", text)
        assert leftover is None, f"unfilled placeholder {leftover.group(0)}"
        return text

    def check_config(self):
        """`kamailio -c`: the rendered config parses."""
        self.config.write_text(self.render())
        result = subprocess.run(["kamailio", "-c", "-f", str(self.config), "-L", kamailio_module_path()],
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        return result

    # -- life cycle

    def start(self, timeout=KAMAILIO_START_TIMEOUT):
        assert self.process is None or self.process.poll() is not None, "kamailio already running"
        self.config.write_text(self.render())
        try:
            self.ctl_socket.unlink()
        except FileNotFoundError:
            pass
        self.starts += 1
        self.log_path = self.workdir / f"kamailio-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*exec_prefix(self.netns), "kamailio", "-DD", "-E", "-f", str(self.config),
                 "-Y", str(self.workdir), "-w", str(self.workdir), "-m", "64", "-M", "8"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=KAMAILIO_START_TIMEOUT):
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"kamailio exited with {self.process.returncode} while starting:\n{self.log()}")
            return (status_code(self.options("udp")) == 200
                    and status_code(self.options("tcp")) == 200
                    and self.rpc_ok("core.uptime"))
        wait_until(ready, timeout, f"kamailio to answer OPTIONS on {self.ip}:{self.port} (udp, tcp) and kamcmd",
                   interval=0.05)

    def stop(self, timeout=STOP_TIMEOUT):
        if self.process is not None:
            stop_process(self.process, timeout, group=True)

    def restart(self, timeout=KAMAILIO_START_TIMEOUT):
        """A new process on the same port (the usrloc table is in memory, so
        registrations are gone)."""
        old = self.process.pid if self.process else None
        self.stop()
        self.start(timeout)
        assert self.process.pid != old
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    @property
    def address(self):
        return (self.ip, self.port)

    @property
    def uri(self):
        return f"sip:{self.host}:{self.port}"

    @property
    def host(self):
        """The address as a URI writes it: IPv6 in brackets."""
        return f"[{self.ip}]" if ":" in self.ip else self.ip

    def log(self) -> str:
        return _tail(self.log_path) if self.log_path else ""

    # -- probes

    def options(self, transport="udp", timeout=0.5) -> str:
        return sip_request(self.ip, self.port, "OPTIONS", transport=transport, timeout=timeout, netns=self.netns)

    def request_sources(self, method) -> list:
        """Where the requests with `method` came from, as Kamailio saw them
        (its log's "request METHOD URI from IP:PORT/PROTO" lines, in order):
        a list of (ip, port, proto). Behind a NAT, the public side of the
        sender's binding."""
        pattern = re.compile(rf"request {re.escape(method)} \S+ from (\[[^\]]+\]|[^:\s]+):(\d+)/(\w+)")
        text = _tail(self.log_path, limit=10**7) if self.log_path else ""
        return [(ip.strip("[]"), int(port), proto) for ip, port, proto in pattern.findall(text)]

    def kamcmd(self, *args, timeout=5.0) -> subprocess.CompletedProcess:
        return subprocess.run(["kamcmd", "-s", f"unixs:{self.ctl_socket}", *map(str, args)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)

    def rpc_ok(self, *args) -> bool:
        if not self.ctl_socket.exists():
            return False
        try:
            return self.kamcmd(*args, timeout=2.0).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def registrations(self, aor) -> list:
        """The contacts registered for `aor` ("1001@atad.test" or "1001"):
        a list of dicts with at least "uri" (str) and "expires" (int), from
        `kamcmd ul.lookup location AOR`. Empty when none."""
        result = self.kamcmd("ul.lookup", "location", f"s:{aor}")  # s: keeps "2000" a string
        if result.returncode != 0:
            # "404 AOR not found" (and similar) means no contact.
            if "not found" in (result.stdout + result.stderr).lower():
                return []
            raise AssertionError(f"kamcmd ul.lookup failed: {result.stdout}{result.stderr}")
        return parse_ul_lookup(result.stdout)

    def wait_registered(self, aor, contains="", timeout=10.0):
        """Waits until `aor` has a contact whose URI contains `contains`;
        returns the contacts."""
        return wait_until(lambda: [c for c in self.registrations(aor) if contains in c["uri"]],
                          timeout, f"a registration of {aor} with '{contains}'", interval=0.05)


def parse_ul_lookup(text) -> list:
    """Parses kamcmd's printout of ul.lookup: one dict per Contact block."""
    contacts = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        match = re.match(r"^([A-Za-z_-]+):\s*(.*)$", line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "Contact":
            current = {}
            contacts.append(current)
            if value and value != "{":
                current["uri"] = value
            continue
        if current is None:
            continue
        if key == "Address":
            current["uri"] = value
        elif key == "Expires":
            try:
                current["expires"] = int(value)
            except ValueError:
                current["expires"] = value
        else:
            current[key.lower()] = value
    return [c for c in contacts if "uri" in c]


@pytest.fixture
def kamailio():
    """Factory: `kamailio.start(trunk=(host, port), users=..., trunk_prefix="9",
    challenge_bye=False)` returns a started, answering Kamailio (see
    Kamailio); `.restart()` starts a
    new process on the same port. Every instance is stopped at the end of the
    test whatever happens; its log is printed on failure via the assertion."""
    started = []
    workdirs = []

    class Factory:
        @staticmethod
        def create(**kwargs) -> Kamailio:
            workdir = Path(tempfile.mkdtemp(prefix="kam-", dir="/tmp"))  # short: sun_path
            workdirs.append(workdir)
            instance = Kamailio(workdir, **kwargs)
            started.append(instance)
            return instance

        @staticmethod
        def start(**kwargs) -> Kamailio:
            return Factory.create(**kwargs).start()

    yield Factory
    for instance in started:
        instance.stop()
    for workdir in workdirs:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# SIPp


def process_holds_port(pid, port, kinds=("udp", "udp6", "tcp", "tcp6")) -> bool:
    """Whether process `pid` has a socket bound to `port` (any address), read
    from its own /proc view (so in its network namespace too): the sockets
    in /proc/PID/net/KIND whose inode is one of its open descriptors."""
    try:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for kind in kinds:
            for line in Path(f"/proc/{pid}/net/{kind}").read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    return True
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return False


class Sipp:
    """One sipp child (never -bg): a UAC or UAS on 127.0.0.1:`port` running
    a built-in scenario ("uac", "uas") or an XML file from peers/, bounded by
    `calls` (-m) and `timeout` (-timeout with -timeout_error)."""

    def __init__(self, workdir, scenario, remote=None, port=None, calls=1, timeout=SIPP_TIMEOUT,
                 transport="u1", service=None, auth=None, keys=None, variables=None,
                 rtp_echo=False, media_port=None, rate=None, extra=(), name=None, ip=LOOPBACK, netns=None):
        self.workdir = Path(workdir)
        self.scenario = scenario
        self.remote = remote
        self.ip = ip  # 127.0.0.2 or ::1 for another source host or IPv6
        self.netns = netns  # a network namespace to run in (ip is one of its addresses)
        tcp = transport.startswith("t")
        # Ports we picked may be taken by someone else before sipp binds
        # them; those (and only those) are picked again (wait_listening).
        self.ports_picked = port is None and media_port is None
        self.port = port or free_port(self.ip, udp=not tcp or True, tcp=True, netns=netns)
        self.calls = calls
        self.timeout = timeout
        self.transport = transport
        self.service = service
        self.auth = auth  # (user, password) for -au/-ap, or None
        self.keys = dict(keys or {})
        self.variables = dict(variables or {})
        self.rtp_echo = rtp_echo
        # Audio RTP on media_port (+1 RTCP), video on +2/+3: keep the four free.
        self.media_port = media_port or free_port(self.ip, udp=True, tcp=False, span=4, netns=netns)
        self.rate = rate
        self.extra = list(extra)
        base = name or (Path(scenario).stem if self.is_file else scenario)
        self.base_name = base
        self.name_files()
        self.process = None

    def name_files(self):
        self.name = f"{self.base_name}-{self.port}"
        self.stdout_path = self.workdir / f"{self.name}.out"
        self.error_path = self.workdir / f"{self.name}_errors.log"
        self.message_path = self.workdir / f"{self.name}_messages.log"
        self.screen_path = self.workdir / f"{self.name}_screen.log"

    @property
    def is_file(self) -> bool:
        return str(self.scenario).endswith(".xml")

    @property
    def address(self):
        return (self.ip, self.port)

    def command(self) -> list:
        cmd = [*exec_prefix(self.netns), "sipp"]
        if self.is_file:
            path = Path(self.scenario)
            if not path.is_absolute():
                path = PEERS_DIR / path
            assert path.is_file(), f"no scenario {path}"
            cmd += ["-sf", str(path)]
        else:
            cmd += ["-sn", self.scenario]
        cmd += [
            "-i", self.ip, "-p", str(self.port), "-t", self.transport,
            "-m", str(self.calls),
            "-timeout", f"{int(self.timeout * 1000)}ms", "-timeout_error",
            "-nostdin",
            "-mi", self.ip, "-mp", str(self.media_port),
            "-trace_err", "-error_file", str(self.error_path),
            "-trace_msg", "-message_file", str(self.message_path),
            "-trace_screen", "-screen_file", str(self.screen_path),
            "-max_recv_loops", "1000",
        ]
        if self.rate is not None:
            cmd += ["-r", str(self.rate)]
        if self.service:
            cmd += ["-s", str(self.service)]
        if self.auth:
            cmd += ["-au", self.auth[0], "-ap", self.auth[1]]
        for key, value in self.keys.items():
            cmd += ["-key", key, str(value)]
        for key, value in self.variables.items():
            cmd += ["-set", key, str(value)]
        if self.rtp_echo:
            cmd += ["-rtp_echo"]
        cmd += self.extra
        if self.remote:
            host, port = self.remote
            cmd += [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
        return cmd

    def start(self):
        with open(self.stdout_path, "wb") as out:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=self.workdir,
                                            start_new_session=True)
        return self

    def bind_failed(self) -> bool:
        """sipp exited because a port we gave it was taken (errno 98)."""
        return self.process.poll() is not None and "Unable to bind" in _tail(self.stdout_path)

    def wait_listening(self, timeout=5.0, attempts=5):
        """For a UAS: waits until sipp itself holds its UDP/TCP port (a
        socket of its own, in /proc, on that port). When another process
        took a port between free_port() and sipp's bind, picks new ports and
        starts again (bounded), unless the caller chose the ports."""
        kinds = ("tcp", "tcp6") if self.transport.startswith("t") else ("udp", "udp6")

        def bound():
            if self.process.poll() is not None:
                if self.bind_failed() and self.ports_picked and attempts > 1:
                    return "retry"
                raise AssertionError(f"sipp exited with {self.process.returncode}:\n{self.logs()}")
            return process_holds_port(self.process.pid, self.port, kinds)
        outcome = wait_until(bound, timeout, f"sipp {self.name} to bind {self.ip}:{self.port}", interval=0.02)
        if outcome == "retry":
            self.port = free_port(self.ip, udp=True, tcp=True, netns=self.netns)
            self.media_port = free_port(self.ip, udp=True, tcp=False, span=4, netns=self.netns)
            self.name_files()
            return self.start().wait_listening(timeout, attempts - 1)
        return self

    def wait(self, timeout=None) -> int:
        """Its exit code; fails (with the logs) when it is still running after
        `timeout` (default: its own -timeout plus a margin)."""
        timeout = timeout if timeout is not None else self.timeout + 5.0
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"sipp {self.name} still running after {timeout} s:\n{self.logs()}")

    def assert_success(self, timeout=None):
        code = self.wait(timeout)
        assert code == 0, f"sipp {self.name} exited with {code}:\n{self.logs()}"
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        stop_process(self.process, timeout)

    def received(self, what) -> int:
        """How many messages starting with `what` ("INVITE", "SIP/2.0 200")
        this SIPp received, from its -trace_msg log (retransmissions that
        SIPp absorbs included)."""
        return len(self.received_messages(what))

    def received_messages(self, what) -> list:
        """The texts of the messages starting with `what` this SIPp
        received, in order, from its -trace_msg log."""
        blocks = re.split(r"^-{10,} [0-9-]+ [0-9:.]+$", self.messages(), flags=re.M)
        found = []
        for block in blocks:
            lines = block.strip().splitlines()
            if len(lines) >= 3 and " message received " in lines[0] and lines[2].startswith(what):
                found.append("\n".join(lines[2:]))
        return found

    def messages(self) -> str:
        return _tail(self.message_path, limit=10**7)

    def logs(self) -> str:
        parts = [f"$ {' '.join(self.command())}"]
        for label, path in (("output", self.stdout_path), ("screen", self.screen_path),
                            ("errors", self.error_path), ("messages", self.message_path)):
            text = _tail(path)
            if text:
                parts.append(f"--- {label} ({path}):\n{text}")
        return "\n".join(parts)


@pytest.fixture
def sipp(tmp_path):
    """Factory: `sipp.uas("uas_answer.xml", ...)` (started, bound) and
    `sipp.uac("uac_call.xml", remote=(host, port), ...)` (started) return Sipp
    children; `.assert_success()` waits for exit 0 or fails with the logs.
    Every child is stopped by its pid at the end of the test."""
    started = []
    workdir = tmp_path / "sipp"
    workdir.mkdir()

    class Factory:
        directory = workdir

        @staticmethod
        def create(scenario, **kwargs) -> Sipp:
            instance = Sipp(workdir, scenario, **kwargs)
            started.append(instance)
            return instance

        @staticmethod
        def uas(scenario="uas", **kwargs) -> Sipp:
            return Factory.create(scenario, **kwargs).start().wait_listening()

        @staticmethod
        def uac(scenario="uac", remote=None, **kwargs) -> Sipp:
            assert remote is not None, "a UAC needs remote=(host, port)"
            return Factory.create(scenario, remote=remote, **kwargs).start()

    yield Factory
    for instance in started:
        instance.stop()


# ---------------------------------------------------------------------------
# sipsak


def sipsak_register(kamailio: Kamailio, user, password, expires=60, timeout=10.0, contact=None, extra=()):
    """One REGISTER with digest auth by sipsak (-U, one round: -C contact);
    returns (exit code, output). sipsak exits 0 on a 2xx."""
    local_port = free_port(LOOPBACK, tcp=False)
    cmd = ["sipsak", "-U", "-s", f"sip:{user}@{kamailio.ip}:{kamailio.port}",
           "-a", password, "-u", user, "-l", str(local_port), "-H", LOOPBACK,
           "-C", contact or f"sip:{user}@{LOOPBACK}:{local_port}", "-x", str(expires), "-vv", *extra]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr
