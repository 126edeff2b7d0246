"""The one pager the message and event listings share (``_pager.html``): GET with the terms,
or, for a search that holds a BSN, a POST to the listing's search path with the BSN in the
body, never in a URL."""

from __future__ import annotations

from typing import Any

from integrator.console.render import ENV

PAGE = '{% block content %}{% set pager_path = path %}{% include "_pager.html" %}{% endblock %}'


def pager(path: str, **values: Any) -> str:
    context = {
        "path": path,
        "offset": 50,
        "page_size": 50,
        "more": True,
        "bsn_search": False,
        "terms": {"zd_number": "ZD100000001"},
        "bsn": "",
        "csrf": "token",
        "t": lambda key: key,
    }
    return ENV.from_string(PAGE).render(**{**context, **values})


def test_a_plain_listing_pages_by_get_at_its_own_path() -> None:
    html = pager("/events")
    assert html.count('method="get" action="/events"') == 2
    assert 'name="offset" value="0"' in html and 'name="offset" value="100"' in html
    assert 'name="zd_number" value="ZD100000001"' in html and "csrf" not in html


def test_a_bsn_search_pages_by_post_with_the_bsn_in_the_body() -> None:
    html = pager("/messages", bsn_search=True, bsn="999990019")
    assert html.count('method="post" action="/messages/search"') == 2
    assert 'name="bsn" value="999990019"' in html and 'name="csrf" value="token"' in html
    assert "?" not in html  # no term in an address


def test_the_first_page_has_no_previous_and_the_last_no_next() -> None:
    assert "messages.previous" not in pager("/events", offset=0)
    assert "messages.next" not in pager("/events", more=False)
