#!/usr/bin/env python3
"""`make demo`: a first call, with no hardware and no SIP server.

Two atad daemons run on loopback, each on the simulated board. Line 1 of
adapter A has an account with `register = no` whose domain is adapter B's
SIP address, so a number dialed on A goes straight to B. The script drives
both simulated handsets through the control socket (the commands of
`atad ctl`: hook, dtmf, say, hear, ringing, status) and checks each step of
a call: dial tone, dialing, B ringing, answer, a tone each way, a key relayed
as an RFC 4733 event, hang-up. It prints what each handset heard and the
first line of every SIP message A sent or received (from A's debug log).

Exit status 0 when every step happened; 1 with the failed step named
otherwise; 130 when interrupted. Both daemons are stopped, by pid, whatever
happens. Standard library only.

    python3 demo/demo.py [--atad PATH] [--slow] [--keep]

`--atad` (or $ATAD_BIN) picks the binary; `--slow` (or $ATAD_UNDER_QEMU)
stretches every deadline for an emulated CPU.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIM_BOARD = REPO / "Board" / "sim.conf"

# The country of both adapters and the tones it plays (Sources/CountryPresets).
COUNTRY = "us"
DIAL_TONE = [350, 440]
RINGBACK = [440, 480]
BUSY = [480, 620]
KEY = "5"
A_NUMBER, B_NUMBER = "1000", "2000"

HEARD = re.compile(r"^(\d+(?:\+\d+)*) Hz (-?\d+) dBm0 (.*)$")
SIP_ADDRESS = re.compile(r"^sip: (127\.0\.0\.1):(\d+)/udp$")
SIP_TRACE = re.compile(r"^\[\d+\.\d{3}\] debug: sip: (->|<-) (.*) \((?:to|from) \S+ (?:udp|tcp)\)$")


class StepFailed(Exception):
    pass


class Stopped(Exception):
    """SIGTERM: handled like Ctrl-C, so the daemons are stopped too."""


class Timing:
    def __init__(self, slow):
        # Generous upper bounds, not expected durations: each wait polls and
        # returns as soon as its condition holds. Under qemu the daemons run
        # on an emulated CPU many times slower, and `hear` alone takes up to
        # a second there.
        self.start = 90.0 if slow else 15.0
        self.step = 60.0 if slow else 15.0
        self.poll = 0.05
        self.hear_poll = 0.25 if slow else 0.05
        # A key held long enough for whole `hear` analyses to fall inside it.
        self.key_ms = 3000 if slow else 1500


def wait_for(what, probe, accept, timeout, interval):
    """Polls `probe` until `accept` takes what it returns, and returns that;
    fails the step with `what` and the last thing seen when the deadline
    passes."""
    deadline = time.monotonic() + timeout
    while True:
        seen = probe()
        if accept(seen):
            return seen
        if time.monotonic() >= deadline:
            raise StepFailed(f"timed out after {timeout:g} s waiting for {what} (last seen: {seen!r})")
        time.sleep(interval)


class Adapter:
    """One `atad run` on the simulated board, its control socket and log."""

    def __init__(self, name, atad, folder):
        self.name = name
        self.atad = atad
        self.folder = folder
        self.site = folder / f"{name.lower()}.conf"
        self.socket = folder / f"{name.lower()}.sock"
        self.log_path = folder / f"{name.lower()}.log"
        self.process = None
        self.log_offset = 0

    def write_site(self, account_domain, line_extra=""):
        # The lines keep the defaults a user gets (the echo canceller on).
        self.site.write_text(
            "[general]\n"
            f"board = {SIM_BOARD}\n"
            f"country = {COUNTRY}\n"
            "log_level = debug\n"
            f"control_socket = {self.socket}\n"
            "\n[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n"
            f"\n[account direct]\nuser = {A_NUMBER if self.name == 'A' else B_NUMBER}\n"
            f"domain = {account_domain}\nregister = no\n"
            "\n[line 1]\naccount = direct\n" + line_extra)

    def launch(self, timing):
        with open(self.log_path, "wb") as log:
            # Its own session: Ctrl-C reaches only this script, which then
            # stops the daemon itself.
            self.process = subprocess.Popen([self.atad, "run", "--config", str(self.site)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True)

        def status():
            if self.process.poll() is not None:
                raise StepFailed(f"atad {self.name} exited with status {self.process.returncode} while starting")
            try:
                return self.request("status", check=False)[0]
            except OSError as error:
                return str(error)
        wait_for(f"adapter {self.name} to answer on its control socket", status, lambda reply: reply == "ok",
                 timing.start, timing.poll)

    def stop(self):
        """SIGTERM, then SIGKILL after a deadline; by pid only."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def request(self, command, check=True):
        """One control-socket request (what `atad ctl` sends); the reply's
        lines, `ok` or `error: ...` first."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(30)
            connection.connect(str(self.socket))
            connection.sendall(command.encode() + b"\n")
            data = b""
            while b"\n\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
        lines = data.decode("utf-8", errors="replace").split("\n\n")[0].split("\n")
        if check and lines[0] != "ok":
            raise StepFailed(f"adapter {self.name} refused '{command}': {lines[0]}")
        return lines

    def status_line(self, prefix):
        return next((line for line in self.request("status")[1:] if line.startswith(prefix)), "")

    def line_state(self):
        return self.status_line("line 1: ")[len("line 1: "):]

    def media(self):
        """The call's media figures from `status`, without the `media: `."""
        return self.status_line("call line 1: ")[len("call line 1: media: "):]

    def sip_address(self):
        for line in self.request("status")[1:]:
            match = SIP_ADDRESS.match(line)
            if match:
                return match.group(1), int(match.group(2))
        raise StepFailed(f"adapter {self.name}'s status shows no SIP address")

    def hear(self):
        """(frequencies, what `hear` reported) for the earpiece of line 1."""
        report = self.request("hear 1")[1]
        match = HEARD.match(report)
        return ([int(f) for f in match.group(1).split("+")] if match else []), report

    def keys_heard(self):
        """What `hear` lists as `keys heard:` (the earpiece's DTMF
        receiver), or "" before any."""
        lines = self.request("hear 1")
        return next((l[len("keys heard: "):] for l in lines if l.startswith("keys heard: ")), "")

    def new_sip_lines(self):
        """The SIP start lines traced in the log since the last call:
        (arrow, start line)."""
        with open(self.log_path, "rb") as log:
            log.seek(self.log_offset)
            data = log.read()
        complete = data[:data.rfind(b"\n") + 1]
        self.log_offset += len(complete)
        found = []
        for line in complete.decode("utf-8", errors="replace").splitlines():
            match = SIP_TRACE.match(line)
            if match:
                found.append((match.group(1), match.group(2)))
        return found

    def log_tail(self, count=15):
        try:
            return self.log_path.read_text(errors="replace").splitlines()[-count:]
        except OSError:
            return []


class Demo:
    def __init__(self, atad, timing, folder):
        self.timing = timing
        self.a = Adapter("A", atad, folder)
        self.b = Adapter("B", atad, folder)
        self.step_name = "start the adapters"
        self.step_number = 0
        self.began = time.monotonic()
        self.sip_seen = []

    # Transcript

    def step(self, title, command=None):
        self.step_number += 1
        self.step_name = title
        text = f"{self.step_number}. {title}"
        if command:
            text = f"{text:<44} > {command}"
        print(text, flush=True)

    @staticmethod
    def show(label, text):
        print(f"   {label:<9} {text}", flush=True)

    def wait(self, what, probe, accept, interval=None):
        return wait_for(what, probe, accept, self.timing.step, interval or self.timing.poll)

    def wait_to_hear(self, adapter, frequencies, what):
        found, report = self.wait(f"{what} ({'+'.join(map(str, frequencies))} Hz) on line {adapter.name}",
                                  adapter.hear, lambda heard: sorted(heard[0]) == frequencies,
                                  self.timing.hear_poll)
        self.show(f"{adapter.name} hears", report)

    def wait_for_sip(self, expected):
        """Waits until A's log shows the start lines beginning with
        `expected`, in that order, since the last step; prints them all."""
        pending = list(expected)
        collected = []

        def arrived():
            for arrow, line in self.a.new_sip_lines():
                collected.append((arrow, line))
                if pending and line.startswith(pending[0]):
                    pending.pop(0)
            return pending
        try:
            self.wait("SIP messages " + ", ".join(expected) + " in A's log", arrived, lambda left: not left)
        finally:
            for arrow, line in collected:
                self.show("SIP", f"A {arrow} B  {line}")
            self.sip_seen += [line for _, line in collected]

    def wait_for_state(self, adapter, prefix):
        state = self.wait(f"line {adapter.name} to be {prefix}", adapter.line_state,
                          lambda state: state.startswith(prefix))
        self.show(f"{adapter.name} line", state)

    # The call

    def run(self):
        a, b, t = self.a, self.b, self.timing
        b.write_site("127.0.0.1")
        b.launch(t)
        b_host, b_port = b.sip_address()
        a.write_site(f"{b_host}:{b_port}", line_extra=f"dial_plan = ({B_NUMBER[0]}xxx)\n")
        a.launch(t)
        a_host, a_port = a.sip_address()
        print(f"atad demo: a call between two simulated adapters on loopback (country {COUNTRY})")
        print(f"   B: pid {b.process.pid}, SIP {b_host}:{b_port}/udp, line 1 answers as {B_NUMBER}")
        print(f"   A: pid {a.process.pid}, SIP {a_host}:{a_port}/udp, line 1 calls {B_NUMBER} "
              f"at {b_host}:{b_port} directly (register = no)")
        print("   'hears' is the `hear` report: frequencies, level, and the on/off cadence measured so far")
        print("   (a new sound's first cadence still counts the sounds before it).")
        print(flush=True)

        self.step("A lifts the handset", "A: hook 1 off")
        a.request("hook 1 off")
        self.wait_for_state(a, "dialtone")
        self.wait_to_hear(a, DIAL_TONE, "the dial tone")

        self.step(f"A dials {B_NUMBER}", f"A: dtmf 1 {B_NUMBER}")
        a.request(f"dtmf 1 {B_NUMBER}")
        self.wait_for_sip(["INVITE ", "SIP/2.0 100 ", "SIP/2.0 180 "])

        self.step("B rings")
        self.wait_for_state(b, "ringing")
        bell = re.compile(r"^yes \d+ Hz")
        self.show("B bell", self.wait("B's bell to ring at its frequency", lambda: b.request("ringing 1")[1],
                                      bell.match))
        self.wait_for_state(a, "ringback")
        self.wait_to_hear(a, RINGBACK, "the ringback tone")

        self.step("B answers", "B: hook 1 off")
        b.request("hook 1 off")
        self.wait_for_sip(["SIP/2.0 200 ", "ACK "])
        self.wait_for_state(a, "talking")
        self.wait_for_state(b, "talking")

        self.step("A speaks: a tone from A to B", "A: say 1 tone 1000 -10")
        a.request("say 1 tone 1000 -10")
        self.wait_to_hear(b, [1000], "A's tone")

        self.step("B speaks too: a tone from B to A", "B: say 1 tone 700 -12")
        b.request("say 1 tone 700 -12")
        self.wait_to_hear(a, [700], "B's tone")
        self.wait_to_hear(b, [1000], "A's tone, both ways at once")

        self.step(f"A presses {KEY}: an RFC 4733 event to B", f"A: dtmf 1 {KEY} --on {t.key_ms}")
        a.request("say 1 silence")
        b.request("say 1 silence")
        a.request(f"dtmf 1 {KEY} --on {t.key_ms}")
        # The earpiece's own DTMF receiver: the key heard, once.
        self.show("B hears", self.wait(f"B's earpiece to hear the key {KEY}", b.keys_heard,
                                       lambda keys: keys == KEY, self.timing.hear_poll))
        sent = re.compile(r"digits sent ([1-9]\d*) ")
        received = re.compile(r"digits sent \d+ received ([1-9]\d*)")
        self.show("A media", self.wait("A's status to count the key sent", a.media, sent.search))
        self.show("B media", self.wait("B's status to count the key received", b.media, received.search))

        self.step("A hangs up", "A: hook 1 on")
        a.request("hook 1 on")
        self.wait_for_sip(["BYE ", "SIP/2.0 200 "])
        self.wait_for_state(a, "idle")
        self.wait("line B to learn of the hang-up", b.line_state,
                  lambda state: state and not state.startswith("talking"))
        self.wait_to_hear(b, BUSY, "the busy tone (the far end hung up)")

        self.step("B hangs up", "B: hook 1 on")
        b.request("hook 1 on")
        self.wait_for_state(b, "idle")
        self.wait_for_state(a, "idle")

        print()
        print(f"demo passed: every step happened in {time.monotonic() - self.began:.1f} s; "
              f"{len(self.sip_seen)} SIP messages.")

    def stop(self):
        for adapter in (self.a, self.b):
            adapter.stop()


def main():
    parser = argparse.ArgumentParser(description="A first call between two simulated atad adapters.")
    parser.add_argument("--atad", default=os.environ.get("ATAD_BIN") or str(REPO / ".build-firmware" / "atad"),
                        help="the atad binary (default: $ATAD_BIN, else .build-firmware/atad)")
    parser.add_argument("--slow", action="store_true", default=bool(os.environ.get("ATAD_UNDER_QEMU")),
                        help="long deadlines, for an emulated CPU (default when $ATAD_UNDER_QEMU is set)")
    parser.add_argument("--keep", action="store_true", help="keep the folder with the configs and logs")
    options = parser.parse_args()
    if not (os.path.isfile(options.atad) and os.access(options.atad, os.X_OK)):
        print(f"demo: no atad binary at {options.atad}: run `make firmware` or pass --atad", file=sys.stderr)
        return 1

    def stopped(number, frame):
        raise Stopped()
    signal.signal(signal.SIGTERM, stopped)

    # A short path: a socket's path must fit in 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="atad-demo-", dir="/tmp"))
    demo = Demo(options.atad, Timing(options.slow), folder)
    status = 1
    try:
        demo.run()
        status = 0
    except StepFailed as failure:
        print(f"\ndemo FAILED at step {demo.step_number} ({demo.step_name}): {failure}", file=sys.stderr)
        for adapter in (demo.a, demo.b):
            tail = adapter.log_tail()
            if tail:
                print(f"--- last lines of adapter {adapter.name}'s log:", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)
    except (KeyboardInterrupt, Stopped):
        print(f"\ndemo interrupted at step {demo.step_number} ({demo.step_name})", file=sys.stderr)
        status = 130
    except OSError as error:
        print(f"\ndemo FAILED at step {demo.step_number} ({demo.step_name}): {error}", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()
        if options.keep:
            print(f"configs and logs kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
