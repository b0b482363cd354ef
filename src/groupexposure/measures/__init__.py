"""Measures read from a result: concentration indices and guarantee circles."""
