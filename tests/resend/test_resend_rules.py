"""Which messages a resend sends or skips, and the exit codes saying so (docs/support.md §3).

Run as support staff run them: ``integrator resend`` and ``integrator deadletter resend`` on a
real store with real destination files.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from tests.resend.support import NOORD, ZUID, Desk


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["original_id"] for r in rows]


def test_a_zd_number_names_the_referral_so_an_earlier_resend_does_not_stop_it(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original = desk.submit(referral_data, "ZD500000001")
    desk.set_status(original, "delivered")
    assert desk.cli("resend", original, "--reason", "GP called").exit_code == 0

    remap = desk.cli(
        "resend", "--zd", "ZD500000001", "--mode", "remap", "--reason", "GP again", "--json"
    )
    assert remap.exit_code == 0, remap.output
    outcome = json.loads(remap.stdout)
    assert _ids(outcome["resent"]) == [original] and outcome["skipped"] == []
    assert outcome["resent"][0]["mode"] == "remap"

    moved = desk.cli("resend", "--zd", "ZD500000001", "--to", ZUID, "--reason", "moved", "--json")
    assert moved.exit_code == 0, moved.output
    [to_zuid] = json.loads(moved.stdout)["resent"]
    assert (to_zuid["original_id"], to_zuid["destination"]) == (original, ZUID)
    assert len(desk.resends_of(original)) == 3


def test_a_broad_filter_skips_a_live_resend_there_or_one_sent_on_and_exits_1(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    first = desk.submit(referral_data, "ZD500000011")
    second = desk.submit(referral_data, "ZD500000012")
    for message_id in (first, second):
        desk.set_status(message_id, "delivered")
    assert desk.cli("resend", first, "--reason", "GP called").exit_code == 0  # queued, to noord
    batch = ("resend", "--destination", NOORD, "--status", "delivered", "--reason", "HIS reset")

    # To zuid: the first one's resend went to noord, so it does not count.
    to_zuid = desk.cli(*batch, "--to", ZUID, "--json")
    assert to_zuid.exit_code == 0, to_zuid.output
    assert sorted(_ids(json.loads(to_zuid.stdout)["resent"])) == sorted([first, second])

    # The same batch again: both have a live resend to zuid now; each skip says why.
    again = desk.cli(*batch, "--to", ZUID, "--json")
    assert again.exit_code == 1, again.output
    outcome = json.loads(again.stdout)
    assert outcome["resent"] == [] and sorted(_ids(outcome["skipped"])) == sorted([first, second])
    assert all(f"already resent to {ZUID}" in r["note"] for r in outcome["skipped"])

    # To their own destination: the first has a live resend there; the second was sent on to
    # zuid, and sending it to noord as well would put the referral in two hospitals.
    own = desk.cli(*batch, "--json")
    assert own.exit_code == 1, own.output
    outcome = json.loads(own.stdout)
    assert outcome["resent"] == []
    notes = {r["original_id"]: r["note"] for r in outcome["skipped"]}
    [earlier] = [r for r in desk.resends_of(first) if desk.message(r).destination_id == NOORD]
    assert f"already resent to {NOORD} as {earlier} (queued)" in notes[first]
    [on_to_zuid] = [r for r in desk.resends_of(second) if desk.message(r).destination_id == ZUID]
    assert (
        f"already resent to {ZUID} as {on_to_zuid} (queued), so not to {NOORD}" in (notes[second])
    )

    human = desk.cli(*batch)
    assert human.exit_code == 1
    text = " ".join(human.stdout.split())
    assert f"skipped {first}: already resent" in text and f"skipped {second}" in text
    assert "were not resent" in human.stderr
    # Named (by its ZD number), it goes there too: the person decided.
    named = desk.cli("resend", "--zd", "ZD500000012", "--reason", "both", "--json")
    assert named.exit_code == 0, named.output
    assert _ids(json.loads(named.stdout)["resent"]) == [second]


def test_deadletter_resend_dry_run_promises_exactly_what_the_real_run_does(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """Four dead letters, three resent before and still queued: the dry run promised 4."""
    letters = [desk.submit(referral_data, f"ZD50000002{i}") for i in range(4)]
    for message_id in letters:
        desk.set_status(message_id, "dead")
    for message_id in letters[:3]:
        assert desk.cli("deadletter", "resend", message_id, "--reason", "first go").exit_code == 0
    audit_before = desk.audit_size()
    command = ("deadletter", "resend", "--all", "--reason", "HIS back")

    dry = desk.cli(*command, "--dry-run", "--json")
    assert dry.exit_code == 1, dry.output
    assert desk.audit_size() == audit_before  # a dry run writes nothing
    human_dry = desk.cli(*command, "--dry-run")
    assert human_dry.exit_code == 1
    assert "Dry run: 1 of 4 messages would be resent" in " ".join(human_dry.stdout.split())

    real = desk.cli(*command, "--json")
    assert real.exit_code == 1, real.output
    promised, done = json.loads(dry.stdout), json.loads(real.stdout)
    assert _ids(promised["would_resend"]) == _ids(done["resent"]) == [letters[3]]
    assert [(r["original_id"], r["note"]) for r in promised["would_skip"]] == [
        (r["original_id"], r["note"]) for r in done["skipped"]
    ]
    assert sorted(_ids(done["skipped"])) == sorted(letters[:3])
    assert all(f"already resent to {NOORD}" in r["note"] for r in done["skipped"])


def test_a_named_message_that_cannot_be_resent_exits_1_with_why(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    queued = desk.submit(referral_data, "ZD500000031")  # no engine: it stays queued
    for dry_run in ((), ("--dry-run",)):
        result = desk.cli("resend", queued, "--reason", "GP called", *dry_run)
        assert result.exit_code == 1, result.output
        assert "still being delivered (queued)" in " ".join(result.stdout.split())
    assert desk.resends_of(queued) == []


def test_a_selection_that_finds_nothing_exits_1_and_says_so(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    desk.submit(referral_data, "ZD500000041")
    for command in (
        ("resend", "--zd", "ZD599999999", "--reason", "GP called"),
        ("resend", "--status", "dead", "--reason", "HIS back", "--dry-run"),
        ("deadletter", "resend", "--all", "--reason", "HIS back"),
    ):
        result = desk.cli(*command)
        assert result.exit_code == 1, (command, result.output)
        assert "no message matches the selection" in result.stderr, command
    as_json = desk.cli("deadletter", "resend", "--all", "--reason", "x", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["total"] == 0
    # The error line stays on stderr with --json too (docs/product.md §6): it was left out.
    assert "error: no message matches the selection; nothing resent" in as_json.stderr


def test_a_selection_by_status_sending_says_no_message_is_ever_in_it(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """As ``messages list --status sending`` does: the empty selection is certain, not a typo."""
    queued = desk.submit(referral_data, "ZD500000061")  # no engine: it stays queued
    sending = ("resend", "--status", "sending", "--reason", "HIS back")
    for extra in ((), ("--dry-run",), ("--json",), ("--dry-run", "--json")):
        result = desk.cli(*sending, *extra)
        assert result.exit_code == 1, (extra, result.output)
        said = " ".join(result.stderr.split())
        assert "note: no message is ever in status sending" in said, extra
        assert "queued (or retrying)" in said, extra
        assert "note:" not in result.stdout, extra  # a script's JSON stays JSON
    other = desk.cli("resend", "--status", "dead", "--reason", "HIS back", "--dry-run")
    assert other.exit_code == 1 and "no message matches the selection" in other.stderr
    assert "note:" not in other.stderr
    assert desk.resends_of(queued) == []


def test_bad_input_is_refused_with_exit_2_and_nothing_is_resent(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    dead = desk.submit(referral_data, "ZD500000051")
    delivered = desk.submit(referral_data, "ZD500000052")
    desk.set_status(dead, "dead")
    desk.set_status(delivered, "delivered")
    audit_before = desk.audit_size()
    cases = [
        (("deadletter", "resend", "--reason", "x"), "say which dead letters"),
        (("deadletter", "resend", dead, "--reason", " "), "a reason is required"),
        (("deadletter", "resend", dead, delivered, "--reason", "x"), "is delivered, not dead"),
        (
            ("resend", dead, "nope", "--reason", "x"),
            "no message has that id (not an id, not repeated",
        ),
        (("resend", dead, "--reason", "x", "--mode", "sideways"), "--mode: must be original or"),
        (
            ("resend", dead, "--reason", "x", "--to", "nowhere"),
            # The typo says what there is, as --destination's does.
            f"--to: destination nowhere is not configured; configured: {NOORD}, {ZUID}",
        ),
        (
            ("resend", "--zd", "ZD500000051", "--reason", "x", "--mode", "original", "--to", ZUID),
            f"--mode: message {dead} was made for {NOORD} (MSH-5/6); to send it to {ZUID} use "
            "--mode remap",
        ),
        (("resend", dead, "--reason", "x" * 1001), "--reason: at most 1000 characters"),
        (("deadletter", "resend", dead, "--reason", "x" * 1001), "--reason: at most 1000"),
    ]
    for args, expected in cases:
        for dry_run in ((), ("--dry-run",)):
            result = desk.cli(*args, *dry_run)
            assert result.exit_code == 2, (args, result.output)
            assert expected in " ".join(result.stderr.split()), (args, result.stderr)
    assert desk.resends_of(dead) == [] and desk.resends_of(delivered) == []
    assert desk.audit_size() == audit_before


def test_a_refused_value_is_named_back_only_when_it_is_a_well_formed_id(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """The server's command line names an id its user typed (``--to lab``), but never a value
    that is no id: a name or a BSN pasted into the wrong option is not printed back."""
    delivered = desk.submit(referral_data, "ZD500000053")
    desk.set_status(delivered, "delivered")
    audit_before = desk.audit_size()
    for typed in ("Jan van der Berg", "999990019", "1970-01-31"):
        for args in (
            ("resend", delivered, "--reason", "x", "--to", typed),
            ("resend", delivered, "--reason", "x", "--to", typed, "--dry-run"),
            ("resend", delivered, "--reason", "x", "--to", typed, "--mode", "original"),
            ("resend", delivered, "--reason", "x", "--mode", typed),
            ("resend", typed, "--reason", "x"),
        ):
            result = desk.cli(*args)
            assert result.exit_code == 2, (args, result.output)
            assert typed not in result.output and typed not in result.stderr, result.stderr
            assert "Berg" not in result.stderr and "990019" not in result.stderr
    said = " ".join(desk.cli("resend", delivered, "--reason", "x", "--to", "Jan").stderr.split())
    assert said == (
        f"error: --to: no configured destination has this id; configured: {NOORD}, {ZUID}"
    )
    elsewhere = desk.cli(
        "resend", delivered, "--reason", "x", "--to", "Jan van der Berg", "--mode", "original"
    )
    assert "to send it to another destination use --mode remap" in " ".join(
        elsewhere.stderr.split()
    )
    assert desk.resends_of(delivered) == []
    assert desk.audit_size() == audit_before


def test_a_reason_of_1000_characters_is_taken_and_one_of_1001_refused(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """One bound for every door (``integrator.reasons``): refused before anything is resent
    or discarded, naming the option and the bound, not repeating the reason."""
    delivered = desk.submit(referral_data, "ZD500000054")
    dead = desk.submit(referral_data, "ZD500000055")
    desk.set_status(delivered, "delivered")
    desk.set_status(dead, "dead")
    audit_before = desk.audit_size()
    long_reason = "Jan van der Berg " + "x" * (1001 - len("Jan van der Berg "))
    assert len(long_reason) == 1001
    for args in (
        ("resend", delivered, "--reason", long_reason),
        ("resend", delivered, "--reason", long_reason, "--dry-run"),
        ("deadletter", "resend", dead, "--reason", long_reason),
        ("deadletter", "discard", dead, "--reason", long_reason),
    ):
        refused = desk.cli(*args)
        assert refused.exit_code == 2, (args, refused.output)
        assert " ".join(refused.stderr.split()) == "error: --reason: at most 1000 characters"
        assert "Jan" not in refused.output
    assert desk.resends_of(delivered) == [] and desk.resends_of(dead) == []
    assert desk.message(dead).status == "dead"
    assert desk.audit_size() == audit_before

    reason = "y" * 1000
    assert desk.cli("resend", delivered, "--reason", reason).exit_code == 0
    assert desk.cli("deadletter", "discard", dead, "--reason", reason).exit_code == 0
    assert len(desk.resends_of(delivered)) == 1
    assert desk.message(dead).status == "cancelled"


def test_a_remap_of_an_event_that_no_longer_validates_is_skipped_in_words_for_any_caller(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """The note reaches the CLI, the API's JSON and the console alike: it names the mode, not
    the CLI's ``--mode`` option (the API's field is ``mode``)."""
    delivered = desk.submit(referral_data, "ZD500000051")
    desk.set_status(delivered, "delivered")
    database = desk.env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:  # an event stored under rules since tightened
        conn.execute(
            "UPDATE events SET payload = '{}' WHERE id = "
            "(SELECT event_id FROM messages WHERE id = ?)",
            (delivered,),
        )
    result = desk.cli("resend", delivered, "--mode", "remap", "--reason", "GP called")
    assert result.exit_code == 1, result.output
    said = " ".join(result.stdout.split())
    assert "no longer passes validation; resend it as it was sent (mode original)" in said
    assert "--mode" not in said
    assert desk.resends_of(delivered) == []
