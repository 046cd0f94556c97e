"""Decisions flow back: labels and suppressions to the sending platforms, events to webhooks.

The platforms and the webhook receiver are local HTTPS fakes (tests/platform_fakes.py) that speak
the documented endpoints and misbehave on cue. The dispatcher runs for real, either in the
engine or round by round with a clock the test moves (no sleeping for a Retry-After).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from app.config import load_config, parse_config
from app.engine import Engine
from app.sequencers.dispatch import Dispatcher
from app.sequencers.webhooks import signature
from app.store import InboxFilter, Store
from tests.conftest import ROOT, SECRETS
from tests.engine_support import until
from tests.platform_fakes import FakePlatform
from tests.ui_seed import make_app, seed

KEY = "inst-key-" + os.urandom(6).hex()
HOOK_SECRET = "hook-secret-" + os.urandom(6).hex()
SECRETS.update({KEY, HOOK_SECRET})


@pytest.fixture
def fake(tmp_path):
    server = FakePlatform(tmp_path / "fake", key=KEY, webhook_secret=HOOK_SECRET)
    yield server
    server.stop()


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("RD_TEST_PLATFORM_KEY", KEY)
    monkeypatch.setenv("RD_TEST_HOOK_SECRET", HOOK_SECRET)


def config_text(db: Path, fake: FakePlatform, *, platform: str = "instantly", hooks: str = "") -> str:
    return (f'[general]\ndatabase = "{db}"\n\n[[sequencers]]\ntype = "{platform}"\n'
            f'key_env = "RD_TEST_PLATFORM_KEY"\nbase_url = "{fake.base}"\nca_file = "{fake.ca_file}"\n' + hooks)


def hook_text(fake: FakePlatform, fmt: str = "json") -> str:
    return (f'\n[[webhooks]]\nname = "crm"\nurl = "{fake.base}/hook"\nsecret_env = "RD_TEST_HOOK_SECRET"\n'
            f'ca_file = "{fake.ca_file}"\nformat = "{fmt}"\n')


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


class DirectDB:
    """The dispatcher's view of the store, in this thread (the engine gives it its store thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def call(self, fn, *args):
        return fn(self.store, *args)


def conv_of(store: Store, sender: str) -> int:
    return store.db.conn.execute("SELECT conversation_id FROM messages WHERE from_addr = ?", (sender,)).fetchone()[0]


def interest_calls(fake: FakePlatform) -> list[tuple[str, object]]:
    return [(r.body["lead_email"], r.body["interest_value"]) for r in fake.calls("update-interest-status")]


async def test_a_label_in_the_ui_reaches_the_platform_once_with_its_status(tmp_path, fake, keys):
    db = seed(tmp_path / "replydesk.db")
    (tmp_path / "config.toml").write_text(config_text(db, fake))
    config = load_config(tmp_path / "config.toml")
    engine = Engine(config)
    app = make_app(db, config)
    app.engine = engine
    store = Store(db)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await until(lambda: store.db.conn.execute("SELECT count(*) FROM event_types").fetchone()[0] == 2,
                        20, "the engine's dispatcher is up")
            inbox = app.screen.query_one("InboxList")
            inbox.cursor = next(i for i in range(len(inbox.pager))
                                if inbox.pager.row(i)["counterpart"] == "gavin@hooli.com")
            await pilot.pause()
            assert inbox.current["counterpart"] == "gavin@hooli.com"
            await pilot.press("i")
            await until(lambda: [d["state"] for d in store.deliveries_of("sequencer:instantly")] == ["done"],
                        20, "delivered")
            # a label moves the cursor on to the next conversation: back to Gavin
            inbox.cursor = next(i for i in range(len(inbox.pager))
                                if inbox.pager.row(i)["counterpart"] == "gavin@hooli.com")
            await pilot.pause()
            await pilot.press("d")  # do not contact: a block-list entry
            await until(lambda: all(d["state"] == "done" for d in store.deliveries_of("sequencer:instantly"))
                        and len(store.deliveries_of("sequencer:instantly")) == 3, 20, "blocked")
    finally:
        store.close()
    assert interest_calls(fake) == [("gavin@hooli.com", 1)]
    [block] = fake.calls("block-lists-entries")
    assert block.body == {"bl_values": ["gavin@hooli.com"]}


async def test_429_waits_as_asked_5xx_and_hangs_retry_and_undo_sends_the_reverse(tmp_path, fake, keys, monkeypatch):
    monkeypatch.setattr("app.sequencers.http.TIMEOUT", 1.0)
    db = seed(tmp_path / "replydesk.db")
    config = parse_config({"general": {"database": str(db)}, "sequencers": [{
        "type": "instantly", "key_env": "RD_TEST_PLATFORM_KEY", "base_url": fake.base, "ca_file": str(fake.ca_file)}]})
    store = Store(db)
    clock = Clock()
    dispatcher = Dispatcher(DirectDB(store), config, clock)
    [target] = dispatcher.targets
    await dispatcher.prepare()  # records the event types; the rounds are driven by hand below
    await dispatcher.round(target)  # a new target starts from now on
    gavin = conv_of(store, "gavin@hooli.com")

    fake.script = [(429, {"Retry-After": "30"}, {"message": "Too many requests"})]
    store.set_category([gavin], "meeting")
    assert await dispatcher.round(target) == 0
    [d] = store.deliveries_of(target.key)
    assert d["state"] == "pending" and "429" in d["last_error"] and "Too many requests" in d["last_error"]
    clock.t += 29
    assert await dispatcher.round(target) == 0 and len(fake.calls("update-interest")) == 1  # not before its time
    clock.t += 2
    assert await dispatcher.round(target) == 1
    assert interest_calls(fake) == [("gavin@hooli.com", 2), ("gavin@hooli.com", 2)]  # the 429, then the real one

    # a 5xx and a hang are tried again later; the later label waits behind them (order per lead)
    fake.script = [(502, {}, {"message": "Bad gateway"})]
    store.undo_last()  # back to not interested (the classifier's): the reverse goes out
    store.set_category([gavin], "interested")
    assert await dispatcher.round(target) == 0
    assert [d["state"] for d in store.deliveries_of(target.key)] == ["done", "pending", "pending"]
    fake.hanging = True
    clock.t += 3600
    assert await dispatcher.round(target) == 0
    assert "no answer within 1 s" in store.deliveries_of(target.key)[1]["last_error"]
    fake.hanging = False
    fake.hang.set()
    clock.t += 3600
    for _ in range(3):
        await dispatcher.round(target)
    assert [d["state"] for d in store.deliveries_of(target.key)] == ["done", "done", "done"]
    assert interest_calls(fake)[-2:] == [("gavin@hooli.com", -1), ("gavin@hooli.com", 1)]

    # a refusal for good (a key the platform does not know) is given up at once, with its words
    monkeypatch.setenv("RD_TEST_PLATFORM_KEY", "not-the-key")
    store.set_category([gavin], "wrong_person")
    await dispatcher.round(target)
    last = store.deliveries_of(target.key)[-1]
    assert last["state"] == "dead" and "401" in last["last_error"] and "Invalid API key" in last["last_error"]
    health = store.delivery_health()[target.key]
    assert health.dead == 1 and "Invalid API key" in (health.last_error or "")
    store.close()


async def test_webhooks_are_signed_and_a_receiver_that_was_down_gets_everything_in_order(tmp_path, fake, keys):
    db = seed(tmp_path / "replydesk.db")
    config = parse_config({"general": {"database": str(db)}, "webhooks": [{
        "name": "crm", "url": f"{fake.base}/hook", "secret_env": "RD_TEST_HOOK_SECRET",
        "ca_file": str(fake.ca_file)}]})
    store = Store(db)
    clock = Clock()
    dispatcher = Dispatcher(DirectDB(store), config, clock)
    [target] = dispatcher.targets
    await dispatcher.prepare()
    await dispatcher.round(target)
    fake.down = True
    convs = [conv_of(store, s) for s in ("carol@prospect.io", "gavin@hooli.com", "erin@globex.com")]
    for conv, category in zip(convs, ("meeting", "interested", "not_interested")):
        store.set_category([conv], category)
    store.suppress("gone@bounced.example", "bounce")
    for _ in range(4):  # down: every try fails, nothing is lost or skipped
        await dispatcher.round(target)
        clock.t += 600
    assert [d["state"] for d in store.deliveries_of(target.key)] == ["pending"] * 4
    assert store.deliveries_of(target.key)[0]["attempts"] == 4
    assert store.deliveries_of(target.key)[1]["attempts"] == 0  # waits behind the first
    fake.down = False
    for _ in range(6):
        await dispatcher.round(target)
    assert [d["state"] for d in store.deliveries_of(target.key)] == ["done"] * 4
    got = [r for r in fake.calls("/hook") if r.body is not None]
    delivered = [(r.body["type"], r.body["data"].get("category") or r.body["data"].get("reason"))
                 for r in got if r.headers.get("x-replydesk-signature")]
    assert delivered[-4:] == [("reply.categorized", "meeting"), ("reply.categorized", "interested"),
                              ("reply.categorized", "not_interested"), ("suppression.added", "bounce")]
    assert fake.bad_signatures == 0
    last = got[-1]
    ts = last.headers["x-replydesk-timestamp"]
    assert last.headers["x-replydesk-signature"] == signature(HOOK_SECRET, int(ts), last.raw)
    assert last.headers["x-replydesk-delivery"] == str(store.deliveries_of(target.key)[-1]["event"])
    store.close()


def _sync(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "--config", str(config), "sync"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


async def test_an_engine_killed_between_two_deliveries_sends_neither_twice_nor_never(
        tmp_path, fake, keys, dovecot, users, make_config):
    [me] = users(1)
    config_path = make_config(tmp_path, [me])
    config_path.write_text(config_path.read_text() + "\n" + config_text(tmp_path / "replydesk.db", fake)
                           .split("\n\n", 1)[1])
    db = tmp_path / "replydesk.db"
    seed(tmp_path / "seeded.db")
    store = Store(db)
    engine = _sync(config_path)
    try:
        await until(lambda: store.db.conn.execute("SELECT count(*) FROM event_types").fetchone()[0] == 2
                    and store.db.conn.execute("SELECT count(*) FROM delivery_cursors").fetchone()[0] == 1,
                    30, "the engine's dispatcher is up")
        # a prospect's reply in the store (as the engine stores it), labelled from a terminal
        from tests.ui_seed import inbound, message
        store.add_messages(me.email, [inbound(1, message("<a@x.example>", "Re: hi", "ann@x.example",
                                                          at=time.time()))])
        store.add_messages(me.email, [inbound(2, message("<b@x.example>", "Re: hi", "bob@x.example",
                                                          at=time.time()))])
        store.set_category([conv_of(store, "ann@x.example")], "interested")
        await until(lambda: [d["state"] for d in store.deliveries_of("sequencer:instantly")] == ["done"],
                    30, "the first delivered")
        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
        store.set_category([conv_of(store, "bob@x.example")], "meeting")  # while no engine runs
        engine = _sync(config_path)
        await until(lambda: [d["state"] for d in store.deliveries_of("sequencer:instantly")] == ["done", "done"],
                    30, "the second delivered after the restart")
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(15)
        store.close()
    assert interest_calls(fake) == [("ann@x.example", 1), ("bob@x.example", 2)]


def test_sequencers_test_checks_the_key_and_status_lists_what_was_given_up(tmp_path, fake, keys):
    db = seed(tmp_path / "replydesk.db")
    config = tmp_path / "config.toml"
    config.write_text(config_text(db, fake))

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", "--config", str(config), "sequencers", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    ok = run("test")
    assert ok.returncode == 0 and "✔ sequencer:instantly: key accepted" in ok.stdout and "interested=1" in ok.stdout
    bad = run("test", RD_TEST_PLATFORM_KEY="wrong")
    assert bad.returncode != 0 and "401" in bad.stdout and "Invalid API key" in bad.stdout
    assert "Traceback" not in bad.stderr and KEY not in bad.stdout + bad.stderr
    missing = run("test", RD_TEST_PLATFORM_KEY="")
    assert missing.returncode != 0 and "RD_TEST_PLATFORM_KEY is not set" in missing.stdout
    status = run("--json")
    assert status.returncode == 0 and json.loads(status.stdout)["target"] == "sequencer:instantly"


async def test_smartlead_gets_the_category_in_every_campaign_of_the_lead_and_pauses_it(tmp_path, fake, keys):
    db = seed(tmp_path / "replydesk.db")
    config = parse_config({"general": {"database": str(db)}, "sequencers": [{
        "type": "smartlead", "key_env": "RD_TEST_PLATFORM_KEY", "base_url": fake.base,
        "ca_file": str(fake.ca_file)}]})
    fake.leads["gavin@hooli.com"] = {"id": 77, "email": "gavin@hooli.com",
                                     "lead_campaign_data": [{"campaign_id": 5}, {"campaign_id": 9}]}
    store = Store(db)
    dispatcher = Dispatcher(DirectDB(store), config, Clock())
    [target] = dispatcher.targets
    await dispatcher.prepare()
    await dispatcher.round(target)
    store.set_category([conv_of(store, "gavin@hooli.com")], "unsubscribe")
    await dispatcher.round(target)
    posts = fake.calls("/category")
    assert [p.path for p in posts] == ["/api/v1/campaigns/5/leads/77/category", "/api/v1/campaigns/9/leads/77/category"]
    assert all(p.body == {"category_id": 4, "pause_lead": True} and p.query["api_key"] == KEY for p in posts)
    # a lead the platform does not have is given up with why, not retried forever
    store.set_category([conv_of(store, "erin@globex.com")], "interested")
    await dispatcher.round(target)
    assert store.deliveries_of(target.key)[-1]["state"] == "dead"
    assert "no lead erin@globex.com" in store.deliveries_of(target.key)[-1]["last_error"]
    store.close()


def test_no_target_no_journal(tmp_path):
    """Without sequencers or webhooks nothing is recorded: the journal costs nothing."""
    db = seed(tmp_path / "replydesk.db")
    store = Store(db)
    store.set_event_types([])
    store.set_category([store.conversations_at(InboxFilter(), 0, 1)[0]["id"]], "meeting")
    assert store.db.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    store.close()


async def test_the_health_screen_shows_what_a_platform_refused_in_its_words(tmp_path, fake, keys, monkeypatch):
    from app.ui.health import HealthScreen
    from tests.ui_seed import screen_text
    db = seed(tmp_path / "replydesk.db")
    (tmp_path / "config.toml").write_text(config_text(db, fake))
    config = load_config(tmp_path / "config.toml")
    monkeypatch.setenv("RD_TEST_PLATFORM_KEY", "revoked-key")
    store = Store(db)
    dispatcher = Dispatcher(DirectDB(store), config, Clock())
    [target] = dispatcher.targets
    await dispatcher.prepare()
    await dispatcher.round(target)
    store.set_category([conv_of(store, "gavin@hooli.com")], "meeting")
    await dispatcher.round(target)
    store.close()
    app = make_app(db, config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HealthScreen)
        text = screen_text(app)
        assert "sequencer:instantly: 1 given up" in text and "Invalid API key" in text


@pytest.mark.parametrize("platform", ["smartlead", "instantly"])
def test_500_mailboxes_come_from_the_platform_in_one_command_with_their_warmup_tags(tmp_path, fake, keys,
                                                                                  platform):
    if platform == "smartlead":
        fake.accounts = [{"id": i, "from_email": f"sdr{i}@send{i % 7}.example", "from_name": f"Sdr {i}",
                          "username": f"sdr{i}@send{i % 7}.example", "type": "SMTP",
                          "imap_host": f"imap.send{i % 7}.example", "imap_port": 993,
                          "smtp_host": f"smtp.send{i % 7}.example", "smtp_port": 465,
                          "warmup_details": {"warmup_key_id": f"grape-{i:03d}"}} for i in range(500)]
    else:
        fake.accounts = [{"email": f"sdr{i}@send{i % 7}.example", "first_name": "Sdr", "last_name": str(i),
                          "provider_code": 2, "warmup_custom_ftag": f"A{i:05d}X"} for i in range(500)]
    db = tmp_path / "replydesk.db"
    config = tmp_path / "config.toml"
    config.write_text(config_text(db, fake, platform=platform))
    done = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "accounts", "import",
                           "--from", platform], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "imported 500 mailboxes" in done.stdout and "500 with a warmup tag" in done.stdout
    loaded = load_config(config)
    assert len(loaded.accounts) == 500
    by_email = {a.email: a for a in loaded.accounts}
    first = by_email["sdr0@send0.example"]
    if platform == "smartlead":
        assert (first.imap.host, first.imap.port, first.smtp.host) == ("imap.send0.example", 993, "smtp.send0.example")
    else:
        assert first.imap.host == "imap.gmail.com"  # provider_code 2: Google's preset
    tags = tomllib.loads(config.read_text())["accounts"]
    expected = "grape-123" if platform == "smartlead" else "A00123X"
    assert next(t for t in tags if t["email"] == "sdr123@send4.example")["warmup_tag"] == expected
    # again: nothing twice
    again = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "accounts", "import",
                            "--from", platform], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "imported 0 mailboxes" in again.stdout and "500 already configured" in again.stdout
    assert len(load_config(config).accounts) == 500


def test_slack_gets_hot_leads_only_with_the_prospects_words_escaped():
    from app.config import WebhookConfig
    from app.sequencers import webhooks
    hook = WebhookConfig(url="https://hooks.slack.example/T/B/X", format="slack")
    hot = {"category": "meeting", "name": "<@channel> Eve", "email": "eve@x.example", "subject": "Re: a & b"}
    assert webhooks.wants(hook, "reply.categorized", hot)
    assert not webhooks.wants(hook, "reply.categorized", {**hot, "category": "not_interested"})
    assert not webhooks.wants(hook, "suppression.added", {"email": "a@b.example"})
    body = json.loads(webhooks.request(hook, "s3cret-value", 7, "reply.categorized", hot, 0.0, 1).body or b"")
    assert "&lt;@channel&gt; Eve" in body["text"] and "a &amp; b" in body["text"] and "<@" not in body["text"]
