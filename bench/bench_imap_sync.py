"""First-sync throughput: 10,000 messages into the store, next to a bare aioimaplib FETCH of the
same messages in the same run.

    python bench/bench_imap_sync.py [--messages 10000] [--workers 2 1] [--compiled] [--rounds 3] [--base REF [--pairs 5]] [--wording bench|new|quoted|html]

Starts its own Dovecot (tests/servers), delivers the messages over LMTP (prospects' replies of a
few hundred bytes to a few KB: five wordings, or with ``--wording new`` two held-out replies
joined, wording met once, as a mailbox's history holds it; ``--wording quoted``: those, each above
the cold email it answers, quoted as most replies are written; ``--wording html``: those as Gmail
writes them in HTML, with no plain-text part, as some clients and helpdesks send mail), then:
  bare   aioimaplib IMAP4_SSL, UID FETCH of every message (UID FLAGS INTERNALDATE RFC822.SIZE
         BODY.PEEK[]) in batches of 100 (the engine's first; its later ones hold up to 400, but
         aioimaplib reads a FETCH answer in a time that grows faster than its size: 10,000 in
         batches of 400 took it 1.05-1.48 s against 0.42-0.44 s), bytes discarded; read through
         asyncio's own TLS buffers (256 KiB a connection), as aioimaplib reads in a process of its
         own, and again through the engine's (16 KiB, ``app.engine.TLS_BUFFER``), which read
         faster: the engine sets them for its whole process, so a bare FETCH in this process after
         an engine run read through them too until both were measured apart (2026-12-06: 0.52-0.57
         s through asyncio's, 0.43-0.45 s through the engine's, alternating);
  engine replydesk's Engine with that one account, from start to the last row committed
         (fetch, parse, classify, threads, FTS index), once per ``--workers`` count of parse
         worker processes (``[general] parse_workers``), each into a new store. The message
         reader is the checkout's Python; with ``--compiled``, the wheel's, compiled by mypyc.
The first engine run starts as on a machine that never ran replydesk (a new cache folder), with
the first ``--workers`` count (by default 2, as the configuration's default): its parse workers'
fork server compiles the reader's regular expressions and keeps them (app.mail.regex_cache); the
next runs, one per ``--workers`` count, start from what it kept, as every later start does.
Both bare FETCHes run again right before each engine run, in turns (this machine's pace drifts
within minutes, and one bare FETCH may take 0.44 s or 0.63 s a minute apart). ``--rounds``
(default 3) repeats the runs, each round's first start with a new cache folder, and ends with each
run's median fraction of each bare FETCH, with the lowest and highest. Prints the rates and each
engine run's rate as a fraction of the bare FETCH's just before it (the goal: 0.35), and of the
one through the engine's TLS buffers, with the CPU of
the engine's process, of its parse processes (the workers and their fork server) and of Dovecot
meanwhile (Linux /proc). Their sum over the cores
this process may run on is the shortest the run could have taken here with every core busy
throughout: the best fraction this CPU allows. The last line gives every run's fraction (its median
sync's, in rounds) of the fastest bare FETCH of all (the strictest baseline).
``--base REF``: this checkout beside commit REF (a temporary worktree), in alternating pairs of
engine runs, each in a process of its own on its tree's code (its wheel with ``--compiled``),
after one run of each that keeps its expressions; the bare FETCH (asyncio's TLS buffers) once
before each pair; the
medians per tree (runs of one tree here spread by ±10 % within the hour: a change of that size
needs pairs to be seen).
A second line per run says where the time goes: when the first rows were stored (the parse
worker's start is before it), and between a tenth and nine tenths of the messages stored, the
rate, each process's CPU a message and how busy the cores were. A third, around the store (its
transactions timed as the engine makes them): when the first began, how much of the time from
there to the last the store was writing (near all of it where the store thread sets the pace:
the fetches then wait for it at the engine's gate), and how long after the last batch was read
its rows were stored (the tail, which the other cores wait through); and of the store thread's
time in its transactions, how much it ran, waited for a core (Linux's schedstat) and waited for
anything else (the GIL, the disk).
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.sslproto
import functools
import json
import math
import os
import random
import smtplib
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkouts import checkouts, code_first  # noqa: E402

code_first()
from tests.compiled import add_compiled_option, compiled_first, rerun_compiled  # noqa: E402

READER = compiled_first()

import aioimaplib  # noqa: E402
from replies import BODIES, gmail_html, quoting  # noqa: E402

from app.config import load_config  # noqa: E402
from app.engine import TLS_BUFFER, Engine  # noqa: E402
from app.imap.sync import BATCH  # noqa: E402
from app.store import Store  # noqa: E402
from tests.conftest import User, build_message, write_config  # noqa: E402
from tests.parse_procs import every_process, kept_expressions, total_cpu  # noqa: E402
from tests.servers.dovecot import Dovecot, cpu_between  # noqa: E402

ASYNCIO_TLS_BUFFER: int | None = getattr(asyncio.sslproto.SSLProtocol, "max_size", None)
"""asyncio's own read buffer of a TLS connection (256 KiB), as this process found it: the engine
lowers it for the whole process when it starts (``app.engine.small_tls_buffers``)."""

LOOK = 0.01
"""Seconds between two looks at the store during an engine run (another connection)."""


@functools.cache
def _held_out() -> list[str]:
    from score_intent import load_replies

    return [r["text"] for r in load_replies()]


def new_wording(rnd: random.Random) -> str:
    """A reply of wording met once: two held-out replies (tests/fixtures/intent_heldout) of
    different senders, one after the other."""
    return "\n\n".join(rnd.sample(_held_out(), 2))


COLD_EMAIL = ("Hi there,\n\nI noticed your team is growing fast and wanted to reach out. We help sales teams "
              "book more meetings with less effort.\n\nWould you be open to a quick 15-minute call next week to "
              "see if it's a fit?\n\nBest,\nSam")
"""The mail the replies answer, quoted below them with ``--wording quoted`` and ``html``."""
WROTE = "On Mon, 2 Mar 2026 at 09:00, Sam Sender <sam@ours.example> wrote:"
"""The line above the quoted mail."""


def deliver_all(dovecot: Dovecot, to: str, n: int, wording: str = "bench") -> None:
    rnd = random.Random(7)
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=120) as lmtp:
        for i in range(n):
            body = rnd.choice(BODIES) if wording == "bench" else new_wording(rnd)
            if wording == "quoted":
                body = quoting(body, COLD_EMAIL, WROTE)
            msg = build_message(to, subject=f"Re: outreach {i}", body=body,
                                from_addr=f"Prospect {i} <p{i}@prospect{i % 97}.example>")
            if wording == "html":
                msg.set_content(gmail_html(body, COLD_EMAIL, WROTE), subtype="html")
            lmtp.sendmail(f"p{i}@prospect.example", [to], msg.as_bytes())


async def bare_fetch(dovecot: Dovecot, user: User, tls_buffer: int | None = ASYNCIO_TLS_BUFFER
                     ) -> tuple[float, int, int, float, float]:
    """The FETCH's wall time, the messages and bytes it got, and its CPU and Dovecot's meanwhile,
    read through TLS buffers of ``tls_buffer`` bytes (by default asyncio's own, as aioimaplib reads
    in a process of its own; the engine's are ``TLS_BUFFER``)."""
    before = getattr(asyncio.sslproto.SSLProtocol, "max_size", None)
    if tls_buffer is not None and before is not None:
        asyncio.sslproto.SSLProtocol.max_size = tls_buffer
    try:
        return await _bare_fetch(dovecot, user)
    finally:
        if before is not None:
            asyncio.sslproto.SSLProtocol.max_size = before


async def _bare_fetch(dovecot: Dovecot, user: User) -> tuple[float, int, int, float, float]:
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=ctx, timeout=120)
    await client.wait_hello_from_server()
    await client.login(user.email, user.password)
    await client.select("INBOX")
    server = dovecot.cpu_by_process()
    started = time.perf_counter()
    cpu = time.process_time()
    found = await client.uid_search("ALL", charset=None)
    uids = [int(u) for u in found.lines[0].split()]
    count = size = 0
    for i in range(0, len(uids), BATCH):
        chunk = uids[i:i + BATCH]
        resp = await client.uid("fetch", f"{chunk[0]}:{chunk[-1]}",
                                "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        for line in resp.lines:
            if isinstance(line, bytearray):
                count += 1
                size += len(line)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_cpu = dovecot.cpu_since(server)  # before the session's process ends
    await client.logout()
    return took, count, size, cpu, server_cpu


@dataclass
class Batches:
    """When an engine run's batches were read (their parse answered) and when each store
    transaction began and ended, in seconds since the run's start: the engine's own calls,
    wrapped by ``watch_batches``."""

    started: float = 0.0
    reads: list[float] = field(default_factory=list)
    stores: list[tuple[float, float]] = field(default_factory=list)
    store_time: list[tuple[float, float]] = field(default_factory=list)
    """Of each transaction, the store thread's CPU and its time waiting for a core (Linux)."""

    def restart(self, started: float) -> None:
        self.started = started
        self.reads.clear()
        self.stores.clear()
        self.store_time.clear()

    def summary(self) -> str:
        """Where the run's time went around the store: its first transaction, how much of the time
        from then to its last it was writing (near all of it where the store is the limit: the
        fetches then wait for its places at the gate), and how long after the last batch was read
        the last rows were stored (the tail the other cores wait through)."""
        if not self.stores or not self.reads:
            return "no batch seen"
        first, last = self.stores[0][0], self.stores[-1][1]
        writing = sum(end - begin for begin, end in self.stores)
        read = max(self.reads)
        cpu = sum(ran for ran, _ in self.store_time)
        waiting = sum(waited for _, waited in self.store_time)
        # a thread that runs, waits for a core, or waits for something else: the GIL, the disk
        split = (f"; in its transactions the store's thread ran {cpu / max(writing, 1e-9):.0%} of the time, "
                 f"waited for a core {waiting / max(writing, 1e-9):.0%}, for the rest (the GIL, the disk) "
                 f"{max(0.0, writing - cpu - waiting) / max(writing, 1e-9):.0%}") if not math.isnan(waiting) else ""
        return (f"the store's first transaction at {first * 1000:.0f} ms; from there to its last, "
                f"{writing / max(last - first, 1e-9):.0%} of the time writing ({len(self.stores)} transactions); "
                f"the last batch read at {read * 1000:.0f} ms, its rows stored {(last - read) * 1000:.0f} ms later"
                f"{split}")


def waited_for_a_core() -> float:
    """Seconds this thread has waited on a run queue (Linux's schedstat: ready to run, no core
    free); NaN where the system does not say."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


BATCHES = Batches()


def watch_batches() -> None:
    """Time the engine's reads and store transactions into ``BATCHES`` (this process's engine:
    the sync's ``store_batch`` and the parse pool's ``parse``, wrapped)."""
    from app.imap import storage, sync

    store_batch, parse = sync.store_batch, storage.ParsePool.parse

    def timed_store_batch(*args: Any, **kwargs: Any) -> list[int]:
        began, cpu, waited = time.perf_counter(), time.thread_time(), waited_for_a_core()
        try:
            return store_batch(*args, **kwargs)
        finally:
            BATCHES.stores.append((began - BATCHES.started, time.perf_counter() - BATCHES.started))
            BATCHES.store_time.append((time.thread_time() - cpu, waited_for_a_core() - waited))

    async def timed_parse(self: storage.ParsePool, *args: Any, **kwargs: Any) -> Any:
        try:
            return await parse(self, *args, **kwargs)
        finally:
            BATCHES.reads.append(time.perf_counter() - BATCHES.started)

    sync.store_batch = timed_store_batch
    storage.ParsePool.parse = timed_parse  # type: ignore[method-assign]


def parse_cpu() -> float:
    """CPU seconds of this process's parse processes (workers and their fork server) while they
    live (Linux /proc; NaN elsewhere): forked workers are not our children, so no rusage has them."""
    if not Path("/proc/self/stat").exists():
        return float("nan")
    return total_cpu(every_process())


@dataclass
class Mark:
    """A moment of an engine run: seconds since its start, the messages stored, and the CPU
    seconds of the engine's process, of its parse processes and of Dovecot's processes (by pid)
    until then."""

    at: float
    stored: int
    engine: float
    parse: float
    server: dict[int, float]

    def cpu_to(self, later: Mark) -> tuple[float, float, float]:
        """CPU of the engine, its parse processes and Dovecot between this mark and ``later``."""
        return later.engine - self.engine, later.parse - self.parse, cpu_between(self.server, later.server)


@dataclass
class Run:
    took: float
    cpu: tuple[float, float, float]
    """Of the engine's process, its parse processes and Dovecot, over the whole run."""
    first: float
    """When the first rows were committed."""
    steady: tuple[Mark, Mark]
    """At the first look that found a tenth of the messages stored, and nine tenths."""


async def engine_sync(config_path: Path, n: int, dovecot: Dovecot | None) -> Run:
    """One engine run, looked at every ``LOOK`` seconds: its wall time, the CPU of the engine's
    process, its parse processes and Dovecot (none counted without ``dovecot``), when its first
    rows landed, and marks in between."""
    server = dovecot.cpu_by_process if dovecot is not None else dict
    config = load_config(config_path)
    engine = Engine(config)
    watch = Store(config.database)
    started = time.perf_counter()
    BATCHES.restart(started)
    cpu = time.process_time()
    begin = Mark(0.0, 0, 0.0, 0.0, server())  # (the parse processes start with the engine)

    def mark(stored: int) -> Mark:
        return Mark(time.perf_counter() - started, stored, time.process_time() - cpu, parse_cpu(), server())

    await engine.start()
    try:
        first = 0.0
        steady: list[Mark] = []
        while True:
            # the highest id: a look that costs the same however many rows there are (the ids of a
            # new store count its rows)
            stored = watch.db.conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            if stored and not first:
                first = time.perf_counter() - started
            if len(steady) < 2 and stored >= n * (1 + 8 * len(steady)) // 10:
                steady.append(mark(stored))
            if stored >= n and watch.db.conn.execute("SELECT count(*) FROM messages").fetchone()[0] >= n:
                break
            await asyncio.sleep(LOOK)  # noqa: ASYNC110 (another connection's rows)
        end = mark(stored)
        return Run(end.at, begin.cpu_to(end), first, (steady[0], steady[-1]))
    finally:
        await engine.stop()
        watch.close()


def wheel(tree: Path, dest: Path) -> str:
    """The unpacked wheel of the checkout at ``tree``, built by that checkout's tests/compiled.py."""
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, '.'); from pathlib import Path; "
                          "from tests.compiled import build; print(build(Path(sys.argv[1])))", str(dest)],
                         cwd=tree, check=True, capture_output=True, text=True).stdout
    return out.splitlines()[-1]


def pairs(args: argparse.Namespace) -> None:
    """``--base REF``: the first sync of this checkout and of commit REF in alternating pairs,
    each engine run in a process of its own on its tree's code (with ``--compiled``, its wheel),
    from the expressions its tree's first run kept; the bare FETCH once before each pair."""
    dovecot = Dovecot()
    dovecot.start()
    with checkouts(args.base) as trees, tempfile.TemporaryDirectory(prefix="replydesk-bench-") as d:
        work = Path(d)
        env = {name: dict(os.environ, XDG_CACHE_HOME=str(work / f"cache-{i}"), PYTHONPATH=str(tree))
               for i, (name, tree) in enumerate(trees.items())}
        for i, (name, tree) in enumerate(trees.items()):
            env[name].pop("REPLYDESK_COMPILED_TREE", None)
            if args.compiled:
                print(f"building the wheel of {name} …", file=sys.stderr, flush=True)
                site = wheel(tree, work / f"wheel-{i}")
                env[name].update(PYTHONPATH=os.pathsep.join([site, str(tree)]), REPLYDESK_COMPILED_TREE=site)
        try:
            user = User("bench-sync@example.com", "bench-pw-sync", "REPLYDESK_BENCH_PW_SYNC")
            os.environ[user.env] = user.password
            for e in env.values():
                e[user.env] = user.password
            dovecot.add_user(user.email, user.password)
            dovecot.wait_until_users_visible()
            deliver_all(dovecot, user.email, args.messages, args.wording)
            runs = 0

            def run(name: str, workers: int) -> dict[str, float]:
                nonlocal runs
                runs += 1
                config_path = write_config(work / f"config-{runs}.toml", dovecot, None, [user],
                                           database=work / f"run-{runs}.db", initial_sync_days=30,
                                           idle_refresh_minutes=10, parse_workers=workers)
                out = subprocess.run([sys.executable, __file__, "--child", str(trees[name]), "--child-config",
                                      str(config_path), "--messages", str(args.messages)],
                                     env=env[name], check=True, capture_output=True, text=True).stdout
                got = dict(json.loads(out.splitlines()[-1]))
                wanted = env[name].get("REPLYDESK_COMPILED_TREE") or str(trees[name])
                if not Path(got["app"]).is_relative_to(wanted):
                    raise SystemExit(f"{name} ran the code of {got['app']}, not of {wanted}")
                return got

            for workers in args.workers:
                for name in trees:
                    run(name, workers)  # its first start: compiles the reader's expressions and keeps them
                got: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in trees}
                for k in range(args.pairs):
                    bare = asyncio.run(bare_fetch(dovecot, user))[0]
                    for name in (list(trees) if k % 2 == 0 else list(reversed(trees))):
                        r = run(name, workers)
                        got[name].append((r["took"], r["first"], r["engine"], bare / r["took"]))
                        print(f"{workers} worker{'s' if workers > 1 else ''}, {name}: {r['took']:.2f} s, first rows "
                              f"{r['first'] * 1000:.0f} ms, engine CPU {r['engine']:.2f} s, bare FETCH {bare:.2f} s "
                              f"= {bare / r['took']:.2f}x", flush=True)
                for name, rs in got.items():
                    med = [statistics.median(x[i] for x in rs) for i in range(4)]
                    print(f"{workers} worker{'s' if workers > 1 else ''}, {name}, medians of {len(rs)}: sync "
                          f"{med[0]:.3f} s, first rows {med[1] * 1000:.0f} ms, engine CPU {med[2]:.2f} s, "
                          f"{med[3]:.3f}x the bare FETCH before it", flush=True)
        finally:
            dovecot.cleanup()


def child(config_path: Path, n: int) -> None:
    """One engine run of ``pairs``, on this process's code: its figures as a line of JSON."""
    import app

    run = asyncio.run(engine_sync(config_path, n, None))
    print(json.dumps({"took": run.took, "first": run.first, "engine": run.cpu[0], "app": app.__file__}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 1],
                    help="parse worker processes (default 2 1; the first also for a machine's first start)")
    add_compiled_option(ap)
    ap.add_argument("--base", help="a commit to measure beside this checkout, in alternating pairs")
    ap.add_argument("--pairs", type=int, default=5, help="with --base: pairs per worker count (default 5)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="without --base: rounds of the runs, each engine run after a bare FETCH of its own "
                         "(default 3; the medians follow)")
    ap.add_argument("--wording", choices=("bench", "new", "quoted", "html"), default="bench",
                    help="bench: five short replies, as before (their phrase choices compiled by the eighth "
                         "meeting); new: each reply two held-out replies joined, wording met once (as a mailbox's "
                         "history holds it); quoted: those, each above the cold email it answers, quoted; html: "
                         "those as Gmail writes them in HTML, with no plain-text part")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-config", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child_config, args.messages)
        return
    if args.base:
        pairs(args)
        return
    if args.compiled:
        sys.exit(rerun_compiled(sys.argv))
    print(f"the message reader: {READER}")
    watch_batches()
    dovecot = Dovecot()
    dovecot.start()
    try:
        user = User("bench-sync@example.com", "bench-pw-sync", "REPLYDESK_BENCH_PW_SYNC")
        os.environ[user.env] = user.password
        dovecot.add_user(user.email, user.password)
        dovecot.wait_until_users_visible()
        t = time.perf_counter()
        deliver_all(dovecot, user.email, args.messages, args.wording)
        print(f"delivered {args.messages} messages over LMTP in {time.perf_counter() - t:.1f} s")
        tmp = Path(tempfile.mkdtemp(prefix="replydesk-bench-"))
        cores = len(os.sched_getaffinity(0))
        bares: list[float] = []
        took_all: dict[str, list[float]] = {}
        ratios: dict[str, list[float]] = {}
        tuned_ratios: dict[str, list[float]] = {}
        runs = 0
        for round_ in range(args.rounds):
            if args.rounds > 1:
                print(f"round {round_ + 1} of {args.rounds}", flush=True)
            for place, workers in enumerate([args.workers[0], *args.workers]):
                # the user's cache folder: new for a machine's first start (its parse workers'
                # fork server compiles the reader's expressions and keeps them); the others start
                # as every later one does, from what the first round's first start kept
                os.environ["XDG_CACHE_HOME"] = str(tmp / f"cache-{round_ if place == 0 else 0}")
                runs += 1
                config_path = write_config(tmp / f"config-{runs}.toml", dovecot, None, [user],
                                           database=tmp / f"run-{runs}.db", initial_sync_days=30,
                                           idle_refresh_minutes=10, parse_workers=workers)
                if place == 1 and round_ == 0 and not kept_expressions(tmp / "cache-0"):
                    print("  (the fork server kept no compiled expressions: the runs below compile them too)")
                # the baselines right before each run (this machine's pace drifts within minutes),
                # in turns: aioimaplib as it reads by itself, and with the engine's TLS buffers
                baselines: dict[str, float] = {}
                for label, buffer in sorted([("asyncio's", ASYNCIO_TLS_BUFFER), ("the engine's", TLS_BUFFER)],
                                            reverse=runs % 2 == 0):
                    took, count, size, cpu, server = asyncio.run(bare_fetch(dovecot, user, buffer))
                    baselines[label] = took
                    print(f"bare aioimaplib FETCH, {label} TLS buffers ({(buffer or 0) // 1024} KiB): {count} messages, "
                          f"{size / 1e6:.1f} MB in {took:.2f} s = {count / took:,.0f} msg/s (CPU: client {cpu:.2f} s, "
                          f"Dovecot {server:.2f} s)", flush=True)
                bare, tuned = baselines["asyncio's"], baselines["the engine's"]
                bares.extend(baselines.values())
                run = asyncio.run(engine_sync(config_path, args.messages, dovecot))
                name = f"{workers} worker{'s' if workers > 1 else ''}{'' if place else ', nothing kept'}"
                took_all.setdefault(name, []).append(run.took)
                ratios.setdefault(name, []).append(bare / run.took)
                tuned_ratios.setdefault(name, []).append(tuned / run.took)
                cpu, parse, server = run.cpu
                shortest = (cpu + parse + server) / cores
                start = "nothing kept: a machine's first start" if place == 0 else "the reader's expressions kept"
                print(f"engine first sync, {workers} parse worker{'s' if workers > 1 else ''}, {start} "
                      f"(fetch+parse+classify+store): {args.messages} in {run.took:.2f} s = "
                      f"{args.messages / run.took:,.0f} msg/s = {bare / run.took:.2f}x the bare FETCH's rate "
                      f"({tuned / run.took:.2f}x with the engine's TLS buffers) "
                      f"(CPU: engine process {cpu:.2f} s, parse processes {parse:.2f} s, Dovecot {server:.2f} s; "
                      f"on {cores} cores all busy no shorter than {shortest:.2f} s = {bare / shortest:.2f}x at best)",
                      flush=True)
                a, b = run.steady
                count, took = b.stored - a.stored, b.at - a.at
                if count <= 0 or took <= 0:
                    print(f"  first rows stored after {run.first * 1000:.0f} ms; too few messages for a pace "
                          f"between a tenth and nine tenths stored\n  {BATCHES.summary()}", flush=True)
                    continue
                spent = a.cpu_to(b)
                busy = sum(spent) / took / cores
                print(f"  first rows stored after {run.first * 1000:.0f} ms; from a tenth to nine tenths stored: "
                      f"{count / took:,.0f} msg/s, CPU a message: engine {spent[0] / count * 1e6:.0f} µs, "
                      f"parse {spent[1] / count * 1e6:.0f} µs, Dovecot {spent[2] / count * 1e6:.0f} µs "
                      f"({busy:.0%} of {cores} cores busy)", flush=True)
                print(f"  {BATCHES.summary()}", flush=True)
        if args.rounds > 1:
            for name, got in ratios.items():
                tuned_got = tuned_ratios[name]
                print(f"{name}, {len(got)} rounds: median {statistics.median(got):.3f}x the bare FETCH before each "
                      f"(from {min(got):.3f}x to {max(got):.3f}x); {statistics.median(tuned_got):.3f}x the one with "
                      f"the engine's TLS buffers (from {min(tuned_got):.3f}x to {max(tuned_got):.3f}x); sync median "
                      f"{statistics.median(took_all[name]):.2f} s", flush=True)
        fastest = min(bares)
        print(f"against the fastest bare FETCH of this run ({fastest:.2f} s, either buffers): "
              + ", ".join(f"{name} {fastest / statistics.median(took):.2f}x" for name, took in took_all.items())
              + (" (median syncs)" if args.rounds > 1 else ""), flush=True)
    finally:
        dovecot.cleanup()


if __name__ == "__main__":
    main()
