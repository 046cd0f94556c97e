"""What a new parse worker costs: started plainly (Python, the imports, the classifier's patterns)
or forked from the pool's warm fork server, in the same run (Linux: /proc).

    python bench/bench_worker_start.py [--workers 8]

For each way, ``--workers`` workers are started one after another (as a pool replaces a worker
killed on a slow message) and each reads one short reply; printed per way, medians: the seconds
from asking for the worker to its answer, and the worker process's own CPU seconds by then. The
fork server's own start (paid once per pool) is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.imap.parsework import ForkServer, MessageWorker  # noqa: E402
from tests.conftest import build_message  # noqa: E402

REPLY = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()


def _processes() -> dict[int, tuple[int, bytes, float]]:
    """Parse processes: pid -> (parent, arguments, CPU seconds)."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"app.imap.parsework" in (args := (entry / "cmdline").read_bytes()):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                found[int(entry.name)] = (int(fields[1]), args,
                                          (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        except OSError:
            continue
    return found


def one_way(forks: ForkServer | None, n: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(n):
        before = set(_processes())
        worker = MessageWorker(budget=60.0, forks=forks)
        try:
            started = time.perf_counter()
            _, result = worker.read(REPLY, "in")
            walls.append(time.perf_counter() - started)
            assert result is not None and result.category == "interested"
            # the worker: new, and not the fork server (whose arguments a forked worker keeps)
            new = {pid: v for pid, v in _processes().items()
                   if pid not in before and not (v[0] == os.getpid() and b"fork" in v[1].split(b"\0"))}
            [(_, _, cpu)] = new.values()
            cpus.append(cpu)
        finally:
            worker.close()
    return walls, cpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    if not Path("/proc/self/stat").exists() or ForkServer().failed:
        sys.exit("needs Linux 5.3+ (process descriptors) and /proc")
    walls, cpus = one_way(None, args.workers)
    print(f"started plainly      : {statistics.median(walls) * 1000:6.0f} ms to the first answer, "
          f"{statistics.median(cpus) * 1000:5.0f} ms of the worker's CPU (median of {args.workers})")
    forks = ForkServer()
    try:
        started = time.perf_counter()
        fwalls, fcpus = one_way(forks, 1)
        first = time.perf_counter() - started
        server = [cpu for pid, (ppid, a, cpu) in _processes().items() if ppid == os.getpid() and b"fork" in a.split(b"\0")]
        more_walls, more_cpus = one_way(forks, args.workers)
        print(f"fork server's start  : {first * 1000:6.0f} ms to the first worker's answer, "
              f"{server[0] * 1000:5.0f} ms of the server's CPU (once per pool)")
        print(f"forked from it       : {statistics.median(more_walls) * 1000:6.0f} ms to the first answer, "
              f"{statistics.median(more_cpus) * 1000:5.0f} ms of the worker's CPU (median of {args.workers}); "
              f"{statistics.median(walls) / statistics.median(more_walls):.0f}x faster to answer")
    finally:
        forks.close()


if __name__ == "__main__":
    main()
