"""What a new parse worker costs: started plainly (Python, the imports, the classifier's patterns)
or forked from the pool's warm fork server, in the same run (Linux: /proc).

    python bench/bench_worker_start.py [--workers 8] [--starts 5] [--compiled]

For each way, ``--workers`` workers are started one after another (as a pool replaces a worker
killed on a slow message) and each reads one short reply; printed per way, medians: the seconds
from asking for the worker to its answer, and the worker process's own CPU seconds by then. The
fork server's own start (paid once per pool) is printed beside them: with the regular expressions
the last start kept (app.mail.regex_cache: every start but a machine's first) and with nothing
kept, ``--starts`` of each, alternating, each in a cache folder of its own (``XDG_CACHE_HOME``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.compiled import compiled_first, parse_args_compiled  # noqa: E402

READER = compiled_first()

from app.imap.parsework import FORKABLE, ForkServer, MessageWorker  # noqa: E402
from tests.conftest import build_message  # noqa: E402
from tests.parse_procs import cpu_seconds, fork_servers, kept_expressions, worker_processes  # noqa: E402

REPLY = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()


def one_way(forks: ForkServer | None, n: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(n):
        before = set(worker_processes())
        worker = MessageWorker(budget=60.0, forks=forks)
        try:
            started = time.perf_counter()
            _, result = worker.read(REPLY, "in")
            walls.append(time.perf_counter() - started)
            assert result is not None and result.category == "interested"
            [new] = set(worker_processes()) - before
            cpus.append(cpu_seconds(new))
        finally:
            worker.close()
    return walls, cpus


def server_start(cache: Path) -> tuple[float, float]:
    """A fork server started with ``cache`` as the user's cache folder: seconds to its first
    worker's answer, and its own CPU seconds by then."""
    os.environ["XDG_CACHE_HOME"] = str(cache)
    forks = ForkServer()
    try:
        started = time.perf_counter()
        one_way(forks, 1)
        first = time.perf_counter() - started
        [server] = fork_servers()
        return first, cpu_seconds(Path(f"/proc/{server}"))
    finally:
        forks.close()


def kept_starts(root: Path, n: int) -> None:
    """``n`` fork server starts with what the last start kept and ``n`` with nothing, alternating."""
    kept = root / "kept"
    server_start(kept)  # a machine's first start: it keeps what it compiled (a child writes it)
    if not kept_expressions(kept):
        print("(the fork server kept no compiled expressions: every start below compiles them)")
    with_data, without = [], []
    for i in range(n):
        with_data.append(server_start(kept))
        without.append(server_start(root / f"empty-{i}"))
    for label, runs in (("nothing kept", without), ("kept from the last", with_data)):
        print(f"fork server's start, {label:18s}: {statistics.median(w for w, _ in runs) * 1000:6.0f} ms to the "
              f"first worker's answer, {statistics.median(c for _, c in runs) * 1000:5.0f} ms of the server's CPU "
              f"(median of {n})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--starts", type=int, default=5)
    args = parse_args_compiled(ap)
    print(f"the message reader: {READER}")
    if not Path("/proc/self/stat").exists() or not FORKABLE:
        sys.exit("needs Linux 5.3+ (process descriptors) and /proc")
    with tempfile.TemporaryDirectory(prefix="replydesk-bench-") as root:
        kept_starts(Path(root), args.starts)
        os.environ["XDG_CACHE_HOME"] = str(Path(root) / "kept")
        others(args.workers)


def others(n: int) -> None:
    """Workers started plainly, and forked from a fork server, each with what the last start kept."""
    walls, cpus = one_way(None, n)
    print(f"started plainly      : {statistics.median(walls) * 1000:6.0f} ms to the first answer, "
          f"{statistics.median(cpus) * 1000:5.0f} ms of the worker's CPU (median of {n})")
    forks = ForkServer()
    try:
        one_way(forks, 1)  # the fork server's start: above
        more_walls, more_cpus = one_way(forks, n)
        print(f"forked from it       : {statistics.median(more_walls) * 1000:6.0f} ms to the first answer, "
              f"{statistics.median(more_cpus) * 1000:5.0f} ms of the worker's CPU (median of {n}); "
              f"{statistics.median(walls) / statistics.median(more_walls):.0f}x faster to answer")
    finally:
        forks.close()


if __name__ == "__main__":
    main()
