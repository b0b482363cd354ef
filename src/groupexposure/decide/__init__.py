"""Decisions on the analysed book: the pre-approval check (SPEC §6), headroom and explanations."""
