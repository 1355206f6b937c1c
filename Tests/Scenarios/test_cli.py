"""The command line: version, help, and usage errors (exit 2)."""

import re

import pytest

SUMMARY_FIRST_LINE = "usage: atad COMMAND [OPTIONS]"
USAGE_FIRST_LINE = {
    "run": "usage: atad run --config FILE [--syslog] [--log-level LEVEL]",
    "check-config": "usage: atad check-config FILE...",
    "ctl": "usage: atad ctl [--socket PATH | --config FILE] COMMAND [ARGS...]",
    "safe": "usage: atad safe --config FILE",
}


@pytest.mark.parametrize("flag", ["--version", "-V", "version"])
def test_version(atad, flag):
    result = atad(flag)
    assert result.returncode == 0, result
    assert re.fullmatch(r"atad \d+\.\d+\.\d+\n", result.stdout), result
    assert result.stdout == "atad 0.1.0\n", result
    assert result.stderr == "", result


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"], []], ids=["--help", "-h", "help", "no-args"])
def test_help(atad, args):
    result = atad(*args)
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines[0] == SUMMARY_FIRST_LINE, result
    for command in ["run --config FILE", "check-config FILE...", "ctl COMMAND [ARGS]", "safe --config FILE",
                    "help [COMMAND]", "--version"]:
        assert any(line.strip().startswith(command) for line in result.out_lines), (command, result)


@pytest.mark.parametrize("command", ["run", "check-config", "ctl", "safe"])
def test_help_for_a_command(atad, command):
    result = atad("help", command)
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert result.out_lines[0] == USAGE_FIRST_LINE[command], result


@pytest.mark.parametrize("command", ["run", "check-config", "ctl", "safe"])
def test_command_help_flag(atad, command):
    result = atad(command, "--help")
    assert result.returncode == 0, result
    assert result.out_lines[0] == USAGE_FIRST_LINE[command], result


def test_ctl_help_lists_the_daemon_commands(atad):
    result = atad("help", "ctl")
    text = result.stdout
    for command in ["status", "reload", "quit", "help"]:
        assert re.search(rf"^\s+{command}\s", text, re.MULTILINE), (command, text)
    assert "Exits 0 on ok" in text and "3 when the daemon cannot be reached" in text


def assert_usage_error(result, message, usage_first_line):
    assert result.returncode == 2, result
    assert result.stdout == "", result
    lines = result.err_lines
    assert lines[0] == message, result
    assert lines[0].startswith("atad: ")
    assert lines[1] == usage_first_line, result


@pytest.mark.parametrize("args,message,usage", [
    (["frobnicate"], "atad: unknown command 'frobnicate'", SUMMARY_FIRST_LINE),
    (["--frobnicate"], "atad: unknown option '--frobnicate'", SUMMARY_FIRST_LINE),
    (["-x"], "atad: unknown option '-x'", SUMMARY_FIRST_LINE),
    (["help", "frobnicate"], "atad: no such command 'frobnicate'", SUMMARY_FIRST_LINE),
    (["help", "run", "ctl"], "atad: 'help' takes at most one command", SUMMARY_FIRST_LINE),
    (["--version", "extra"], "atad: '--version' takes no arguments", SUMMARY_FIRST_LINE),
    (["run"], "atad: run needs --config FILE", USAGE_FIRST_LINE["run"]),
    (["run", "--config"], "atad: --config needs a FILE", USAGE_FIRST_LINE["run"]),
    (["run", "--frobnicate"], "atad: unknown option '--frobnicate'", USAGE_FIRST_LINE["run"]),
    (["run", "--config", "x.conf", "extra"], "atad: unexpected argument 'extra'", USAGE_FIRST_LINE["run"]),
    (["run", "--config", "x.conf", "--log-level", "loud"],
     "atad: invalid log level 'loud': expected error, warn, info or debug", USAGE_FIRST_LINE["run"]),
    (["check-config"], "atad: check-config needs a FILE", USAGE_FIRST_LINE["check-config"]),
    (["check-config", "--strict", "x.conf"], "atad: unknown option '--strict'", USAGE_FIRST_LINE["check-config"]),
    (["ctl"], "atad: ctl needs a COMMAND", USAGE_FIRST_LINE["ctl"]),
    (["ctl", "--socket"], "atad: --socket needs a value", USAGE_FIRST_LINE["ctl"]),
    (["ctl", "--frobnicate", "status"], "atad: unknown option '--frobnicate'", USAGE_FIRST_LINE["ctl"]),
    (["safe"], "atad: safe needs --config FILE", USAGE_FIRST_LINE["safe"]),
    (["safe", "--config", "x.conf", "extra"], "atad: unexpected argument 'extra'", USAGE_FIRST_LINE["safe"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_usage_errors(atad, args, message, usage):
    assert_usage_error(atad(*args), message, usage)
