"""`atad check-config`: the shipped files pass, every bad input gets exact
`FILE:LINE: error: MESSAGE` lines and exit 1."""

import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import BOARD_DIR, ETC_DIR, RPI_BOARD, SIM_BOARD, run_atad

BOARD_FILES = sorted(BOARD_DIR.glob("*.conf"))


def test_the_repo_ships_board_files():
    assert SIM_BOARD in BOARD_FILES and RPI_BOARD in BOARD_FILES


@pytest.mark.parametrize("board", BOARD_FILES, ids=lambda p: p.name)
def test_every_board_file_passes(atad, board):
    result = atad("check-config", board)
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert len(result.out_lines) == 1, result
    assert re.fullmatch(re.escape(f"{board}: ok: board '") + r".+', driver (sim|gpio), \d+ lines?",
                        result.out_lines[0]), result


def test_board_summaries(atad):
    result = atad("check-config", SIM_BOARD, RPI_BOARD)
    assert result.returncode == 0, result
    assert result.out_lines == [
        f"{SIM_BOARD}: ok: board 'Simulated board', driver sim, 2 lines",
        f"{RPI_BOARD}: ok: board 'Raspberry Pi + AG1171', driver gpio, 1 line",
    ]


def test_sim_site_file_passes(atad):
    result = atad("check-config", ETC_DIR / "sim.conf")
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines == [
        f"{ETC_DIR / 'sim.conf'}: ok",
        f"  board: {ETC_DIR}/../Board/sim.conf: 'Simulated board', driver sim, 2 lines",
        "  country: us (United States); log level info",
        "  control socket: /tmp/atad-sim/control.sock",
        "  sip: 127.0.0.1 port 0 (any free port); 0 account(s)",
    ]


def example_site(tmp_path, mode):
    """etc/atad.conf with its board pointed at the repo's Raspberry Pi board."""
    text = (ETC_DIR / "atad.conf").read_text()
    old = "board = /usr/share/atad/boards/rpi-ag1171.conf"
    assert old in text
    path = tmp_path / "atad.conf"
    path.write_text(text.replace(old, f"board = {RPI_BOARD}"))
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_example_site_file_private_passes_quietly(atad, tmp_path, mode):
    path = example_site(tmp_path, mode)
    result = atad("check-config", path)
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines == [
        f"{path}: ok",
        f"  board: {RPI_BOARD}: 'Raspberry Pi + AG1171', driver gpio, 1 line",
        "  country: us (United States); log level info",
        "  control socket: /run/atad/control.sock",
        "  sip: 0.0.0.0 port 5060; 1 account(s)",
        "  account home: 1001@pbx.example.net over udp",
    ]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_example_site_file_readable_by_others_warns(atad, tmp_path, mode):
    path = example_site(tmp_path, mode)
    result = atad("check-config", path)
    assert result.returncode == 0, result
    assert result.out_lines[0] == f"{path}: ok", result
    assert result.err_lines == [
        f"{path}: warning: holds a password but is readable by group or others "
        f"(mode {mode:04o}); run chmod 600 on it"
    ], result


def test_site_without_password_readable_by_others_does_not_warn(atad, tmp_path):
    path = tmp_path / "site.conf"
    path.write_text(f"[general]\nboard = {SIM_BOARD}\n")
    os.chmod(path, 0o644)
    result = atad("check-config", path)
    assert result.returncode == 0, result
    assert result.stderr == "", result


def test_several_files_one_bad(atad, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text(f"[general]\nboard = {SIM_BOARD}\ncontry = us\n")
    result = atad("check-config", SIM_BOARD, bad, ETC_DIR / "sim.conf")
    assert result.returncode == 1, result
    assert result.err_lines == [f"{bad}:3: error: unknown key 'contry' in [general]; did you mean 'country'?"]
    assert result.out_lines[0] == f"{SIM_BOARD}: ok: board 'Simulated board', driver sim, 2 lines"
    assert f"{ETC_DIR / 'sim.conf'}: ok" in result.out_lines


# ---------------------------------------------------------------------------
# Bad contents: each case is a site file (and maybe a board file), and the
# exact lines expected on stderr. {S} is the site file, {B} the board file
# (when the case writes one), {SIM} the repo's simulated board.

GOOD_HEAD = "[general]\nboard = {SIM}\n"

CASES = {
    "unknown key with suggestion": (
        GOOD_HEAD + "contry = us\n",
        None,
        ["{S}:3: error: unknown key 'contry' in [general]; did you mean 'country'?"],
    ),
    "unknown key without suggestion": (
        GOOD_HEAD + "[sip]\nwhatever_this_is = 1\n",
        None,
        ["{S}:4: error: unknown key 'whatever_this_is' in [sip]"],
    ),
    "unknown section with suggestion": (
        GOOD_HEAD + "[sipp]\nlisten_port = 5060\n",
        None,
        ["{S}:3: error: unknown section [sipp]; did you mean [sip]?"],
    ),
    "unknown section without suggestion": (
        GOOD_HEAD + "[telephony]\n",
        None,
        ["{S}:3: error: unknown section [telephony]; expected one of [general], [tones], [sip], [account], [features], [line]"],
    ),
    "bad enum value": (
        GOOD_HEAD + "log_level = verbose\n",
        None,
        ["{S}:3: error: invalid value 'verbose' for 'log_level': expected one of error, warn, info, debug"],
    ),
    "bad enum value with suggestion": (
        GOOD_HEAD + "log_level = debgu\n",
        None,
        ["{S}:3: error: invalid value 'debgu' for 'log_level': "
         "expected one of error, warn, info, debug (did you mean 'debug'?)"],
    ),
    "bad transport": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\ntransport = tls\n",
        None,
        ["{S}:6: error: invalid value 'tls' for 'transport': expected one of udp, tcp"],
    ),
    "integer out of range": (
        GOOD_HEAD + "[sip]\nlisten_port = 70000\n",
        None,
        ["{S}:4: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535"],
    ),
    "negative integer": (
        GOOD_HEAD + "[sip]\nlisten_port = -1\n",
        None,
        ["{S}:4: error: invalid value '-1' for 'listen_port': expected an integer from 0 to 65535"],
    ),
    "not an integer": (
        GOOD_HEAD + "[sip]\nlisten_port = 50x0\n",
        None,
        ["{S}:4: error: invalid value '50x0' for 'listen_port': expected an integer from 0 to 65535"],
    ),
    "huge integer": (
        GOOD_HEAD + "[sip]\nlisten_port = 99999999999999999999999\n",
        None,
        ["{S}:4: error: invalid value '99999999999999999999999' for 'listen_port': "
         "expected an integer from 0 to 65535"],
    ),
    "expires below range": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\nexpires = 10\n",
        None,
        ["{S}:6: error: invalid value '10' for 'expires': expected an integer from 60 to 86400"],
    ),
    "bad boolean": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\nregister = maybe\n",
        None,
        ["{S}:6: error: invalid value 'maybe' for 'register': expected yes or no"],
    ),
    "bad ip address": (
        GOOD_HEAD + "[sip]\nlisten_address = 1.2.3\n",
        None,
        ["{S}:4: error: invalid value '1.2.3' for 'listen_address': expected an IPv4 or IPv6 address"],
    ),
    "bad host port": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\nregistrar = pbx.example.net:99999\n",
        None,
        ["{S}:6: error: invalid value 'pbx.example.net:99999' for 'registrar': "
         "expected host, host:port or [IPv6]:port"],
    ),
    "empty value": (
        GOOD_HEAD + "[account home]\nuser =\ndomain = pbx.example.net\n",
        None,
        ["{S}:4: error: invalid value '' for 'user': expected a non-empty value"],
    ),
    "missing required key": (
        "[general]\ncountry = us\n",
        None,
        ["{S}:1: error: missing required key 'board' in [general]"],
    ),
    "missing required key in account": (
        GOOD_HEAD + "[account home]\nuser = 1001\n",
        None,
        ["{S}:3: error: missing required key 'domain' in [account home]"],
    ),
    "missing required section": (
        "[sip]\nlisten_port = 5060\n",
        None,
        ["{S}:1: error: missing required section [general]"],
    ),
    "duplicate key": (
        GOOD_HEAD + "country = us\nlog_level = info\ncountry = de\n",
        None,
        ["{S}:5: error: duplicate key 'country' in [general] (first set on line 3)"],
    ),
    "duplicate section": (
        GOOD_HEAD + "[sip]\nlisten_port = 5060\n[sip]\nlisten_port = 5062\n",
        None,
        ["{S}:5: error: duplicate section [sip] (first on line 3)"],
    ),
    "duplicate line section": (
        GOOD_HEAD + "[line 1]\n[line 1]\n",
        None,
        ["{S}:4: error: duplicate section [line 1] (first on line 3)"],
    ),
    "key outside a section": (
        "country = us\n" + GOOD_HEAD,
        None,
        ["{S}:1: error: key 'country' is outside any section"],
    ),
    "section header without closing bracket": (
        GOOD_HEAD + "[sip\n",
        None,
        ["{S}:3: error: section header is missing its closing ']'"],
    ),
    "text after section header": (
        GOOD_HEAD + "[sip] listen_port = 5060\n",
        None,
        ["{S}:3: error: unexpected text after the section header"],
    ),
    "malformed section header": (
        GOOD_HEAD + "[line 1 2]\n",
        None,
        ["{S}:3: error: malformed section header; expected [name] or [name argument]"],
    ),
    "line without equals": (
        GOOD_HEAD + "country us\n",
        None,
        ["{S}:3: error: expected 'key = value' or '[section]'"],
    ),
    "upper case key": (
        GOOD_HEAD + "Country = us\n",
        None,
        ["{S}:3: error: invalid key 'Country'; keys are lower-case letters, digits and '_'"],
    ),
    "unterminated quote": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\npassword = \"secret\n",
        None,
        ["{S}:6: error: unterminated quoted value"],
    ),
    "text after closing quote": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\npassword = \"secret\" more\n",
        None,
        ["{S}:6: error: unexpected text after the closing quote"],
    ),
    "line section without number": (
        GOOD_HEAD + "[line]\n",
        None,
        ["{S}:3: error: section [line] needs a number from 1 to 64, e.g. [line 1]"],
    ),
    "line section number out of range": (
        GOOD_HEAD + "[line 65]\n",
        None,
        ["{S}:3: error: invalid section [line 65]: expected a number from 1 to 64"],
    ),
    "account section without name": (
        GOOD_HEAD + "[account]\nuser = 1001\n",
        None,
        ["{S}:3: error: section [account] needs a name, e.g. [account main]"],
    ),
    "general with an argument": (
        "[general main]\nboard = {SIM}\n",
        None,
        ["{S}:1: error: section [general] takes no argument (found 'main')"],
    ),
    "missing board file": (
        "[general]\ncountry = us\nboard = /nonexistent/atad/board.conf\n",
        None,
        ["{S}:3: error: cannot read board file '/nonexistent/atad/board.conf': No such file or directory"],
    ),
    "missing board file, relative path": (
        "[general]\nboard = boards/none.conf\n",
        None,
        ["{S}:2: error: cannot read board file '{D}/boards/none.conf': No such file or directory"],
    ),
    "board is a directory": (
        "[general]\nboard = {D}\n",
        None,
        ["{S}:2: error: cannot read board file '{D}': it is a directory"],
    ),
    "board file error reported in the board file": (
        "[general]\nboard = {B}\n",
        "[board]\nname = My board\ndrvier = sim\n[line 1]\n",
        ["{B}:1: error: missing required key 'driver' in [board]",
         "{B}:3: error: unknown key 'drvier' in [board]; did you mean 'driver'?"],
    ),
    "board file bad value": (
        "[general]\nboard = {B}\n",
        "[board]\ndriver = sim\n\n[line 1]\nperiod_ms = 15\n",
        ["{B}:5: error: invalid value '15' for 'period_ms': expected one of 10, 20"],
    ),
    "board file relative to the site file": (
        "[general]\nboard = board.conf\n",
        "[board]\ndriver = simulated\n[line 1]\n",
        ["{B}:2: error: invalid value 'simulated' for 'driver': expected one of sim, gpio"],
    ),
    "board without lines": (
        "[general]\nboard = {B}\n",
        "# no lines\n[board]\ndriver = sim\n",
        ["{B}:2: error: the board has no telephone lines; add a [line 1] section"],
    ),
    "gpio board missing gpio keys": (
        "[general]\nboard = {B}\n",
        "[board]\nname = Half wired\ndriver = gpio\n\n[line 1]\nhook_gpio = 17\n",
        ["{B}:1: error: missing required key 'gpio_chip' in [board] (needed by driver = gpio)",
         "{B}:5: error: missing required key 'ring_mode_gpio' in [line 1] (needed by driver = gpio)",
         "{B}:5: error: missing required key 'forward_reverse_gpio' in [line 1] (needed by driver = gpio)",
         "{B}:5: error: missing required key 'playback' in [line 1] (needed by driver = gpio)"],
    ),
    "gpio board using one pin twice": (
        "[general]\nboard = {B}\n",
        "[board]\ndriver = gpio\ngpio_chip = gpiochip0\n[line 1]\nhook_gpio = 17\n"
        "ring_mode_gpio = 27\nforward_reverse_gpio = 17\nplayback = default\n",
        ["{B}:7: error: 'forward_reverse_gpio' uses GPIO line 17, already used by 'hook_gpio'"],
    ),
    "line naming an unknown account": (
        GOOD_HEAD + "[account home]\nuser = 1001\ndomain = pbx.example.net\n\n[line 1]\naccount = hom\n",
        None,
        ["{S}:8: error: line 1 names account 'hom', but there is no [account hom]; did you mean 'home'?"],
    ),
    "line naming an account when there are none": (
        GOOD_HEAD + "[line 2]\naccount = office\n",
        None,
        ["{S}:4: error: line 2 names account 'office', but there is no [account office]"],
    ),
    "line not on the board": (
        GOOD_HEAD + "[line 3]\ndial_plan = x.T\n",
        None,
        ["{S}:3: error: [line 3] is not on the board ({SIM} has lines 1, 2)"],
    ),
    "several errors in one file": (
        "[general]\n"                      # 1
        "board = {SIM}\n"                  # 2
        "contry = us\n"                    # 3
        "log_level = loud\n"               # 4
        "[sip]\n"                          # 5
        "listen_port = 70000\n"            # 6
        "listen_port = 5060\n"             # 7
        "[sipp]\n"                         # 8
        "[sip]\n",                         # 9
        None,
        ["{S}:3: error: unknown key 'contry' in [general]; did you mean 'country'?",
         "{S}:4: error: invalid value 'loud' for 'log_level': expected one of error, warn, info, debug",
         "{S}:6: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535",
         "{S}:7: error: duplicate key 'listen_port' in [sip] (first set on line 6)",
         "{S}:8: error: unknown section [sipp]; did you mean [sip]?",
         "{S}:9: error: duplicate section [sip] (first on line 5)"],
    ),
    # Errors found by different checks (syntax, schema, cross references)
    # still come out in the order of their lines.
    "several kinds of errors sorted by line": (
        "[general]\n"                      # 1
        "board = {SIM}\n"                  # 2
        "contry = us\n"                    # 3
        "[sip]\n"                          # 4
        "listen_port = 70000\n"            # 5
        "this is not a key\n"              # 6
        "[line 1]\n"                       # 7
        "account = nobody\n"               # 8
        "[account]\n"                      # 9
        "[line 3]\n",                      # 10
        None,
        ["{S}:3: error: unknown key 'contry' in [general]; did you mean 'country'?",
         "{S}:5: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535",
         "{S}:6: error: expected 'key = value' or '[section]'",
         "{S}:8: error: line 1 names account 'nobody', but there is no [account nobody]",
         "{S}:9: error: section [account] needs a name, e.g. [account main]",
         "{S}:10: error: [line 3] is not on the board ({SIM} has lines 1, 2)"],
    ),
}


# Cases whose point is the order of the lines; the others compare the lines
# whatever their order.
ORDERED = {"several errors in one file", "several kinds of errors sorted by line"}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_config(atad, tmp_path, name):
    site_text, board_text, expected = CASES[name]
    site = tmp_path / "site.conf"
    board = tmp_path / "board.conf"
    values = {"S": str(site), "B": str(board), "SIM": str(SIM_BOARD), "D": str(tmp_path)}
    site.write_text(site_text.format(**values))
    if board_text is not None:
        board.write_text(board_text)
    result = atad("check-config", site)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    expected = [line.format(**values) for line in expected]
    if name in ORDERED:
        assert result.err_lines == expected, result
    else:
        assert sorted(result.err_lines) == sorted(expected), result


BAD_GPIO_BOARD = "[board]\nname = Half wired\ndriver = gpio\n\n[line 1]\nhook_gpio = 17\nhook_bias = pullup\n"


def bad_gpio_board_errors(board):
    return [
        f"{board}:1: error: missing required key 'gpio_chip' in [board] (needed by driver = gpio)",
        f"{board}:5: error: missing required key 'ring_mode_gpio' in [line 1] (needed by driver = gpio)",
        f"{board}:5: error: missing required key 'forward_reverse_gpio' in [line 1] (needed by driver = gpio)",
        f"{board}:5: error: missing required key 'playback' in [line 1] (needed by driver = gpio)",
        f"{board}:7: error: invalid value 'pullup' for 'hook_bias': "
        "expected one of as-is, disabled, pull-up, pull-down (did you mean 'pull-up'?)",
    ]


def test_bad_board_file_checked_on_its_own(atad, tmp_path):
    board = tmp_path / "board.conf"
    board.write_text(BAD_GPIO_BOARD)
    result = atad("check-config", board)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert sorted(result.err_lines) == sorted(bad_gpio_board_errors(board)), result


def test_board_file_errors_sorted_by_line(atad, tmp_path):
    board = tmp_path / "board.conf"
    board.write_text(BAD_GPIO_BOARD)
    result = atad("check-config", board)
    assert result.returncode == 1, result
    assert result.err_lines == bad_gpio_board_errors(board), result


# ---------------------------------------------------------------------------
# Files that are not config files at all: one line on stderr, exit 1.

ONE_ERROR = r"^{file}(:\d+)?: error: "


def assert_one_error(result, path, message):
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert len(result.err_lines) == 1, result
    assert re.match(ONE_ERROR.format(file=re.escape(str(path))), result.err_lines[0]), result
    assert result.err_lines[0] == message, result


def test_missing_file(atad, tmp_path):
    path = tmp_path / "nope.conf"
    assert_one_error(atad("check-config", path), path, f"{path}: error: cannot read: No such file or directory")


def test_empty_file(atad, tmp_path):
    path = tmp_path / "empty.conf"
    path.write_bytes(b"")
    assert_one_error(atad("check-config", path), path, f"{path}: error: file has no sections; is it empty?")


def test_comments_only_file(atad, tmp_path):
    path = tmp_path / "comments.conf"
    path.write_text("# nothing here\n; nor here\n\n")
    assert_one_error(atad("check-config", path), path, f"{path}: error: file has no sections; is it empty?")


def test_binary_file(atad, tmp_path):
    path = tmp_path / "binary.conf"
    noise = random.Random(1171).randbytes(64 * 1024)
    data = b"\x7fELF\x02\x01\x01\x00" + noise
    assert b"\n" in data[:4000]  # so the first line is not also overlong
    path.write_bytes(data)
    assert_one_error(atad("check-config", path), path,
                     f"{path}:1: error: binary data (a NUL byte): this is not a text config file")


def test_nul_byte_later_in_a_text_file(atad, tmp_path):
    path = tmp_path / "nul.conf"
    path.write_bytes(f"[general]\nboard = {SIM_BOARD}\ncountry = us\x00\n".encode())
    assert_one_error(atad("check-config", path), path,
                     f"{path}:3: error: binary data (a NUL byte): this is not a text config file")


def test_ten_megabyte_file(atad, tmp_path):
    path = tmp_path / "huge.conf"
    line = b"# " + b"x" * 97 + b"\n"
    with open(path, "wb") as f:
        f.write(f"[general]\nboard = {SIM_BOARD}\n".encode())
        for _ in range(10 * 1024 * 1024 // len(line) + 1):
            f.write(line)
    assert path.stat().st_size >= 10 * 1024 * 1024
    try:
        assert_one_error(atad("check-config", path), path,
                         f"{path}: error: cannot read: file is too large (more than 1048576 bytes)")
    finally:
        path.unlink()


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"caf\xe9"],
                         ids=["ff-fe", "overlong", "surrogate", "latin1"])
def test_invalid_utf8(atad, tmp_path, bad):
    path = tmp_path / "latin1.conf"
    path.write_bytes(f"[general]\nboard = {SIM_BOARD}\n".encode() + b"country = " + bad + b"\n")
    assert_one_error(atad("check-config", path), path, f"{path}:3: error: invalid UTF-8")


def test_one_line_of_100_kilobytes(atad, tmp_path):
    path = tmp_path / "long.conf"
    path.write_bytes(b"[general]\n# " + b"a" * (100 * 1024 - 2) + b"\nboard = x\n")
    assert_one_error(atad("check-config", path), path,
                     f"{path}:2: error: line is too long (102400 bytes; at most 4096)")


def test_a_directory(atad, tmp_path):
    path = tmp_path / "conf.d"
    path.mkdir()
    assert_one_error(atad("check-config", path), path, f"{path}: error: cannot read: it is a directory")


NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


@pytest.fixture
def open_dir():
    """A folder anyone may enter, so only the file's own mode matters."""
    path = Path(tempfile.mkdtemp(prefix="atad-perm-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file(atad_bin, open_dir):
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to run as nobody"
    readable = open_dir / "readable.conf"
    readable.write_text(f"[general]\nboard = {SIM_BOARD}\n")
    os.chmod(readable, 0o644)
    unreadable = open_dir / "unreadable.conf"
    unreadable.write_text(f"[general]\nboard = {SIM_BOARD}\n")
    os.chmod(unreadable, 0o000)

    # The same user reads the readable copy fine: the failure is the mode.
    control = run_atad("check-config", readable, prefix=NOBODY)
    assert control.returncode == 0, control

    result = run_atad("check-config", unreadable, prefix=NOBODY)
    assert_one_error(result, unreadable, f"{unreadable}: error: cannot read: Permission denied")


def test_run_with_a_missing_config(atad, tmp_path):
    path = tmp_path / "nope.conf"
    result = atad("run", "--config", path)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert result.err_lines == [
        f"{path}: error: cannot read: No such file or directory",
        f"atad: not starting: {path} has errors",
    ], result


def test_run_with_a_bad_config(atad, tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text(f"[general]\nboard = {SIM_BOARD}\n[sip]\nlisten_port = 70000\n")
    result = atad("run", "--config", path)
    assert result.returncode == 1, result
    assert result.err_lines == [
        f"{path}:4: error: invalid value '70000' for 'listen_port': expected an integer from 0 to 65535",
        f"atad: not starting: {path} has errors",
    ], result
