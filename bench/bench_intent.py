"""Parse + classify throughput, robust to a loaded machine: the best of several timed passes
(CPU time of this process), over the corpus of bench_mail.py and over the held-out replies.

    python bench/bench_intent.py [--root TREE] [--repeats N]

``--root`` measures another checkout of replydesk (e.g. a worktree of the code before a change)
on the same messages, so two trees can be compared in one sitting.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def best_rate(fn, messages: list[bytes], repeats: int) -> float:
    for raw in messages:
        fn(raw)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for raw in messages:
            fn(raw)
        best = min(best, time.process_time() - start)
    return len(messages) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the replydesk checkout to measure")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_mail import load_messages
    from score_intent import load_replies, message_bytes
    corpus = [m for group in load_messages()[1].values() for m in group]
    replies = [message_bytes(r) for r in load_replies()]
    sys.path.insert(0, str(args.root.resolve()))
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        del sys.modules[name]
    from app.mail import classify, parse
    assert Path(sys.modules["app"].__file__).resolve().is_relative_to(args.root.resolve())

    def both(raw: bytes) -> object:
        return classify(parse(raw))

    print(f"tree {args.root}: best of {args.repeats} passes (CPU time)")
    print(f"  corpus ({len(corpus)} msgs) parse + classify : {best_rate(both, corpus, args.repeats):8.0f} msg/s")
    print(f"  held-out replies ({len(replies)}) parse + classify: {best_rate(both, replies, args.repeats):8.0f} msg/s")


if __name__ == "__main__":
    main()
