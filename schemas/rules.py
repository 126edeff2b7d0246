"""The catalogue of validation rule codes and their sentences.

Rule codes are a contract with callers (API 422 bodies, CLI output, rejected AMQP records, support
screens), so they live in one place and never change meaning. Every sentence describes the rule,
never the offending value: error text travels into logs and tickets, and intake carries patient
data.
"""

from __future__ import annotations

from typing import Final

from shapes import Shape

RULE_MESSAGES: Final[dict[str, str]] = {
    # Structure
    "json_syntax": "is not valid JSON",
    "duplicate_key": "is given twice in one object; which of the two was meant cannot be told",
    "required": "is required",
    "unknown_field": "is not a known field",
    "type": "has the wrong type",
    "allowed_values": "is not one of the allowed values",
    "blank": "must not be blank",
    "too_short": "has too few items",
    "too_many_items": "has more items than this list takes",
    "at_least_one": "must contain at least one item",
    "invalid": "is not valid",
    "more_errors": "… and more, not listed",
    # Lengths (schemas.fields): an accepted event must always fit a message that can be sent
    "text_too_long": "is longer than 1000 characters, the most this field takes",
    "long_text_too_long": "is longer than 65536 characters, the most a free-text field takes",
    "event_text_too_long": (
        "holds more than 1000000 characters of text in all (attachment data not counted)"
    ),
    # Envelope
    "schema_version": "must be the integer 1 (the only supported schema version)",
    "uuid_format": "must be a UUID",
    # A sender's unset field: two senders' events would be one (the second a duplicate).
    "uuid_unset": (
        "must be a UUID made for this event, not the nil UUID (all 0) nor the max UUID (all f), "
        "which unset fields default to"
    ),
    "zd_number_format": "must be a ZD number: 'ZD' followed by 9 digits",
    # A day that does not exist (1961-02-30) breaks it too: "format" alone sent senders of
    # well-formed dates looking for a formatting mistake they had not made.
    "date_format": "must be a date that exists, in ISO 8601 format (YYYY-MM-DD)",
    "datetime_format": "must be an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss with an offset)",
    "timezone_required": "must include a UTC offset such as +01:00 or Z (RFC 3339)",
    "datetime_range": "must lie between 0001-01-02 and 9999-12-30 (UTC), the times intake handles",
    # Dutch identifiers and contact details
    "bsn_format": "must be a BSN of exactly 9 digits",
    "bsn_eleven_test": "must pass the BSN eleven-test",
    "bsn_or_address": "needs a BSN or an address (at least one of the two)",
    "agb_format": "must be an AGB code of exactly 8 digits",
    "big_format": "must be a BIG number of exactly 11 digits",
    "uzovi_format": "must be a UZOVI number of exactly 4 digits",
    "provider_id_format": "must be at most 128 characters, none of them a control character",
    "postcode_format": "must be a Dutch postcode: 4 digits (not starting with 0) and 2 letters",
    "country_format": "must be an assigned ISO 3166-1 alpha-2 country code in upper case, e.g. NL",
    "email_format": "must be an e-mail address (name@domain.tld)",
    "house_number": "must be a positive integer or a non-blank string",
    "partner_family_required": "is required when name_usage uses the partner's name",
    "icpc_format": "must be an ICPC-1 code: a letter and 2 digits, optionally .1-2 digits",
    "birth_date_after_created_at": (
        "must not be later than the event's created_at date (in any time zone)"
    ),
    "birth_date_in_future": "must not be later than the day the event arrived",
    "provider_id_holds_bsn": (
        "must not hold a BSN: the provider's own id goes here, never the patient's number"
    ),
    "changed_duplicate": (
        "names an event accepted before, with other content; the change was not taken"
    ),
    # Questions
    "answer_required": "is required because the question is required",
    # Which JSON value each type takes, so the sender can fix it without the schema at hand.
    "answer_type": (
        "does not fit the question's answer_type: yes_no takes true or false, open a string, "
        "multiple_choice a list of its options, date a date YYYY-MM-DD"
    ),
    "answer_not_in_options": "contains a choice that is not one of the question's options",
    "answer_duplicate": "contains the same choice more than once",
    "options_required": "is required (at least one option) for answer_type multiple_choice",
    # Attachments
    "base64": "must be valid base64 (standard alphabet, correct padding)",
    "filename_format": "must be a file name without path separators or control characters",
    "attachment_too_large": "is larger than 20 MiB decoded",
    "attachments_total_too_large": "are larger than 50 MiB decoded in total",
    "content_mismatch": (
        "does not match the declared content_type: a PDF starts with %PDF-, a PNG and a JPEG "
        "with their signatures, text/plain is UTF-8"
    ),
}


RULE_SHAPES: Final[dict[str, Shape]] = {
    rule: Shape(f"rule.{rule}", sentence) for rule, sentence in RULE_MESSAGES.items()
}
"""Each rule's sentence as a ``shapes.Shape``, which the console words in the person's
language (a rejected input's rules); the sentences hold no values."""
UNKNOWN_RULE: Final = Shape("rule.unknown", "is not valid (rule {rule})", rule=r"[a-z_]+")

MAX_LISTED: Final = 100
"""The most broken rules one answer names; a closing entry (rule ``more_errors``) says how many
more there are. A body can break a rule for every key it holds: its answer, the engine's log
line and the reason kept with the rejected input stay this size whatever it holds."""
MORE_ERRORS: Final = Shape(
    "rule.more_errors_counted",
    f"… and {{count}} more, not listed (an answer names at most {MAX_LISTED})",
    count=r"\d+",
)
EVENT_TEXT_IN: Final = Shape(
    "rule.event_text_too_long_in",
    RULE_MESSAGES["event_text_too_long"] + "; the most in {parts}",
    parts=r"\S+ \(\d+\)(?:, \S+ \(\d+\))*",
)
"""``parts`` are the event's largest fields with their characters of text: ``questions
(1080000), letter (70012)``, each named as an error's path names it."""


def message_for(rule: str) -> str:
    """The sentence for a rule; unknown codes still get a sentence that names them."""
    shape = RULE_SHAPES.get(rule)
    return shape() if shape is not None else UNKNOWN_RULE(rule=rule)
