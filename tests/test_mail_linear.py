"""Hostile text costs time linear in its length: one message can never stall an inbox.

Each case classifies a run of one character class at two sizes in the same run and compares the
CPU time: 8 times the text may cost about 8 times as much, never 64 (quadratic).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.mail import classify, parse

RUNS = {
    "address characters without @": "a.b-c_d+e%f" * 1,
    "letters": "abcdefghij",
    "dots": ".",
    "digits and dots": "1.2.3.4.",
    "dashes and spaces": "- -",
    "quote markers": ">",
    "at signs": "@",
    "addresses glued together": "a@b.",
    "digits": "1234567890",
    "blank lines": "\n",
}


def cost(raw: bytes) -> float:
    """CPU seconds to parse and classify ``raw``, the better of two runs."""
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        classify(parse(raw))
        best = min(best, time.process_time() - started)
    return best


def in_body(text: str) -> bytes:
    return f"From: Pat <pat@prospect.example>\nTo: me@sender.example\nSubject: Re: hi\n\n{text}\n".encode()


def in_headers(block: str) -> bytes:
    return f"From: Pat <pat@prospect.example>\nX-Long: start\n{block}Subject: Re: hi\n\nSounds good.\n".encode()


def growth(message: Callable[[str], bytes], unit: str) -> float:
    """How many times the cost of 40,000 characters of ``unit`` runs grows for 8 times as many."""
    small = (unit * (40_000 // len(unit) + 1))[:40_000]
    big = (unit * (320_000 // len(unit) + 1))[:320_000]
    baseline = cost(message(""))
    return (cost(message(big)) - baseline) / max(cost(message(small)) - baseline, 0.002)


@pytest.mark.parametrize("kind", list(RUNS))
def test_eight_times_the_text_costs_about_eight_times_the_time(kind):
    ratio = growth(in_body, RUNS[kind])
    assert ratio < 24, f"{kind}: 8x the text cost {ratio:.0f}x the time"


def test_a_megabyte_of_address_characters_is_classified():
    result = classify(parse(b"From: a@b.example\nSubject: Re: x\n\n" + b"ab.cd" * 200_000 + b"\n"))
    assert result.kind in ("reply", "human")


HEADER_RUNS = {
    "one header folded over many lines": " folded\n",
    "many headers": "X-Many: value\n",
    "header lines that are no header": "no colon here\n",
}


@pytest.mark.parametrize("kind", list(HEADER_RUNS))
def test_eight_times_the_header_block_costs_about_eight_times_the_time(kind):
    """The splitter reads each header line once; a header folded over a hundred thousand
    lines is put together once, not line by line."""
    ratio = growth(in_headers, HEADER_RUNS[kind])
    assert ratio < 24, f"{kind}: 8x the header block cost {ratio:.0f}x the time"
