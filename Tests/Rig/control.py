"""`atad ctl` without a new process, for the rig: one request over the
scenario suite's ControlConnection, its reply as `atad ctl` would print
it, with its exit status (0; 1 for an error reply; 3 when the daemon
cannot be reached or does not answer)."""


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


def socket_control(connection_class):
    """A `ctl(daemon, *words, timeout=10)` method that speaks to the
    daemon's socket through `connection_class` (ControlConnection)."""

    def ctl(daemon, *words, timeout=10):
        try:
            connection = connection_class(daemon.socket, timeout=timeout)
        except OSError as error:
            return SocketResult(3, stderr=f"atad ctl: cannot connect to {daemon.socket}: {error}\n")
        try:
            if not connection.send((" ".join(str(word) for word in words) + "\n").encode()):
                return SocketResult(3, stderr=f"atad ctl: cannot send to {daemon.socket}\n")
            lines = connection.reply()
        except (AssertionError, OSError) as error:
            return SocketResult(3, stderr=f"atad ctl: no complete reply from {daemon.socket}: {error}\n")
        finally:
            connection.close()
        text = "".join(line + "\n" for line in lines)
        return SocketResult(0, stdout=text) if lines[0] == "ok" else SocketResult(1, stderr=text)
    return ctl
