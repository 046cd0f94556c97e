"""Text as the phrase rules see it, and the rules' patterns compiled for it.

Intent phrases are matched accent-insensitively: ``fold`` strips diacritics from the reply once
and ``fold_pattern`` does the same to every pattern once, when it is compiled, so "nao temos
interesse" meets 'não temos interesse' and "Loeschen" meets 'löschen' in every language.

Apart from app.mail.rules (whose ``Rules`` cross to the parse workers pickled, which a class
compiled by mypyc would not), so that these functions, run on every message read, are compiled
with the message reader (pyproject.toml ``[tool.replydesk] compiled``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Final

from app.mail.phrases import Phrases, Pieces, by_identity, grams


def first_match(patterns: tuple[str, ...], text: str, folded: str | None = None,
                text_grams: Pieces | None = None) -> str | None:
    """The text matched by the first pattern that fires in ``text``, or None. Matched
    accent-insensitively like the intent phrases; the result is quoted as written.
    ``folded`` (``fold(text)``) and ``text_grams`` (``grams(folded)``) where the caller has them."""
    ps = folded_phrases(patterns)
    if ps is None or not text:
        return None
    folded = fold(text) if folded is None else folded
    rx = ps.for_text(grams(folded) if text_grams is None else text_grams)
    m = rx.search(folded) if rx is not None else None
    if m is None:
        return None
    start, end = unfold_span(text, m.start(), m.end())
    return text[start:end]


@lru_cache(maxsize=2)
def normalize(text: str) -> str:
    """Text as the rules see it: one line, straight apostrophes. The last two texts' are handed
    out again: a reply's auto-reply reading and its intent reading normalize the same new text
    (and its subject)."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


# Letters that Unicode does not decompose, spelled the way people without the key type them.
_LETTERS: Final = str.maketrans({"ß": "ss", "ẞ": "SS", "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE",
                                 "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i"})
_SPELLED_OUT: Final = re.compile("[" + "".join(chr(c) for c in _LETTERS) + "]")
# The combining diacritical marks NFKD splits off ("é" -> "e" + U+0301).
_MARKS: Final = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
# German umlauts are typed as "ae", "oe", "ue" without a German keyboard ("Loeschen", "fuer").
_UMLAUTS: Final = {"ä": "ae?", "ö": "oe?", "ü": "ue?", "Ä": "ae?", "Ö": "oe?", "Ü": "ue?"}


def fold(text: str) -> str:
    """``text`` as intent patterns see it: lower case, without diacritics.

    "Ça ne nous intéresse pas" -> "ca ne nous interesse pas". Compatibility forms are spelled
    out (NFKD: "ﬁ" -> "fi", "…" -> "..."), so the result may be longer than ``text``
    (``unfold_span`` maps positions back). Matching lower case against lower-case patterns,
    rather than with re.IGNORECASE, makes the search several times faster.
    """
    return text.lower() if text.isascii() else _fold_other(text)


@lru_cache(maxsize=1)
def _fold_other(text: str) -> str:
    """``fold`` of a text of other than ASCII. The last one is handed out again when the same text
    comes next: a reply's auto-reply reading and its intent reading fold the same text (new replies
    of ~180 characters, most with a letter of another alphabet or a typographic mark: 7.8 us a
    fold)."""
    for letter in set(_SPELLED_OUT.findall(text)):
        # each one replaced where it stands (a translation reads every character: ~55 ns each)
        text = text.replace(letter, _LETTERS[ord(letter)])
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()


def fold_pattern(pattern: str) -> str:
    """A pattern as it is matched against folded text: 'Löschen' -> 'l(?:oe?)schen'.

    Letters are lower-cased, except escapes ('\\S' stays a non-space); outside a character
    class an umlaut also accepts its two-letter spelling; a diacritic escaped with a backslash
    loses the backslash, which would otherwise escape a plain letter.
    """
    if pattern.isascii():  # (most patterns) each letter lower-cased but an escaped one
        return "".join(t if t[0] == "\\" else t.lower() for t in _ESCAPED_OR_NOT.findall(pattern))
    return _fold_pattern_loop(pattern)


_ESCAPED_OR_NOT: Final = re.compile(r"\\.?|[^\\]+", re.S)
"""A backslash with the character it escapes, or a run of characters that holds none."""


def _fold_pattern_loop(pattern: str) -> str:
    """``fold_pattern``, a character at a time."""
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
            if ch.isascii():
                out.append(ch)
                continue
            out.pop()  # "\\é": the backslash would escape the folded "e"
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]" or out[-1] == "["
        elif ch == "[":
            in_class = True
        elif ch in _UMLAUTS:
            out.append(f"(?:{_UMLAUTS[ch]})")
            continue
        out.append(fold(ch))
    return "".join(out)


def unfold_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of ``text`` that ``fold(text)[start:end]`` came from."""
    if text.isascii():  # folded by lower-casing: the same places
        return start, end
    shift = 0  # position in the folded text minus position in ``text``, so far
    first = last = None
    for m in _NON_ASCII.finditer(text):
        i = m.start()
        at = i + shift  # where this character's folding starts in the folded text
        if first is None and start < at:
            first = start - shift
        if end <= at:
            last = end - shift
            break
        width = _width(m.group())
        if first is None and start < at + width:
            first = i
        if end <= at + width:
            last = i + 1
            break
        shift += width - 1
    first = start - shift if first is None else first
    last = end - shift if last is None else last
    return first, max(first, last)


@cache
def _width(ch: str) -> int:
    """How many characters ``ch`` folds to: 1 mostly, 0 for a combining mark, 2 for "ß"."""
    return len(fold(ch))


@by_identity
@cache
def compiled_folded(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the folded ``patterns``, compiled once per rule set, for folded text:
    matched case-sensitively (both sides are lower case already)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fold_pattern(p)})" for p in patterns))


@by_identity
@cache
def folded_phrases(patterns: tuple[str, ...]) -> Phrases | None:
    """``compiled_folded(patterns)``, narrowed to the phrases a text can hold (``phrases``)."""
    return Phrases(tuple(fold_pattern(p) for p in patterns)) if patterns else None


@by_identity
@cache
def compiled_words(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """``compiled_folded`` as whole words only: 'no' fires on "no" and not on "now" or "nos"."""
    rx = compiled_folded(patterns)
    return None if rx is None else re.compile(rf"(?<!\w)(?:{rx.pattern})(?!\w)")
