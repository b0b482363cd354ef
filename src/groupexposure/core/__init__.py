"""Integer codes in, arrays out: control, groups, exposures (SPEC §4), look-through and limits (§5)."""
