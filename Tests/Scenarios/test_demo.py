"""`make demo`: the demo script places a whole call between two adapters
on loopback and exits 0 only when every step happened. Run here against
$ATAD_BIN (under qemu too, where the script stretches its deadlines)."""

import os
import subprocess
import sys

from conftest import REPO, UNDER_QEMU, atad_binary

DEMO = REPO / "demo" / "demo.py"

# The steps and SIP messages the transcript must name, in this order.
EXPECTED = [
    "1. A lifts the handset", "A hears   350+440 Hz",
    "2. A dials 2000", "A -> B  INVITE sip:2000@127.0.0.1:", "A <- B  SIP/2.0 100 Trying",
    "A <- B  SIP/2.0 180 Ringing",
    "3. B rings", "B line    ringing", "B bell    yes 20 Hz", "A hears   440+480 Hz",
    "4. B answers", "A <- B  SIP/2.0 200 OK", "A -> B  ACK ", "A line    talking", "B line    talking",
    "5. A speaks", "B hears   1000 Hz",
    "6. B speaks", "A hears   700 Hz", "B hears   1000 Hz",
    "7. A presses 5", "B hears   5", "digits sent 1 received 0", "digits sent 0 received 1",
    "8. A hangs up", "A -> B  BYE ", "A <- B  SIP/2.0 200 OK", "A line    idle", "B hears   480+620 Hz",
    "9. B hangs up", "B line    idle",
    "demo passed: every step happened",
]


def test_demo_places_a_call_and_names_every_step(atad_bin):
    # The script's own deadlines bound each step; this one only stops a
    # script that hangs outright.
    completed = subprocess.run([sys.executable, str(DEMO), "--atad", atad_binary()],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=900 if UNDER_QEMU else 180, env=os.environ)
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    transcript = completed.stdout
    position = 0
    for text in EXPECTED:
        found = transcript.find(text, position)
        assert found >= 0, f"{text!r} missing (or out of order) after offset {position} in:\n{transcript}"
        position = found + len(text)
    assert completed.stderr == "", completed.stderr


def test_demo_names_the_failed_step(tmp_path):
    """A binary that is not atad: the first step fails, by name, with
    status 1."""
    fake = tmp_path / "atad"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    completed = subprocess.run([sys.executable, str(DEMO), "--atad", str(fake)],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1, completed
    assert "demo FAILED at step 0 (start the adapters): atad B exited with status 3" in completed.stderr, completed
