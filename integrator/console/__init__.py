"""The web console (docs/console.md): pages for people, signed in with a cookie session.

A front door like the CLI and the HTTP API: it holds no business rule and calls the same
service code the API routes call, narrowed to the person's clusters by the same check
(``integrator.clusters``).
"""

from integrator.console.app import create_console

__all__ = ["create_console"]
