"""Every pattern that runs over message text costs time linear in the text, one by one.

The patterns are found, not listed: every compiled ``re.Pattern`` at module level in the
``app.mail`` package, alone or in a table (and both forms of each ``Caseless`` there: its
lower-case pattern and its ``IGNORECASE`` one), and every pattern set compiled from the shipped
rules, so a pattern added later is covered without touching this file. Each is fed long runs of the characters patterns
are built from (address characters without '@', dots, dashes, digits, spaces, '>' quote
markers, letters, mixtures), alone and after the words that open a pattern's match, at two
sizes in the same run: the larger input is 8 times the smaller, so linear work costs about 8
times as much and quadratic work 64 times. Work is compared, never a wall-clock limit.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import fields

import pytest

import app.mail
from app.mail import classify, parse
from app.mail.caseless import Caseless
from app.mail.folding import compiled_folded, compiled_words
from app.mail.rules import Rules, default_rules

SMALL = 8192
GROWTH = 8
# Linear work grows 8x, quadratic 64x; 32x leaves room for a loaded machine (the suite runs in
# parallel workers) and still fails anything quadratic.
MAX_RATIO = 32.0

# Runs of the character classes the patterns use. Each is cycled to the wanted length.
RUNS = {
    "address chars, no @": "ab.c_d%e+f-g1",
    "letters": "abcdefghij",
    "dots": ".",
    "dashes": "-",
    "digits": "0123456789",
    "spaces": " ",
    "quote markers": ">",
    "quote markers and spaces": "> ",
    "newlines": "\n",
    "blank lines with spaces": "\n \n\t",
    "words": "word ",
    "at signs and letters": "a@",
    "domain without end": "a.",
    "angle brackets": "<",
    "encoded-word litter": "=?",
    "digits and dots": "5.1.",
    "escape introducers": "\x1b[\x1b]",
    "mixed": "a1.-_ >@<:\n",
}
# The words that open a match in some patterns: a run after them reaches the part of the
# pattern that scans, which a bare run never does.
OPENERS = ("", "your message to ", "was not delivered to a@", "the following addresses failed: <",
           "delivery to the following recipient failed: ", "failed to deliver to 'a@",
           "On 3 March, ", "From: ", "12/03/2024 ", "\n<", "back on 3 ", "boundary=",
           "=?utf-8?q?")


def _module_patterns() -> Iterator[tuple[str, re.Pattern]]:
    for info in pkgutil.iter_modules(app.mail.__path__):
        module = importlib.import_module(f"app.mail.{info.name}")
        for name, value in vars(module).items():
            yield from _patterns_in(f"app.mail.{info.name}.{name}", value)
            if isinstance(value, (list, tuple)):  # a table of patterns (each reason's words, say)
                for i, item in enumerate(value):
                    for j, part in enumerate(item if isinstance(item, tuple) else (item,)):
                        yield from _patterns_in(f"app.mail.{info.name}.{name}[{i}][{j}]", part)


def _patterns_in(name: str, value: object) -> Iterator[tuple[str, re.Pattern]]:
    if isinstance(value, re.Pattern):
        yield name, value
    elif isinstance(value, Caseless):
        yield f"{name} (lower case)", value.lower
        yield f"{name} (IGNORECASE)", value.folding


def _rule_patterns() -> Iterator[tuple[str, re.Pattern]]:
    rules = default_rules()
    for f in fields(Rules):
        value = getattr(rules, f.name)
        sets = value.items() if isinstance(value, dict) else [(f.name, value)]
        for name, patterns in sets:
            if not patterns or not all(isinstance(p, str) for p in patterns):
                continue
            for kind, compile_ in (("folded", compiled_folded), ("words", compiled_words)):
                rx = compile_(tuple(patterns))
                if rx is not None:
                    yield f"rules {name} ({kind})", rx


PATTERNS = dict([*_module_patterns(), *_rule_patterns()])


def _text(run: str, size: int, openers: tuple[str, ...] = ("",)) -> str:
    """``size`` characters of ``run`` cycled, cut in as many pieces as there are openers, each
    piece after its opener. Quadratic work per piece is still quadratic in ``size``."""
    piece = size // len(openers)
    body = (run * (piece // len(run) + 1))[:piece]
    return "".join(opener + body for opener in openers)


def _cost(work: Callable[[], object], loops: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        try:
            # CPU time of this process: another process busy on the same core does not count
            start = time.process_time()
            for _ in range(loops):
                work()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def growth(make: Callable[[int], Callable[[], object]], small: int = SMALL) -> float:
    """How many times the work grows when the input grows GROWTH times, in the same run on the
    same machine: the ratio of two costs, never a time limit. The small input is repeated until
    it costs enough to be measured; a ratio over the limit is measured again before it counts,
    so a busy machine does not fail a linear pattern."""
    small_work, large_work = make(small), make(small * GROWTH)
    loops = 1
    while _cost(small_work, loops, 1) < 0.002 and loops < 1 << 16:
        loops *= 4
    ratio = _cost(large_work, loops, 1) / _cost(small_work, loops, 2)
    if ratio > MAX_RATIO:
        ratio = _cost(large_work, loops, 3) / _cost(small_work, loops, 3)
    return ratio


def _finditer(rx: re.Pattern, text: str) -> Callable[[], object]:
    subject: str | bytes = text.encode("utf-8", "surrogateescape") if isinstance(rx.pattern, bytes) else text
    return lambda: sum(1 for _ in rx.finditer(subject))  # type: ignore[arg-type]


def test_the_patterns_are_found():
    names = set(PATTERNS)
    # the ones issue 11 named, and the rule sets: the discovery itself must not go blind
    assert {"app.mail.autoreply._ADDRESS", "app.mail.bounce._TEXT_RECIPIENT",
            "app.mail.quotes._ATTRIBUTION"} <= names
    assert any(n.startswith("rules ") for n in names)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear(name):
    rx = PATTERNS[name]
    slow = []
    for label, run in RUNS.items():
        ratio = growth(lambda size, r=run: _finditer(rx, _text(r, size, OPENERS)))
        if ratio > MAX_RATIO:
            slow.append(f"{label!r}: {ratio:.0f}x")
    assert not slow, f"{name} costs more than linear time for {GROWTH}x the text: {slow}"


def _message(body: str) -> bytes:
    return (b"From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: Re: hello\r\n"
            b"Message-ID: <m1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + body.encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("label", sorted(RUNS))
def test_parse_and_classify_are_linear(label):
    run = RUNS[label]

    def make(size: int) -> Callable[[], object]:
        raw = _message(_text(run, size, OPENERS))
        return lambda: classify(parse(raw))

    ratio = growth(make)
    assert ratio <= MAX_RATIO, f"parse + classify of {label!r}: {ratio:.0f}x the work for 8x the text"


def test_a_million_address_characters_are_classified_in_linear_work():
    # The reply from issue 11: a long run of address-like characters with no '@' took the
    # auto-reply address pattern time quadratic in its length (1 MB: about 40 minutes).
    def make(size: int) -> Callable[[], object]:
        raw = _message("Please write to " + ("john.smith-sales_team" * (size // 21 + 1))[:size])
        return lambda: classify(parse(raw))

    ratio = growth(make, small=1_000_000 // GROWTH)
    assert ratio <= MAX_RATIO, f"1,000,000 address characters cost {ratio:.0f}x the work of 125,000"
    message = parse(_message("Please write to " + "john.smith-sales_team" * 47620))
    assert classify(message).kind in ("reply", "human")
