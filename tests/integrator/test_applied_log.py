"""The "destinations applied" line names what changed: a count alone ("destinations=2
restarted=0") told an operator nothing of a pause, a resume or a removal someone else made."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for


def applied(logs: Sequence[MutableMapping[str, Any]]) -> dict[str, str]:
    [line] = [e for e in logs if e["event"] == "destinations applied"]
    changes: dict[str, str] = line.get("changes", {})
    return changes


async def test_each_change_is_named_with_its_destination(tmp_path: Path) -> None:
    async with MllpReceiver() as receiver:
        settings = settings_for(tmp_path)
        settings.destinations_dir.mkdir()
        noord = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        (settings.destinations_dir / "noord.yaml").write_text(dump_destination(noord))
        engine = Engine(settings)
        await engine.start()
        try:
            admin = engine.admin
            steps = [
                (admin.set_enabled("noord", False, actor="local:a", reason="x"), "paused"),
                (admin.set_enabled("noord", True, actor="local:a", reason="x"), "resumed"),
                (admin.update("noord", ["connect_timeout=2s"], actor="local:a"), "changed"),
            ]
            for change, said in steps:
                with capture_logs() as logs:
                    await change
                assert applied(logs) == {"noord": said}
            zuid = destination("zuid", receiver.port, providers=["lab-zuid"], cluster="LAB")
            with capture_logs() as logs:
                await admin.add(dump_destination(zuid), actor="local:a")
            assert applied(logs) == {"zuid": "added"}
            with capture_logs() as logs:
                await admin.remove("zuid", actor="local:a")
            assert applied(logs) == {"zuid": "removed"}
        finally:
            await engine.stop()
