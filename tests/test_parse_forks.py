"""A pool's parse workers are forked from one warm process, the fork server: a new worker (a
second core's, or the one that replaces a worker killed on a slow message) reads at once instead
of starting Python and building the classifier again (what that saves: bench/bench_worker_start.py).
Without the fork server, workers start plainly, and mail is read all the same."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.config import load_config
from app.engine import Engine
from app.errors import StoreError
from app.imap.parsework import FORKABLE, ForkServer, MessageWorker
from app.mail.rules import load_rules
from tests.conftest import build_message
from tests.engine_support import until
from tests.parse_procs import fork_servers, parent, worker_processes
from tests.test_parse_budget import SLOW_RULES, SLOW_TEXT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists() or not FORKABLE,
                                reason="needs Linux: process descriptors, and /proc to find the processes")

REPLY = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()


def _read_interest(worker: MessageWorker) -> None:
    parsed, result = worker.read(REPLY, "in")
    assert result is not None and result.category == "interested" and parsed.raw == REPLY


@contextmanager
def _forked_workers() -> Iterator[tuple[ForkServer, list[MessageWorker]]]:
    """A fork server and the workers a test adds; all closed after, and no parse process left."""
    forks = ForkServer()
    workers: list[MessageWorker] = []
    try:
        yield forks, workers
    finally:
        for worker in workers:
            worker.close()
        forks.close()
    assert fork_servers() == [] and worker_processes() == []


def test_workers_are_forked_from_the_warm_server_also_after_an_overrun():
    with _forked_workers() as (forks, workers):
        workers += [MessageWorker(budget=2.0, forks=forks) for _ in range(2)]
        for worker in workers:
            _read_interest(worker)
        [server] = fork_servers()
        procs = worker_processes()
        assert len(procs) == 2 and all(parent(p) == server for p in procs)

        # a worker killed on a slow message is replaced by another fork, which reads on
        workers[0].set_context(None, load_rules(SLOW_RULES), ())
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        readings = workers[0].read_many([REPLY, slow, REPLY], "in")
        assert [c.category for _, c in readings if c is not None] == ["interested", "uncategorized", "interested"]
        assert "NotClassifiedInTime" in readings[1][0].defects and workers[0].overruns == 1
        assert fork_servers() == [server]
        procs = worker_processes()
        assert len(procs) == 2 and all(parent(p) == server for p in procs)


def test_mail_is_read_when_the_fork_server_is_killed_and_a_new_one_serves_the_next_workers():
    with _forked_workers() as (forks, workers):
        workers.append(MessageWorker(budget=30.0, forks=forks))
        _read_interest(workers[-1])
        [first] = fork_servers()
        os.kill(first, signal.SIGKILL)  # the system out of memory, say
        # the next worker cannot be forked: it starts plainly, and reads
        workers.append(MessageWorker(budget=30.0, forks=forks))
        _read_interest(workers[-1])
        assert sum(parent(p) == os.getpid() for p in worker_processes()) == 1
        # the one after comes from a new fork server
        workers.append(MessageWorker(budget=30.0, forks=forks))
        _read_interest(workers[-1])
        [second] = fork_servers()
        assert second != first
        assert sum(parent(p) == second for p in worker_processes()) == 1
        # and the worker forked by the server that was killed reads on
        _read_interest(workers[0])


def test_a_worker_reads_on_after_its_fork_server_is_closed_and_none_is_started_after():
    forks = ForkServer()
    worker = MessageWorker(budget=30.0, forks=forks)
    try:
        _read_interest(worker)
        forks.close()  # the pool closing: the workers end with their own pipes
        assert fork_servers() == []
        _read_interest(worker)
        worker.kill()  # a new worker now starts plainly: no fork server comes back
        _read_interest(worker)
        assert fork_servers() == [] and [parent(p) for p in worker_processes()] == [os.getpid()]
    finally:
        worker.close()
    assert worker_processes() == []


async def test_an_engine_that_cannot_open_its_store_leaves_no_parse_process_behind(tmp_path: Path):
    # the first worker starts first thing, while the store opens: a start that fails ends it
    database = tmp_path / "replydesk.db"
    database.write_bytes(b"not a database, " * 256)
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[general]\ndatabase = "{database}"\nparse_workers = 2\n')
    engine = Engine(load_config(config_path))
    with pytest.raises(StoreError, match="not a database"):
        await engine.start()
    await until(lambda: not fork_servers() and not worker_processes(), 60, "the parse processes gone")


def test_workers_started_in_a_folder_with_a_package_named_like_ours_read_mail(tmp_path, monkeypatch):
    # a user's own project in the current folder: its `app` package must not stand in for replydesk's
    decoy = tmp_path / "app"
    (decoy / "imap").mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the user’s own app package')\n")
    (decoy / "imap" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    with _forked_workers() as (forks, workers):
        workers += [MessageWorker(budget=5.0, forks=forks), MessageWorker(budget=5.0)]  # forked, and started plainly
        for worker in workers:
            _read_interest(worker)
