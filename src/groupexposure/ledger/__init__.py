"""Snapshots, reservations, the journal, carry-over and diffs (SPEC §10)."""
