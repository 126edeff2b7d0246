"""The newest store schema revision, in a module that imports nothing.

``integrator --version`` prints it, so that an operator can tell before an upgrade what
opening a store would do; kept apart from ``integrator.store`` because importing that package
loads SQLAlchemy and every store module (about a second of CPU, four times the rest of
``--version``) for one constant.
"""

from __future__ import annotations

from typing import Final

HEAD_REVISION: Final = "0039"
"""The newest revision in ``migrations/versions``. A test compares it with Alembic's head, so
adding a revision without updating this fails there, not in a store that skips its upgrade."""
