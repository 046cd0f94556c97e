"""How long a thread takes to open with the newest reply's header and body on screen.

    python bench/bench_thread_open.py [--threads 30] [--turns 12]

Fills a fresh store with threads of ``turns`` rounds (our mail and theirs, 30 lines each with a
quoted history), drives the app headless with Pilot and opens every thread in turn: the time from
``enter`` until the screen has been refreshed with the conversation mounted (Pilot's pause waits
for the refresh), and checks once per thread that the newest reply's text is on screen.
Prints p50, p95 and the worst.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.store import Store  # noqa: E402
from app.ui import ReplydeskApp  # noqa: E402
from app.ui.conversation import ConversationScreen  # noqa: E402
from tests.ui_seed import NOW, inbound, message, screen_text, sent  # noqa: E402


def fill(path: Path, threads: int, turns: int) -> None:
    store = Store(path)
    store.ensure_account("ana", "ana@acme.io", "Ana Reyes")
    body = "\n".join(f"line {n} of what was said, with some words to wrap" for n in range(30))
    uid = 0
    for t in range(threads):
        first = f"<cold{t}@acme.io>"
        out, inn = [], []
        for n in range(turns):
            at = NOW - (t * 100 + (turns - n) * 2) * 60
            uid += 1
            out.append(sent(uid, message(first if n == 0 else f"<o{t}-{n}@acme.io>", f"Idea {t}", "ana@acme.io",
                                         to=f"p{t}@x.example", new_text=body,
                                         in_reply_to=None if n == 0 else first, at=at)))
            inn.append(inbound(uid, message(f"<r{t}-{n}@x.example>", f"Re: Idea {t}", f"p{t}@x.example",
                                            name=f"Prospect {t}", new_text=f"Newest words {t}-{n}\n" + body,
                                            quoted="> " + body.replace("\n", "\n> "), in_reply_to=first,
                                            at=at + 60), "reply", "interested"))
        store.add_messages("ana", out)
        store.add_messages("ana", inn)
    store.close()


async def drive(path: Path, threads: int, turns: int) -> list[float]:
    timings: list[float] = []
    app = ReplydeskApp(path, None, clock=lambda: NOW, tz=timezone.utc)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for t in range(threads):
            started = time.perf_counter()
            await pilot.press("enter")
            await pilot.pause()
            timings.append(time.perf_counter() - started)
            assert isinstance(app.screen, ConversationScreen)
            text = screen_text(app)
            assert f"Newest words {t}-{turns - 1}" in text, text
            await pilot.press("escape", "j")
            await pilot.pause()
    return timings


def measure(threads: int, turns: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        fill(path, threads, turns)
        return sorted(asyncio.run(drive(path, threads, turns)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--turns", type=int, default=12)
    args = parser.parse_args()
    # the same-run baseline: a thread of one round, so Pilot's own cost and the machine's load
    # show beside the figure
    for turns in (1, args.turns):
        timings = measure(args.threads, turns)
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(f"{turns * 2:>3} messages a thread, {len(timings)} opened: enter to header and body on screen "
              f"p50 {statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
              f"worst {timings[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
