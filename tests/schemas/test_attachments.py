"""Attachments: base64, size limits and content that matches its declared type."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from schemas.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_TOTAL_BYTES, decoded_size

from .support import edited, errors_of, parse_both, single_error

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
TEXT = "Uitslag: geen bijzonderheden. Ééntje.\n".encode()


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _with_attachments(data: dict[str, Any], *attachments: tuple[str, str]) -> dict[str, Any]:
    items = [
        {"filename": f"bijlage{n}", "content_type": content_type, "data": encoded}
        for n, (content_type, encoded) in enumerate(attachments)
    ]
    return edited(data, "attachments", items)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [("application/pdf", PDF), ("image/png", PNG), ("image/jpeg", JPEG), ("text/plain", TEXT)],
)
def test_allowed_types_with_matching_content(
    referral_data: dict[str, Any], content_type: str, content: bytes
) -> None:
    event = parse_both(_with_attachments(referral_data, (content_type, _b64(content))))
    attachment = event.attachments[0]
    assert attachment.size == len(content)
    assert base64.b64decode(attachment.data) == content


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/pdf", PNG),
        ("application/pdf", b"<html>%PDF-"),
        ("image/png", JPEG),
        ("image/jpeg", PDF),
        ("image/png", b"\x89PN"),
        ("text/plain", b"\xff\xfe\x00bad utf-8 \xc3"),
    ],
)
def test_content_not_matching_type_refused(
    referral_data: dict[str, Any], content_type: str, content: bytes
) -> None:
    data = _with_attachments(referral_data, (content_type, _b64(content)))
    assert single_error(data) == ("attachments[0].data", "content_mismatch")


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", "image/gif"])
def test_other_content_types_refused(referral_data: dict[str, Any], content_type: str) -> None:
    data = _with_attachments(referral_data, (content_type, _b64(PDF)))
    assert single_error(data) == ("attachments[0].content_type", "allowed_values")


@pytest.mark.parametrize(
    ("sent", "content_type", "content"),
    [
        ("application/PDF", "application/pdf", PDF),
        ("Application/Pdf", "application/pdf", PDF),
        ("IMAGE/PNG", "image/png", PNG),
        ("image/JPEG", "image/jpeg", JPEG),
        ("Text/Plain", "text/plain", TEXT),
    ],
)
def test_any_case_is_taken_and_kept_in_lower_case(
    referral_data: dict[str, Any], sent: str, content_type: str, content: bytes
) -> None:
    """MIME types are case-insensitive (RFC 2045 section 5.1); `application/PDF` was refused
    as `allowed_values`. Its content is held to its type as ever."""
    event = parse_both(_with_attachments(referral_data, (sent, _b64(content))))
    assert event.attachments[0].content_type == content_type
    mismatch = _with_attachments(referral_data, (sent, _b64(b"not it")))
    if content_type != "text/plain":
        assert single_error(mismatch) == ("attachments[0].data", "content_mismatch")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8",  # parameters are not taken (docs/product.md)
        "application/pdf ; x=y",
        "applİcation/pdf",  # not ASCII: not lower-cased (Python would make it i and a dot)
    ],
)
def test_no_other_spelling_is_taken(referral_data: dict[str, Any], content_type: str) -> None:
    data = _with_attachments(referral_data, (content_type, _b64(PDF)))
    assert single_error(data) == ("attachments[0].content_type", "allowed_values")


def test_a_mismatch_in_any_case_is_named_beside_other_errors(
    referral_data: dict[str, Any],
) -> None:
    """With another field of the attachment wrong, pydantic skips the content rule, and it is
    judged again on the body (`schemas.deferred`), which reads the type lower-cased too: as
    sent, it looked `APPLICATION/PDF` up among the signatures, failed, and took every
    cross-field error of the answer with it."""
    data = _with_attachments(referral_data, ("APPLICATION/PDF", _b64(PNG)))
    data = edited(data, "attachments[0].filename", "a/b.pdf")
    data = edited(data, "patient.birth_date", "2999-01-01")
    assert errors_of(data) == [
        ("attachments[0].filename", "filename_format"),
        ("attachments[0].data", "content_mismatch"),
        ("patient.birth_date", "birth_date_after_created_at"),
    ]


@pytest.mark.parametrize("encoded", ["JVBERi0x!!", "JVBERi0", "JVBE=Ri0", "SGVsbG8_LXc-"])
def test_invalid_base64_refused(referral_data: dict[str, Any], encoded: str) -> None:
    data = _with_attachments(referral_data, ("text/plain", encoded))
    assert single_error(data) == ("attachments[0].data", "base64")


def test_wrapped_base64_accepted_and_compacted(referral_data: dict[str, Any]) -> None:
    wrapped = base64.encodebytes(PDF * 20).decode("ascii")
    assert "\n" in wrapped
    event = parse_both(_with_attachments(referral_data, ("application/pdf", wrapped)))
    assert event.attachments[0].data == _b64(PDF * 20)
    assert event.attachments[0].size == len(PDF * 20)


def test_empty_data_refused(referral_data: dict[str, Any]) -> None:
    data = _with_attachments(referral_data, ("text/plain", " \n "))
    assert single_error(data) == ("attachments[0].data", "blank")


@pytest.mark.parametrize("filename", ["../etc/passwd", "map\\brief.pdf", "a\nb.pdf", ".."])
def test_filename_with_path_refused(referral_data: dict[str, Any], filename: str) -> None:
    data = edited(referral_data, "attachments[0].filename", filename)
    assert single_error(data) == ("attachments[0].filename", "filename_format")


def test_description_optional(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(referral_data, "attachments[0].description", "ECG 18 november"))
    assert event.attachments[0].description == "ECG 18 november"


@pytest.mark.parametrize("length", range(1, 9))
def test_decoded_size_matches_decoding(length: int) -> None:
    encoded = _b64(b"x" * length)
    assert decoded_size(encoded) == length


# Large bodies are built once per module: the limits are real sizes, not test-only settings.


@pytest.fixture(scope="module")
def pdf_at_limit() -> str:
    return _b64(PDF + b"\0" * (MAX_ATTACHMENT_BYTES - len(PDF)))


@pytest.fixture(scope="module")
def pdf_over_limit() -> str:
    return _b64(PDF + b"\0" * (MAX_ATTACHMENT_BYTES - len(PDF) + 1))


def test_attachment_at_20_mib_accepted(referral_data: dict[str, Any], pdf_at_limit: str) -> None:
    event = parse_both(_with_attachments(referral_data, ("application/pdf", pdf_at_limit)))
    assert event.attachments[0].size == MAX_ATTACHMENT_BYTES


def test_attachment_over_20_mib_refused(referral_data: dict[str, Any], pdf_over_limit: str) -> None:
    data = _with_attachments(referral_data, ("application/pdf", pdf_over_limit))
    assert single_error(data) == ("attachments[0].data", "attachment_too_large")


def test_attachments_over_50_mib_in_total_refused(
    referral_data: dict[str, Any], pdf_at_limit: str
) -> None:
    data = _with_attachments(referral_data, *[("application/pdf", pdf_at_limit)] * 3)
    assert 3 * MAX_ATTACHMENT_BYTES > MAX_ATTACHMENTS_TOTAL_BYTES
    assert single_error(data) == ("attachments", "attachments_total_too_large")


def test_attachments_at_50_mib_in_total_accepted(referral_data: dict[str, Any]) -> None:
    half = _b64(PDF + b"\0" * (MAX_ATTACHMENTS_TOTAL_BYTES // 4 - len(PDF)))
    event = parse_both(_with_attachments(referral_data, *[("application/pdf", half)] * 4))
    assert sum(a.size for a in event.attachments) == MAX_ATTACHMENTS_TOTAL_BYTES
