"""Classify replies that are each new (no wording met before), with the phrase alternations
narrowed to what a text can hold (app.mail.phrases) and, as the same-run baseline, with the whole
alternations. bench_mail and bench_intent time passes over messages already classified once, where
every choice of phrases is compiled and cached already; a first sync meets new wording in most
replies. Each reply here is two held-out and corpus replies joined (a pair used once).

    python bench/bench_phrases.py [--replies N]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def run(narrowed: bool, replies: int) -> None:
    import app.mail.phrases as phrases
    phrases.TRUSTED = phrases.TRUSTED and narrowed
    from app.mail import classify, parse
    from tests.test_mail_unchanged import corpus_messages, fixture_messages

    parsed = [parse(raw) for raw in {**corpus_messages(), **fixture_messages()}.values()]
    human = [pm for pm in parsed if pm.new_text]
    classify(human[0])  # rules loaded outside the timing
    rnd = random.Random(1)
    before = rss_mb()
    cpu = time.process_time()
    for _ in range(replies):
        a, b = rnd.sample(human, 2)
        extra = "\n" + b.new_text[:300]
        classify(dataclasses.replace(a, new_text=a.new_text + extra, text=a.text + extra))
    took = time.process_time() - cpu
    print(f"{'narrowed' if narrowed else 'whole (baseline)':17}: {replies / took:7.0f} replies/s of CPU, "
          f"RSS +{rss_mb() - before:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=6000)
    parser.add_argument("--mode", choices=("narrowed", "whole"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        run(args.mode == "narrowed", args.replies)
        return
    print(f"{args.replies} replies, each new wording, one process each way:")
    for mode in ("whole", "narrowed"):
        subprocess.run([sys.executable, __file__, "--mode", mode, "--replies", str(args.replies)], check=True)


if __name__ == "__main__":
    main()
