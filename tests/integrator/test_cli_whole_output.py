"""A command's output reaches a pipe whole, or the command exits 1 saying that it did not.

With ``PYTHONUNBUFFERED=1`` (containers, systemd units) a write to a pipe that the kernel cut
short was dropped: ``messages list --json | slow-reader`` got the first 64 KiB and exit 0. The
kernel cuts a blocked pipe write short when the writer is stopped and continued, and (after
uvloop's loop has closed) when libuv's io_uring teardown interrupts it a few milliseconds later;
the first is what these tests do, on the real command as a process, because it happens on
every run. A write that fails (a full disk, the reader gone) is exit 1 and one line on stderr.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import json
import os
import re
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.store import Store
from tests.integrator.test_cli_reading import stored
from tests.store.factories import make_event, make_message

ROOT = Path(__file__).resolve().parents[2]
# Each listing is more than a pipe holds (64 KiB by default): some 190 KB of JSON, 210 KB
# of CSV, 110 KB of table.
MESSAGES = 300
AUDIT_ENTRIES = 1500

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pipes")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store whose listings are each larger than a pipe's buffer."""
    tmp_path = tmp_path_factory.mktemp("whole-output")
    batch = [(make_event(), [make_message()]) for _ in range(MESSAGES)]
    env = stored(tmp_path, batch, timedelta(seconds=1))

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for n in range(AUDIT_ENTRIES):
                await store.add_audit("local:tester", "test.entry", f"target-{n}")

    asyncio.run(fill())
    return env


def start(env: Mapping[str, str], args: list[str], stdout: int) -> subprocess.Popen[bytes]:
    """``integrator ARGS`` as a process, unbuffered as in a container, stdout to ``stdout``."""
    return subprocess.Popen(
        [sys.executable, "-m", "integrator", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
    )


def wait_until_full(pipe: int, process: subprocess.Popen[bytes]) -> None:
    """Until the pipe holds all it can: the command is blocked writing the rest."""
    capacity = fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ)
    waiting = bytearray(4)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        fcntl.ioctl(pipe, termios.FIONREAD, waiting)
        if int.from_bytes(waiting, sys.byteorder) >= capacity:
            return
        time.sleep(0.05)
    raise AssertionError(f"the pipe never filled; exit {process.poll()}")


def stopped_while_writing(env: Mapping[str, str], args: list[str]) -> tuple[int, bytes, str]:
    """Run the command into a pipe nobody reads yet; once it is blocked on the full pipe, stop
    and continue it (Ctrl-Z and ``fg``), then read it all slowly: exit code, stdout, stderr."""
    read_end, write_end = os.pipe()
    process = start(env, args, write_end)
    os.close(write_end)
    try:
        wait_until_full(read_end, process)
        process.send_signal(signal.SIGSTOP)
        stat = Path(f"/proc/{process.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert time.monotonic() < deadline, "the command did not stop"
            time.sleep(0.01)
        process.send_signal(signal.SIGCONT)
        chunks = []
        with open(read_end, "rb", buffering=0, closefd=False) as reader:
            while chunk := reader.read(8192):
                chunks.append(chunk)
                time.sleep(0.001)
        _, stderr = process.communicate(timeout=120)
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, b"".join(chunks), stderr.decode()


def test_a_json_listing_reaches_a_slow_pipe_whole(env: dict[str, str]) -> None:
    code, out, err = stopped_while_writing(
        env, ["messages", "list", "--json", "--limit", str(MESSAGES)]
    )
    assert code == 0, err
    assert len(json.loads(out)) == MESSAGES, f"{len(out)} bytes"


def test_a_csv_export_reaches_a_slow_pipe_whole(env: dict[str, str]) -> None:
    code, out, err = stopped_while_writing(
        env, ["audit", "list", "--csv", "--limit", str(AUDIT_ENTRIES)]
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.decode())))
    assert len(rows) == AUDIT_ENTRIES + 1, f"{len(out)} bytes"  # and the header
    assert all(len(row) == len(rows[0]) for row in rows), rows[-1]


def test_a_table_reaches_a_slow_pipe_whole(env: dict[str, str]) -> None:
    code, out, err = stopped_while_writing(env, ["audit", "list", "--limit", str(AUDIT_ENTRIES)])
    assert code == 0, err
    text = out.decode()
    # The heading says how many of how many (the store has an entry or so besides the test's).
    assert re.search(rf"Audit \({AUDIT_ENTRIES} (of \d+ )?shown", text), f"{len(out)} bytes"
    rows = [line for line in text.splitlines() if re.match(r"\s*\d+ \d{4}-\d\d-\d\dT", line)]
    assert len(rows) == AUDIT_ENTRIES, f"{len(out)} bytes"


def to_a_full_disk(env: Mapping[str, str], args: list[str]) -> tuple[int, str]:
    """``integrator ARGS > /dev/full``: exit code and stderr."""
    with open("/dev/full", "wb") as full:
        process = start(env, args, full.fileno())
        _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr.decode()


def test_output_to_a_full_disk_exits_1_saying_so(env: dict[str, str]) -> None:
    code, said = to_a_full_disk(env, ["messages", "list", "--json"])
    assert code == 1, said
    assert "error: output not written whole to stdout (No space left on device" in said, said
    assert "Traceback" not in said, said


def test_output_whose_reader_went_away_exits_1_saying_so(env: dict[str, str]) -> None:
    read_end, write_end = os.pipe()
    process = start(env, ["messages", "list", "--json", "--limit", str(MESSAGES)], write_end)
    os.close(write_end)
    try:
        wait_until_full(read_end, process)
    finally:
        os.close(read_end)  # as ``| head`` does once it has its lines
    _, stderr = process.communicate(timeout=120)
    said = stderr.decode()
    assert process.returncode == 1, said
    assert "error: output not written whole to stdout (Broken pipe" in said, said
    assert "Traceback" not in said, said


def help_to_a_reader_gone(env: Mapping[str, str], args: list[str]) -> tuple[int, str]:
    """``integrator ARGS | head -0``: the reader has closed the pipe before the help is
    written: exit code and stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = start(env, args, write_end)
    os.close(write_end)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr.decode()


@pytest.mark.parametrize(
    "args",
    [["--help"], ["messages", "--help"], ["messages"], ["messages", "list", "--help"]],
    ids=["app", "group", "group-without-command", "command"],
)
def test_help_whose_reader_stopped_early_ends_quietly(env: dict[str, str], args: list[str]) -> None:
    """``--help | head`` or ``| grep -q``: the reader took what it wanted; no error, exit 0."""
    code, said = help_to_a_reader_gone(env, args)
    assert (code, said) == (0, "")


def test_help_to_a_full_disk_still_exits_1_saying_so(env: dict[str, str]) -> None:
    """Only a reader's choice is quiet: a disk that took none of the help is a fault."""
    code, said = to_a_full_disk(env, ["messages", "list", "--help"])
    assert code == 1, said
    assert "error: output not written whole to stdout (No space left on device" in said, said


def test_a_listing_whose_reader_left_before_it_began_is_still_said(
    env: dict[str, str],
) -> None:
    """Only help is quiet: a listing cut so is said, though nothing of it was read."""
    code, said = help_to_a_reader_gone(env, ["messages", "list", "--json"])
    assert code == 1, said
    assert "error: output not written whole to stdout (Broken pipe" in said, said
