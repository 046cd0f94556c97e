"""The parse worker's pipe: messages per second through one ``MessageWorker`` (a worker process,
batches of the sync's size), and what it costs the engine's process per message, beside the same
messages parsed and classified in this process (the ceiling: the worker's work without the pipe),
in the same run.

    python bench/bench_parse_pipe.py [--messages 10000] [--rounds 5] [--base main]

Messages are prospects' short replies (tests.conftest.build_message), as a first sync fetches them.
Each round runs in a fresh process per checkout; with ``--base`` the same rounds run against that
commit too (checked out in a temporary git worktree), alternating round by round so the machine's
load falls on both alike. Printed per checkout, medians over the rounds:
  in-process   parse + classify here, messages/s (the ceiling)
  worker       through the worker's pipe, messages/s, and its fraction of the ceiling (round by round)
  busy engine  worker/s again with another thread of the engine running Python all along (the
               event loop in a first sync), so the reading thread waits for the interpreter
  engine CPU   the engine process's CPU per message (unpickling, reading the pipe), µs
  worker CPU   the worker process's CPU per message, µs (Linux: /proc)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from checkouts import checkouts  # noqa: E402
from replies import BODIES as REPLIES  # noqa: E402

BODIES = [*REPLIES, "Interested, send the deck."]


def messages(n: int) -> list[bytes]:
    from tests.conftest import build_message
    rnd = random.Random(7)
    return [build_message("me@acme.example", subject=f"Re: outreach {i}", body=rnd.choice(BODIES),
                          from_addr=f"Prospect {i} <p{i}@prospect{i % 97}.example>").as_bytes() for i in range(n)]


def proc_cpu(pid: int) -> float:
    """CPU seconds of a live process (Linux), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(n: int) -> dict[str, float]:
    """In a child whose sys.path starts at the checkout measured."""
    from app.imap.parsework import MessageWorker
    from app.imap.sync import BATCH
    from app.mail import classify, parse
    raws = messages(n)
    t0, c0 = time.perf_counter(), time.process_time()
    for raw in raws:
        classify(parse(raw))
    inproc_wall = time.perf_counter() - t0
    inproc_cpu = time.process_time() - c0

    worker = MessageWorker(budget=60.0)
    try:
        worker.read(raws[0], "in")  # started, imports done
        pid = worker._proc.pid  # type: ignore[union-attr]
        w0 = proc_cpu(pid)
        t0, c0 = time.perf_counter(), time.process_time()
        read = 0
        for i in range(0, n, BATCH):
            read += len(worker.read_many(raws[i:i + BATCH], "in"))
        wall = time.perf_counter() - t0
        engine_cpu = time.process_time() - c0
        worker_cpu = proc_cpu(pid) - w0
        assert read == n and worker.overruns == 0
        # the same with another thread running Python all along, as the event loop does in a
        # first sync: the reading thread waits for its turn at the interpreter after each wait
        done = threading.Event()

        def busy() -> None:
            spin = 0
            while not done.is_set():
                spin = (spin + 1) % 1_000_003
        spinner = threading.Thread(target=busy, daemon=True)
        spinner.start()
        try:
            t0 = time.perf_counter()
            for i in range(0, n, BATCH):
                worker.read_many(raws[i:i + BATCH], "in")
            busy_wall = time.perf_counter() - t0
        finally:
            done.set()
            spinner.join()
    finally:
        worker.close()
    return {"inproc": n / inproc_wall, "inproc_cpu_us": inproc_cpu / n * 1e6, "pipe": n / wall,
            "pipe_busy": n / busy_wall, "engine_cpu_us": engine_cpu / n * 1e6,
            "worker_cpu_us": worker_cpu / n * 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--base", help="a commit to measure beside this checkout (e.g. main)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, args.child)
        print(json.dumps(one_round(args.messages)))
        return

    with checkouts(args.base) as trees:
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree)}
                out = subprocess.run([sys.executable, __file__, "--child", str(tree), "--messages",
                                      str(args.messages)], env=env, cwd=tree, check=True, capture_output=True,
                                     text=True).stdout
                results[name].append(json.loads(out))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"{args.messages} messages, 1 worker, medians of {args.rounds} rounds")
    print(f"{'':16} {'in-process/s':>12} {'worker/s':>9} {'of ceiling':>10} {'busy engine':>11} "
          f"{'engine CPU/msg':>15} {'worker CPU/msg':>15}")
    for name, rounds in results.items():
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        share = statistics.median(r["pipe"] / r["inproc"] for r in rounds)  # each round against its own
        print(f"{name:16} {med['inproc']:12.0f} {med['pipe']:9.0f} {share:10.2f} {med['pipe_busy']:11.0f} "
              f"{med['engine_cpu_us']:12.0f} µs {med['worker_cpu_us']:12.0f} µs")


if __name__ == "__main__":
    main()
