"""``integrator receiver --ack`` takes the code in any case, as statuses and versions are read
(``--ack ae`` was refused while ``--status DEAD`` is taken); a code that is none is refused
naming the option and the codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from integrator.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_an_ack_code_in_lower_case_is_taken() -> None:
    receiver = subprocess.Popen(
        [sys.executable, "-m", "integrator", "receiver", "--port", "0", "--ack", "ae"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert receiver.stdout is not None
        first = receiver.stdout.readline()
        said = receiver.stderr.read() if receiver.poll() is not None and receiver.stderr else ""
        assert "answering AE" in first, (first, said)
    finally:
        receiver.kill()
        receiver.wait()


def test_a_code_that_is_none_is_refused_naming_the_option() -> None:
    done = CliRunner().invoke(app, ["receiver", "--port", "0", "--ack", "AX"])
    assert done.exit_code == 2
    assert "--ack: one of AA, AE, AR, CA, CE, CR" in done.output
