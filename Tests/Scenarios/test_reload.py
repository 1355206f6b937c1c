"""Reloading the config with `atad ctl reload` and with SIGHUP."""

import os
import signal

from conftest import assert_healthy, expected_status, wait_until, write_site


def status_lines(daemon):
    result = daemon.ctl("status")
    assert result.returncode == 0, result
    return result.out_lines


def test_reload_without_changes(daemon):
    result = daemon.ctl("reload")
    assert result.returncode == 0, result
    assert result.out_lines == ["ok", f"reloaded {daemon.site}", "no changes"], result
    expected_status(daemon.site, country="us", reloads=1)(status_lines(daemon))


def test_reload_via_ctl_applies_country_and_log_level(daemon, short_dir):
    write_site(daemon.site, daemon.socket, country="de", log_level="debug")
    result = daemon.ctl("reload")
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines == [
        "ok",
        f"reloaded {daemon.site}",
        "country: us -> de",
        "log_level: info -> debug",
    ], result
    expected_status(daemon.site, country="de", reloads=1, pid=daemon.pid)(status_lines(daemon))


def test_reloaded_log_level_takes_effect(daemon):
    write_site(daemon.site, daemon.socket, log_level="error")
    result = daemon.ctl("reload")
    assert result.out_lines == ["ok", f"reloaded {daemon.site}", "log_level: info -> error"], result
    before = daemon.log_messages()
    assert daemon.ctl("quit").returncode == 0
    assert daemon.wait_exit() == 0
    # At level error the quit and shutdown info lines are not logged.
    assert daemon.log_messages() == before, daemon.log()


def test_log_level_option_survives_reload(daemons, tmp_path, short_dir):
    socket_path = short_dir / "control.sock"
    site = write_site(tmp_path / "atad.conf", socket_path, log_level="info")
    daemon = daemons.start(site, socket_path, tmp_path, args=["--log-level", "info"])
    write_site(site, socket_path, log_level="error")
    assert daemon.ctl("reload").returncode == 0
    assert daemon.ctl("quit").returncode == 0
    assert daemon.wait_exit() == 0
    assert daemon.log_messages()[-1] == ("info", "stopped"), daemon.log()


def test_reload_via_sighup(daemon):
    write_site(daemon.site, daemon.socket, country="de", log_level="debug")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for_log("info", "reload: log_level: info -> debug")
    messages = daemon.log_messages()
    start = messages.index(("info", "SIGHUP: reloading the config"))
    assert messages[start:start + 4] == [
        ("info", "SIGHUP: reloading the config"),
        ("info", f"reload: reloaded {daemon.site}"),
        ("info", "reload: country: us -> de"),
        ("info", "reload: log_level: info -> debug"),
    ], messages
    expected_status(daemon.site, country="de", reloads=1, pid=daemon.pid)(status_lines(daemon))


def test_repeated_sighup(daemon):
    for number, country in enumerate(["de", "fr", "us"], start=1):
        write_site(daemon.site, daemon.socket, country=country)
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: f"country: {country}" in status_lines(daemon)
                   and f"reloads {number}" in status_lines(daemon)[1],
                   what=f"reload {number} to apply")
    assert_healthy(daemon, country="us")


def test_reload_control_socket_change_needs_restart(daemon, short_dir):
    new_socket = short_dir / "other.sock"
    write_site(daemon.site, new_socket, country="de")
    result = daemon.ctl("reload")
    assert result.returncode == 0, result
    assert result.out_lines == [
        "ok",
        f"reloaded {daemon.site}",
        "control_socket changed: needs a restart",
        "country: us -> de",
    ], result
    # Still on the old socket; the new one does not appear.
    assert not os.path.exists(new_socket)
    assert os.path.exists(daemon.socket)
    assert_healthy(daemon, country="de")


def test_reload_board_and_sip_changes_need_restart(daemon, tmp_path):
    board = tmp_path / "board.conf"
    board.write_text("[board]\nname = Other board\ndriver = sim\n[line 1]\n")
    daemon.site.write_text(
        f"[general]\nboard = {board}\ncontrol_socket = {daemon.socket}\n"
        "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 5070\n")
    result = daemon.ctl("reload")
    assert result.returncode == 0, result
    assert result.out_lines == [
        "ok",
        f"reloaded {daemon.site}",
        "board changed: needs a restart",
        "sip listen address, port or public address changed: needs a restart",
    ], result
    # The board in use stays the one it started with.
    assert_healthy(daemon)


def test_reload_with_a_broken_config_keeps_the_old_one(daemon):
    daemon.site.write_text(
        f"[general]\nboard = /work/nonexistent-board.conf\ncontry = de\ncontrol_socket = {daemon.socket}\n")
    result = daemon.ctl("reload")
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert result.err_lines[0] == "error: config has errors; still running the previous config", result
    assert sorted(result.err_lines[1:]) == [
        f"{daemon.site}:2: error: cannot read board file '/work/nonexistent-board.conf': No such file or directory",
        f"{daemon.site}:3: error: unknown key 'contry' in [general]; did you mean 'country'?",
    ], result
    assert ("error", f"{daemon.site}:3: error: unknown key 'contry' in [general]; did you mean 'country'?") \
        in daemon.log_messages()
    expected_status(daemon.site, country="us", reloads=0, pid=daemon.pid)(status_lines(daemon))

    # Fixing the file and reloading again works.
    write_site(daemon.site, daemon.socket, country="de")
    result = daemon.ctl("reload")
    assert result.returncode == 0, result
    assert "country: us -> de" in result.out_lines
    assert_healthy(daemon, country="de")


def test_reload_with_the_file_gone(daemon):
    os.unlink(daemon.site)
    result = daemon.ctl("reload")
    assert result.returncode == 1, result
    assert result.err_lines == [
        "error: config has errors; still running the previous config",
        f"{daemon.site}: error: cannot read: No such file or directory",
    ], result
    assert daemon.running()
    expected_status(daemon.site, country="us", reloads=0, pid=daemon.pid)(status_lines(daemon))


def test_sighup_with_a_broken_config_keeps_running(daemon):
    daemon.site.write_text(f"[general]\nboard = {daemon.site.parent}/none.conf\n[sip]\nlisten_port = 70000\n")
    daemon.signal(signal.SIGHUP)
    error = f"{daemon.site}:4: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535"
    daemon.wait_for_log("error", error)
    assert daemon.running()
    expected_status(daemon.site, country="us", reloads=0, pid=daemon.pid)(status_lines(daemon))
