"""Alternations of hundreds of phrases, searched only for the phrases a text can hold.

The rules match a reply against one alternation per category (137 to 247 phrases each): the
regex engine tries every phrase at every position, most of the cost of reading a reply. Each
phrase here is read once for a run of letters that any match of it must contain (its longest
plain run, e.g. ``interest`` in ``(?:very )?interest(?:ed|ing)``), and indexed by one
three-letter piece of that run. For a text, the pieces it holds select the phrases that can
match it; the others cannot, so leaving them out of the alternation changes nothing: the same
phrases in the same order, searched the same way, find the same match. A phrase without such a
run (``no``) is always kept. The narrowed alternations are compiled once per set of phrases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, TypeVar

T = TypeVar("T")
GRAM = 3
CACHE = 4096
"""Narrowed alternations kept per phrase set (a first sync meets the same few again and again)."""
_GROUP_REF = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def grams(folded: str) -> set[str]:
    """Every three-character piece of ``folded``."""
    return {folded[i:i + GRAM] for i in range(len(folded) - GRAM + 1)}


def required_run(pattern: str) -> str:
    """The longest run of literal characters that every match of ``pattern`` contains, or ""."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return ""
    if parsed.state.flags & re.IGNORECASE:
        return ""
    runs: list[str] = []
    current: list[str] = []

    def walk(items: list[tuple[Any, Any]]) -> None:
        for op, av in items:
            if op is sre_c.LITERAL:
                current.append(chr(av))
            elif op is sre_c.SUBPATTERN and not av[1] and not av[2]:
                walk(av[3].data)  # a plain group: its items follow on in sequence
            else:
                runs.append("".join(current))
                current.clear()

    walk(parsed.data)
    runs.append("".join(current))
    return max(runs, key=len)


_COMMON = frozenset("etaoinshr ")


def _rarest_gram(run: str) -> str:
    """The piece of ``run`` least likely to be in an unrelated text: the fewest common letters,
    the latest of equals (word endings tell words apart better than their starts)."""
    pieces = [run[i:i + GRAM] for i in range(len(run) - GRAM + 1)]
    return min(reversed(pieces), key=lambda g: sum(c in _COMMON for c in g))


def by_identity(fn: Callable[[tuple[str, ...]], T]) -> Callable[[tuple[str, ...]], T]:
    """``fn(patterns)`` remembered by the tuple's identity: a rule set's tuples live as long as
    the rules, and hashing ~200 strings on every call costs more than the lookup saves."""
    seen: dict[int, tuple[tuple[str, ...], T]] = {}

    def lookup(patterns: tuple[str, ...]) -> T:
        hit = seen.get(id(patterns))
        if hit is not None and hit[0] is patterns:
            return hit[1]
        value = fn(patterns)
        if len(seen) >= 256:
            seen.clear()
        seen[id(patterns)] = (patterns, value)
        return value
    return lookup


class Phrases:
    """``wrap(alternation)`` compiled over any subset of ``patterns`` (already folded), chosen
    by the text's ``grams``."""

    def __init__(self, patterns: tuple[str, ...], wrap: Callable[[str], str] = lambda alt: alt) -> None:
        self.patterns = patterns
        self.wrap = wrap
        self.full = self._compile(tuple(range(len(patterns))))
        self._always: list[int] = []
        self._by_gram: dict[str, list[int]] = {}
        self._narrowed: dict[tuple[int, ...], re.Pattern[str]] = {}
        # numbered back-references would point elsewhere in a narrowed alternation
        narrowable = not any(_GROUP_REF.search(p) for p in patterns)
        for i, p in enumerate(patterns):
            run = required_run(p) if narrowable else ""
            if len(run) < GRAM:
                self._always.append(i)
            else:
                self._by_gram.setdefault(_rarest_gram(run), []).append(i)
        if not narrowable:
            self._always = list(range(len(patterns)))

    def _compile(self, chosen: tuple[int, ...]) -> re.Pattern[str]:
        return re.compile(self.wrap("|".join(f"(?:{self.patterns[i]})" for i in chosen)))

    def for_text(self, text_grams: set[str]) -> re.Pattern[str] | None:
        """The alternation of the phrases that can match a text with ``text_grams``; None when
        none can."""
        chosen = set(self._always)
        for gram in self._by_gram.keys() & text_grams:
            chosen.update(self._by_gram[gram])
        if not chosen:
            return None
        if len(chosen) == len(self.patterns):
            return self.full
        key = tuple(sorted(chosen))
        rx = self._narrowed.get(key)
        if rx is None:
            if len(self._narrowed) >= CACHE:
                self._narrowed.clear()
            rx = self._narrowed[key] = self._compile(key)
        return rx
