"""A line of a run's log, as the store keeps it and every transport hands it out.

A log line is the user's output and is kept as printed, with two exceptions no database
text column can hold:

- NUL (U+0000) becomes U+2400 SYMBOL FOR NULL (``␀``): visible, and reversible unless the
  script printed ``␀`` itself (`original_line` turns it back).
- Unpaired surrogates (U+D800–U+DFFF, which are not Unicode text: what ``surrogateescape``
  makes of undecodable bytes) become U+FFFD REPLACEMENT CHARACTER, as undecodable bytes of
  the script's output already do when the runner reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUL_SYMBOL = "\u2400"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(slots=True, frozen=True)
class LogLine:
    """One line of one stream of a run."""

    stream: str
    seq: int
    time: float
    line: str


def storable_line(text: str) -> str:
    """`text` with NUL and unpaired surrogates replaced as described above."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_SYMBOL)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def original_line(stored: str) -> str:
    """A stored line with its NUL characters back (exact unless ``␀`` was printed)."""
    return stored.replace(NUL_SYMBOL, "\x00")
