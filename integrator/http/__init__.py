"""The HTTP API, ``/api/v1`` (docs/product.md §7), one router per resource; OpenAPI at ``/docs``.

Identifiers only in URLs (message ids, never a BSN or a name); bodies carry the data. The
routes hold no business rule: each calls the engine's services, the same ones the CLI uses.
"""

from integrator.http.app import create_app

__all__ = ["create_app"]
