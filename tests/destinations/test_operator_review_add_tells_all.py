"""``destinations add FILE`` tells every mistake of the file in one refusal, the version
rules' beside the file rules', as the API tells a definition sent as JSON: the unknown
version was told only once the misspelt key was mended, one round per mistake."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_in_process import run_cli as cli

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"


def _with_two_mistakes(tmp_path: Path) -> Path:
    text = (EXAMPLES / "lab-west.yaml").read_text(encoding="utf-8")
    for good, bad in {"port: 2576": "prot: 2576", "orm-v3 ": "orm-v9 "}.items():
        assert good in text
        text = text.replace(good, bad, 1)
    file = tmp_path / "new-lab.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def test_add_names_the_unknown_version_beside_the_misspelt_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = _with_two_mistakes(tmp_path)
    refused = cli("destinations", "add", str(file), "--json", env=env)
    assert refused.returncode == 2
    message = json.loads(refused.stdout)["error"]["message"]
    assert message == (
        f"{file}: prot: unknown key (did you mean port?); port: required; "
        "messages.diagnostic_request: unknown message version 'orm-v9' "
        "(known: oml-v3, orm-lfdv1, orm-lfdv2, orm-v3)"
    )
    assert list(Path(env["INTEGRATOR_DESTINATIONS_DIR"]).iterdir()) == []


def test_a_file_that_is_no_yaml_is_refused_for_that_alone(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text('id: lab\nname: "Lab\nmessages: {referral: ref-v9}\n', encoding="utf-8")
    refused = cli("destinations", "add", str(file), "--json", env=env)
    assert refused.returncode == 2
    message = json.loads(refused.stdout)["error"]["message"]
    assert "YAML syntax error" in message and "ref-v9" not in message
