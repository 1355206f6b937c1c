"""PJSIP (pjsua2-python from PyPI) as a far end for the atad media tests:
a second, independent SIP stack on 127.0.0.1 that plays a tone file into
every call and records what it receives.

pjsua2's endpoint runs in a child Python process (this file run as a
script), never inside pytest: its library state, its own media threads and
its teardown stay out of the test process. The child polls pjsua2 from its
one Python thread (`threadCnt = 0`, `mainThreadOnly`, media `threadCnt = 0`:
SIP and RTP are handled inside `libHandleEvents`), so no pjsua2 callback
ever runs on a foreign thread. The audio clock is the null sound device's
(`setNullDev`); no sound card is needed.

The child's media: the conference bridge at 8 kHz mono; G.711 only (PCMU,
then PCMA; every other codec has priority 0, which disables it); an
`AudioMediaPlayer` looping a sox-made sine WAV into each call; an
`AudioMediaRecorder` per call writing what the far end sends to
`<workdir>/received-<n>.wav` (8 kHz mono 16-bit, its size fields filled in
only when it is closed, so readers take the data chunk to the end of the
file).

The line protocol, one JSON object per line. The parent writes commands to
the child's stdin: {"id": 3, "cmd": "dial", "uri": "sip:..."}, "answer"
(the newest incoming call, 200 with SDP), "hangup" (every call), "quit".
The child answers each on its stdout with {"reply": 3, "ok": true, ...} or
{"reply": 3, "ok": false, "error": "..."}, and reports events as
{"event": "ready", "port": N}, "incoming" (remote), "state" (every call
state), "confirmed", "media" (codec, recording), "disconnected" (code,
reason), "registered" (code), "transfer_request" (a REFER taken: its
target; pjsua2 then calls it and reports by NOTIFY), "replaced" (an INVITE
with Replaces took a call's place: pjsua2 answers it and hangs the old one
up). pjlib's own console output is moved off the
protocol stream to stderr, which the parent sends to a log file.

Every wait is a condition polled against a deadline; the child has a
lifetime cap and quits on stdin's end or SIGTERM; the parent stops it by
its pid (quit, then SIGTERM, then SIGKILL).
"""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
SAMPLE_RATE = 8000
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# The child ends itself after this long whatever happens (a test takes
# seconds; this only bounds an orphan).
CHILD_LIFETIME = 300.0
RTP_PORT_SPAN = 16


# ---------------------------------------------------------------------------
# The child: pjsua2 itself


def serve(settings):
    """Runs one pjsua2 endpoint until told to quit. `settings` is the dict
    the parent passed on the command line."""
    import pjsua2 as pj

    # The protocol gets its own copy of stdout; fd 1 then points at stderr,
    # so whatever pjlib prints lands in the log, not in the protocol.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def emit(message):
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    workdir = Path(settings["workdir"])

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.uaConfig.maxCalls = 4
    config.uaConfig.userAgent = "pjsua2-python atad test peer"
    config.logConfig.level = 5
    config.logConfig.consoleLevel = 4
    config.medConfig.threadCnt = 0
    config.medConfig.clockRate = SAMPLE_RATE
    config.medConfig.sndClockRate = SAMPLE_RATE
    config.medConfig.channelCount = 1
    config.medConfig.noVad = True
    config.medConfig.ecTailLen = 0
    endpoint.libInit(config)

    transport_config = pj.TransportConfig()
    transport_config.boundAddress = LOOPBACK
    transport_config.port = 0
    transport = endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport_config)
    sip_port = int(endpoint.transportGetInfo(transport).localName.rsplit(":", 1)[1])
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()

    for codec in endpoint.codecEnum2():
        endpoint.codecSetPriority(codec.codecId, 0)
    endpoint.codecSetPriority("PCMU/8000/1", 255)
    endpoint.codecSetPriority("PCMA/8000/1", 254)

    player = pj.AudioMediaPlayer()
    player.createPlayer(settings["tone_path"])  # loops at the end of the file

    calls = {}          # call id -> Call, kept so Python does not free them
    adopted = []        # Calls handed to pjsua2 for transfers and Replaces, kept likewise
    recorders = {}      # call id -> AudioMediaRecorder
    finished = []       # calls disconnected, freed from the main loop
    recordings = {"count": 0}

    class Call(pj.Call):
        def onCallState(self, prm):
            info = self.getInfo()
            calls.setdefault(info.id, self)  # a call pjsua2 made for a transfer or a Replaces
            emit({"event": "state", "call": info.id, "state": info.stateText, "code": info.lastStatusCode})
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                emit({"event": "confirmed", "call": info.id, "remote": info.remoteUri})
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                emit({"event": "disconnected", "call": info.id, "code": info.lastStatusCode,
                      "reason": info.lastReason})
                finished.append(info.id)

        def onCallMediaState(self, prm):
            info = self.getInfo()
            for media in info.media:
                if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                    continue
                audio = self.getAudioMedia(media.index)
                player.startTransmit(audio)
                if info.id not in recorders:
                    recordings["count"] += 1
                    path = workdir / f"received-{recordings['count']}.wav"
                    recorder = pj.AudioMediaRecorder()
                    recorder.createRecorder(str(path))
                    recorders[info.id] = (recorder, path)
                recorder, path = recorders[info.id]
                audio.startTransmit(recorder)
                stream = self.getStreamInfo(media.index)
                emit({"event": "media", "call": info.id, "codec": stream.codecName,
                      "remote": stream.remoteRtpAddress, "recording": str(path)})

        def onCallTransferRequest(self, prm):
            # A REFER: accepted (202), and pjsua2 calls the target with a
            # Call of ours; it reports the new call's progress by NOTIFY.
            if settings.get("refuse_transfers"):
                prm.statusCode = 603  # Decline
            else:
                adopted.append(Call(account))
                prm.newCall = adopted[-1]
            emit({"event": "transfer_request", "call": self.getId(), "target": prm.dstUri})

        def onCallTransferStatus(self, prm):
            # The NOTIFYs about a transfer we asked for (our xfer's REFER).
            emit({"event": "transfer_status", "call": self.getId(), "code": prm.statusCode,
                  "reason": prm.reason, "final": bool(prm.finalNotify)})

        def onCallReplaced(self, prm):
            # An INVITE with Replaces took this call's place: pjsua2 answers
            # it and hangs this one up.
            adopted.append(Call(account, prm.newCallId))
            prm.newCall = adopted[-1]
            emit({"event": "replaced", "call": self.getId(), "new_call": prm.newCallId})

    class Account(pj.Account):
        def onIncomingCall(self, prm):
            call = Call(self, prm.callId)
            info = call.getInfo()
            calls[info.id] = call
            emit({"event": "incoming", "call": info.id, "remote": info.remoteUri})
            answer = pj.CallOpParam()
            answer.statusCode = 200 if settings["auto_answer"] else 180
            call.answer(answer)

        def onRegState(self, prm):
            emit({"event": "registered" if prm.code // 100 == 2 else "register_failed", "code": prm.code,
                  "reason": prm.reason})

    account_config = pj.AccountConfig()
    registrar = settings.get("registrar")
    if registrar:
        domain = settings.get("domain") or registrar
        account_config.idUri = f"sip:{settings['user']}@{domain}"
        account_config.regConfig.registrarUri = f"sip:{registrar}"
        if settings.get("password") is not None:
            account_config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", settings["user"], 0, settings["password"]))
    else:
        account_config.idUri = f"sip:{settings['user']}@{LOOPBACK}:{sip_port}"
        account_config.regConfig.registerOnAdd = False
    account_config.sipConfig.transportId = transport
    account_config.natConfig.iceEnabled = False
    account_config.natConfig.sdpNatRewriteUse = False
    account_config.natConfig.contactRewriteUse = False
    account_config.natConfig.viaRewriteUse = False
    account_config.mediaConfig.transportConfig.boundAddress = LOOPBACK
    account_config.mediaConfig.transportConfig.port = settings["rtp_port"]
    account_config.mediaConfig.transportConfig.portRange = RTP_PORT_SPAN
    account = Account()
    account.create(account_config)

    def run_command(command):
        name = command.get("cmd")
        if name == "dial":
            call = Call(account)
            call.makeCall(command["uri"], pj.CallOpParam(True))
            calls[call.getId()] = call
            return {"call": call.getId()}
        if name == "answer":
            ringing = [c for c in calls.values() if c.isActive()
                       and c.getInfo().state in (pj.PJSIP_INV_STATE_INCOMING, pj.PJSIP_INV_STATE_EARLY)]
            if not ringing:
                raise ValueError("no incoming call to answer")
            answer = pj.CallOpParam()
            answer.statusCode = 200
            ringing[-1].answer(answer)
            return {"call": ringing[-1].getId()}
        if name == "hangup":
            active = [c for c in calls.values() if c.isActive()]
            if not active:
                raise ValueError("no call to hang up")
            for call in active:
                call.hangup(pj.CallOpParam())
            return {"calls": len(active)}
        if name == "transfer":
            up = [c for c in calls.values() if c.isActive() and c.getInfo().state == pj.PJSIP_INV_STATE_CONFIRMED]
            if not up:
                raise ValueError("no call to transfer")
            up[-1].xfer(command["uri"], pj.CallOpParam(True))
            return {"call": up[-1].getId()}
        if name == "quit":
            stopping["now"] = True
            return {}
        raise ValueError(f"unknown command {name!r}")

    emit({"event": "ready", "port": sip_port, "pid": os.getpid()})
    deadline = time.monotonic() + CHILD_LIFETIME
    pending = b""
    while not stopping["now"] and time.monotonic() < deadline:
        endpoint.libHandleEvents(10)
        while finished:
            call_id = finished.pop()
            calls.pop(call_id, None)
            recorders.pop(call_id, None)  # closing the recorder completes its WAV header
        readable, _, _ = select.select([sys.stdin], [], [], 0)
        if not readable:
            continue
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            break  # the parent went away
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            try:
                command = json.loads(line)
            except ValueError:
                emit({"reply": None, "ok": False, "error": f"not JSON: {line[:100]!r}"})
                continue
            try:
                emit({"reply": command.get("id"), "ok": True, **run_command(command)})
            except (pj.Error, ValueError, KeyError) as error:
                text = error.info() if isinstance(error, pj.Error) else str(error)
                emit({"reply": command.get("id"), "ok": False, "error": text})

    # Hang up, let the BYEs go out, then tear the library down (which closes
    # the recorders) and leave without running Python's finalizers over
    # pjsua2 objects whose library is gone.
    endpoint.hangupAllCalls()
    end = time.monotonic() + 1.0
    while time.monotonic() < end and any(c.isActive() for c in calls.values()):
        endpoint.libHandleEvents(10)
    recorders.clear()
    endpoint.libDestroy()
    emit({"event": "stopped"})
    protocol.flush()
    os._exit(0)


# ---------------------------------------------------------------------------
# The parent: the handle the tests use


class PjsipPeer:
    """One pjsua2 child: user `user` at 127.0.0.1:`sip_port` (known once
    started).

    registrar=None: no registration, reached directly at
    sip:user@127.0.0.1:sip_port. registrar="host:port": registers
    user@domain there with `password` (domain defaults to the registrar).
    auto_answer: 200 at once, else 180 until `answer()`. tone: the
    frequency of the sine it sends. refuse_transfers: a REFER gets 603."""

    def __init__(self, workdir, user="pjsip", tone=440.0, tone_level=0.3, auto_answer=True, registrar=None,
                 password=None, domain=None, refuse_transfers=False):
        from baresip_peer import make_tone_wav
        from sip_peers import free_port

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.tone = tone
        self.tone_path = make_tone_wav(self.workdir / "source.wav", tone, level=tone_level)
        self.settings = {"workdir": str(self.workdir), "user": user, "tone_path": str(self.tone_path),
                         "auto_answer": auto_answer, "registrar": registrar, "password": password,
                         "domain": domain, "refuse_transfers": refuse_transfers,
                         "rtp_port": free_port(LOOPBACK, udp=True, tcp=False, span=RTP_PORT_SPAN)}
        self.log_path = self.workdir / "pjsip.log"
        self.sip_port = None
        self.process = None
        self.lock = threading.Lock()
        self.events_seen = []
        self.replies = {}
        self.next_id = 0
        self.reader = None

    # -- life cycle

    def start(self, timeout=START_TIMEOUT):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), json.dumps(self.settings)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=self.workdir,
                start_new_session=True)
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()
        ready = self.wait_for_event("ready", timeout)
        self.sip_port = ready["port"]
        return self

    def _read_loop(self):
        for raw in self.process.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            with self.lock:
                if "reply" in message:
                    self.replies[message["reply"]] = message
                else:
                    message["received_at"] = time.monotonic()
                    self.events_seen.append(message)

    def stop(self, timeout=STOP_TIMEOUT):
        """quit, then SIGTERM and SIGKILL by pid (stop_process)."""
        from sip_peers import stop_process

        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.process.stdin.write(b'{"cmd": "quit"}\n')
                self.process.stdin.flush()
                self.process.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_process(self.process, timeout, group=True)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.reader is not None:
            self.reader.join(timeout)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    @property
    def uri(self) -> str:
        """Where to call it directly."""
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port}"

    def log(self, limit=200_000) -> str:
        from sip_peers import _tail
        return _tail(self.log_path, limit=limit)

    # -- commands and events

    def command(self, name, timeout=5.0, **params) -> dict:
        """Sends one command; its reply (a dict with "ok")."""
        from conftest import wait_until

        assert self.running(), f"the pjsua2 child is not running:\n{self.log()}"
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        self.process.stdin.write((json.dumps({"id": ident, "cmd": name, **params}) + "\n").encode())
        self.process.stdin.flush()

        def reply():
            if self.process.poll() is not None:
                raise AssertionError(f"the pjsua2 child exited with {self.process.returncode}:\n{self.log()}")
            with self.lock:
                return self.replies.pop(ident, None)
        return wait_until(reply, timeout, f"pjsua2's reply to {name}")

    def dial(self, uri) -> dict:
        return self.command("dial", uri=uri)

    def answer(self) -> dict:
        return self.command("answer")

    def hangup(self) -> dict:
        return self.command("hangup")

    def transfer(self, uri) -> dict:
        """REFERs the far end of our call that is up to `uri` (blind)."""
        return self.command("transfer", uri=uri)

    def events(self, kind=None) -> list:
        """Events so far, optionally of one kind ("incoming", "confirmed",
        "media", "disconnected", "state", "registered", ...)."""
        with self.lock:
            seen = list(self.events_seen)
        return [e for e in seen if kind is None or e.get("event") == kind]

    def wait_for_event(self, kind, timeout=10.0, count=1) -> dict:
        """The `count`-th event of `kind`, waiting until `timeout`."""
        from conftest import wait_until

        def seen():
            found = self.events(kind)
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                raise AssertionError(f"the pjsua2 child exited with {self.process.returncode}")
            return None
        try:
            return wait_until(seen, timeout, f"pjsua2 event {kind}", interval=0.02)
        except AssertionError as error:
            raise AssertionError(f"{error}\nevents: {[(e.get('event'), e.get('state')) for e in self.events()]}\n"
                                 f"log (end):\n{self.log(limit=20_000)}") from None

    # -- recordings

    @property
    def received_audio_path(self):
        """The recording of the latest call's received audio (None before
        the first call's media started)."""
        media = self.events("media")
        return Path(media[-1]["recording"]) if media else None

    def received_audio(self, path=None) -> list:
        from baresip_peer import read_wav

        path = path or self.received_audio_path
        return read_wav(path) if path is not None and Path(path).exists() else []

    def wait_received_audio(self, seconds, timeout=10.0) -> list:
        """Waits until the latest recording holds `seconds` of audio."""
        from conftest import wait_until

        def enough():
            samples = self.received_audio()
            return samples if len(samples) >= seconds * SAMPLE_RATE else None
        return wait_until(enough, timeout, f"{seconds} s of audio received by pjsua2", interval=0.05)


def pjsip_factory():
    """Factory for the `pjsip` fixture (defined in the tests that use it,
    so this file stays importable without pytest)."""
    import shutil
    import tempfile

    started = []
    workdirs = []

    class Factory:
        @staticmethod
        def start(**kwargs) -> PjsipPeer:
            workdir = Path(tempfile.mkdtemp(prefix="pjsip-", dir="/tmp"))
            workdirs.append(workdir)
            peer = PjsipPeer(workdir, **kwargs)
            started.append(peer)
            return peer.start()

        @staticmethod
        def stop_all():
            for peer in started:
                peer.stop()
            for workdir in workdirs:
                shutil.rmtree(workdir, ignore_errors=True)

    return Factory


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
