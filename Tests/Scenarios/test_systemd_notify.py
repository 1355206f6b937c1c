"""atad speaks systemd's notification protocol itself (Type=notify):
READY when it serves, WATCHDOG while the loop turns, STOPPING on exit."""

import signal
import socket
import time

from conftest import write_site, wait_until


def receive_all(sock, deadline_s, until):
    """Collects datagrams until `until(messages)` holds or the deadline."""
    messages = []
    end = time.monotonic() + deadline_s
    for _ in range(1000):
        remaining = end - time.monotonic()
        if remaining <= 0 or until(messages):
            break
        sock.settimeout(remaining)
        try:
            messages.append(sock.recv(4096).decode())
        except socket.timeout:
            break
    return messages


def test_ready_watchdog_and_stopping(daemons, tmp_path, short_dir):
    notify_path = short_dir / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    try:
        control = short_dir / "control.sock"
        site = write_site(tmp_path / "atad.conf", control)
        daemon = daemons.start(site, control, tmp_path,
                               env={"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "200000"})
        messages = receive_all(listener, 10, lambda m: sum("WATCHDOG=1" in x for x in m) >= 2)
        ready = [m for m in messages if "READY=1" in m]
        assert ready, messages
        assert f"MAINPID={daemon.pid}" in ready[0], ready
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages
        daemon.signal(signal.SIGTERM)
        assert daemon.wait_exit() == 0
        tail = receive_all(listener, 5, lambda m: any("STOPPING=1" in x for x in m))
        assert any("STOPPING=1" in m for m in tail), tail
    finally:
        listener.close()


def test_without_notify_socket_nothing_is_sent(daemon):
    # The daemon fixture runs without NOTIFY_SOCKET; it must simply work.
    assert daemon.ctl("status").returncode == 0
