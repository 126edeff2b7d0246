"""One module per group of pages; each has a ``router`` and its ``NAV`` entries (maybe none)."""
