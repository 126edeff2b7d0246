"""Data lifecycle: retention and pruning, the daily prune, and backups of the embedded store.

See docs/operators.md ("Data lifecycle") for the periods, the commands and restoring.
"""
