"""Collectors: they gather a host's facts as a Snapshot and know nothing of the rules."""
