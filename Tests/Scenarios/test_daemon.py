"""`atad run` on the simulated board: status over `atad ctl`, shutdown by
signal and by `ctl quit`, one daemon per socket, stale sockets."""

import os
import signal

import pytest

from conftest import STATUS_DAEMON_LINE, assert_healthy, expected_status, run_atad, write_site

# The reply to `help`: every control command the daemon understands.
HELP_REPLY = ["ok", "status", "reload", "quit", "help", "hook LINE off|on", "flash LINE [MS]", "dtmf LINE DIGITS [--level DBM0] [--twist DB] [--on MS] [--off MS] [--shift PERMILLE] [--shift-hz HZ]", "pulse LINE DIGITS [--pps N] [--break PERCENT]", "say LINE tone F1[+F2] [LEVEL] | say LINE silence | say LINE file PATH", "hear LINE [HZ ...]", "ring LINE [stop]", "ringing LINE", "hybrid LINE off | hybrid LINE DELAY_MS [LOSS_DB]", "record LINE PATH SECONDS | record LINE stop", "ack LINE D|A|off", "level LINE"]



def test_status_over_the_socket(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines[0] == "ok"
    expected_status(daemon.site, country="us", reloads=0, pid=daemon.pid)(result.out_lines)


def test_status_reports_the_version(daemon, atad):
    banner = atad("--version").stdout.strip()
    match = STATUS_DAEMON_LINE.match(daemon.ctl("status").out_lines[1])
    assert match
    assert f"daemon: running, {banner}, pid {daemon.pid}," in match.group(0)


def test_status_via_the_site_file(daemon, atad):
    result = atad("ctl", "--config", daemon.site, "status")
    assert result.returncode == 0, result
    expected_status(daemon.site, pid=daemon.pid)(result.out_lines)


def test_ctl_help(daemon):
    result = daemon.ctl("help")
    assert result.returncode == 0, result
    assert result.out_lines == HELP_REPLY


def test_started_log_line(daemon, short_dir):
    daemon.wait_for_log(
        "info",
        f"atad 0.1.0 started: config {daemon.site}, board 'Simulated board' (sim, 2 lines), "
        f"country us, control socket {short_dir / 'control.sock'}")


@pytest.mark.parametrize("words,message", [
    (["frobnicate"], "error: unknown command 'frobnicate'; try 'help'"),
    (["status", "now"], "error: status takes no arguments"),
    (["reload", "please"], "error: reload takes no arguments"),
    (["quit", "now"], "error: quit takes no arguments"),
])
def test_ctl_error_reply(daemon, words, message):
    result = daemon.ctl(*words)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert result.err_lines == [message], result
    assert_healthy(daemon)


def test_ctl_without_a_daemon(atad, short_dir):
    path = short_dir / "nobody-here.sock"
    result = atad("ctl", "--socket", path, "status")
    assert result.returncode == 3, result
    assert result.stdout == "", result
    assert result.err_lines == [f"atad ctl: cannot connect to {path}: No such file or directory (is atad running?)"]


def test_ctl_with_a_bad_site_file(atad, tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("[general]\ncountry = us\n")
    result = atad("ctl", "--config", path, "status")
    assert result.returncode == 1, result
    assert result.err_lines == [f"{path}:1: error: missing required key 'board' in [general]"]


def test_socket_folder_is_created(daemons, tmp_path, short_dir):
    socket_path = short_dir / "run" / "control.sock"
    site = write_site(tmp_path / "atad.conf", socket_path)
    daemon = daemons.start(site, socket_path, tmp_path)
    assert_healthy(daemon)


# ---------------------------------------------------------------------------
# Shutdown


@pytest.mark.parametrize("signum,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_stops_on_signal(daemon, signum, name):
    daemon.signal(signum)
    assert daemon.wait_exit() == 0, daemon.log()
    assert not os.path.exists(daemon.socket), "the control socket file is left behind"
    messages = daemon.log_messages()
    tail = messages[-3:]
    assert tail == [("info", f"{name}: stopping"), ("info", "shutting down"), ("info", "stopped")], messages


def test_quit_over_the_socket(daemon):
    result = daemon.ctl("quit")
    assert result.returncode == 0, result
    assert result.out_lines == ["ok", "stopping"], result
    assert daemon.wait_exit() == 0, daemon.log()
    assert not os.path.exists(daemon.socket)
    messages = daemon.log_messages()
    assert ("info", "quit requested on the control socket") in messages
    assert messages[-1] == ("info", "stopped"), messages


def test_ctl_after_shutdown_is_unreachable(daemon):
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    result = daemon.ctl("status")
    assert result.returncode == 3, result


# ---------------------------------------------------------------------------
# One daemon per socket


def test_second_daemon_on_the_same_socket(daemon, tmp_path):
    other_site = write_site(tmp_path / "other.conf", daemon.socket)
    result = run_atad("run", "--config", other_site)
    assert result.returncode == 1, result
    text = result.stderr.lower()
    assert "address already in use" in text, result
    assert daemon.socket in result.stderr, f"the error does not name the socket {daemon.socket}: {result}"
    # The first daemon keeps its socket and keeps answering.
    assert os.path.exists(daemon.socket)
    assert_healthy(daemon)


def test_second_daemon_does_not_remove_the_socket_of_the_first(daemon, tmp_path):
    other_site = write_site(tmp_path / "other.conf", daemon.socket)
    for _ in range(3):
        assert run_atad("run", "--config", other_site).returncode == 1
    assert_healthy(daemon)


def test_stale_socket_file_after_sigkill(daemons, site, short_dir, tmp_path):
    socket_path = short_dir / "control.sock"
    first = daemons.start(site, socket_path, tmp_path)
    first.signal(signal.SIGKILL)
    assert first.wait_exit() == -signal.SIGKILL
    assert os.path.exists(socket_path), "SIGKILL should leave the socket file behind"
    assert run_atad("ctl", "--socket", socket_path, "status").returncode == 3

    second = daemons.start(site, socket_path, tmp_path)
    assert second.pid != first.pid
    assert_healthy(second)
    second.signal(signal.SIGTERM)
    assert second.wait_exit() == 0
    assert not os.path.exists(socket_path)


def test_restart_after_clean_stop(daemons, site, short_dir, tmp_path):
    socket_path = short_dir / "control.sock"
    for _ in range(2):
        daemon = daemons.start(site, socket_path, tmp_path)
        assert_healthy(daemon)
        assert daemon.ctl("quit").returncode == 0
        assert daemon.wait_exit() == 0


def test_log_level_option_overrides_the_file(daemons, tmp_path, short_dir):
    socket_path = short_dir / "control.sock"
    site = write_site(tmp_path / "atad.conf", socket_path, log_level="info")
    daemon = daemons.start(site, socket_path, tmp_path, args=["--log-level", "error"])
    assert daemon.ctl("quit").returncode == 0
    assert daemon.wait_exit() == 0
    assert daemon.log_messages() == [], "--log-level error should silence info lines"


# ---------------------------------------------------------------------------
# A control socket the daemon cannot open: a clear error naming the path.


def overlong_socket(short_dir):
    return short_dir / ("s" * 120 + ".sock")  # sun_path holds at most 107 bytes


def nested_socket(short_dir):
    return short_dir / "missing" / "deeper" / "control.sock"


def file_in_the_way(short_dir):
    path = short_dir / "control.sock"
    path.write_text("not a socket\n")
    return path


# An overlong path is caught earlier, as a config error: see
# test_check_config_rejects_a_socket_path_too_long_for_unix_sockets.
@pytest.mark.parametrize("make_path", [nested_socket, file_in_the_way],
                         ids=["folder-missing", "regular-file"])
def test_socket_that_cannot_be_opened_is_named(atad, tmp_path, short_dir, make_path):
    socket_path = make_path(short_dir)
    site = write_site(tmp_path / "atad.conf", socket_path)
    result = atad("run", "--config", site)
    assert result.returncode == 1, result
    assert str(socket_path) in result.stderr, f"the error does not name the socket {socket_path}: {result}"


def test_check_config_rejects_a_socket_path_too_long_for_unix_sockets(atad, tmp_path, short_dir):
    socket_path = overlong_socket(short_dir)
    site = write_site(tmp_path / "atad.conf", socket_path)
    result = atad("check-config", site)
    assert result.returncode == 1, result
    assert len(result.err_lines) == 1, result
    assert result.err_lines[0].startswith(f"{site}:5: error: "), result
    assert "control_socket" in result.err_lines[0], result
