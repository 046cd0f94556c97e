"""One message never holds the others back, whatever the patterns do: each is read in a worker
process with a time budget; one that overruns is stored with its headers, marked not classified,
and the worker is replaced. Here the slow pattern is a user's own rule with catastrophic
backtracking (the shipped rules are linear: tests/test_mail_patterns_linear.py)."""

from __future__ import annotations

import asyncio
import os
import pickle
import resource
import signal
import threading
from pathlib import Path

import pytest

from app.imap.parsework import READ_TOGETHER, READ_TOGETHER_BYTES, MessageWorker, read_runs
from app.imap.responses import Fetched
from app.imap.storage import ParsePool
from app.mail.classify import warm_up
from app.mail.rules import load_rules
from tests.conftest import build_message
from tests.engine_support import rows, running_engine, until
from tests.parse_procs import total_cpu, worker_processes

SLOW_RULES = """
[intent.interested]
patterns = ['(?:x+x+)+y']
"""
SLOW_TEXT = "y " + "x" * 40 + "!"
"""The pattern backtracks without end over the run of x's; the "y" before it is there so a phrase
is not skipped for want of the run every match of it holds (app.mail.phrases)."""


def test_a_message_past_the_budget_is_kept_with_its_headers_and_the_worker_replaced():
    worker = MessageWorker(budget=3.0)
    try:
        worker.set_context(None, load_rules(SLOW_RULES), ())
        ok = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()
        parsed, result = worker.read(ok, "in")
        assert result is not None and result.category == "interested" and parsed.raw == ok
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT,
                             from_addr="Sam Slow <sam@slow.example>").as_bytes()
        parsed, result = worker.read(slow, "in")
        assert worker.overruns == 1
        assert parsed.subject == "Re: hello" and parsed.from_ is not None and parsed.from_.email == "sam@slow.example"
        assert result is not None and result.category == "uncategorized"
        assert "not classified: took longer than 3 s" in result.reasons[0]
        parsed, result = worker.read(ok, "in")  # a new worker takes the next one
        assert result is not None and result.category == "interested"
    finally:
        worker.close()


def test_a_slow_message_inside_a_batch_is_kept_with_its_headers_and_the_rest_read_on():
    worker = MessageWorker(budget=3.0)
    try:
        worker.set_context(None, load_rules(SLOW_RULES), ())
        ok = [build_message("me@x.example", subject=f"Re: pricing {i}", body="Interested, send the deck").as_bytes()
              for i in range(3)]
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        readings = worker.read_many([ok[0], slow, ok[1], ok[2]], "in")
        assert [p.subject for p, _ in readings] == ["Re: pricing 0", "Re: hello", "Re: pricing 1", "Re: pricing 2"]
        assert [c.category for _, c in readings if c is not None] == [
            "interested", "uncategorized", "interested", "interested"]
        assert "not classified" in readings[1][1].reasons[0] and worker.overruns == 1
        assert [p.raw for p, _ in readings] == [ok[0], slow, ok[1], ok[2]]
    finally:
        worker.close()


def _replies(prefix: str, n: int) -> list[bytes]:
    return [build_message("me@x.example", subject=f"Re: {prefix} {i}", body="Interested, send the deck").as_bytes()
            for i in range(n)]


def _assert_read(readings, raws, slow_places, budget: str) -> None:
    """Every message in its place with its own bytes; the slow ones kept with their headers, every
    other one classified as it reads."""
    assert [p.raw for p, _ in readings] == raws
    for place, (parsed, result) in enumerate(readings):
        assert result is not None
        if place in slow_places:
            assert parsed.subject.startswith("Re: hello") and "NotClassifiedInTime" in parsed.defects
            assert result.category == "uncategorized"
            assert result.reasons == [f"not classified: took longer than {budget} s to read"]
        else:
            assert "NotClassifiedInTime" not in parsed.defects, place
            assert result.category == "interested", place


def test_a_hanging_message_after_quick_ones_is_the_one_kept_with_its_headers():
    # The quick answers before it wait in the worker to go with the next ones when it hangs (here
    # they would wait an hour): the worker is killed with them, and they are read again, normally;
    # the hanging message is the one kept with its headers, not the first unanswered one.
    for flush_every in (3600.0, 0.005):
        worker = MessageWorker(budget=3.0, flush_every=flush_every)
        try:
            worker.set_context(None, load_rules(SLOW_RULES), ())
            before, after = _replies("pricing", 20), _replies("later", 20)
            slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
            raws = [*before, slow, *after]
            readings = worker.read_many(raws, "in")
            _assert_read(readings, raws, {20}, "3")
            assert worker.overruns == 1
        finally:
            worker.close()


@pytest.mark.parametrize("sizes", [
    [800] * (2 * READ_TOGETHER + 5),  # short replies: runs of READ_TOGETHER
    [READ_TOGETHER_BYTES // 3] * 7 + [900] * 4,  # big mail: fewer a run
    [READ_TOGETHER_BYTES * 2, 700, READ_TOGETHER_BYTES * 2],  # one bigger than a run: alone
    [],
])
def test_a_frame_is_read_in_runs_of_a_bounded_count_and_size(sizes: list[int]) -> None:
    raws = [b"x" * size for size in sizes]
    runs = read_runs(raws)
    assert [place for run in runs for place in run] == list(range(len(raws)))  # each once, in order
    for run in runs:
        assert 0 < len(run) <= READ_TOGETHER
        assert len(run) == 1 or sum(sizes[place] for place in run) <= READ_TOGETHER_BYTES
    # and no run ends before it has to: the next message would not have fitted
    for run, after in zip(runs, runs[1:]):
        assert len(run) == READ_TOGETHER or sum(sizes[place] for place in run) + sizes[after[0]] > READ_TOGETHER_BYTES


def test_each_message_of_a_frame_read_in_runs_comes_back_in_its_place_with_its_own_reading():
    # parsed a run at a time, then classified: every answer still goes with its own message
    said = [("Interested, send the deck", "interested"), ("Please unsubscribe me", "unsubscribe"),
            ("Not interested, thanks", "not_interested"), ("Can we meet on Tuesday?", "meeting")]
    count = 2 * READ_TOGETHER + 5
    each = [said[i * 7 % 4] for i in range(count)]  # neighbours differ
    raws = [build_message("me@x.example", subject=f"Re: offer {i}", body=body).as_bytes()
            for i, (body, _) in enumerate(each)]
    worker = MessageWorker(budget=60.0)
    try:
        readings = worker.read_many(raws, "in")
        assert [p.subject for p, _ in readings] == [f"Re: offer {i}" for i in range(count)]
        assert [c.category if c else None for _, c in readings] == [category for _, category in each]
        assert worker.overruns == 0
    finally:
        worker.close()


def test_a_hanging_message_in_a_later_run_of_a_frame_is_the_one_kept_with_its_headers():
    # The worker parses a run of messages, then classifies them. Here the first run's answers
    # wait in the worker, the hanging message is classified in the second run, and the rest of
    # that run is parsed but not classified when the worker is killed: all of them are read
    # again, and only the hanging message is kept with its headers.
    worker = MessageWorker(budget=3.0, flush_every=3600.0)
    try:
        worker.set_context(None, load_rules(SLOW_RULES), ())
        slow_at = READ_TOGETHER + 3
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        raws = [*_replies("pricing", slow_at), slow, *_replies("later", READ_TOGETHER)]
        readings = worker.read_many(raws, "in")
        _assert_read(readings, raws, {slow_at}, "3")
        assert worker.overruns == 1
    finally:
        worker.close()


def test_each_hanging_message_of_a_batch_has_its_own_budget():
    # first, in the middle after buffered answers, and last: each one overruns, alone
    worker = MessageWorker(budget=2.0, flush_every=3600.0)
    try:
        worker.set_context(None, load_rules(SLOW_RULES), ())
        quick = _replies("pricing", 6)
        slow = [build_message("me@x.example", subject=f"Re: hello {i}", body=SLOW_TEXT).as_bytes() for i in range(3)]
        raws = [slow[0], *quick[:3], slow[1], *quick[3:], slow[2]]
        readings = worker.read_many(raws, "in")
        _assert_read(readings, raws, {0, 4, 8}, "2")
        assert worker.overruns == 3
        parsed, result = worker.read(quick[0], "in")  # and the worker after them reads on
        assert result is not None and result.category == "interested" and parsed.raw == quick[0]
    finally:
        worker.close()


def _worker_cpu_seconds() -> float:
    """CPU time of this process's parse workers."""
    return total_cpu(worker_processes())


def _kill_workers() -> None:
    for proc in worker_processes():
        try:
            os.kill(int(proc.name), signal.SIGKILL)
        except OSError:
            continue


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker in /proc")
async def test_a_worker_that_dies_on_a_message_loses_only_that_one():
    # killed from outside (the system out of memory, say) while on the slow message, with the
    # answers before it not sent yet: the message it died on is kept with its headers, and the
    # others are read by the next worker
    worker = MessageWorker(budget=600.0, flush_every=3600.0)
    try:
        worker.set_context(None, load_rules(SLOW_RULES), ())
        before, after = _replies("pricing", 5), _replies("later", 5)
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        raws = [*before, slow, *after]
        worker.read(before[0], "in")  # started: what it spends from here on is reading
        started = _worker_cpu_seconds()
        reading = asyncio.ensure_future(asyncio.to_thread(worker.read_many, raws, "in"))
        # the quick ones take milliseconds: a second of CPU is the slow one
        await until(lambda: _worker_cpu_seconds() - started >= 1.0, 120, "the worker on the slow message")
        _kill_workers()
        readings = await asyncio.wait_for(reading, 120)
        assert [p.raw for p, _ in readings] == raws
        assert "NotClassifiedInTime" in readings[5][0].defects and readings[5][1].category == "uncategorized"
        assert all(c.category == "interested" and "NotClassifiedInTime" not in p.defects
                   for p, c in readings[:5] + readings[6:])
        assert worker.overruns == 0  # it died; it did not overrun
    finally:
        worker.close()


def test_a_batch_of_quick_messages_is_read_without_waiting_on_answers_already_received():
    # The engine's event loop and store thread keep the reading thread from the pipe now and
    # then, so answers arrive there together: none may be left in a read buffer while the pipe
    # is polled for it (each would wait out the budget and lose its classification).
    worker = MessageWorker(budget=10.0)
    done = threading.Event()

    def busy() -> None:  # Python code, so the interpreter hands the reading thread its turn late
        spin = 0
        while not done.is_set():
            spin = (spin + 1) % 1_000_003
    engine_work = threading.Thread(target=busy)
    try:
        raws = [build_message("me@x.example", subject=f"Re: hi {i}", body="ok").as_bytes() for i in range(300)]
        worker.read(raws[0], "in")  # started
        engine_work.start()
        readings = worker.read_many(raws, "in")
        assert worker.overruns == 0
        assert [p.subject for p, _ in readings] == [f"Re: hi {i}" for i in range(300)]
    finally:
        done.set()
        if engine_work.is_alive():
            engine_work.join()
        worker.close()


def test_a_message_is_read_when_the_engine_has_over_a_thousand_connections_open():
    # thousands of IDLE connections put the worker's pipes past select()'s 1,024 descriptors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1300 if hard == resource.RLIM_INFINITY else min(hard, 1300)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    held = []
    try:
        while len(held) < 1100:
            held.append(os.open(os.devnull, os.O_RDONLY))
        worker = MessageWorker(budget=30.0)
        try:
            ok = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()
            parsed, result = worker.read(ok, "in")
            assert result is not None and result.category == "interested"
            assert "NotClassifiedInTime" not in parsed.defects
        finally:
            worker.close()
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_slow_message_in_one_mailbox_does_not_hold_back_another(dovecot, users, make_config, tmp_path):
    slow_box, other_box = users(2)
    rules = tmp_path / "rules.toml"
    rules.write_text(SLOW_RULES)
    config_path = make_config(tmp_path, [slow_box, other_box], idle_refresh_minutes=5, read_timeout_seconds=8,
                              parse_workers=2, rules_file=str(rules))
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: all(w.state == "idle" for w in engine.watchers.values()), 60, "both idle")
        slow = build_message(slow_box.email, subject="Re: hello", body=SLOW_TEXT)
        ordinary = build_message(other_box.email, subject="Re: pricing", body="Interested, send the deck")
        await asyncio.gather(asyncio.to_thread(dovecot.deliver, slow_box.email, slow.as_bytes()),
                             asyncio.to_thread(dovecot.deliver, other_box.email, ordinary.as_bytes()))
        await until(lambda: len(rows(store, other_box.email)) == 1, 60, "the ordinary reply stored")
        await until(lambda: len(rows(store, slow_box.email)) == 1, 60, "the slow one stored too")
        [fast_row], [slow_row] = rows(store, other_box.email), rows(store, slow_box.email)
        assert fast_row["id"] < slow_row["id"]  # it did not wait for the slow one
        assert fast_row["category"] == "interested"
        assert slow_row["subject"] == "Re: hello" and "not classified" in slow_row["reasons"]


def _workers() -> int:
    return len(worker_processes())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker in /proc")
async def test_a_worker_closed_with_the_engine_starts_no_other_for_what_was_being_read():
    # the engine stops while a batch is being read: the reading ends with an error, and no new
    # worker process is started behind the engine's back (the process could not exit until it
    # had read the rest)
    worker = MessageWorker(budget=600.0)
    worker.set_context(None, load_rules(SLOW_RULES), ())
    slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
    worker.read(_replies("pricing", 1)[0], "in")
    started = _worker_cpu_seconds()
    reading = asyncio.ensure_future(asyncio.to_thread(worker.read_many, [slow, *_replies("later", 5)], "in"))
    await until(lambda: _worker_cpu_seconds() - started >= 0.5, 120, "the worker on the slow message")
    worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(reading, 120)
    assert _workers() == 0


def test_a_batch_sent_ahead_of_one_that_overruns_is_read_by_the_next_worker():
    # the engine sends the next batch before the answers to the one before are in; the worker
    # killed on a slow message takes that batch with it, and its replacement reads it again
    worker = MessageWorker(budget=2.0, flush_every=3600.0)
    try:
        context = (None, load_rules(SLOW_RULES), ())
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        first = [*_replies("pricing", 3), slow, *_replies("pricing", 3)]
        second = _replies("later", 10)
        one = worker.take(first, "in", context)
        two = worker.take(second, "in", context)
        while one.left or two.left:
            worker.step()
        _assert_read(one.readings, first, {3}, "2")
        _assert_read(two.readings, second, set(), "2")
        assert worker.overruns == 1
    finally:
        worker.close()


def test_batches_of_big_mail_sent_ahead_never_leave_the_engine_and_the_worker_waiting_on_each_other():
    # Two batches bigger than the worker's pipes: while the worker writes the first one's answers
    # (more than its answer pipe holds), the second must not be waiting for room in the worker's
    # input pipe, or the engine's thread, blocked on that write, would never take those answers in.
    worker = MessageWorker(budget=600.0)
    body = "Interested, send the deck. " + "We have read the whole proposal with care. " * 500
    batches = [[build_message("me@x.example", subject=f"Re: big {b} {i}", body=body).as_bytes() for i in range(60)]
               for b in range(2)]
    assert sum(map(len, batches[0])) > 1 << 20  # more than either pipe holds (Linux widens them to 1 MiB)
    jobs = [worker.take(batch, "in", None) for batch in batches]
    read = threading.Thread(target=lambda: [worker.step() for _ in iter(lambda: any(j.left for j in jobs), False)],
                            daemon=True)
    try:
        read.start()
        read.join(120)
        assert not read.is_alive(), "the engine's thread and the worker wait on each other"
        for job, batch in zip(jobs, batches, strict=True):
            _assert_read(job.readings, batch, set(), "600")
    finally:
        worker.close()


def _worker_bytes_read() -> int:
    """What this process's parse worker has read (Linux /proc: its pipe, once it has started)."""
    for proc in worker_processes():
        try:
            io = dict(line.split(": ") for line in (proc / "io").read_text().splitlines())
            return int(io["rchar"])
        except OSError:
            continue
    raise AssertionError("no parse worker")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="reads the worker's I/O in /proc")
async def test_the_worker_reads_the_next_batch_while_the_engine_is_away():
    # The engine's reading thread waits its turn at the interpreter behind the event loop and the
    # store thread, here held outright while it hands over the first batch's answers: the second
    # batch was sent before, so the worker reads it meanwhile instead of waiting for the engine.
    worker = MessageWorker(budget=600.0)
    handing_over = threading.Event()
    released = threading.Event()

    def hand_over(job) -> None:
        handing_over.set()
        released.wait(600)  # released by the test (at the latest when it fails)
    try:
        worker.read(_replies("warm", 1)[0], "in")  # started, and every module it reads with imported
        first, second = _replies("pricing", 100), _replies("later", 100)
        start = _worker_bytes_read()
        one = worker.take(first, "in", None, hand_over)
        two = worker.take(second, "in", None)

        def read_both() -> None:
            while one.left or two.left:
                worker.step()
        reading = asyncio.ensure_future(asyncio.to_thread(read_both))
        await until(handing_over.is_set, 120, "the first batch read")
        frames = sum(len(pickle.dumps(("read", raws, "in"), protocol=pickle.HIGHEST_PROTOCOL)) + 4
                     for raws in (first, second))
        await until(lambda: _worker_bytes_read() - start >= frames, 60, "the second batch taken in by the worker")
        released.set()
        await asyncio.wait_for(reading, 120)
        _assert_read(one.readings + two.readings, first + second, set(), "600")
    finally:
        released.set()
        worker.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker in /proc")
async def test_the_engine_has_a_parse_worker_ready_before_the_first_mail(dovecot, users, make_config, tmp_path):
    # the first reply after a start is read at once, not after a worker has started and built
    # the classifier's patterns; the other workers start when there is mail for them
    [box] = users(1)
    config_path = make_config(tmp_path, [box], idle_refresh_minutes=5, parse_workers=3)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: all(w.state == "idle" for w in engine.watchers.values()), 60, "idle")
        await until(lambda: engine.parse_workers_ready == 1, 120, "a parse worker ready with no mail fetched")
        assert rows(store) == [] and _workers() == 1
        dovecot.deliver(box.email, build_message(box.email, subject="Re: pricing",
                                                 body="Interested, send the deck").as_bytes())
        await until(lambda: len(rows(store)) == 1, 60, "the reply stored")
        assert rows(store)[0]["category"] == "interested"
        assert _workers() == 1  # one batch: read by the worker that was waiting for it
    assert _workers() == 0


def test_the_worker_warm_up_reads_mail_of_every_kind_it_prepares_for():
    assert warm_up() == ["reply", "autoreply", "bounce"]


@pytest.mark.parametrize("first_ready", [True, False], ids=["first-worker-idle", "first-worker-starting"])
async def test_two_batches_given_at_once_are_read_by_two_workers(first_ready: bool):
    # Both come before the idle thread has woken for the first, or while the first thread's
    # worker is still starting: the second is read by a worker of its own, never taken ahead by
    # the thread reading the first and left waiting behind the slow message's budget.
    pool = ParsePool(workers=2, budget=3.0, rules=load_rules(SLOW_RULES))
    pool.start()
    try:
        if first_ready:
            await until(lambda: pool.ready_workers == 1, 120, "the first worker ready")
        slow = build_message("me@x.example", subject="Re: hello", body=SLOW_TEXT).as_bytes()
        ordinary = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()
        first = asyncio.ensure_future(pool.parse("INBOX", 1, "in", [Fetched(1, frozenset(), body=slow)]))
        second = asyncio.ensure_future(pool.parse("INBOX", 1, "in", [Fetched(2, frozenset(), body=ordinary)]))
        done, _ = await asyncio.wait({first, second}, return_when=asyncio.FIRST_COMPLETED)
        assert done == {second}, "the ordinary reply waited for the slow one"
        [read] = second.result()
        assert read.classification is not None and read.classification.category == "interested"
        [kept] = await first
        assert "NotClassifiedInTime" in kept.parsed.defects
    finally:
        pool.close()
