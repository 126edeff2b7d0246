"""The schema as SQLAlchemy Core tables, used by queries (the migrations carry their own copy).

Migrations are frozen history, so ``versions/0001_initial.py`` does not import this module; the
test suite compares the migrated database against this metadata to keep the two in step.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from integrator.store.coltypes import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("zd_number", String(32), nullable=False),
    Column("provider_id", String(128), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("source", String(16), nullable=False),
    Column("payload", Text(), nullable=False),
    # Keyed hash of the patient's BSN (0003): found by an index lookup, never by a payload scan.
    Column("bsn_hash", String(64), nullable=True),
    # When retention emptied ``payload`` (0006); the row stays for listings and the audit.
    Column("pruned_at", UTCDateTime(), nullable=True),
    # Stored without any message (0030): no destination served it yet; cleared when routed.
    # Kept when retention empties its payload (0039): with ``pruned_at`` it then says "never
    # routed", and waits for nothing.
    Column("unrouted", Boolean(), nullable=False, server_default=text("false")),
    # Who sent it (0037), as rejected input's ``caller``: token:<name>, local:<user>, amqp or
    # demo; NULL for events accepted before 0037. Not indexed (a search by it is bounded by a
    # period, and every accepted event would pay for the index).
    Column("caller", String(128), nullable=True),
    CheckConstraint("source IN ('http', 'cli', 'amqp', 'demo')", name="source"),
    Index(None, "zd_number"),
    Index(None, "bsn_hash"),
    Index(None, "received_at"),
    # SQLite uses a partial index only for a query holding its condition word for word, as
    # ``events.c.unrouted`` is written there (``= 1``); PostgreSQL proves it either way.
    Index(
        "ix_events_received_at_unrouted",
        "received_at",
        sqlite_where=text("unrouted = 1"),
        postgresql_where=text("unrouted"),
    ),
)

rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("source", String(16), nullable=False),
    Column("raw", LargeBinary(), nullable=False),
    Column("reason", Text(), nullable=False),
    # What could be read from the body although it failed validation (0015), each may be NULL:
    # support finds a GP's refused referral by its ZD number, provider or BSN (keyed hash).
    Column("zd_number", String(32), nullable=True),
    Column("provider_id", String(128), nullable=True),
    Column("bsn_hash", String(64), nullable=True),
    # Who sent it (0020): the authenticated identity as the audit log names it (token:<name>,
    # local:<user>) or the channel (amqp, demo); NULL for rows kept before 0020. Not indexed.
    Column("caller", String(128), nullable=True),
    CheckConstraint("source IN ('http', 'cli', 'amqp', 'demo')", name="source"),
    Index(None, "received_at"),
    Index(None, "zd_number"),
    Index(None, "provider_id"),
    Index(None, "bsn_hash"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    # PostgreSQL numbers rows itself; on SQLite the store assigns max(seq) + 1 while it holds
    # the database's single write lock (see Store._insert_messages).
    Column("seq", BigInteger(), Identity(), nullable=False),
    Column("event_id", String(36), ForeignKey("events.id"), nullable=False),
    Column("destination_id", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("message_type", String(32), nullable=False),
    Column("control_id", String(20), nullable=False),
    Column("payload", LargeBinary(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt_count", Integer(), nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("warnings", Text(), nullable=False, server_default=text("'[]'")),
    Column("is_test", Boolean(), nullable=False, server_default=text("false")),
    # A resend is a new row pointing at the message it resends (0003); the original is untouched.
    Column("resend_of", String(36), nullable=True),
    # When retention emptied ``payload`` and the attempts' ACK bytes (0006).
    Column("pruned_at", UTCDateTime(), nullable=True),
    # When it was last released from held (0019): its max_age counts from then, not from its
    # creation (destinations.retry.age_start). Null: never held, or held and not yet released.
    Column("released_at", UTCDateTime(), nullable=True),
    # A resend's family root (0024): the first message of its resend family, so "a later member
    # was delivered" is one indexed look-up (deadletter.family). Null: not a resend, its own root.
    Column("family_root", String(36), nullable=True),
    CheckConstraint(
        "status IN ('queued', 'sending', 'delivered', 'retrying', 'held', 'dead', 'cancelled')",
        name="status",
    ),
    Index("uq_messages_seq", "seq", unique=True),
    # An original-mode resend repeats its original's MSH-10 on purpose (the receiver can
    # recognise it); every other message's MSH-10 stays unique (0003).
    Index(
        "uq_messages_control_id",
        "control_id",
        unique=True,
        sqlite_where=text("resend_of IS NULL"),
        postgresql_where=text("resend_of IS NULL"),
    ),
    Index(None, "control_id"),
    Index(None, "event_id"),
    Index(None, "destination_id", "status", "seq"),
    Index(None, "destination_id", "seq"),
    Index(None, "version", "seq"),
    Index(None, "status", "seq"),
    Index(None, "created_at"),
    # Over resends only (0031): every read asks for values, and with statistics SQLite took a
    # column of nearly all NULL for useless and scanned every message for a resend family.
    Index(
        None,
        "resend_of",
        sqlite_where=text("resend_of IS NOT NULL"),
        postgresql_where=text("resend_of IS NOT NULL"),
    ),
    Index(
        None,
        "family_root",
        "status",
        "seq",
        sqlite_where=text("family_root IS NOT NULL"),
        postgresql_where=text("family_root IS NOT NULL"),
    ),
    Index(None, "updated_at"),
    # The dead messages alone, with what the open dead letter count reads of each (0033): on
    # ``(status, seq)`` that count read every dead message's row, spread over the whole table.
    Index(
        "ix_messages_dead",
        "status",  # the one value: so SQLite searches it for ``status = 'dead'``
        "destination_id",
        "seq",
        "id",
        "family_root",
        sqlite_where=text("status = 'dead'"),
        postgresql_where=text("status = 'dead'"),
    ),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    Column("number", Integer(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Float(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("ack_code", String(8), nullable=True),
    Column("ack_bytes", LargeBinary(), nullable=True),
    Column("error", Text(), nullable=True),
    CheckConstraint("outcome IN ('delivered', 'retry', 'deadletter', 'failed')", name="outcome"),
    Index(None, "message_id", "number"),
)

# Answers that came for a message after its answer (0035), which the first answer stood
# against (an ``AR`` after the ``AA`` that delivered it): its MSA-1, when it came, and how it
# was met (``skipped`` while the next message waited, ``dropped`` with the connection). Its
# text is not kept (the hospital's words may be about the patient); the row is for support,
# who see it with the message (``messages show``).
late_answers = Table(
    "late_answers",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("ack_code", String(8), nullable=False),
    Column("how", String(8), nullable=False),
    CheckConstraint("how IN ('skipped', 'dropped')", name="how"),
    Index(None, "message_id"),
)

# Who resent which message, when, why and how (0003). The audit log has the same facts; this
# table links a resend to its original for ``messages show`` in both directions.
resends = Table(
    "resends",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id"), primary_key=True),
    Column("original_id", String(36), ForeignKey("messages.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("job_id", String(36), nullable=True),
    CheckConstraint("mode IN ('original', 'remap')", name="mode"),
    Index(None, "original_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("reason", Text(), nullable=True),
    Column("details", Text(), nullable=False),
    # The hash chain (0005): see integrator.store.audit_chain.
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "target"),
    # The daily prune counts the entries past retention, and listings filter by period (0010).
    Index(None, "at"),
)

# Where the audit chain starts once its oldest entries were pruned (0009): the id (``seq``) and
# hash of the newest entry pruned, and when. One row at most; written in the same transaction
# as the deletion, so the first entry kept always links to it (integrator.store.audit_prune).
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("seq", BigInteger(), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("pruned_at", UTCDateTime(), nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

# The search key's check value (0022): HMAC-SHA256 under INTEGRATOR_SEARCH_KEY of a fixed
# label, written by the first writer with a key, compared at every open with one
# (integrator.store.searchcheck). One row at most; never the key, no BSN's hash.
search_key_check = Table(
    "search_key_check",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("check_value", String(64), nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

# Batch jobs and their progress (0006), so ``GET /api/v1/jobs/{id}`` answers after a restart.
# ``results`` and ``clusters`` are JSON; ``heartbeat_at`` tells a running job from a dead one.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("total", Integer(), nullable=False),
    Column("done", Integer(), nullable=False),
    Column("error", Text(), nullable=True),
    Column("results", Text(), nullable=False),
    Column("clusters", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    # The engine running it (0025): its presence id (``engine_presence.id``), so a starting
    # engine tells a job whose engine is gone from one that runs on; None: before 0025.
    Column("engine_id", String(36), nullable=True),
    # The ZD number a resend job selected nothing by (0027), for ``GET /api/v1/jobs/{id}`` to
    # say where that referral went instead; None for every other job.
    Column("unmatched_zd", String(11), nullable=True),
    CheckConstraint("state IN ('running', 'done', 'failed', 'interrupted')", name="state"),
    Index(None, "state"),
)

# Engine-wide tasks that one engine runs at a time (0006): the daily prune takes its turn by
# moving ``last_run_at`` forward with a compare-and-set, so of several engines one wins.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_run_at", UTCDateTime(), nullable=True),
    Column("holder", String(128), nullable=True),
)

# Every change to a destination definition, with who, when and the whole definition, so a
# change can be shown as a diff and rolled back (docs/product.md §5.1: "every change is versioned").
destination_revisions = Table(
    "destination_revisions",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("destination_id", String(128), nullable=False),
    Column("revision", Integer(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("config", Text(), nullable=True),
    Column("diff", Text(), nullable=False),
    Column("reason", Text(), nullable=True),
    Index(None, "destination_id", "revision", unique=True),
)

# -- access control (0004): people, their grants, API tokens, invitations, sessions ----------
# Secrets (API tokens, invitation links, session ids, recovery codes) are stored only as
# SHA-256 hashes; passwords only as Argon2id hashes. See integrator/access/.

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    # Lower-cased by the code; the check keeps two spellings of one address from both existing.
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("password_hash", Text(), nullable=True),
    # Sealed with the data key when one is configured (integrator.store.sealing), else plain.
    # Text (0008), as every sealed text column: sealed, the 32-character secret takes up to 120
    # characters (``$itg$1$``, a key id of up to 32, ``$``, 80 of base64), and a length here
    # would tie the schema to the secret's size, the key id's limit and the envelope's version.
    Column("totp_secret", Text(), nullable=True),
    Column("totp_last_step", BigInteger(), nullable=True),
    Column("failed_logins", Integer(), nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("deactivated_at", UTCDateTime(), nullable=True),
    CheckConstraint("status IN ('invited', 'active', 'deactivated')", name="status"),
    CheckConstraint("email = lower(email)", name="email_lower"),
    Index(None, "email", unique=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    # A person's own token: never more than its owner may do now. None: a machine's token.
    Column("owner_id", String(36), ForeignKey("people.id"), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    # The token that made this one through the API (0016): it works only while its maker
    # does. None: made by a person or on the server's command line.
    Column("maker_token_id", String(36), ForeignKey("api_tokens.id"), nullable=True),
    # The person in whose console session this token was made (0018): a role that reads
    # patient data is in force only where that person holds it now. None: made on the server's
    # command line, or by a token (``maker_token_id``, which carries the rule along its chain).
    Column("maker_person_id", String(36), ForeignKey("people.id"), nullable=True),
    Index(None, "token_hash", unique=True),
    Index(None, "name", unique=True),
    Index(None, "owner_id"),
    Index(None, "maker_token_id"),
    Index(None, "maker_person_id"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=True),
    Column("token_id", String(36), ForeignKey("api_tokens.id"), nullable=True),
    Column("role", String(32), nullable=False),
    Column("cluster", String(64), nullable=True),  # None: every cluster
    Column("active", Boolean(), nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("(person_id IS NULL) <> (token_id IS NULL)", name="one_holder"),
    Index(None, "person_id"),
    Index(None, "token_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index(None, "token_hash", unique=True),
    Index(None, "person_id"),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", AutoId, Identity(), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Index(None, "person_id", "code_hash"),
)

# Console sessions; the id column holds the SHA-256 of the cookie value, never the value.
# ``reason`` (0036): why the person looks at patient data in this session, as they stated it
# in the console; recorded with each view and export it makes (``integrator.stated_reason``).
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("two_factor", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("reason", Text(), nullable=True),
    Index(None, "person_id"),
)

# A person's named message searches (0007). ``terms`` is a JSON object of identifier terms
# only: the service refuses a BSN before a row is written (``integrator.saved_searches``).
saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("terms", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "person_id", "name", unique=True),
)

# One row per running engine process (0011): where its HTTP API is, and a heartbeat. No
# patient data. A clean stop deletes it; a crashed engine's row goes stale.
engine_presence = Table(
    "engine_presence",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer(), nullable=False),
    Column("http_address", String(300), nullable=True),  # None: runs with --no-http
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("pid_namespace", String(64), nullable=True),  # None: none to read, or before 0012
    # The ids of its data keys, comma-separated, sealing key first (0014); None: before 0014.
    Column("data_keys", Text(), nullable=True),
    # What it delivers through (0021): ``embedded``, or ``rabbitmq HOST:PORT vhost=V prefix=P``
    # (no credentials); None: before 0021. A starting engine refuses to run beside one it
    # would deliver the same messages with twice (integrator.presence.refuse_disagreeing).
    Column("transport", Text(), nullable=True),
    # Its retention periods as JSON (0029; integrator.lifecycle.agreement); None: before 0029.
    Column("retention", Text(), nullable=True),
)

# The retention periods of the last engine that started on the store (0034), kept after it
# stops: ``integrator prune`` run while no engine runs compares its periods with these
# (integrator.lifecycle.agreement). One row at most; periods, host and pid only.
engine_retention = Table(
    "engine_retention",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("retention", Text(), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

# Whether each destination was paused (``enabled: false``) when an engine last looked, and
# when it was last resumed (0019): no message's max_age counts from before that resume
# (destinations.retry.age_start). A row is written only when a destination changes between
# paused and enabled, never per message; a destination never paused has none.
destination_pauses = Table(
    "destination_pauses",
    metadata,
    Column("destination_id", String(64), primary_key=True),
    Column("paused_at", UTCDateTime(), nullable=True),  # None: not paused now
    Column("resumed_at", UTCDateTime(), nullable=True),  # None: paused, never resumed yet
)

# One-time tokens of the console's confirm forms (0013): the token's hash only, whose form it
# was, what it confirms, and once posted when, by whom and what it did (identifiers only).
console_confirmations = Table(
    "console_confirmations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("action", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("actor", String(200), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("result", Text(), nullable=True),
    Index(None, "token_hash", unique=True),
    Index(None, "expires_at"),
)

# Searches the console keeps for their pages (0017): the handle's hash only, whose search it
# is, what it searched, its terms (JSON) and the BSN's keyed hash (null without one, 0025).
console_searches = Table(
    "console_searches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("terms", Text(), nullable=False),
    Column("bsn_hash", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index(None, "expires_at"),
)

# The console's answers to form posts, kept for the GET a redirect leads to (0028): the
# handle's hash only, whether the first look takes it, the page sealed with a key made from
# the browser's session secret (``integrator.console.answers``), and when it expires; whose
# session kept it (a keyed hash of its secret, null before sign-in), so signing out drops it.
console_answers = Table(
    "console_answers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("once", Boolean(), nullable=False),
    Column("answer", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("owner", String(64), nullable=True),
    Index(None, "expires_at"),
    Index(None, "owner"),
)

# The API's idempotency keys (0023): per caller (``token:<id>``, ``person:<id>``) and key, the
# request it was first given with (a hash of route and body) and, once done, its answer (the
# status and the JSON body), kept until ``expires_at`` (``integrator.idempotency``).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("status", Integer(), nullable=True),
    Column("answer", Text(), nullable=True),
    Index(None, "expires_at"),
)
