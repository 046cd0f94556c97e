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
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.imap.parsework import FORKABLE, ForkServer, MessageWorker  # noqa: E402
from tests.conftest import build_message  # noqa: E402
from tests.parse_procs import cpu_seconds, fork_servers, worker_processes  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    if not Path("/proc/self/stat").exists() or not FORKABLE:
        sys.exit("needs Linux 5.3+ (process descriptors) and /proc")
    walls, cpus = one_way(None, args.workers)
    print(f"started plainly      : {statistics.median(walls) * 1000:6.0f} ms to the first answer, "
          f"{statistics.median(cpus) * 1000:5.0f} ms of the worker's CPU (median of {args.workers})")
    forks = ForkServer()
    try:
        started = time.perf_counter()
        one_way(forks, 1)
        first = time.perf_counter() - started
        [server] = fork_servers()
        server_cpu = cpu_seconds(Path(f"/proc/{server}"))
        more_walls, more_cpus = one_way(forks, args.workers)
        print(f"fork server's start  : {first * 1000:6.0f} ms to the first worker's answer, "
              f"{server_cpu * 1000:5.0f} ms of the server's CPU (once per pool)")
        print(f"forked from it       : {statistics.median(more_walls) * 1000:6.0f} ms to the first answer, "
              f"{statistics.median(more_cpus) * 1000:5.0f} ms of the worker's CPU (median of {args.workers}); "
              f"{statistics.median(walls) / statistics.median(more_walls):.0f}x faster to answer")
    finally:
        forks.close()


if __name__ == "__main__":
    main()
