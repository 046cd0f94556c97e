"""Re-applying warmup tags to a stored inbox: the one store pass that runs when a tag is accepted
(or the tags are edited), over N stored messages of which a quarter carry a tag, with 20 tags
configured. Prints messages per second and what moved.

    python bench/bench_noise.py [--messages N]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.mail.noise import NoiseContext  # noqa: E402
from app.mail.types import Address, Classification, ParsedMessage  # noqa: E402
from app.store import IncomingMessage, Store  # noqa: E402

TAGS = ["group-broth", "A6133FE", "lemon-tiger", "K9X2ZQ", "silver-maple", "B77QW1", "quiet-harbor", "ZX81TT",
        "amber-falcon", "Q3W9E2", "ocean-pepper", "LM45PQ", "rapid-cedar", "WX12YZ", "stone-willow", "PP09AB",
        "velvet-orbit", "JK88LM", "copper-dune", "TT55RR"]
WORDS = ("thanks for reaching out we would like to hear more about pricing and the team next week "
         "please send a deck our budget is set for the quarter can we talk on friday").split()


def message(i: int, rnd: random.Random) -> IncomingMessage:
    new = " ".join(rnd.choice(WORDS) for _ in range(60))
    quoted = "\n".join("> " + " ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(15))
    if i % 4 == 0:
        quoted += f"\n> {rnd.choice(TAGS)}"
    text = f"{new}\n\nOn Mon, 2 Mar 2026, Ana <ana@acme.io> wrote:\n{quoted}"
    pm = ParsedMessage(
        message_id=f"<m{i}@bench>", in_reply_to=None, references=[], subject=f"Re: note {i}",
        from_=Address("", f"p{i}@c{i % 500}.example"), to=[Address("", "ana@acme.io")], cc=[], reply_to=[],
        date=datetime.now(timezone.utc), text=text, new_text=new, quoted_text=quoted, snippet=new[:80],
        attachments=[], size=len(text), thread_key=f"<m{i}@bench>")
    return IncomingMessage("INBOX", 1, i + 1, pm, Classification("reply", "uncategorized", 0.5, ["bench"]),
                           received_at=1_700_000_000 + i)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000)
    args = ap.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        for start in range(0, args.messages, 1000):
            store.add_messages("ana", [message(i, rnd) for i in range(start, min(args.messages, start + 1000))])
        ctx = NoiseContext.of(TAGS, ["ana@acme.io"])
        started = time.perf_counter()
        result = store.reapply_warmup(lambda account: ctx)
        took = time.perf_counter() - started
        print(f"{args.messages:,} stored messages, 20 tags: re-applied in {took:.2f} s "
              f"({args.messages / took:,.0f} msg/s); {result.to_warmup:,} moved to warmup in "
              f"{result.conversations:,} conversations")
        started = time.perf_counter()
        again = store.reapply_warmup(lambda account: ctx)
        took = time.perf_counter() - started
        print(f"the same pass again (nothing to change): {took:.2f} s ({args.messages / took:,.0f} msg/s), "
              f"{again.to_warmup} moved")
        store.close()


if __name__ == "__main__":
    main()
