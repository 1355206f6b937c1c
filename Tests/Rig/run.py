#!/usr/bin/env python3
"""Boots the rig (a real Linux kernel under qemu, with gpio-sim and snd-aloop)
and runs one command in it, in a chroot of this machine's root, from the
current folder.

    python3 Tests/Rig/run.py [--timeout S] [--env NAME]... -- COMMAND [ARG]...

The command's output comes back on the serial console (printed here as it
arrives, and kept in the run's console.log); its exit status comes back
through the run's results folder, shared with the guest over 9p at the same
path, where the command may leave files too. Exits with the command's
status, or 124 when the run timed out and 125 when the rig failed. qemu is
always stopped, by its pid.

Needs Tests/Rig/prepare.sh to have run (it writes .build-rig/rig.env).

qemu emulates the guest's two CPUs and keeps the cores busy: the run takes the
machine's build lock (/tmp/atad-swift-build.lock, or $RIG_LOCK; RIG_LOCK=
for none) so it does not overlap Swift builds or timing-sensitive tests.
Do not run it under `flock` on that file yourself: it would wait for itself.
"""

import argparse
import fcntl
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAFE_PATH = re.compile(r"^[A-Za-z0-9/._+-]+$")
# Variables the guest command gets from here (besides PATH and --env ones).
PASSED = ("LANG", "LC_ALL", "TZ")


def read_env(path: Path) -> dict:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def write_command(run_dir: Path, command, env_names) -> None:
    lines = ["# written by Tests/Rig/run.py; runs in the guest's chroot of the host's root",
             f"cd {shlex.quote(os.getcwd())} || exit 125"]
    exports = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "ATAD_RIG": "1",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
               # The serial console is a terminal, but its log is read as text.
               "PY_COLORS": "0", "NO_COLOR": "1"}
    for name in (*PASSED, *env_names):
        if name in os.environ:
            exports[name] = os.environ[name]
    for name, value in exports.items():
        lines.append(f"export {name}={shlex.quote(value)}")
    lines.append("exec " + " ".join(shlex.quote(word) for word in command))
    (run_dir / "command.sh").write_text("\n".join(lines) + "\n")


def qemu_command(rig: dict, run_dir: Path, memory_mb: int, verbose: bool):
    append = f"console=ttyS0 panic=-1 mitigations=off rig_results={run_dir} rig_checkout={REPO}"
    if not verbose:
        append += " quiet loglevel=3"
    # Two vCPUs (multi-threaded TCG, one host thread each): on one, the box's
    # atad, the far end's, the test's hybrid and recorder threads and every
    # `atad ctl` shared a CPU emulated several times slower than the host,
    # and the audio ran dry every few seconds (xruns moved the echo path,
    # the ringer's timers fired late); five full runs in stop 18 each
    # failed a different timing test. ATAD_RIG_CPUS=1 for the old setting.
    return [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-smp", os.environ.get("ATAD_RIG_CPUS", "2"), "-m", str(memory_mb),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-serial", "stdio", "-nic", "none",
        "-kernel", rig["KERNEL"], "-initrd", rig["INITRD"], "-append", append,
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={run_dir},mount_tag=results,security_model=none",
    ]


def run(command, timeout: float, env_names, memory_mb: int, verbose: bool, keep: bool) -> int:
    cache = Path(os.environ.get("RIG_CACHE", REPO / ".build-rig"))
    env_file = cache / "rig.env"
    if not env_file.is_file():
        print(f"rig: {env_file} missing: run Tests/Rig/prepare.sh first", file=sys.stderr)
        return 125
    rig = read_env(env_file)
    if shutil.which("qemu-system-x86_64") is None:
        print("rig: qemu-system-x86_64 missing (Debian package qemu-system-x86)", file=sys.stderr)
        return 125

    runs = cache / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_dir = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    run_dir.mkdir()
    if not SAFE_PATH.match(str(run_dir)) or not SAFE_PATH.match(os.getcwd()):
        print(f"rig: paths must be plain (letters, digits, / . _ + -): {run_dir}, {os.getcwd()}", file=sys.stderr)
        return 125
    write_command(run_dir, command, env_names)

    lock = take_lock()
    try:
        return boot(rig, run_dir, timeout, memory_mb, verbose, keep)
    finally:
        if lock is not None:
            lock.close()


def take_lock():
    path = os.environ.get("RIG_LOCK", "/tmp/atad-swift-build.lock")
    if not path:
        return None
    lock = open(path, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"rig: waiting for {path} (a build or test run holds it)", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def boot(rig, run_dir: Path, timeout: float, memory_mb: int, verbose: bool, keep: bool) -> int:
    started = time.monotonic()
    deadline = started + timeout
    console = open(run_dir / "console.log", "wb")
    qemu = subprocess.Popen(qemu_command(rig, run_dir, memory_mb, verbose), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    ready_at = None
    marker = None
    try:
        selector = selectors.DefaultSelector()
        selector.register(qemu.stdout, selectors.EVENT_READ)
        pending = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not selector.select(timeout=min(remaining, 1.0)):
                if qemu.poll() is not None:
                    break
                continue
            chunk = os.read(qemu.stdout.fileno(), 65536)
            if not chunk:
                break
            console.write(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", errors="replace").rstrip("\r")
                if line.startswith("rig: ready at") and ready_at is None:
                    ready_at = time.monotonic()
                match = re.match(r"^RIG-EXIT (\d+)$", line)
                if match:
                    marker = int(match.group(1))
                else:
                    print(line, flush=True)
        if pending:
            print(pending.decode("utf-8", errors="replace"), flush=True)
    finally:
        # Stop qemu whatever happened: by its pid, SIGKILL after a grace period.
        if qemu.poll() is None:
            try:
                qemu.wait(timeout=0 if timed_out else 5)
            except subprocess.TimeoutExpired:
                pass
        if qemu.poll() is None:
            os.kill(qemu.pid, 9)
            qemu.wait(timeout=10)
        console.close()

    finished = time.monotonic()
    status_file = run_dir / "exit-code"
    if timed_out:
        status = 124
        print(f"rig: timed out after {timeout:.0f} s; qemu (pid {qemu.pid}) killed", file=sys.stderr)
    elif status_file.is_file():
        status = int(status_file.read_text().strip() or 125)
    elif marker is not None:
        status = marker
    else:
        status = 125
        print(f"rig: the guest ended without an exit status (qemu exit {qemu.returncode})", file=sys.stderr)
    boot = f"{ready_at - started:.1f} s to the command" if ready_at else "command never started"
    print(f"rig: exit {status}; {boot}, {finished - started:.1f} s in all; console log {run_dir}/console.log",
          file=sys.stderr)
    if status == 0 and not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before qemu is killed (300)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME",
                        help="pass this environment variable to the command (repeatable)")
    parser.add_argument("--memory", type=int, default=512, help="guest memory in MB (512)")
    parser.add_argument("--verbose", action="store_true", help="show the kernel's boot messages")
    parser.add_argument("--keep", action="store_true", help="keep the results folder of a passing run")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    return run(command, args.timeout, args.env, args.memory, args.verbose, args.keep)


if __name__ == "__main__":
    sys.exit(main())
