"""The one pager the message and event listings share (``_pager.html``): a GET with the terms,
or, for a kept search by BSN, with its handle only: never the BSN, in no address and no form
field (``integrator.console.kept``)."""

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
        "handle": "",
        "csrf": "token",
        "t": lambda key: key,
    }
    return ENV.from_string(PAGE).render(**{**context, **values})


def test_a_plain_listing_pages_by_links_at_its_own_path() -> None:
    """Links, not buttons in GET forms: a page opens in a new tab, and says where it leads."""
    html = pager("/events")
    assert 'rel="prev" href="/events?zd_number=ZD100000001&amp;offset=0"' in html
    assert 'rel="next" href="/events?zd_number=ZD100000001&amp;offset=100"' in html
    assert "<form" not in html and "<button" not in html and "csrf" not in html


def test_terms_are_written_into_the_link_encoded() -> None:
    html = pager("/events", terms={"zd_number": "ZD1 &x", "status": "dead"}, offset=0)
    assert 'href="/events?zd_number=ZD1+%26x&amp;status=dead&amp;offset=50"' in html


def test_a_kept_search_by_bsn_pages_by_links_with_its_handle_only() -> None:
    html = pager("/messages", bsn_search=True, handle="h4ndle", terms={"zd_number": "ZD1"})
    assert 'href="/messages?search=h4ndle&amp;offset=0"' in html
    assert 'href="/messages?search=h4ndle&amp;offset=100"' in html
    assert "post" not in html and "csrf" not in html and "bsn" not in html
    assert "ZD1" not in html  # the handle stands for the whole search


def test_the_first_page_has_no_previous_and_the_last_no_next() -> None:
    assert "messages.previous" not in pager("/events", offset=0)
    assert "messages.next" not in pager("/events", more=False)
