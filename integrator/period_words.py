"""The words for a period's bounds, ``since`` and ``until``: one text for every place that
describes which forms are read.

``integrator.search.parse_moment`` reads a bound; this says what it reads, for its refusal of
one it cannot, the CLI's ``--since``/``--until`` help of every command that takes a period, and
the API's description of every ``since``/``until`` query parameter and body field. The forms
were once listed by each command and route in its own words, and a form added to the reading
(a time as a narrow listing shows it, ``12-04 18:44``) went unsaid in most of them. A test ties
every option and parameter so named to these texts (``tests/integrator/test_period_words.py``).
Nothing is imported here: the CLI reads it when it is imported, before any command runs.
"""

from __future__ import annotations


def period_forms(*, in_url: bool = False) -> str:
    """The forms a period's bound is read in (``parse_moment``), as every place that describes
    them says them: the refusal of one that is none of them, the CLI's ``--since``/``--until``
    help (``since_help``, ``until_help``) and the API's ``since``/``until`` descriptions. One
    text, so that no command or route describes fewer forms than are read (a form added here is
    said everywhere). ``in_url``: where the bound travels in a URL's query (the API, and any
    refusal, which may answer one), how to write the ``+`` of an offset there."""
    url = "; in a URL, write the + as %2B" if in_url else ""
    return (
        "a date (2026-11-27), a date-time as listings show it (2026-11-27T09:30:05+01:00, or in "
        f"UTC 2026-11-27T08:30:05Z{url}; without an offset it is local time), a time to the "
        "minute as narrow listings show it (11-27 09:30: this year's), or a time back from now "
        "(30m, 2h or 2u, 3d, 2w)"
    )


def since_help(what: str, *, in_url: bool = False) -> str:
    """The description of a ``since``: ``what`` it selects on (``Created``, ``Died``), from the
    moment given on, in any of ``period_forms``."""
    return f"{what} from (inclusive): {period_forms(in_url=in_url)}."


def until_help(what: str, *, in_url: bool = False) -> str:
    """The description of an ``until``, which runs to the end of what it gives
    (``search._end_unit``): a date includes that day, ``11-27 09:30`` that minute."""
    return (
        f"{what} until, to the end of what is given (a date: that whole day; 11-27 09:30: that "
        f"minute): {period_forms(in_url=in_url)}."
    )
