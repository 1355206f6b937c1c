"""Per-line options of the site file: hotline, warmline, pulse mapping."""

from conftest import SIM_BOARD, wait_until


def start(daemons, tmp_path, short_dir, line_options, country="us"):
    control = short_dir / "control.sock"
    site = tmp_path / "site.conf"
    site.write_text(
        "[general]\n"
        f"board = {SIM_BOARD}\n"
        f"control_socket = {control}\n"
        f"country = {country}\n"
        "[sip]\nlisten_address = 127.0.0.1\nlisten_port = 0\n"
        "[line 1]\n" + line_options)
    return daemons.start(site, control, tmp_path)


def line1(daemon):
    return next(l for l in daemon.ctl("status").out_lines if l.startswith("line 1: "))


def test_hotline_dials_on_off_hook(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir, "hotline = 100\n")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    # No SIP account here: the number is dialed, then congestion.
    wait_until(lambda: line1(daemon) == "line 1: congestion number 100", 5, "the hotline number to be dialed")


def test_warmline_waits_then_dials_and_a_digit_stops_it(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir, "hotline = 100\nwarmline_seconds = 2\ndial_plan = (x.T)\n")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert line1(daemon) == "line 1: dialtone"
    wait_until(lambda: line1(daemon) == "line 1: congestion number 100", 5, "the warmline to dial")
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line1(daemon).startswith("line 1: idle"), 5, "idle")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "5").returncode == 0
    # The status still names the number the warmline dialed before.
    wait_until(lambda: line1(daemon).startswith("line 1: dialing digits 5"), 3, "the digit")


def test_swedish_pulse_mapping_sends_one_pulse_more(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir, "dial_plan = (xxx)\n", country="se")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    reply = daemon.ctl("pulse", "1", "120")
    assert reply.returncode == 0 and reply.out_lines[1].startswith("6 pulses"), reply  # 2 + 3 + 1
    wait_until(lambda: "number 120" in line1(daemon), 10, "the rotary number")


def test_a_long_r_key_window_on_the_line(daemons, tmp_path, short_dir):
    # gb's window is 55-130 ms with a hang-up at 400 ms; the line's own
    # flash_max_ms = 700 raises its hang-up time to 800 ms.
    daemon = start(daemons, tmp_path, short_dir, "dial_plan = (xxxxxxxxxx)\nflash_max_ms = 700\n", country="gb")
    assert daemon.ctl("hook", "1", "off").returncode == 0
    assert daemon.ctl("dtmf", "1", "5").returncode == 0
    wait_until(lambda: line1(daemon).startswith("line 1: dialing digits 5"), 3, "the digit")
    # The flash command's default is the middle of the line's window.
    reply = daemon.ctl("flash", "1")
    assert reply.returncode == 0 and reply.out_lines[1] == "flash 377 ms", reply
    wait_until(lambda: line1(daemon) == "line 1: dialtone", 3, "a flash: dial tone again")
    assert daemon.ctl("dtmf", "1", "7").returncode == 0
    wait_until(lambda: line1(daemon).startswith("line 1: dialing digits 7"), 3, "the digit")
    # A 600 ms break is a flash too, never a hang-up on the way.
    reply = daemon.ctl("flash", "1", "600")
    assert reply.returncode == 0, reply
    states = set()
    wait_until(lambda: states.add(line1(daemon)) or "line 1: dialtone" in states, 3, "the 600 ms flash")
    assert not any(state.startswith("line 1: idle") for state in states), states
    # On hook for good: idle once 800 ms have passed.
    assert daemon.ctl("hook", "1", "on").returncode == 0
    wait_until(lambda: line1(daemon).startswith("line 1: idle"), 3, "the hang-up")
