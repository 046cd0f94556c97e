"""Case-blind searches over message text, run as a plain search of the lower-cased text.

Python's ``IGNORECASE`` folds every character of the text at every position the pattern is
tried: an alternation of phrases searched that way over a notice's text costs several times a
search of the lower-case pattern over ``text.lower()``. The two give the same answer, at the same
positions, when lower-casing keeps every position and matches what case folding matches:

- the pattern is written in lower case (so it has no upper-case escape like ``\\S`` either);
- the text is ASCII; or the pattern is ASCII and the text holds none of the four characters
  outside ASCII that case folding takes for ASCII letters (İ ı ſ K: the dotted capital I also
  lower-cases to two characters).

Anything else is searched with ``IGNORECASE`` as written.
"""

from __future__ import annotations

import re

FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


class Caseless:
    """``re.compile(pattern, re.IGNORECASE)``, searched the cheap way where that is the same."""

    def __init__(self, pattern: str) -> None:
        if pattern != pattern.lower():
            raise ValueError("a caseless pattern is written in lower case")
        self.folding = re.compile(pattern, re.IGNORECASE)
        self.lower = re.compile(pattern)
        self.ascii = pattern.isascii()

    def _cheap(self, text: str) -> bool:
        return text.isascii() or (self.ascii and FOLDS_TO_ASCII.search(text) is None)

    def span(self, text: str, lowered: str | None = None, pos: int = 0) -> tuple[int, int] | None:
        """Where the first match at or after ``pos`` lies in ``text``, or None. ``lowered`` is
        ``text.lower()`` where the caller has it already."""
        if self._cheap(text):
            m = self.lower.search(text.lower() if lowered is None else lowered, pos)
        else:
            m = self.folding.search(text, pos)
        return None if m is None else m.span()
