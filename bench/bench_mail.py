"""Messages per second through app.mail: parse, and parse + classify.

Runs over ../shared/corpus (relative to the project root) when present, otherwise over
tests/fixtures/mail. The baseline is the standard library's modern parser as the design first
proposed it (message_from_bytes with policy.default, get_body, get_content), measured in the
same run on the same messages, so the ratio holds whatever the machine.

    python bench/bench_mail.py [--rounds N]
"""

from __future__ import annotations

import argparse
import email
import sys
import time
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.mail import classify, parse  # noqa: E402


def load_messages() -> tuple[str, list[bytes]]:
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt")
                       and p.parent.name in ("eml", "samples"))
        return str(corpus), [p.read_bytes() for p in files]
    fixtures = ROOT / "tests" / "fixtures" / "mail"
    return str(fixtures), [p.read_bytes() for p in sorted(fixtures.glob("*.eml"))]


def stdlib_baseline(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=policy.default)
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
    except Exception:
        pass  # the baseline has no fallbacks; count the time all the same


def rate(fn, messages: list[bytes], rounds: int) -> float:
    fn(messages[0])  # warm caches (rules compiled, codecs looked up)
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in messages:
            fn(raw)
    return rounds * len(messages) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="passes over the messages (default 5)")
    args = ap.parse_args()
    source, messages = load_messages()
    total = sum(len(m) for m in messages)
    print(f"{len(messages)} messages ({total / 1024:.0f} KiB) from {source}, {args.rounds} rounds")
    baseline = rate(stdlib_baseline, messages, args.rounds)
    parsed = rate(parse, messages, args.rounds)
    both = rate(lambda raw: classify(parse(raw)), messages, args.rounds)
    print(f"stdlib policy.default + get_body : {baseline:8.0f} msg/s")
    print(f"app.mail.parse                   : {parsed:8.0f} msg/s  ({parsed / baseline:.1f}x the stdlib)")
    print(f"app.mail.parse + classify        : {both:8.0f} msg/s  ({both / baseline:.1f}x the stdlib)")


if __name__ == "__main__":
    main()
