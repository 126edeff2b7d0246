"""The NUL character (U+0000) refused in what a console page reads, before the page sees it.

PostgreSQL keeps no NUL in text: a search term, a filter or a name holding one made the store
fail, and the person got the "something went wrong" page (with an ERROR log line per request)
where SQLite answered. So an address's value or a posted form field holding one is refused as
a form is (``errors.invalid_form``: 422, the field and the rule, never the value), on every
page; the API refuses it the same way (``integrator.http.nul``).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from integrator.http.nul import RULE

TYPE: Final = "nul_character"  # the console's refusal code for it: ``refusals.FORM_CODES``
_FORMS: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


def _error(loc: tuple[str, ...]) -> dict[str, Any]:
    return {"type": TYPE, "loc": loc, "msg": RULE}


async def refuse_nul_in_page(request: Request) -> None:
    """A refusal for each value of the address, the path or a posted form holding a NUL."""
    errors = [
        _error(("query", key)) for key, value in request.query_params.multi_items() if "\0" in value
    ]
    errors += [
        _error(("path", key))
        for key, value in request.path_params.items()
        if isinstance(value, str) and "\0" in value
    ]
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()  # kept by Starlette: the page reads the same form
        errors += [
            _error(("body", key))
            for key, value in form.multi_items()
            if isinstance(value, str) and "\0" in value
        ]
    if errors:
        raise RequestValidationError(errors)
