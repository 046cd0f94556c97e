"""Alternations of hundreds of phrases, searched only for the phrases a text can hold.

The rules match a reply against one alternation per category (137 to 247 phrases each): the
regex engine tries every phrase at every position, most of the cost of reading a reply. Each
phrase here is read once for a run of letters that any match of it must contain (its longest
plain run, e.g. ``interest`` in ``(?:very )?interest(?:ed|ing)``), and indexed by one
three-letter piece of that run. For a text, the pieces it holds select the phrases that can
match it; the others cannot, so leaving them out of the alternation changes nothing: the same
phrases in the same order, searched the same way, find the same match. A phrase without such a
run (``no``) is always kept.

Compiling an alternation costs more than searching a reply with the whole one, and replies of
different wording choose different phrases: compiled for every new choice, a first sync of
varied replies took 2.5 times the CPU of the whole alternations and kept some 13 MB more per
thousand replies. So a choice is compiled only once it has been met ``COMPILE_AT`` times
(templated mail, auto-replies, a sequence's answers repeat their wording); until then its phrases
are searched one by one, each compiled alone once and kept (one whose run is too short to look
for taken apart at the alternation it begins with), which finds the same match. The phrase sets a
reader consults for one text make their choices together, in one pass over its pieces
(``Chooser``). The indexed pieces are numbered: a text's are found as numbers, through a sieve
that holds each one's number at a place its code points give (``_sieved``), and chosen by them.

The runs are read with the standard library's own regular expression parser (``re._parser``),
which is private: its module or the shape of what it returns may change in another Python. So
it is asked once, at import, for answers known in advance; when it is missing, answers
otherwise or raises, or when a phrase's reading fails, no phrase is left out (every text is
searched with the whole alternation, as before narrowing): slower, never a different answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from types import FunctionType, ModuleType
from typing import Any, Final, Protocol, TypeVar

sre_c: ModuleType | None
sre_parse: ModuleType | None
try:
    from re import _constants as sre_c  # type: ignore[attr-defined,no-redef]
    from re import _parser as sre_parse  # type: ignore[attr-defined,no-redef]
except ImportError:  # another Python: no narrowing (see the module's docstring)
    sre_c = sre_parse = None

T = TypeVar("T")
GRAM: Final = 3
CACHE: Final = 512
"""Narrowed alternations kept per phrase set, and choices of phrases remembered as seen once."""
_GROUP_REF: Final = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


class Pieces:
    """A folded text's three-character pieces that the phrase sets index (``_INDEXED``): a
    reply's ~160 pieces hold ~40 of them. The phrase sets of a ``Chooser`` (about ten a reply:
    five intents, the auto-reply wordings, litotes, referral cues) choose their phrases from them
    in one pass; a set of no chooser intersects its own index with them. They are cut again from
    the text where a phrase set made since has indexed pieces of its own."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._found: tuple[int, list[int], bytearray] | None = None
        """How many pieces were indexed when these were found, and the numbers of the text's,
        with a byte per number (``_sieved``). A tuple replaced whole: a thread reading the same
        text never sees half of it."""
        self._named: tuple[tuple[int, list[int], bytearray], set[str]] | None = None
        """The pieces' strings (``indexed``), with what they were named from."""
        self._chosen: tuple[Chooser, int] | None = None
        """The last chooser asked and its choice (its sets' pieces were all indexed before it was
        made: pieces indexed since change none of them)."""

    def _fresh(self) -> tuple[int, list[int], bytearray]:
        found = self._found
        known = len(_INDEXED)
        if found is None or found[0] != known:
            numbers, met = _indexed_numbers(self.text)
            found = self._found = (known, numbers, met)
        return found

    def numbers(self) -> list[int]:
        """The numbers of the text's indexed pieces (not to be changed)."""
        return self._fresh()[1]

    def met(self) -> bytearray:
        """A byte per indexed piece, by number: 1 for the text's (not to be changed). Every piece
        indexed so far has its byte."""
        return self._fresh()[2]

    def indexed(self) -> set[str]:
        """The text's pieces that a phrase set indexes (not to be changed)."""
        found = self._fresh()
        known = self._named
        if known is None or known[0] is not found:
            known = self._named = (found, named(found[1]))
        return known[1]

    def chosen(self, chooser: Chooser) -> int:
        """``chooser``'s choice of phrases for this text (``Chooser.chosen``)."""
        found = self._chosen
        if found is None or found[0] is not chooser:
            found = self._chosen = (chooser, chooser.chosen(self.numbers()))
        return found[1]


@lru_cache(maxsize=1)
def grams(folded: str) -> Pieces:
    """The pieces of ``folded`` that phrase sets index. The last text's are handed out again
    when the same text comes next (a short reply's auto-reply reading and its intent reading
    cut the same folded text), one text kept, never more."""
    return Pieces(folded)


def _shifted(folded: str) -> set[str]:
    """Every three-character piece of ``folded``: the characters at each place joined from GRAM
    copies of the text, each shifted by one more character (in Python, a quarter faster than a
    slice at every place)."""
    return set(map("".join, zip(*[folded[k:] for k in range(GRAM)])))


def required_run(pattern: str) -> str:
    """The longest run of literal characters that every match of ``pattern`` contains, or ""
    (also whenever the parser cannot be trusted to tell)."""
    return reading(pattern)[1]


def required_grams(pattern: str) -> tuple[str, ...] | None:
    """Pieces of which every match of ``pattern`` holds at least one: one piece of a literal run
    it always contains, or one per branch of an alternation it always passes through
    (``parental leave|sick leave``); None when there are none to be sure of (also whenever the
    parser cannot be trusted to tell)."""
    return reading(pattern)[0]


Reading = tuple[tuple[str, ...] | None, str, frozenset[str] | None, bool, int]
"""What a phrase is read for, from one parse of it: the pieces one of which every match holds
(``required_grams``), the run every match holds (``required_run``), the characters a match can
begin with (``first_chars``), whether the regex engine skips to them (``skips_to_start``), and
the most characters a match holds before its run (``run_reach``)."""
_UNREAD: Final[Reading] = (None, "", None, False, -1)
"""The reading where the parser is not trusted: no phrase left out, none searched as it is."""
Readings = dict[str, Reading]
_readings: Final[Readings] = {}
_recording: tuple[Readings, Readings] | None = None
"""While recording: the readings known (made by an earlier process), and those asked for."""


def reading(pattern: str) -> Reading:
    """``pattern``'s reading, made once (the last ``4 * CACHE`` patterns' are kept). While
    ``record_readings`` records, the readings it was given are used and every one asked for is
    noted: a process that keeps them (app.mail.regex_cache) parses no phrase at its next start."""
    if not TRUSTED:
        return _UNREAD
    if _recording is not None and pattern in _recording[0]:
        found = _recording[0][pattern]
    else:
        known = _readings.get(pattern)
        if known is None:
            known = _read(pattern)
            if len(_readings) >= 4 * CACHE:
                _readings.clear()
            _readings[pattern] = known
        found = known
    if _recording is not None:
        _recording[1][pattern] = found
    return found


def _read(pattern: str) -> Reading:
    try:
        pieces = _required_grams(pattern)
    except Exception:
        pieces = None
    try:
        run, reach = _run_and_reach(pattern)
    except Exception:
        run, reach = "", -1
    try:
        starts = _first_reading(pattern)
    except Exception:
        starts = None
    try:
        skips = _skips_to_start(pattern)
    except Exception:
        skips = False
    return pieces, run, starts, skips, reach


def record_readings(known: Readings | None) -> Readings | None:
    """With ``known`` (readings of phrases, made by a process of the same code:
    app.mail.regex_cache): from now on ``reading`` answers from it where it can, and notes each
    answer. With None: that ends, and the answers noted are returned."""
    global _recording
    noted = _recording[1] if _recording is not None else None
    _recording = (dict(known), {}) if known is not None else None
    return noted


@lru_cache(maxsize=1)
def _parsed(pattern: str) -> list[tuple[Any, Any]] | None:
    """The parsed items of ``pattern``; None when it sets IGNORECASE or does not parse. The
    last pattern's are handed out again (not to be changed): ``_read`` reads a phrase four ways
    (its pieces, its run and the reach before it, its first characters, whether the engine skips
    to them) one after the other, and parsing it is most of the cost of each."""
    assert sre_parse is not None
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return None
    return None if parsed.state.flags & re.IGNORECASE else list(parsed.data)


def _run_and_reach(pattern: str) -> tuple[str, int]:
    """The longest run of literal characters that every match of ``pattern`` contains (the first
    of the longest; "" where there is none), and the most characters a match can hold before it
    (-1 where that has no bound, or there is no run). The items of plain groups follow on in
    sequence; any other item ends a run."""
    assert sre_c is not None and sre_parse is not None
    items = _parsed(pattern)
    if items is None:
        return "", -1
    flat: list[tuple[Any, Any]] = []

    def walk(seq: list[tuple[Any, Any]]) -> None:
        for op, av in seq:
            if op is sre_c.SUBPATTERN and not av[1] and not av[2]:
                walk(av[3].data)  # a plain group: its items follow on in sequence
            else:
                flat.append((op, av))

    walk(items)
    best, best_at, at = "", 0, 0
    current: list[str] = []
    for k, (op, av) in enumerate([*flat, (None, None)]):
        if op is sre_c.LITERAL:
            if not current:
                at = k
            current.append(chr(av))
            continue
        if len(current) > len(best):
            best, best_at = "".join(current), at
        current = []
    if not best:
        return "", -1
    # the items before the run, one after the other: lookarounds and anchors take no character
    try:
        reach = sre_parse.SubPattern(sre_parse.State(), flat[:best_at]).getwidth()[1]
    except Exception:  # (a back reference before the run: its group's width is not known here)
        return best, -1
    return best, reach if reach < sre_c.MAXREPEAT else -1


def run_reach(pattern: str) -> int:
    """The most characters a match of ``pattern`` can hold before its ``required_run``; -1
    where that has no bound or is not known (also whenever the parser cannot be trusted)."""
    return reading(pattern)[4]


def _required_grams(pattern: str) -> tuple[str, ...] | None:
    items = _parsed(pattern)
    return None if items is None else _sequence_grams(items, 0)


def _sequence_grams(items: list[tuple[Any, Any]], depth: int) -> tuple[str, ...] | None:
    """The best choice of required pieces for a sequence of parsed items (fewest alternatives)."""
    assert sre_c is not None
    if depth > 20:
        return None
    options: list[tuple[str, ...]] = []
    current: list[str] = []

    def end_run() -> None:
        if len(current) >= GRAM:
            options.append((_rarest_gram("".join(current)),))
        current.clear()

    def walk(seq: list[tuple[Any, Any]]) -> None:
        for op, av in seq:
            if op is sre_c.LITERAL:
                current.append(chr(av))
                continue
            if op is sre_c.SUBPATTERN and not av[1] and not av[2]:
                walk(av[3].data)  # a plain group: its items follow on in sequence
                continue
            end_run()
            if op is sre_c.BRANCH:
                branches = [_sequence_grams(branch.data, depth + 1) for branch in av[1]]
                if all(b is not None for b in branches):
                    options.append(tuple(sorted({g for b in branches if b is not None for g in b})))
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] >= 1:
                inner = _sequence_grams(av[2].data, depth + 1)
                if inner is not None:
                    options.append(inner)

    walk(items)
    end_run()
    return min(options, key=len) if options else None


_COMMON: Final = frozenset("etaoinshr ")


def _rarest_gram(run: str) -> str:
    """The piece of ``run`` least likely to be in an unrelated text: the fewest common letters,
    the latest of equals (word endings tell words apart better than their starts)."""
    pieces = [run[i:i + GRAM] for i in range(len(run) - GRAM + 1)]
    return min(reversed(pieces), key=lambda g: sum(c in _COMMON for c in g))


_REPEATS: Final = tuple(getattr(sre_c, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
                        if sre_c is not None and hasattr(sre_c, name))


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with; None where that is not sure: a match
    may be empty, or start with a character a class names by category (``\\w``) or by what it is
    not, or any; the pattern sets a flag; the parser is not trusted."""
    return reading(pattern)[2]


def _first_chars(items: list[tuple[Any, Any]], depth: int) -> tuple[frozenset[str], bool] | None:
    """The characters a match of a sequence of parsed items can start with, and whether it can be
    empty; None where a class or an item leaves that open."""
    assert sre_c is not None
    if depth > 20:
        return None
    chars: set[str] = set()
    for op, av in items:
        if op is sre_c.LITERAL:
            chars.add(chr(av))
            return frozenset(chars), False
        if op is sre_c.IN:
            for kind, value in av:
                if kind is sre_c.LITERAL:
                    chars.add(chr(value))
                elif kind is sre_c.RANGE and value[1] - value[0] < 256:
                    chars.update(chr(c) for c in range(value[0], value[1] + 1))
                else:  # a negated class, a category, a range too wide to list
                    return None
            return frozenset(chars), False
        if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue  # takes no character: the next item's is the first
        if op is sre_c.SUBPATTERN:
            if av[1] or av[2]:
                return None  # a flag of its own (ignore case …)
            inner = _first_chars(list(av[3].data), depth + 1)
        elif op is sre_c.BRANCH:
            inner = _union([_first_chars(list(branch.data), depth + 1) for branch in av[1]])
        elif op in _REPEATS:
            inner = _first_chars(list(av[2].data), depth + 1)
            if inner is not None and av[0] == 0:
                inner = inner[0], True
        else:
            return None
        if inner is None:
            return None
        chars.update(inner[0])
        if not inner[1]:
            return frozenset(chars), False
    return frozenset(chars), True


def _union(readings: list[tuple[frozenset[str], bool] | None]) -> tuple[frozenset[str], bool] | None:
    chars: set[str] = set()
    empty = False
    for reading in readings:
        if reading is None:
            return None
        chars.update(reading[0])
        empty = empty or reading[1]
    return frozenset(chars), empty


_KNOWN: Final[tuple[tuple[str, str, tuple[str, ...] | None], ...]] = (
    ("(?:very )?interest(?:ed|ing)", "interest", ("est",)),
    ("l(?:oe?)schen", "schen", ("che",)),
    ("parental leave|sick leave", "", ("k l", "l l")),
    ("(?:abc)+x", "x", ("abc",)),
    ("(?:abcd)*xyz", "xyz", ("xyz",)),
    ("(?:stop|halt) (?:emails|mails)", " ", ("ils",)),
    (r"\bremove me\b", "remove me", ("mov",)),
    ("(?i:abcd)", "", None),
    ("(?i)abcd", "", None),
    ("no", "no", None),
)
"""Patterns whose readings are known: what this module expects of the parser's output."""
_KNOWN_REACH: Final[tuple[tuple[str, int], ...]] = (
    ("(?:very )?interest(?:ed|ing)", 5),
    (r"\bremove me\b", 0),
    ("(?:stop|halt) (?:emails|mails)", 4),
    ("(?:abc)+x", -1),
    ("a{2,5}(?:b|c)?bcd", 6),
    ("(?<=x)no", 0),
    ("(?i)abcd", -1),
)
"""Patterns whose run's reach is known."""
_KNOWN_STARTS: Final[tuple[tuple[str, frozenset[str] | None], ...]] = (
    ("(?:very )?interest(?:ed|ing)", frozenset("vi")),
    (r"\bremove me\b", frozenset("r")),
    ("(?=x)[a-c]y|z+", frozenset("abcz")),
    ("(?:stop|halt)*,? no", frozenset("sh, ")),
    ("[^a]b", None),
    (r"\wb", None),
    ("(?i:abcd)", None),
    ("a?b?", None),
)
"""Patterns whose first characters are known."""


def _first_reading(pattern: str) -> frozenset[str] | None:
    items = _parsed(pattern)
    found = _first_chars(items, 0) if items is not None else None
    return found[0] if found is not None and not found[1] else None


def _parser_as_expected() -> bool:
    """Whether ``re._parser`` is there and reads the known patterns as expected."""
    if sre_c is None or sre_parse is None:
        return False
    try:
        return (all(_run_and_reach(p)[0] == run and _required_grams(p) == pieces for p, run, pieces in _KNOWN)
                and all(_run_and_reach(p)[1] == reach for p, reach in _KNOWN_REACH)
                and all(_first_reading(p) == starts for p, starts in _KNOWN_STARTS))
    except Exception:
        return False


TRUSTED: Final = _parser_as_expected()
"""Whether phrases are left out at all (see the module's docstring)."""


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


def skips_to_start(pattern: str) -> bool:
    """Whether the regex engine, searching ``pattern``, skips to the places where a match can
    begin instead of trying it at every place: its first item (within plain groups) is a
    character, a class, or an alternation of which each branch begins with a character (the
    standard library's ``_compile_info`` reads a literal prefix or a set of first characters off
    those). False where the parser is not trusted to tell."""
    return reading(pattern)[3]


def _skips_to_start(pattern: str) -> bool:
    assert sre_c is not None
    items = _parsed(pattern)
    while items and items[0][0] is sre_c.SUBPATTERN:
        av = items[0][1]
        if av[1] or av[2]:
            return False
        items = list(av[3].data)
    if not items:
        return False
    op, av = items[0]
    if op is sre_c.LITERAL or op is sre_c.IN:
        return True
    return op is sre_c.BRANCH and all(b.data and b.data[0][0] is sre_c.LITERAL for b in av[1])


_INDEXED: Final[set[str]] = set()
"""Every piece a phrase set indexes (each ``Phrases`` adds its own): it only grows."""
_PIECES: Final[list[str]] = []
"""The indexed pieces by number (``_index``), in the order they were indexed."""
_NUMBER: Final[dict[str, int]] = {}
"""Each indexed piece's number."""
_CODES: Final[list[int]] = []
"""Each numbered piece's three code points in one int (``_code``)."""
_SIEVE_SIZE: Final = 1 << 16
_SHARED: Final = 0xFFFF
_sieve = bytes(2 * _SIEVE_SIZE)
"""At the place of each indexed piece (``_sieve_place``), its number and one, in two bytes (low
first); 0 where no piece is, ``_SHARED`` where two or more are (or a piece numbered past what two
bytes hold). Most places of a text hold a piece that no phrase set indexes, passed over without a
string made for it; where one is, its number is read off, no string made either (the piece's
code points checked against it). Bytes: the compiled reader reads them faster than a list."""


def _sieve_entry(sieve: bytes | bytearray, place: int) -> int:
    """What ``sieve`` holds at ``place``."""
    return sieve[2 * place] | sieve[2 * place + 1] << 8


def _sieve_place(a: int, b: int, c: int) -> int:
    """The sieve's place for the piece of the three code points ``a``, ``b``, ``c``."""
    return ((a * 961 + b * 31 + c) * 40503) >> 4 & (_SIEVE_SIZE - 1)


def _code(a: int, b: int, c: int) -> int:
    """The three code points of a piece in one int."""
    return (a << 42) | (b << 21) | c


def _index(pieces: frozenset[str]) -> None:
    """Number a phrase set's new pieces and put them in a new sieve, then in ``_INDEXED``: a text
    whose pieces are found meanwhile in another thread is found in the new sieve where
    ``_INDEXED`` has grown (``Pieces``), and every number a sieve holds is numbered already."""
    global _sieve
    sieve = bytearray(_sieve)
    for g in sorted(pieces):
        if g in _NUMBER:
            continue
        a, b, c = ord(g[0]), ord(g[1]), ord(g[2])
        _CODES.append(_code(a, b, c))
        _PIECES.append(g)
        number = _NUMBER[g] = len(_PIECES) - 1
        place = _sieve_place(a, b, c)
        value = number + 1 if _sieve_entry(sieve, place) == 0 and number + 1 < _SHARED else _SHARED
        sieve[2 * place] = value & 0xFF
        sieve[2 * place + 1] = value >> 8
    _sieve = bytes(sieve)
    _INDEXED.update(pieces)


def _sieved(folded: str) -> tuple[list[int], bytearray]:
    """The numbers of the indexed pieces of ``folded`` (each once, as first met) and a byte per
    number, 1 for those met: each place's code points looked up in the sieve, the piece's number
    read off there and checked against them (a string made only at a place two pieces share).
    Compiled by mypyc, the new text of a reply of new wording (~185 characters) in 5.9 us, against
    7.8 as a set of the pieces' strings, each cut and looked up; and a chooser and a phrase
    searched alone then read them by number, with no string hashed."""
    sieve = _sieve
    met = bytearray(len(_CODES))
    numbers: list[int] = []
    n = len(folded)
    if n < GRAM:
        return numbers, met
    a = ord(folded[0])
    b = ord(folded[1])
    for i in range(2, n):
        c = ord(folded[i])
        at = 2 * _sieve_place(a, b, c)
        k = sieve[at] | sieve[at + 1] << 8
        if k:
            if k != _SHARED:
                k -= 1
                if _CODES[k] == _code(a, b, c) and not met[k]:
                    met[k] = 1
                    numbers.append(k)
            else:  # (a piece numbered since the sieve was read is left to the next look)
                number = _NUMBER.get(folded[i - 2:i + 1], -1)
                if 0 <= number < len(met) and not met[number]:
                    met[number] = 1
                    numbers.append(number)
        a = b
        b = c
    return numbers, met


def _intersected(folded: str) -> tuple[list[int], bytearray]:
    """``_sieved``, with every piece cut and intersected with the indexed ones: in Python, faster
    than a loop over the characters."""
    numbers = [_NUMBER[g] for g in _INDEXED.intersection(_shifted(folded))]
    met = bytearray(len(_CODES))  # (after: a piece of ``_INDEXED`` is numbered in ``_CODES``)
    for k in numbers:
        met[k] = 1
    return numbers, met


_indexed_numbers: Final[Callable[[str], tuple[list[int], bytearray]]] = (
    _intersected if isinstance(_sieved, FunctionType) else _sieved)
"""How ``Pieces`` finds a text's indexed pieces: the faster of the two in the form this module
runs in."""


def named(numbers: list[int]) -> set[str]:
    """The indexed pieces of these numbers."""
    return {_PIECES[k] for k in numbers}


class Searcher(Protocol):
    """What ``Phrases.for_text`` hands out: a compiled alternation, or the phrases one by one."""

    def search(self, string: str, pos: int = 0, /) -> re.Match[str] | None: ...


EACH_AT_MOST: Final = 256
"""Phrases a choice may hold to be searched one by one (a category of the shipped rules has up to
247); a choice of more is searched whole (the first time it is met) or compiled. A search of the
whole alternation tries each of its phrases at every place of the text, where a phrase searched
alone is tried only where it can begin (``skips_to_start``, and the look for its first
characters): replies of new wording of ~850 characters took 2,200-2,280 us a reply to classify
with 32 here (a choice of more searched whole, compiled at its second meeting), 1,560-1,570 with
256 (the reader in Python); replies of ~450 characters 240-245 against 206-208 us; the bench's
replies, whose choices are small and compiled by their eighth meeting, 73-77 us either way."""
COMPILE_AT: Final = 8
"""The meeting of a choice at which it is compiled. Until then its phrases are searched one by
one, each compiled alone once: compiling a choice costs about 2 ms, which varied replies rarely
pay back. Classify, 3,000 replies of varied wording (a bench reply and 3-25 words more), first
and second pass, compiled by mypyc: 318-322 and 351 us a reply when a choice was compiled the
second time it was met (1,448 compiles in the second pass), 181-190 and 156-163 us at the eighth;
the bench's replies (a few wordings, each met thousands of times) the same, 35.6-36.1 us."""


BRANCHES_AT_MOST: Final = 64
"""Phrases a phrase may be taken apart into (``leading_branches``); one of more is kept whole."""
_OPENINGS: Final = ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?P<")
"""The groups ``leading_branches`` reads through; a pattern with any other (a flag of its own,
an atomic group, a comment) is kept whole."""
_LOOKS: Final = ("(?=", "(?!", "(?<=", "(?<!")


def _class_end(pattern: str, at: int) -> int:
    """The place after the character class opening at ``at`` (``]`` first in it is a character)."""
    k = at + 1
    if k < len(pattern) and pattern[k] == "^":
        k += 1
    if k < len(pattern) and pattern[k] == "]":
        k += 1
    while k < len(pattern) and pattern[k] != "]":
        k += 2 if pattern[k] == "\\" else 1
    return k + 1


def _bars_and_end(pattern: str, at: int) -> tuple[list[int], int]:
    """From ``at`` (just inside a group, or 0): the places of the ``|`` at that depth, and the
    place of the ``)`` closing the group (from 0: ``len(pattern)``, or the place of a ``)`` that
    closes nothing); -1 where a group is left open."""
    bars: list[int] = []
    depth = 0
    k = at
    while k < len(pattern):
        c = pattern[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            k = _class_end(pattern, k)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return bars, k
            depth -= 1
        elif c == "|" and depth == 0:
            bars.append(k)
        k += 1
    return bars, (len(pattern) if at == 0 and depth == 0 else -1)


def leading_branches(pattern: str) -> list[str]:
    """``pattern`` taken apart at the alternation it begins with (behind characters that take
    none and plain groups opening), one pattern per branch in order, each apart again the same
    way: ``(?:schedule|book) (?:a|an) call`` -> ``(?:schedule) (?:a|an) call``, ``(?:book) (?:a|an)
    call``. At each place the regex engine tries the branches in order with the rest of the
    pattern after each, so the first match of the first of these patterns that matches there is
    the whole pattern's match there. Searched apart, each has a run of its own to look for (the
    whole one's is often a space, found in any text) and begins with a literal the engine skips
    to. ``[pattern]`` where it begins otherwise, has a reference to a group, a group of another
    kind than ``_OPENINGS``, or would make more than ``BRANCHES_AT_MOST``."""
    if _GROUP_REF.search(pattern) is not None:
        return [pattern]
    k = pattern.find("(?")
    while k >= 0:
        if not pattern.startswith(_OPENINGS, k):
            return [pattern]
        k = pattern.find("(?", k + 2)
    out = _apart(pattern, 0)
    return out if out is not None and len(out) <= BRANCHES_AT_MOST else [pattern]


def _open_or_repeated(pattern: str, close: int) -> bool:
    """Whether a group's closing place (``_bars_and_end``) says it is left open, or a quantifier
    follows it: a quantified group may be passed by or repeated, so it is neither read through
    nor taken apart."""
    return close < 0 or pattern[close + 1:close + 2] in ("?", "*", "+", "{")


def _apart(pattern: str, depth: int) -> list[str] | None:
    if depth > 8:
        return None
    bars, end = _bars_and_end(pattern, 0)
    if end != len(pattern):  # a group left open, or one closed that was not opened
        return None
    cuts: list[int] = []
    if bars:
        cuts, head, tail = [-1, *bars, end], "", ""
    else:
        k = 0
        while k < len(pattern):
            if pattern.startswith("\\b", k):
                k += 2
            elif pattern.startswith("^", k):
                k += 1
            elif pattern.startswith(_LOOKS, k):
                _, close = _bars_and_end(pattern, k + (4 if pattern[k + 2] == "<" else 3))
                if _open_or_repeated(pattern, close):
                    return None
                k = close + 1
            elif pattern.startswith("(?:", k):
                bars, close = _bars_and_end(pattern, k + 3)
                if _open_or_repeated(pattern, close):
                    return None
                if bars:
                    cuts, head, tail = [k + 2, *bars, close], pattern[:k] + "(?:", ")" + pattern[close + 1:]
                    break
                k += 3
            else:
                break
        if not cuts:
            return [pattern]
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:]):
        branch = pattern[a + 1:b]
        if not branch:
            return None
        more = _apart(head + branch + tail, depth + 1)
        if more is None:
            return None
        out += more
        if len(out) > BRANCHES_AT_MOST:
            return None
    return out


class _Alone:
    """A phrase compiled alone, after the run of characters every match of it holds ("" where
    none is known) and the most characters a match holds before it (-1: no bound known): a text
    without the run after the place searched from is not searched for the phrase, and one with
    it is searched from ``reach`` characters before the run's first place, where a match can
    begin at the earliest. ``piece``: a piece of the run that phrase sets index ("" where none
    is; kept as its number), so in the indexed pieces of every text that holds the run: a text
    without it is not looked through for the run (a look at a byte, against a look along the
    text; of the 141 phrases and branches a reply of new wording searched alone, the run stood in
    14.5 and the piece in 56.5). An object, not a tuple: a choice's list of them is made for
    every new wording, and tuples would be made anew for it in the compiled reader."""

    def __init__(self, run: str, rx: re.Pattern[str], reach: int, piece: str = "") -> None:
        self.run = run
        self.rx = rx
        self.reach = reach
        self.piece = _NUMBER.get(piece, -1) if piece else -1
        """The piece's number (``_NUMBER``), -1 for none."""


class _Each:
    """Phrases searched one at a time, each compiled alone (some taken apart at the alternation
    they begin with, their branches in order), for the match their alternation would find: the
    leftmost, and of those starting there the one of the first phrase, and of its branches the
    first (the engine tries an alternation's branches in order at each place). Each search finds
    a phrase's own literal start at the engine's quick scan, where the whole alternation tries
    every phrase at every place: the searches of a reply's choices took 99 us as whole
    alternations, 27 us one by one (the bench's replies, in Python)."""

    def __init__(self, patterns: list[_Alone], pieces: Pieces | None = None) -> None:
        self.patterns = patterns
        self._pieces = pieces
        """The pieces of the text the phrases were chosen for (``for_text``), where known."""
        self._text: str | None = None
        self._pos = 0
        self._found: list[re.Match[str] | None] = []
        """Each phrase's first match in ``_text`` at or after ``_pos`` (None: it has none)."""

    def search(self, string: str, pos: int = 0, /) -> re.Match[str] | None:
        """A text is read by searches from places further on each time (the next cue after the
        last): a phrase whose first match from the last place starts at or after this one has
        that match again, and one that had none has none, so only the others are searched again."""
        found = self._found
        if string is not self._text or pos < self._pos:
            self._text = string
            known = self._pieces
            # the indexed pieces asked for now: each phrase's piece was indexed when it was made
            met = known.met() if known is not None and string == known.text else None
            found = self._found = [
                None if met is not None and alone.piece >= 0 and not met[alone.piece] else _first(alone, string, pos)
                for alone in self.patterns]
        else:
            for k, m in enumerate(found):
                if m is not None and m.start() < pos:
                    found[k] = _first(self.patterns[k], string, pos)
        self._pos = pos
        best: re.Match[str] | None = None
        for m in found:
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


def _first(alone: _Alone, string: str, pos: int) -> re.Match[str] | None:
    """The phrase's first match in ``string`` at or after ``pos``. A match beginning before the
    run's first place at or after ``pos``, by more than the phrase's reach, would hold the run
    before that place: there is none, and the search starts there (the regex engine still sees
    the characters before it, for a look behind or a word's edge). The searches of replies of new
    wording took 26.6 us a reply from ``pos``, 22.4 from there (the same matches)."""
    run = alone.run
    if run:
        at = string.find(run, pos)
        if at < 0:
            return None
        reach = alone.reach
        if reach >= 0 and at - reach > pos:
            pos = at - reach
    return alone.rx.search(string, pos)


def _mask(places: list[int]) -> int:
    """``places`` as the bits of an int."""
    mask = 0
    for i in places:
        mask |= 1 << i
    return mask


def _places(mask: int) -> list[int]:
    """The places of ``mask``'s bits, lowest first: 48 bits at a time (a machine word's int in
    the compiled reader), each word's lowest bit taken off in turn."""
    places: list[int] = []
    base = 0
    while mask:
        word = mask & 0xFFFFFFFFFFFF
        while word:
            low = word & -word
            places.append(base + low.bit_length() - 1)
            word ^= low
        mask >>= 48
        base += 48
    return places


class Phrases:
    """The alternation of ``patterns`` (already folded) compiled over any subset of them, chosen
    by the text's ``grams``; with ``start`` (a character class), a match begins only with a
    character of it. A choice is compiled once it has been met ``COMPILE_AT`` times; until then it
    is searched phrase by phrase (``_Each``; a choice of more than ``EACH_AT_MOST`` is searched
    whole, and compiled at its second meeting).

    A phrase searched alone (in a choice not compiled yet, or a choice of one) that can begin only
    with characters of ``start`` (``first_chars``), and whose first characters the regex engine
    reads off it (``skips_to_start``), is searched as it is: the class changes none of its
    matches, and a look for it in front hides the phrase's first characters from the engine, which
    then tries the pattern at every place of the text instead of skipping to where it can begin (a
    phrase of plain words: 15 ns a character of text behind the look, 0.5 without; a reply's
    choices searched one by one took a quarter of the time). Another phrase alone goes behind a
    look for the characters it begins with, where those are known. A compiled choice of several
    is searched behind a look for the characters its phrases begin with, where those are known:
    the engine checks it at each place before it tries the phrases there (without it, the bench
    replies' choices took a fifth longer). The look for ``start`` goes in only where a phrase of
    the choice can begin with another character, or its characters are not known."""

    def __init__(self, patterns: tuple[str, ...], start: str = "") -> None:
        self.patterns = patterns
        self.look = f"(?={start})" if start else ""
        self._begins = re.compile(start) if start else None
        self._plain: dict[int, bool] = {}
        """Per phrase, once asked (``_is_plain``)."""
        self._alone: list[list[_Alone] | None] = [None] * len(patterns)
        """Phrases compiled alone, each as its ``leading_branches``: a choice of one, and those of
        the choices not compiled yet."""
        self.full = self._compile(tuple(range(len(patterns))))
        always: list[int] = []
        by_gram: dict[str, list[int]] = {}
        self._narrowed: dict[int, re.Pattern[str]] = {}
        self._seen: dict[int, int] = {}
        """Choices met and not compiled yet, each by its mask (``_masks``), and how often."""
        self._in: tuple[Chooser, int] | None = None
        """The ``Chooser`` that makes this set's choices, and this set's place in it (one
        attribute: a thread reading it never sees one without the other)."""
        # numbered back-references would point elsewhere in a narrowed alternation
        narrowable = not any(_GROUP_REF.search(p) for p in patterns)
        for i, p in enumerate(patterns):
            needs = required_grams(p) if narrowable else None
            if needs is None:
                always.append(i)
            else:
                for gram in needs:
                    by_gram.setdefault(gram, []).append(i)
        self._all = (1 << len(patterns)) - 1
        self._always_mask = _mask(always)
        """The phrases chosen for any text: those without pieces to be sure of."""
        self._masks = {gram: _mask(phrases) for gram, phrases in by_gram.items()}
        """Per indexed piece, the phrases it chooses as the bits of an int: a choice is their
        union, made by ``|``, and known by it; no set of them is made and sorted. Compiled by
        mypyc, the choices of the intent readings' seven phrase sets for replies of new wording:
        31 us a reply with sets, 27.5 with these (paired runs); classify 0.97x."""
        self._grams = frozenset(by_gram)
        """The indexed pieces, as a set: intersected with a text's pieces, the smaller set is walked."""
        _index(self._grams)

    def _compile(self, chosen: tuple[int, ...]) -> re.Pattern[str]:
        if len(chosen) == 1:
            alone = self._alone_compiled(chosen[0])
            if len(alone) == 1:
                return alone[0].rx
        starts = self._starts(chosen) if len(chosen) < len(self.patterns) else None
        look = f"(?=[{starts}])" if starts is not None else ""
        # behind the look for the phrases' first characters, one for ``start`` adds nothing where
        # each phrase can begin only with characters of it (a tenth of such a choice's search)
        if starts is None or not all(self._is_plain(i) for i in chosen):
            look += self.look
        return re.compile(f"{look}(?:{'|'.join(f'(?:{self.patterns[i]})' for i in chosen)})")

    def _alone_compiled(self, i: int) -> list[_Alone]:
        """Phrase ``i`` alone; where its run is shorter than a piece, taken apart at the
        alternation it begins with (``leading_branches``; searched in order, their first match is
        the phrase's). Replies of new wording, the searches of their choices (compiled by mypyc):
        49.5 us a reply with each phrase whole, 37 apart; the difference is in phrases such as
        ``(?:call|meeting|chat|demo) (?:on|next)``, whose run whole is a space, found in any text.
        A phrase with a longer run is kept whole: its run is looked for once, not once a branch,
        and the fork server compiles 1,523 phrases and branches instead of 1,675 (the shipped
        rules; 1,320 phrases), with classify as fast."""
        alone = self._alone[i]
        if alone is None:
            whole = self.patterns[i]
            parts = leading_branches(whole) if len(required_run(whole)) < GRAM else [whole]
            try:
                alone = [self._alone_of(p) for p in parts]
            except re.error:  # a branch apart that the engine reads otherwise: the phrase whole
                alone = [self._alone_of(whole)]
            self._alone[i] = alone
        return alone

    def _alone_of(self, p: str) -> _Alone:
        """Pattern ``p`` (a phrase, or a branch of one) compiled alone, after the run of
        characters every match of it holds (``required_run``; "" where none is known) and its
        reach (``run_reach``): the pieces that chose the phrase may stand anywhere in a text (one
        of them, for the longest phrases), while its run must stand whole after the place
        searched from, and a look for it costs a tenth of a microsecond. The pattern as it is
        where the engine can skip to where it begins and ``start`` changes none of its matches;
        else behind a look for the characters it begins with (where those are known) and, where
        it can begin otherwise, the one for ``start``."""
        plain = self._plain_pattern(p)
        if plain and skips_to_start(p):
            rx = re.compile(p)
        else:
            starts = self._starts_of([p])
            look = f"(?=[{starts}])" if starts is not None else ""
            rx = re.compile(f"{look}{'' if plain else self.look}(?:{p})")
        run = required_run(p)
        piece = next((run[k:k + GRAM] for k in range(len(run) - GRAM + 1) if run[k:k + GRAM] in _INDEXED), "")
        return _Alone(run, rx, run_reach(p), piece)

    def prepare(self) -> None:
        """Compile each phrase alone now, as a choice of new wording searches it: a process about
        to read much mail does it once before the mail arrives (the parse workers' fork server,
        whose compiled expressions its workers share and the next start keeps), not each worker
        as each phrase is first chosen (~1,000 phrases, ~60 ms a worker in a first sync)."""
        for i in range(len(self.patterns)):
            self._alone_compiled(i)

    def _is_plain(self, i: int) -> bool:
        """Whether every match of phrase ``i`` begins with a character of ``start`` anyway."""
        plain = self._plain.get(i)
        if plain is None:
            plain = self._plain[i] = self._plain_pattern(self.patterns[i])
        return plain

    def _plain_pattern(self, p: str) -> bool:
        begins = self._begins
        chars = first_chars(p) if begins is not None else None
        return begins is None or (chars is not None and all(begins.fullmatch(c) is not None for c in chars))

    def _starts(self, chosen: tuple[int, ...]) -> str | None:
        """The characters the chosen phrases begin with, as the inside of a class; None where one
        of them can begin with any."""
        return self._starts_of([self.patterns[i] for i in chosen])

    @staticmethod
    def _starts_of(patterns: list[str]) -> str | None:
        chars: set[str] = set()
        for p in patterns:
            starts = first_chars(p)
            if starts is None:
                return None
            chars.update(starts)
        return "".join(re.escape(c) for c in sorted(chars)) if chars else None

    def for_text(self, text_grams: Pieces) -> Searcher | None:
        """The alternation of the phrases that can match a text with ``text_grams`` (``grams``);
        None when none can. The choice is made with the other sets of this set's ``Chooser``,
        where it has one."""
        within = self._in
        if within is not None:
            chooser, slot = within
            key = chooser.key(text_grams.chosen(chooser), slot)
        else:
            key = self._always_mask
            masks = self._masks
            for gram in self._grams.intersection(text_grams.indexed()):
                key |= masks[gram]
        if not key:
            return None
        if key == self._all:
            return self.full
        rx = self._narrowed.get(key)
        if rx is None:
            few = key.bit_count() <= EACH_AT_MOST
            seen = self._seen.get(key, 0) + 1
            # a choice of many phrases: the whole alternation once, compiled when it comes again
            if seen < (COMPILE_AT if few else 2):
                if len(self._seen) >= CACHE:
                    self._seen.clear()
                self._seen[key] = seen
                # the same match, searched phrase by phrase; compiled once this choice is met often
                return self._each(key, text_grams) if few else self.full
            self._seen.pop(key, None)
            if len(self._narrowed) >= CACHE:
                self._narrowed.clear()
            rx = self._narrowed[key] = self._compile(tuple(_places(key)))
        return rx

    def _each(self, key: int, text_grams: Pieces) -> _Each:
        found: list[_Alone] = []
        known = self._alone
        for i in _places(key):
            alone = known[i]
            found.extend(alone if alone is not None else self._alone_compiled(i))
        return _Each(found, text_grams)


class Chooser:
    """Phrase sets read in the same texts (a reader's), whose choices of phrases for a text are
    made together, in one pass over the text's indexed pieces (``Pieces.chosen``): a set on its
    own intersects its indexed pieces with the text's, about ten sets a reply. Their phrases are
    numbered one set after another, and a choice of all of them is the bits of one int, each
    set's a slice of it (``key``). A set belongs to the last chooser made with it
    (``Phrases._in``); each chooser answers for all of its sets."""

    def __init__(self, sets: list[Phrases]) -> None:
        self._offsets: list[int] = []
        self._alls: list[int] = []
        always = 0
        by_number = [0] * len(_CODES)
        offset = 0
        for s in sets:
            self._offsets.append(offset)
            self._alls.append(s._all)
            always |= s._always_mask << offset
            for gram, mask in s._masks.items():
                by_number[_NUMBER[gram]] |= mask << offset
            offset += len(s.patterns)
        self._always = always
        self._by_number = by_number
        """Per indexed piece, by its number, the phrases it chooses, of every set
        (``Phrases._masks``, each set's at its place); its sets' pieces are all numbered here."""
        for slot, s in enumerate(sets):
            s._in = (self, slot)

    def chosen(self, numbers: list[int]) -> int:
        """The phrases of all the sets chosen for a text of the indexed pieces of these
        ``numbers`` (``Pieces.numbers``)."""
        chosen = self._always
        by_number = self._by_number
        known = len(by_number)
        for k in numbers:
            if k < known:  # (a piece numbered since indexes none of these sets' phrases)
                mask = by_number[k]
                if mask:
                    chosen |= mask
        return chosen

    def key(self, chosen: int, slot: int) -> int:
        """The choice of the set at ``slot``, out of ``chosen``."""
        return chosen >> self._offsets[slot] & self._alls[slot]
