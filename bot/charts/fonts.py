"""Which installed font can draw a chart's labels: Japanese needs one with CJK glyphs, and a
font without them draws empty boxes (tofu) without a word. matplotlib is imported on use."""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)

# Families tried first, so that the common CJK fonts are found without opening every font file.
PREFERRED = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "Source Han Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "VL Gothic",
    "Hiragino Sans",
    "Yu Gothic",
    "Meiryo",
    "MS Gothic",
)


def family_for(text: str) -> str | None:
    """A font family that has a glyph for every character of `text`; None when none has."""
    return _family_for(frozenset(c for c in text if not c.isspace()))


@functools.lru_cache(maxsize=64)
def _family_for(chars: frozenset[str]) -> str | None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    needed = {ord(c) for c in chars}
    default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    rank = {name: n for n, name in enumerate(PREFERRED)}
    entries = sorted(font_manager.fontManager.ttflist, key=lambda f: rank.get(f.name, len(rank)))
    # matplotlib's "Last Resort" font maps every character to a box: having a glyph is not
    # drawing it.
    paths = dict.fromkeys(
        [default, *(f.fname for f in entries if not f.name.startswith("Last Resort"))]
    )
    for path in paths:
        try:
            charmap = FT2Font(path).get_charmap()
        except (OSError, RuntimeError) as error:  # an unreadable or odd font file: skip it
            logger.debug("font %s unreadable: %s", path, error)
            continue
        if needed <= charmap.keys():
            return str(font_manager.FontProperties(fname=path).get_name())
    return None
