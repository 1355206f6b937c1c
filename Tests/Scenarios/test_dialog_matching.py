"""How atad matches requests to calls (RFC 3261 §8.2.2.2, §12.2.2, §17.2),
seen from a hand-written UA on a raw UDP socket, message by message: an
INVITE for a dialog that does not exist gets 481, the same INVITE arriving
by a second path gets 482, a 487 is repeated until its ACK, a CANCEL that crossed the final answer
gets 200, and a request
whose CSeq goes back gets 500 while the call goes on."""

import re
import socket
import time
import uuid

from conftest import wait_until, write_site
from test_incoming_calls import line_state, sip_port


class RawUA:
    """One UDP socket speaking SIP by hand: every message is written out
    here, so the test controls branches, tags and CSeq exactly."""

    def __init__(self, port):
        self.remote = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.local_port = self.sock.getsockname()[1]
        self.call_id = uuid.uuid4().hex + "@raw"
        self.from_tag = "raw" + uuid.uuid4().hex[:8]
        self.backlog = []

    def close(self):
        self.sock.close()

    def request(self, method, branch, cseq, to_tag=None, cseq_method=None, body=""):
        uri = f"sip:1001@127.0.0.1:{self.remote[1]}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.local_port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:2000@127.0.0.1>;tag={self.from_tag}",
            f"To: <sip:1001@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {cseq_method or method}",
            f"Contact: <sip:2000@127.0.0.1:{self.local_port}>",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.remote)

    def _receive(self, seconds):
        """Responses arriving within `seconds` (bounded in time)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                break
            text = data.decode(errors="replace")
            if text.startswith("SIP/2.0 "):
                got.append(text)
        return got

    def responses(self, seconds):
        """Every response not yet taken, and those arriving within `seconds`."""
        got, self.backlog = self.backlog + self._receive(seconds), []
        return got

    def wait_for(self, status, method, seconds=5.0):
        """Takes the first response with `status` to a `method` request,
        waiting up to `seconds`; the others stay for later calls."""
        deadline = time.monotonic() + seconds
        while True:
            for index, text in enumerate(self.backlog):
                if code(text) == status and header(text, "CSeq").endswith(method):
                    return self.backlog.pop(index)
            left = deadline - time.monotonic()
            if left <= 0:
                seen = [first_line(t) + " / " + header(t, "CSeq") for t in self.backlog]
                raise AssertionError(f"no {status} to {method} within {seconds} s; saw {seen}")
            self.backlog += self._receive(min(0.1, left))


def code(text):
    return int(text[8:11])


def first_line(text):
    return text.split("\r\n", 1)[0]


def header(text, name):
    match = re.search(rf"^{name}:\s*(.*?)\r$", text, re.MULTILINE | re.IGNORECASE)
    return match.group(1) if match else ""


SDP = ("v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def start(daemons, tmp_path, short_dir):
    control = short_dir / "control.sock"
    return daemons.start(write_site(tmp_path / "site.conf", control), control, tmp_path)


def test_an_invite_for_a_dialog_that_does_not_exist_gets_481(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir)
    ua = RawUA(sip_port(daemon))
    try:
        ua.request("INVITE", "z9hG4bKstray1", 5, to_tag="nosuchdialog", body=SDP)
        ua.wait_for(481, "INVITE")
        ua.request("ACK", "z9hG4bKstray1", 5, to_tag="nosuchdialog")
        assert line_state(daemon, 1) == "idle"
        assert daemon.running()
    finally:
        ua.close()


def test_a_merged_invite_gets_482_and_a_487_is_repeated_until_its_ack(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir)
    ua = RawUA(sip_port(daemon))
    try:
        ua.request("INVITE", "z9hG4bKfirst", 1, body=SDP)
        ua.wait_for(180, "INVITE")
        wait_until(lambda: line_state(daemon, 1) == "ringing", 5, "line 1 to ring")
        # The same request (Call-ID, From tag, CSeq) by another path: a loop.
        ua.request("INVITE", "z9hG4bKsecond", 1, body=SDP)
        merged = ua.wait_for(482, "INVITE")
        assert "branch=z9hG4bKsecond" in header(merged, "Via"), merged
        assert line_state(daemon, 1) == "ringing", "the first INVITE still rings"

        ua.request("CANCEL", "z9hG4bKfirst", 1, cseq_method="CANCEL")
        ua.wait_for(200, "CANCEL")
        first = ua.wait_for(487, "INVITE")
        assert "branch=z9hG4bKfirst" in header(first, "Via"), first
        # No ACK yet: Timer G repeats the 487 (0.5 s, then 1 s later).
        repeats = [r for r in ua.responses(2.0) if code(r) == 487]
        assert len(repeats) >= 2, repeats
        ua.request("ACK", "z9hG4bKfirst", 1, to_tag=re.search(r"tag=([^;>\s]+)", header(first, "To")).group(1))
        ua.responses(0.3)  # a copy already on its way may still come
        assert [r for r in ua.responses(2.0) if code(r) == 487] == [], "the ACK stops the 487"
        wait_until(lambda: line_state(daemon, 1) == "idle", 5, "the bell to stop")
        assert daemon.running()
    finally:
        ua.close()


def test_a_cancel_that_crosses_the_final_answer_gets_200(daemons, tmp_path, short_dir):
    """Both lines off hook: the INVITE gets 486 at once. A CANCEL sent
    before the 486 arrived (it crossed it) names a transaction that still
    exists: 200, and the 486 stands (RFC 3261 §9.2); a CANCEL for an
    INVITE never seen gets 481."""
    daemon = start(daemons, tmp_path, short_dir)
    ua = RawUA(sip_port(daemon))
    try:
        for line in ("1", "2"):
            assert daemon.ctl("hook", line, "off").returncode == 0
        ua.request("INVITE", "z9hG4bKbusy", 1, body=SDP)
        busy = ua.wait_for(486, "INVITE")
        ua.request("CANCEL", "z9hG4bKbusy", 1, cseq_method="CANCEL")
        ua.wait_for(200, "CANCEL")
        ua.request("ACK", "z9hG4bKbusy", 1, to_tag=re.search(r"tag=([^;>\s]+)", header(busy, "To")).group(1))
        ua.request("CANCEL", "z9hG4bKnever", 2, cseq_method="CANCEL")
        ua.wait_for(481, "CANCEL")
        assert daemon.running()
    finally:
        ua.close()


def test_a_request_whose_cseq_goes_back_gets_500_and_the_call_goes_on(daemons, tmp_path, short_dir):
    daemon = start(daemons, tmp_path, short_dir)
    ua = RawUA(sip_port(daemon))
    try:
        ua.request("INVITE", "z9hG4bKcall", 10, body=SDP)
        ua.wait_for(180, "INVITE")
        assert daemon.ctl("hook", "1", "off").returncode == 0
        ok = ua.wait_for(200, "INVITE")
        to_tag = re.search(r"tag=([^;>\s]+)", header(ok, "To")).group(1)
        ua.request("ACK", "z9hG4bKack", 10, to_tag=to_tag)
        wait_until(lambda: line_state(daemon, 1) == "talking", 5, "the call to be up")

        ua.request("BYE", "z9hG4bKold", 9, to_tag=to_tag)
        ua.wait_for(500, "BYE")
        ua.responses(0.5)
        assert line_state(daemon, 1) == "talking", "a BYE out of order ends nothing"

        ua.request("BYE", "z9hG4bKbye", 11, to_tag=to_tag)
        ua.wait_for(200, "BYE")
        wait_until(lambda: line_state(daemon, 1) == "busy", 5, "the far end's hang-up to reach the line")
        assert daemon.running()
    finally:
        ua.close()
