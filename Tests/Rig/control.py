"""The control socket spoken to from the test itself, for the rig: a
request line out, the reply (`ok` or `error: MESSAGE`, its lines, an
empty line) back, as `atad ctl` would print it and with its exit status
(0, 1 for an error reply, 3 when the daemon cannot be reached)."""

import socket
import time


class SocketResult:
    """What `atad ctl` would have printed, and its exit status."""

    def __init__(self, returncode, stdout="", stderr=""):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def out_lines(self):
        return self.stdout.splitlines()

    @property
    def err_lines(self):
        return self.stderr.splitlines()

    def __repr__(self):
        return f"<exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}>"


def socket_ctl(daemon, *words, timeout=10):
    """One request to `daemon`'s control socket (a method of the scenario
    suite's Daemon in the rig)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        try:
            connection.connect(str(daemon.socket))
            connection.sendall((" ".join(str(word) for word in words) + "\n").encode())
            data = b""
            while not data.startswith(b"\n") and b"\n\n" not in data:
                if time.monotonic() > deadline:
                    return SocketResult(3, stderr=f"no complete reply from {daemon.socket}")
                chunk = connection.recv(65536)
                if not chunk:
                    return SocketResult(3, stderr=f"no complete reply from {daemon.socket}")
                data += chunk
        except OSError as error:
            return SocketResult(3, stderr=f"cannot reach {daemon.socket}: {error}")
    lines = data.decode("utf-8", errors="replace").split("\n\n", 1)[0].split("\n")
    text = "".join(line + "\n" for line in lines)
    if lines[0] == "ok":
        return SocketResult(0, stdout=text)
    return SocketResult(1, stderr=text)
