"""Binary byte units, as Windows reports them (1 MB = 1,048,576 bytes)."""

from __future__ import annotations

KB = 1024
MB = 1024 * KB
GB = 1024 * MB
