"""Learning a warmup tag in the inbox: W marks conversations as warmup; after five marks the tag
they share is proposed; accepting it moves the other tagged mail to Noise (keeping the user's
labels) and writes the config, so a restart keeps it. A rejected tag is not proposed again."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.config import load_config
from app.mail import classify, parse
from app.noise import noise_context
from app.store import InboxFilter, Store
from app.ui.inbox_list import InboxList
from app.ui.warmup import TagProposalScreen
from tests.ui_seed import NOW, inbound, make_app, message, screen_text, seed, until

TAG = "zq-4471"
BODIES = [
    ("Catching up zq-4471", "Hope the week treats you well. The garden is finally green."),
    ("Quick note", "We tried the new bakery downtown.\n\nZQ-4471"),
    ("Re: weekend", "Sounds lovely!\n\nOn Mon, 2 Mar 2026 at 10:00, Ana Reyes <ana@acme.io> wrote:\n> Any plans?\n"
                    "> zq-4471"),
    ("Coffee soon?", "Saw a heron by the river today. Zq-4471"),
    ("Books", "Finished the novel you mentioned, what a twist. (zq-4471)"),
    ("Music", "The concert was loud but fun. zq-4471"),
    ("Re: trip", "Back home now.\n\n> How was it?\n> ZQ-4471"),
    ("Hello again", "Rainy here, cozy inside. zq-4471"),
]


def config_file(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'# mine\n[general]\ndatabase = "{db}"\nbell = false  # quiet\n\n'
                    '[[accounts]]\nid = "ana"\nemail = "ana@acme.io"\nprovider = "google"\n')
    return path


def seed_tagged(db: Path) -> None:
    """Eight warmup messages the classifier missed (no tag configured yet), newest of all."""
    store = Store(db)
    try:
        store.add_messages("ana", [
            inbound(100 + i, message(f"<warm{i}@w{i}.example>", subject, f"friend{i}@w{i}.example",
                                     name=f"Friend {i}", new_text=text.split("\n\n")[0],
                                     quoted="\n\n".join(text.split("\n\n")[1:]), at=NOW - i * 60))
            for i, (subject, text) in enumerate(BODIES)])
        # a label of the user's on one of the tagged messages not marked
        conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE uid = 107").fetchone()[0]
        store.set_category([conv], "meeting")
    finally:
        store.close()


def counts(db: Path) -> dict[str, int]:
    store = Store(db)
    try:
        return store.view_counts()
    finally:
        store.close()


async def test_marking_five_tagged_messages_proposes_the_tag_and_accepting_moves_the_rest(tmp_path):
    db = seed(tmp_path / "replydesk.db")
    seed_tagged(db)
    path = config_file(tmp_path, db)
    before = counts(db)
    app = make_app(db, load_config(path))
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        inbox = app.screen.query_one(InboxList)
        assert [inbox.pager.row(i)["counterpart"] for i in range(5)] == \
            [f"friend{i}@w{i}.example" for i in range(5)]
        for _ in range(5):
            await pilot.press("x")
        await pilot.press("W")
        assert await until(pilot, lambda: isinstance(app.screen, TagProposalScreen)), screen_text(app)
        text = screen_text(app)
        assert f"{TAG} is in all 5 messages you marked as" in text and "3 of the 9 others" in text, text
        assert counts(db)["noise"] == 5
        await pilot.press("a")
        assert await until(pilot, lambda: counts(db)["noise"] == 8 and app.warmup.progress is None), \
            screen_text(app)
        assert counts(db)["replies"] == before["replies"] - 8 == 4
        await pilot.press("6")
        assert await until(pilot, lambda: "in the quoted text" in screen_text(app)), screen_text(app)
    # the user's label stays on the message that moved
    store = Store(db)
    try:
        row = store.db.conn.execute("SELECT kind, category, category_source FROM messages WHERE uid = 107").fetchone()
        assert row == ("warmup", "meeting", "user")
        assert store.count_conversations(InboxFilter(view="noise")) == 8
    finally:
        store.close()
    # the config keeps the tag (and the user's comments): a restart classifies with it
    text = path.read_text()
    assert "# mine" in text and "bell = false  # quiet" in text
    assert tomllib.loads(text)["general"]["warmup_tags"] == [TAG]
    config = load_config(path)
    raw = (b"From: someone@new.example\nTo: ana@acme.io\nSubject: hi\nMessage-ID: <n@new>\n\n"
           b"Nice day. ZQ-4471\n")
    assert classify(parse(raw), context=noise_context(config, "ana")).kind == "warmup"
    restarted = make_app(db, config)
    async with restarted.run_test(size=(120, 34)) as pilot:
        assert await until(pilot, lambda: "6 Noise 8" in screen_text(restarted)), screen_text(restarted)


async def test_a_rejected_tag_is_not_proposed_again_and_a_mark_can_be_taken_back(tmp_path):
    db = seed(tmp_path / "replydesk.db")
    seed_tagged(db)
    path = config_file(tmp_path, db)
    app = make_app(db, load_config(path))
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("x")
        await pilot.press("W")
        assert await until(pilot, lambda: isinstance(app.screen, TagProposalScreen)), screen_text(app)
        await pilot.press("r")
        assert await until(pilot, lambda: not isinstance(app.screen, TagProposalScreen))
        # one more mark: the rejected tag is not offered again
        await pilot.press("x", "W")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, TagProposalScreen)
        assert counts(db)["noise"] == 4
        # W on marked conversations takes the mark back
        await pilot.press("6")
        assert await until(pilot, lambda: "Noise 4" in screen_text(app))
        await pilot.press("W")
        assert await until(pilot, lambda: counts(db)["noise"] == 3), screen_text(app)
    assert "warmup_tags" not in path.read_text()
