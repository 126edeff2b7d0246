"""The second factor: TOTP (RFC 6238, via pyotp) and single-use recovery codes.

A code is accepted for the current 30-second step and one step either side, because phone
clocks drift and people type slowly. A code is never accepted twice: the store keeps the last
step used per person, and only a later step passes (so a code read over someone's shoulder is
useless once its owner has logged in with it).

Recovery codes are for a lost phone. Each has 80 random bits, which makes a fast hash (SHA-256)
enough to store them: nobody can try 2^80 guesses, so the slow, salted hash that a password
needs would only cost time at every login.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

ISSUER = "Integrator"
INTERVAL = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODE_COUNT = 10
# 32 symbols without the look-alikes I, O, 0 and 1; 16 of them carry 80 bits.
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RECOVERY_LENGTH = 16
# ASCII digits only: ``\d`` takes "١٢٣٤٥٦" too, which compare_digest cannot compare (a 500, and
# a sign-in form that told a right password from a wrong one).
_TOTP_CODE = re.compile(rf"^[0-9]{{{DIGITS}}}$")


def new_secret() -> str:
    """A fresh base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


_SECRET = re.compile(r"^[A-Z2-7]{32}$")


def looks_like_secret(secret: str) -> bool:
    """Whether ``secret`` is of the form :func:`new_secret` makes (32 base32 letters): what a
    page that shows a secret back may show; anything else makes pyotp raise."""
    return bool(_SECRET.match(secret))


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app reads (usually shown as a QR code)."""
    return pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS).provisioning_uri(
        name=email, issuer_name=issuer
    )


def step_at(moment: datetime) -> int:
    """The TOTP time step (counter) that ``moment`` falls in."""
    return int(moment.timestamp()) // INTERVAL


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator shows at ``moment`` (for tests and the accept step's check)."""
    return pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS).at(moment)


def looks_like_totp(code: str) -> bool:
    return bool(_TOTP_CODE.match(code.strip()))


def verify(secret: str, code: str, moment: datetime, last_step: int | None) -> int | None:
    """The step that ``code`` belongs to, or None when it is wrong, stale or used already.

    Only steps after ``last_step`` count, so a code (or an older one) is never accepted twice.
    The caller must then record the step with a compare-and-set, so two logins racing with one
    code cannot both win.
    """
    code = code.strip()
    if not looks_like_totp(code):
        return None
    otp = pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS)
    current = step_at(moment)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(otp.generate_otp(step).encode(), code.encode()):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh codes as shown to the person once, e.g. ``ABCD-EFGH-JKLM-NPQR``."""
    return [_format(_random_code()) for _ in range(count)]


def hash_recovery_code(code: str) -> str:
    """SHA-256 hex of the code, ignoring case, spaces and dashes as people type them."""
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii", "replace")).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def looks_like_recovery_code(code: str) -> bool:
    normal = normalise_recovery_code(code)
    return len(normal) == _RECOVERY_LENGTH and all(c in _RECOVERY_ALPHABET for c in normal)


def _random_code() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))


def _format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
