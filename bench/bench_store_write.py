"""The store's CPU per message in a first sync: parsed, classified messages written as the engine
writes them (``app.imap.storage.store_batch``: one transaction per batch, the first of
``app.imap.sync.BATCH`` messages and the next of ``BATCH_MOST``, as a sync of short replies fetches
them, the folder's high-water mark with it), into a new SQLite store each round.

    python bench/bench_store_write.py [--messages 10000] [--rounds 3] [--profile new threads] [--base main]
        [--postgres] [--varied]

Profiles (the messages are built, parsed and classified once, outside the timing, and each round
reads them from a pickle):
  new      prospects' short replies to outreach, each a new conversation (a first sync of a
           mailbox of cold-email replies);
  threads  the same, but one in four is a prospect's second reply, answering an earlier reply of
           the same run (its parent stored in the same batch or an earlier one), and one in
           twenty is a copy of a message already stored (a duplicate the store skips).
Prints, per profile, the best round's CPU (``process_time``) per message and messages per
second of wall time, and the statements per message SQLite reports (``set_trace_callback``: a
trigger's program counts once more, under its statement's text). ``--base REF``: the same beside
the store of commit REF (checked out in a temporary worktree), the rounds of the two alternating
in processes of their own, so a machine shared with other work weighs on both alike.
``--varied``: batches of random sizes from 1 to ``BATCH_MOST`` instead (seeded), as a cold start
of many mailboxes stores them: each folder's history ends with a batch of what is left, and new
mail comes a few messages at a time.
``--postgres``: into PostgreSQL instead (a server started for the run, fsync on); the CPU is then
this process's only, the server's is not counted: messages per second is the figure there.
``--checkpoints``: this tree's store with SQLite's own WAL checkpoints (made in the writer's
commits) and with the engine's (``Database.checkpoint_in_background``: a thread of their own), in
alternating rounds; the medians of CPU (the checkpoint thread's included) and wall time, their
difference (the writer waiting for the disk), and the CPU with the store's close (which copies
what the checkpoints left). A slower disk's syncs can be imitated with an
``LD_PRELOAD`` library whose ``fsync``/``fdatasync`` sleep first.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
from checkouts import ROOT, checkouts, code_first  # noqa: E402

code_first()

from app.imap import sync  # noqa: E402
from app.imap.storage import store_batch  # noqa: E402
from app.imap.sync import BATCH  # noqa: E402
from app.mail import classify, parse  # noqa: E402
from app.store import IncomingMessage, Store  # noqa: E402
from tests.conftest import build_message  # noqa: E402

ACCOUNT = "box"
from replies import BODIES  # noqa: E402

BATCH_MOST = getattr(sync, "BATCH_MOST", BATCH)
"""A sync's later batches of short replies (a tree from before they grew: ``BATCH``)."""

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def messages(n: int, profile: str) -> list[IncomingMessage]:
    rnd = random.Random(7)
    out: list[IncomingMessage] = []
    replies: list[str] = []
    uid = 0
    for i in range(n):
        uid += 1
        if profile == "threads" and i % 20 == 19 and out:
            dup = out[rnd.randrange(len(out))]
            out.append(IncomingMessage(dup.folder, dup.uidvalidity, dup.uid, dup.parsed, dup.classification,
                                       flags=dup.flags, received_at=dup.received_at))
            continue
        if profile == "threads" and i % 4 == 3 and replies:
            parent = replies[max(0, len(replies) - 1 - rnd.randrange(3 * BATCH))]
            refs = {"in_reply_to": parent, "references": f"<out-{i}@sender.example> {parent}"}
        else:
            refs = {"in_reply_to": f"<out-{i}@sender.example>"}
        msg = build_message("me@sender.example", subject=f"Re: outreach {i}", body=rnd.choice(BODIES),
                            from_addr=f"Prospect {i} <p{i}@prospect{i % 97}.example>",
                            message_id=f"<r{i}@prospect{i % 97}.example>",
                            date=T0 + timedelta(minutes=i), **refs)
        replies.append(str(msg["Message-ID"]))
        parsed = parse(msg.as_bytes())
        out.append(IncomingMessage("INBOX", 1, uid, parsed, classify(parsed),
                                   received_at=(T0 + timedelta(minutes=i)).timestamp()))
    return out


def sizes(n: int, varied: bool) -> list[int]:
    """The batches' sizes: as a sync of short replies fetches them, or random (``--varied``)."""
    out: list[int] = []
    rnd = random.Random(11)
    while n > 0:
        out.append(rnd.randint(1, BATCH_MOST) if varied else BATCH if not out else BATCH_MOST)
        n -= out[-1]
    return out


def one_round(target: Path | str, batch: list[IncomingMessage], *, trace: bool = False,
              varied: bool = False, background: bool = False) -> tuple[float, float, int, float, float]:
    """CPU and wall seconds of storing ``batch`` into a new store at ``target``, the statements it
    ran (SQLite; counted only with ``trace``: the callback's own cost would be in the timing), and
    the CPU and wall seconds of closing the store (it copies what is left of the log into the
    file). ``background``: WAL checkpoints as the engine's writer has them."""
    store = Store(target)
    if background:
        store.db.checkpoint_in_background()
    store.ensure_account(ACCOUNT, "me@sender.example", "Me")
    statements = 0

    def count(sql: str) -> None:
        nonlocal statements
        statements += not sql.startswith("--")  # a trigger's body is reported as a comment

    if trace:
        store.db.conn.set_trace_callback(count)
    cpu, wall = time.process_time(), time.perf_counter()
    start = 0
    for size in sizes(len(batch), varied):
        chunk = batch[start:start + size]
        start += size
        store_batch(store, ACCOUNT, "INBOX", chunk, {"uidvalidity": 1, "highest_uid": chunk[-1].uid}, {})
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    close_cpu, close_wall = time.process_time(), time.perf_counter()
    store.close()
    return cpu, wall, statements, time.process_time() - close_cpu, time.perf_counter() - close_wall


def child(source: Path, target: str | None, trace: bool, varied: bool, background: bool = False) -> None:
    batch = pickle.loads(source.read_bytes())
    with tempfile.TemporaryDirectory(prefix="replydesk-bench-write-") as d:
        cpu, wall, statements, close_cpu, close_wall = one_round(
            target or Path(d) / "store.db", batch, trace=trace, varied=varied, background=background)
    print(json.dumps({"cpu": cpu, "wall": wall, "statements": statements, "messages": len(batch),
                      "close_cpu": close_cpu, "close_wall": close_wall}))


def run(tree: Path, source: Path, server: Any = None, trace: bool = False, varied: bool = False,
        background: bool = False) -> dict[str, float]:
    """One round in a process of its own on ``tree``'s code: into a new SQLite file, or into a
    new database on ``server`` (a PostgreSQL)."""
    target = ["--target", server.url(server.create_database())] if server is not None else []
    out = subprocess.run([sys.executable, str(HERE), "--child", str(tree), "--messages-file", str(source),
                          *target, *(["--trace"] if trace else []), *(["--varied"] if varied else []),
                          *(["--background"] if background else [])],
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.splitlines()[-1]))


def checkpoints(args: argparse.Namespace) -> None:
    """``--checkpoints``: this tree's store with each kind of checkpoint, alternating rounds."""
    with tempfile.TemporaryDirectory(prefix="replydesk-bench-") as d:
        for profile in args.profile:
            source = Path(d) / f"{profile}.pickle"
            source.write_bytes(pickle.dumps(messages(args.messages, profile)))
            kinds = {"SQLite's own": False, "a thread of their own": True}
            got: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
            for i in range(args.rounds):
                for kind in (list(kinds) if i % 2 == 0 else list(reversed(kinds))):
                    got[kind].append(run(ROOT, source, varied=args.varied, background=kinds[kind]))
            for kind, runs in got.items():
                n = runs[0]["messages"]
                cpu = statistics.median(r["cpu"] for r in runs)
                wall = statistics.median(r["wall"] for r in runs)
                waits = statistics.median(r["wall"] - r["cpu"] for r in runs)
                # what a checkpoint left for the close to copy is work all the same
                whole = statistics.median(r["cpu"] + r["close_cpu"] for r in runs)
                print(f"{profile:8} checkpoints by {kind:21}: medians of {len(runs)}: CPU {cpu:.3f} s "
                      f"({cpu / n * 1e6:.0f} µs a message), wall {wall:.3f} s, the writer waiting {waits:.3f} s; "
                      f"CPU with the store's close {whole:.3f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3, help="best of (default 3)")
    ap.add_argument("--profile", nargs="+", default=["new", "threads"], choices=["new", "threads"])
    ap.add_argument("--base", help="a commit to measure beside this tree, e.g. main")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--postgres", action="store_true",
                    help="into a PostgreSQL started for the run (Debian's postgresql package, fsync on)")
    ap.add_argument("--messages-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--varied", action="store_true", help="batches of random sizes from 1 to BATCH_MOST")
    ap.add_argument("--checkpoints", action="store_true",
                    help="SQLite's own WAL checkpoints beside the engine's (a thread of their own), medians")
    ap.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.messages_file, args.target, args.trace, args.varied, args.background)
        return
    if args.checkpoints:
        checkpoints(args)
        return
    server = None
    if args.postgres:
        from tests.servers.postgres import Postgres
        server = Postgres(durable=True)
        server.start()
        os.environ["PGPASSWORD"] = server.password
    try:
        with checkouts(args.base, "this tree") as trees, tempfile.TemporaryDirectory(prefix="replydesk-bench-") as d:
            for profile in args.profile:
                source = Path(d) / f"{profile}.pickle"
                source.write_bytes(pickle.dumps(messages(args.messages, profile)))
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
                for _ in range(args.rounds):
                    for name, tree in trees.items():
                        runs[name].append(run(tree, source, server, varied=args.varied))
                for name, tree in trees.items():
                    best = min(runs[name], key=lambda r: r["cpu"])
                    cpus = ", ".join(f"{r['cpu']:.2f} s" for r in runs[name])
                    n = best["messages"]
                    statements = "" if server else \
                        f", {run(tree, source, trace=True, varied=args.varied)['statements'] / n:5.1f} statements a message"
                    batches = (f"batches of 1 to {BATCH_MOST} at random" if args.varied
                               else f"batches of {BATCH_MOST} (the first {BATCH})")
                    print(f"{profile:8} {name:12} {n:.0f} messages in {batches}: "
                          f"{best['cpu'] / n * 1e6:6.0f} µs CPU a message, {n / best['wall']:7,.0f} msg/s"
                          f"{statements} "
                          f"(CPU of each round: {cpus})", flush=True)
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
