"""The reader's regular expressions are kept from one start of a parse worker's fork server to the
next (app.mail.regex_cache): the next start takes them instead of compiling, about a tenth of a
second sooner at reading its first message (bench/bench_worker_start.py). What it takes must be
what the standard library would have compiled, and mail must be read exactly the same, with the
data, without it, or with data that cannot be used."""

from __future__ import annotations

import json
import marshal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import selfrun
from app.imap.parsework import FORKABLE, ForkServer, MessageWorker
from app.mail import phrases
from tests.conftest import ROOT, build_message
from tests.engine_support import until
from tests.parse_procs import children, worker_processes

START = r"""
import dataclasses, json, re, sys
from pathlib import Path
from app.mail import regex_cache
path = Path(sys.argv[1])
on = regex_cache.start(path.read_bytes() if path.exists() else None)
import app.imap.parsework  # the reader's modules, as the fork server imports them
from app.mail import NoiseContext, classify, parse
from app.mail.classify import warm_up
warm_up()
worth = regex_cache.finish()
from re import _compiler
# each expression handed out is the one the standard library compiles
wrong = [str(p)[:80] for (p, f), c in regex_cache.asked().items() if _compiler.compile(p, f) != c]
context = NoiseContext.of(["lemon-tiger"], ["me@acme.example"], ["acme.dev"])
results = {}
for file in sorted(f for folder in sys.argv[2:] for f in Path(folder).rglob("*.eml")):
    parsed = parse(file.read_bytes())
    results[str(file)] = [dataclasses.asdict(classify(parsed, context=context)),
                          parsed.snippet, parsed.new_text]
if worth:
    path.write_bytes(regex_cache.snapshot())
print(json.dumps({"on": on, "worth": worth, "taken": regex_cache.taken(),
                  "asked": len(regex_cache.asked()), "wrong": wrong, "results": results}, default=str))
"""
"""A reader's start, as the fork server's: the data at argv[1] (if there), the reader imported
and warmed, then the messages in the folders after it read; the data written again where it is
worth it."""
CORPUS = ROOT.parent / "shared" / "corpus"
"""Real messages written outside the project, read too where they are (a clone elsewhere has the
project's fixtures only)."""


def start(data: Path) -> dict:
    folders = [ROOT / "tests" / "fixtures", *([CORPUS] if CORPUS.is_dir() else [])]
    proc = subprocess.run([sys.executable, "-P", "-c", START, str(data), *map(str, folders)],
                          capture_output=True, text=True, env=selfrun.env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(not phrases.TRUSTED, reason="this Python's regex parser is not the one expected: nothing is kept")
def test_a_second_start_takes_what_the_first_compiled_and_reads_mail_the_same(tmp_path):
    data = tmp_path / "patterns.bin"
    first = start(data)
    assert first["on"] and first["taken"] == 0 and first["worth"] and first["wrong"] == []
    assert data.exists() and first["results"]
    second = start(data)
    assert second["on"] and second["wrong"] == []
    # nearly all taken (the standard library makes a few expressions anew in every process)
    assert second["taken"] >= 0.9 * second["asked"] and second["asked"] >= first["asked"] - 10
    assert not second["worth"]  # nothing worth writing again
    assert second["results"] == first["results"]


@pytest.mark.skipif(not phrases.TRUSTED, reason="this Python's regex parser is not the one expected: nothing is kept")
def test_data_damaged_or_made_by_another_python_is_not_used(tmp_path):
    data = tmp_path / "patterns.bin"
    plain = start(data)
    made, entries, grams = marshal.loads(data.read_bytes())
    for damaged in (marshal.dumps((made.replace(" ", "  ", 1), entries, grams)),  # another Python's
                    data.read_bytes()[: data.stat().st_size // 2],  # cut short
                    b"not the data at all"):
        data.write_bytes(damaged)
        again = start(data)
        assert again["taken"] == 0 and again["worth"] and again["wrong"] == []
        assert again["results"] == plain["results"]


WARM_THEN_READ = r"""
import json, sys, tomllib
from email.message import EmailMessage
from pathlib import Path
from app.mail import regex_cache
replies = tomllib.loads(Path(sys.argv[1]).read_text())["reply"][:int(sys.argv[2])]
raws = []
for reply in replies:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = reply["from"], "me@acme.example", reply["subject"]
    message.set_content(reply["text"])
    raws.append(message.as_bytes())
on = regex_cache.start(None)  # (every expression compiled from here on is noted)
import app.imap.parsework
from app.mail import classify, parse
from app.mail.classify import warm_up
warm_up()
warm = set(regex_cache.asked())
kinds = [classify(parse(raw)).kind for raw in raws]
print(json.dumps({"on": on, "kinds": kinds, "warm": len(warm),
                  "new": sorted(str(p)[:80] for p, _ in set(regex_cache.asked()) - warm)}))
"""
"""A reader warmed up as the fork server warms up, then replies read, and which expressions were
compiled while it read them."""


@pytest.mark.skipif(not phrases.TRUSTED, reason="this Python's regex parser is not the one expected: nothing is kept")
def test_a_warm_reader_compiles_nothing_for_replies_of_new_wording():
    """A reply of wording met once chooses phrases of its own, searched one by one, each compiled
    alone. The fork server compiles every phrase alone as it warms up: its workers share them and
    the next start keeps them (above). Replies read after that compile nothing, where each worker
    compiled its own copy of each phrase as a reply first chose it (~800 in 111 replies).
    (Fewer replies than a choice's meetings before it is compiled, which is not the matter here.)"""
    replies = ROOT / "tests" / "fixtures" / "intent_heldout" / "replies.toml"
    proc = subprocess.run([sys.executable, "-P", "-c", WARM_THEN_READ, str(replies), str(phrases.COMPILE_AT - 2)],
                          capture_output=True, text=True, env=selfrun.env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["on"] and out["warm"] > 1000
    assert "reply" in out["kinds"]
    assert out["new"] == []


def test_known_phrase_readings_are_used_and_every_reading_noted():
    pattern = "(?:very )?interest(?:ed|ing)"
    computed = phrases.reading(pattern)
    given = (("xyz",), "xyz", frozenset("x"), True, 3)
    assert phrases.record_readings({pattern: given}) is None
    try:
        assert phrases.required_grams(pattern) == (("xyz",) if phrases.TRUSTED else None)
        assert phrases.required_run(pattern) == ("xyz" if phrases.TRUSTED else "")
        assert phrases.first_chars(pattern) == (frozenset("x") if phrases.TRUSTED else None)
        assert phrases.run_reach(pattern) == (3 if phrases.TRUSTED else -1)
        other = phrases.reading("parental leave|sick leave")
    finally:
        noted = phrases.record_readings(None)
    if phrases.TRUSTED:
        assert noted == {pattern: given, "parental leave|sick leave": other}
        assert other == (("k l", "l l"), "", frozenset("ps"), True, -1)
    assert phrases.reading(pattern) == computed  # recording over: read again


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or not FORKABLE or not phrases.TRUSTED,
                    reason="needs Linux (the fork server) and this Python's regex parser")
async def test_the_fork_server_keeps_what_it_compiled_for_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reply = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()
    folder = tmp_path / "cache" / "replydesk"
    categories, from_kept = [], []
    for _ in range(2):
        forks = ForkServer()
        worker = MessageWorker(budget=30.0, forks=forks)
        try:
            parsed, result = worker.read(reply, "in")
            assert result is not None
            categories.append(result.category)
            from_kept.append(forks.from_kept)
            # written by a child of the fork server once the server is ready
            await until(lambda: list(folder.glob("patterns-*.bin")), 30, "the kept expressions")
        finally:
            worker.close()
            forks.close()
    assert categories == ["interested", "interested"]
    assert from_kept == [False, True]  # the second server started from what the first kept
    [data] = folder.glob("patterns-*.bin")
    assert stat.S_IMODE(data.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    # what the next start takes: nearly everything the reader compiles
    kept = start(data)
    assert kept["taken"] >= 0.9 * kept["asked"] and not kept["worth"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or not phrases.TRUSTED,
                    reason="needs Linux (/proc) and this Python's regex parser")
async def test_a_worker_started_plainly_keeps_what_it_compiled_and_leaves_no_process_behind(tmp_path, monkeypatch):
    """Where no fork server runs (a system without process descriptors), a worker started plainly
    keeps what it compiled: the next ones start sooner."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reply = build_message("me@x.example", subject="Re: pricing", body="Interested, send the deck").as_bytes()
    worker = MessageWorker(budget=30.0)
    try:
        _, result = worker.read(reply, "in")
        assert result is not None and result.category == "interested"
        [proc] = worker_processes()
        # what writes the data was forked through a go-between the worker has waited for: no
        # child of the worker is left, finished or not
        assert children(int(proc.name)) == []
        await until(lambda: list((tmp_path / "cache" / "replydesk").glob("patterns-*.bin")), 30, "the kept expressions")
    finally:
        worker.close()
    [data] = (tmp_path / "cache" / "replydesk").glob("patterns-*.bin")
    kept = start(data)
    assert kept["taken"] >= 0.9 * kept["asked"] and not kept["worth"]
