"""The engine on a different server: pymap (the demo's IMAP server) has no CONDSTORE and no
SPECIAL-USE, and offers AUTH only after STARTTLS. Folder roles come from the preset's names and
flags from a full flag fetch, both ways."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from contextlib import AsyncExitStack

from app.cli import main
from app.demo.certs import make_certificate
from app.demo.imap_server import DemoImapServer
from tests.conftest import build_message
from tests.engine_support import rows, running_engine, state, until

EMAIL, PASSWORD, ENV = "rep@pymap.example", "pymap-secret-1", "REPLYDESK_TEST_PW_PYMAP"


def config_text(tmp_path, port: int, cert) -> str:
    return f"""[general]
database = "{tmp_path / 'replydesk.db'}"
idle_refresh_minutes = 5
poll_interval_seconds = 1
[[accounts]]
email = "{EMAIL}"
provider = "generic"
password_env = "{ENV}"
[accounts.imap]
host = "127.0.0.1"
port = {port}
security = "starttls"
ca_file = "{cert}"
[accounts.smtp]
host = "127.0.0.1"
port = 1
"""


def other_client(port: int, cert, action: str) -> str:
    """A second IMAP session (a phone): ``seen`` marks the first message read, ``flags`` reads them."""
    ctx = ssl.create_default_context(cafile=str(cert))
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.starttls(ssl_context=ctx)
        imap.login(EMAIL, PASSWORD)
        imap.select("INBOX")
        if action == "seen":
            imap.store("1", "+FLAGS", "(\\Seen)")
            return ""
        if action == "drop archive":
            imap.delete("Archive")
            return ""
        if action == "archived":
            _, data = imap.select("Archive")
            return data[0].decode()
        _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        return " ".join(d.decode() for d in data if isinstance(d, bytes))


async def test_pymap_without_condstore_or_special_use(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    cert, key = make_certificate(tmp_path)
    async with AsyncExitStack() as stack:
        server = DemoImapServer(cert, key)
        port = await server.start(stack)
        await server.add_user(EMAIL, PASSWORD)
        first = build_message(EMAIL, subject="Re: one", body="first")
        second = build_message(EMAIL, subject="Re: two", body="second")
        await server.deliver(EMAIL, first.as_bytes())
        await asyncio.to_thread(other_client, port, cert, "drop archive")
        config_path = tmp_path / "config.toml"
        config_path.write_text(config_text(tmp_path, port, cert))
        async with running_engine(config_path) as (engine, config, store):
            await until(lambda: state(store, EMAIL) == "idle", 20, "idle")
            assert "CONDSTORE" not in store.account_row(EMAIL)["capabilities"]
            assert store.folder_for_role(EMAIL, "sent") == "Sent"
            await server.deliver(EMAIL, second.as_bytes())
            await until(lambda: len(rows(store)) == 2, 10, "pushed over pymap")

            # pymap reports another session's flag change when a command ends, not during IDLE:
            # it arrives with the DONE of the next poll and the flag fetch takes it
            await asyncio.to_thread(other_client, port, cert, "seen")
            await until(lambda: next(r for r in rows(store) if r["message_id"] == first["Message-ID"])["seen"],
                        10, "\\Seen from another client without CONDSTORE")

            row = next(r for r in rows(store) if r["message_id"] == second["Message-ID"])
            store.set_seen([row["conversation_id"]], True)
            await until(lambda: store.pending_ops(EMAIL) == [], 10, "op done")
            # PERMANENTFLAGS without \\*: the label stays local, its keyword is not sent, and the
            # operation is shown as skipped with the reason (never "done")
            store.set_category([row["conversation_id"]], "interested")
            await until(lambda: store.pending_ops(EMAIL) == [], 10, "label op finished")
            states = dict(store.db.conn.execute("SELECT state, count(*) FROM pending_ops GROUP BY state"))
            assert states == {"done": 1, "skipped": 1}
            problems = store.op_problems()[EMAIL]
            assert (problems.failed, problems.skipped) == (0, 1)
            assert problems.latest.startswith("label interested skipped: INBOX allows no keywords")
            assert main(["accounts", "list", "--config", str(config_path)]) == 0
            assert "1 server operation(s) not carried out this week (0 failed, 1 skipped); latest: label " \
                   "interested skipped: INBOX allows no keywords" in capsys.readouterr().out
            flags = await asyncio.to_thread(other_client, port, cert, "flags")
            assert flags.count("\\Seen") == 2, flags
            assert "replydesk-" not in flags

            # no Archive folder on this server: archiving creates it, then moves the message there
            store.archive([row["conversation_id"]])
            await until(lambda: store.pending_ops(EMAIL) == [], 10, "archive op done")
            assert await asyncio.to_thread(other_client, port, cert, "archived") == "1"
            assert next(r for r in rows(store) if r["message_id"] == second["Message-ID"])["folder"] == "Archive"
