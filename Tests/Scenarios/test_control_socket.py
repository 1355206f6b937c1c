"""Abuse of the control socket with raw AF_UNIX clients: every bad request
gets an error reply, nothing a client does stops the daemon answering."""

import socket
import time

import pytest

from conftest import ControlConnection, assert_healthy, expected_status, wait_until

# The reply to `help`: every control command the daemon understands.
HELP_REPLY = ["ok", "status", "reload", "quit", "help", "hook LINE off|on", "flash LINE [MS]", "dtmf LINE DIGITS [--level DBM0] [--twist DB] [--on MS] [--off MS] [--shift PERMILLE] [--shift-hz HZ]", "pulse LINE DIGITS [--pps N] [--break PERCENT]", "say LINE tone F1[+F2] [LEVEL] | say LINE silence | say LINE file PATH", "hear LINE [HZ ...]", "ring LINE [stop]", "ringing LINE", "hybrid LINE off | hybrid LINE DELAY_MS [LOSS_DB]", "record LINE PATH SECONDS | record LINE stop", "ack LINE D|A|off", "level LINE"]



def connect(daemon, timeout=5.0):
    return ControlConnection(daemon.socket, timeout=timeout)


@pytest.mark.parametrize("request_bytes,reply", [
    (b"\x01\x02\x03garbage\n", "error: request is not text; try 'help'"),
    (b"status\x1b[2J\n", "error: request is not text; try 'help'"),
    (b"\x7f\n", "error: request is not text; try 'help'"),
    (b"\x00\x00\x00\x00\n", "error: request is not text; try 'help'"),
    (b"\xff\xfe\xfd\n", "error: request is not text; try 'help'"),
    (b"stat\xc3us\n", "error: request is not text; try 'help'"),
    (b"\n", "error: empty request; try 'help'"),
    (b" \t  \r\n", "error: empty request; try 'help'"),
    (b"GET / HTTP/1.1\r\n", "error: unknown command 'GET'; try 'help'"),
    (b"x" * 4000 + b"\n", "error: unknown command '" + "x" * 4000 + "'; try 'help'"),
    ("st\u00e4tus\n".encode(), "error: unknown command 'st\u00e4tus'; try 'help'"),
], ids=["control-chars", "escape-sequence", "del", "nul", "invalid-utf8", "cut-utf8", "empty", "blank",
        "http", "long-word", "unicode-word"])
def test_garbage_gets_an_error_and_the_connection_stays_usable(daemon, request_bytes, reply):
    connection = connect(daemon)
    try:
        assert connection.send(request_bytes)
        assert connection.reply() == [reply]
        assert connection.send(b"status\n")
        lines = connection.reply()
        assert lines[0] == "ok"
        expected_status(daemon.site, pid=daemon.pid)(lines)
    finally:
        connection.close()
    assert_healthy(daemon)


def test_crlf_requests(daemon):
    connection = connect(daemon)
    try:
        assert connection.send(b"help\r\n")
        assert connection.reply() == HELP_REPLY
    finally:
        connection.close()


def test_one_megabyte_line_without_newline(daemon):
    connection = connect(daemon)
    try:
        # The daemon gives up long before the megabyte is sent, so the send
        # may be cut short; the reply must be there all the same.
        connection.send(b"A" * (1 << 20))
        assert connection.reply() == ["error: request too long (at most 4096 bytes)"]
        assert connection.wait_closed() == b"", "the daemon should close the connection"
    finally:
        connection.close()
    assert_healthy(daemon)


def test_longest_request_is_accepted(daemon):
    connection = connect(daemon)
    try:
        word = b"y" * 4096
        assert connection.send(word + b"\n")
        assert connection.reply() == ["error: unknown command '" + "y" * 4096 + "'; try 'help'"]
        assert connection.send(b"status\n")
        assert connection.reply()[0] == "ok"
    finally:
        connection.close()


def test_half_line_does_not_block_other_clients(daemon):
    slow = connect(daemon)
    try:
        assert slow.send(b"stat")
        started = time.monotonic()
        result = daemon.ctl("status", timeout=5)
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result
        expected_status(daemon.site, pid=daemon.pid)(result.out_lines)
        assert elapsed < 2.0, f"status took {elapsed:.2f} s while another client held half a line"
        # The slow client finishes its line and is answered.
        assert slow.send(b"us\n")
        lines = slow.reply()
        assert lines[0] == "ok"
        expected_status(daemon.site, pid=daemon.pid)(lines)
    finally:
        slow.close()
    assert_healthy(daemon)


def test_silent_clients_do_not_block_others(daemon):
    silent = [connect(daemon) for _ in range(5)]
    try:
        for _ in range(3):
            assert_healthy(daemon)
    finally:
        for connection in silent:
            connection.close()


def test_pipelined_requests(daemon):
    connection = connect(daemon)
    try:
        assert connection.send(b"status\nhelp\nfrobnicate\n\nstatus extra\r\nhelp\n")
        first = connection.reply()
        assert first[0] == "ok"
        expected_status(daemon.site, pid=daemon.pid)(first)
        assert connection.reply() == HELP_REPLY
        assert connection.reply() == ["error: unknown command 'frobnicate'; try 'help'"]
        assert connection.reply() == ["error: empty request; try 'help'"]
        assert connection.reply() == ["error: status takes no arguments"]
        assert connection.reply() == HELP_REPLY
        assert connection.buffer == b"", "more replies than requests"
    finally:
        connection.close()
    assert_healthy(daemon)


def test_requests_split_across_writes(daemon):
    connection = connect(daemon)
    try:
        for piece in [b"he", b"l", b"p\nsta", b"tus", b"\n"]:
            assert connection.send(piece)
        assert connection.reply() == HELP_REPLY
        assert connection.reply()[0] == "ok"
    finally:
        connection.close()


def test_many_pipelined_requests_in_one_write(daemon):
    connection = connect(daemon)
    try:
        count = 200
        assert connection.send(b"help\n" * count)
        for _ in range(count):
            assert connection.reply() == HELP_REPLY
    finally:
        connection.close()
    assert_healthy(daemon)


def test_client_that_never_reads_its_replies(daemon):
    connection = connect(daemon, timeout=3.0)
    try:
        # Five megabytes of requests, never reading a reply: the daemon must
        # not buffer replies without bound. It may drop this client or stop
        # reading from it, but not take all five megabytes.
        chunk = b"help\n" * 20_000
        for _ in range(50):
            try:
                if not connection.send(chunk):
                    break
            except socket.timeout:
                break
        else:
            pytest.fail("the daemon kept accepting requests from a client that never reads")
        # Meanwhile everyone else is served.
        assert_healthy(daemon)
    finally:
        connection.close()
    assert_healthy(daemon)


def test_forty_clients_at_once(daemon):
    connections = []
    try:
        for _ in range(40):
            connections.append(connect(daemon))
        answered = 0
        refused = 0
        for connection in connections:
            connection.send(b"status\n")
            lines = connection.reply()
            if lines == ["error: too many control clients; try again"]:
                refused += 1
                assert connection.wait_closed() == b"", "a refused client should be closed"
            else:
                assert lines[0] == "ok", lines
                expected_status(daemon.site, pid=daemon.pid)(lines)
                answered += 1
        assert answered + refused == 40
        assert refused > 0, "all 40 clients were served: there is no limit on control clients"
        assert answered > 0, "no client was served"
        assert daemon.running()
    finally:
        for connection in connections:
            connection.close()

    # Once they are gone, a new client is served again.
    def status_ok():
        result = daemon.ctl("status")
        return result.returncode == 0 and result.out_lines[0] == "ok"
    wait_until(status_ok, what="status to answer after the crowd left")
    assert_healthy(daemon)


def test_clients_that_connect_and_vanish(daemon):
    for _ in range(50):
        connect(daemon).close()
    for _ in range(20):
        connection = connect(daemon)
        connection.send(b"status\n")
        connection.close()
    wait_until(lambda: daemon.ctl("status").returncode == 0, what="status after vanishing clients")
    assert_healthy(daemon)


def test_quit_after_abuse_still_exits_cleanly(daemon):
    holder = connect(daemon)
    try:
        holder.send(b"half a line")
        result = daemon.ctl("quit")
        assert result.returncode == 0, result
        assert daemon.wait_exit() == 0, daemon.log()
        assert holder.wait_closed() == b""
    finally:
        holder.close()
