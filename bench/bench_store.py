"""The store's queries at two sizes, side by side: what grows with the store and what does not.

    python bench/bench_store.py [--sizes 100000 1000000] [--dir DIR]

Fills one store per size with bench_ui's generator (80 % inbound replies, bounces and auto-replies
across 50 mailboxes, 20 % sent mail, FTS included; reused from --dir when present) and prints, per
size, the median of 5 runs of: the first page of the inbox, a deep page by keyset, the last page
(a jump to the bottom, read from the end), the list's length (from the counts' tally), a view and a
filter switch as the inbox makes them (length, first page, per-view and per-category counts),
a broad, a middling and a narrow search as the inbox lists them (the ids of its first 10,000 hits
in one pass, then the first page by id), the arrival check the inbox runs on every commit, and
`replydesk list --limit 50` end to end as a process. The smaller size is the baseline of the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ui import fill  # noqa: E402

from app.store import InboxFilter, Store  # noqa: E402


def median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def figures(db: Path) -> dict[str, float]:
    store = Store(db)
    f = InboxFilter()
    first = store.conversations_at(f, 0, 100)
    deep_row = store.conversations_at(f, 50_000, 1)[0]
    # each order: its first page, a deep page by keyset and where a row sits (the cursor kept on
    # its conversation after a refresh)
    sorted_ = {sort: (g := f.with_(sort=sort), store.conversations_at(g, 50_000, 1)[0])
               for sort in ("newest", "oldest", "mailbox")}
    config = db.with_suffix(".toml")
    config.write_text(f'[general]\ndatabase = "{db}"\n')

    def switch(g: InboxFilter) -> None:
        store.count_conversations(g)
        store.conversations_at(g, 0, 100)
        store.view_counts()
        store.category_counts(g)

    def search(words: str) -> None:
        ids = store.search_ids(f.with_(search=words))
        store.conversations_by_id(ids[:100])

    out = {
        "inbox first page": median_ms(lambda: store.conversations_at(f, 0, 100)),
        "deep page (keyset, row 50,000)": median_ms(
            lambda: store.conversations_after(f, deep_row, 100)),
        "last page (jump to the bottom)": median_ms(
            lambda: store.conversations_at(f, 0, 100, from_end=True)),
        **{name: value for sort, (g, row) in sorted_.items() for name, value in (
            (f"{sort} order: first page", median_ms(lambda g=g: store.conversations_at(g, 0, 100))),
            (f"{sort} order: deep page (keyset, row 50,000)",
             median_ms(lambda g=g, row=row: store.conversations_after(g, row, 100))),
            (f"{sort} order: position of row 50,000", median_ms(lambda g=g, row=row: store.position_of(g, row["id"]))),
        )},
        "list length (count)": median_ms(lambda: store.count_conversations(f)),
        "view counts": median_ms(store.view_counts),
        "category counts": median_ms(lambda: store.category_counts(f)),
        "view switch to Bounces (length, page, counts)": median_ms(lambda: switch(f.with_(view="bounces"))),
        "filter switch to unread (length, page, counts)": median_ms(lambda: switch(f.with_(unread=True))),
        "search 'calendar budget' (broad): first page": median_ms(lambda: search("calendar budget")),
        "search 'company 42' (middling): first page": median_ms(lambda: search("company 42")),
        "search 'prospect4242' (narrow): first page": median_ms(lambda: search("prospect4242")),
        "arrival check (newest row, arrivals since)": median_ms(
            lambda: store.arrivals_since(store.newest_message_id() - 1, store.newest_message_id(), 0)),
        "replydesk list --limit 50 (process)": median_ms(lambda: subprocess.run(
            [sys.executable, "-m", "app", "--config", str(config), "list", "--limit", "50"], cwd=ROOT,
            stdout=subprocess.DEVNULL, check=True), runs=3),
        # by mailbox, messages have no index in that order: the 50 are picked in one pass
        "replydesk list --limit 50 --sort mailbox (process)": median_ms(lambda: subprocess.run(
            [sys.executable, "-m", "app", "--config", str(config), "list", "--limit", "50", "--sort", "mailbox"],
            cwd=ROOT, stdout=subprocess.DEVNULL, check=True), runs=3),
    }
    assert first
    store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dir", type=Path, default=None, help="keep (and reuse) the stores here")
    args = ap.parse_args()
    where = args.dir or Path(tempfile.mkdtemp(prefix="replydesk-bench-store-"))
    where.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in args.sizes:
        db = where / f"store-{size}.db"
        if not db.exists():
            t = time.perf_counter()
            fill(db, size)
            print(f"filled {size:,} messages in {time.perf_counter() - t:.0f} s", flush=True)
        results[size] = figures(db)
    names = list(next(iter(results.values())))
    width = max(map(len, names))
    print(f"{'':<{width}}  " + "  ".join(f"{s:>12,}" for s in args.sizes) + "   ratio")
    base = args.sizes[0]
    for name in names:
        cells = "  ".join(f"{results[s][name]:>9.1f} ms" for s in args.sizes)
        ratio = results[args.sizes[-1]][name] / max(results[base][name], 0.001)
        print(f"{name:<{width}}  {cells}   {ratio:5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
